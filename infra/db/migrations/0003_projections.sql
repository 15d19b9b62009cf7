-- Read models built by the workers from the log, and where each consumer has got to. All of it
-- can be dropped and rebuilt from the events.

-- How far a consumer of the global feed has read: (transaction id, position) of its last event.
CREATE TABLE consumer_checkpoints (
    consumer text PRIMARY KEY,
    transaction_id xid8 NOT NULL DEFAULT '0',
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The version of each projection's code that built its tables; a newer one rebuilds them.
CREATE TABLE projection_versions (
    projection text PRIMARY KEY,
    version integer NOT NULL,
    rebuilt_at timestamptz NOT NULL DEFAULT now()
);

-- One row per goal: its terms and status as of `version`, the last event applied to it.
CREATE TABLE goal_summaries (
    goal_id uuid PRIMARY KEY,
    clinic_id uuid,
    client_id uuid NOT NULL,
    statement text NOT NULL,
    life_area text NOT NULL,
    status text NOT NULL,
    measure_kind text NOT NULL,
    target double precision NOT NULL,
    unit text NOT NULL,
    cadence text NOT NULL,
    time_zone text NOT NULL,
    start_date date NOT NULL,
    due_date date NOT NULL,
    priority text NOT NULL,
    -- The whole terms, as the fold that maintains this row needs them.
    terms jsonb NOT NULL,
    set_at timestamptz NOT NULL,
    ended_at timestamptz,
    last_check_in_at timestamptz,
    -- The therapist's latest Goal Attainment Scaling rating, -2 to +2.
    attainment_rating smallint,
    -- Who the client shares the goal with, for supporters' goal lists.
    supporters uuid[] NOT NULL DEFAULT '{}',
    version integer NOT NULL,
    last_position bigint NOT NULL,
    -- Set when an event could not be applied; the goal waits for an operator, the rest go on.
    stalled_at_version integer
);
CREATE INDEX goal_summaries_by_client ON goal_summaries (client_id);
CREATE INDEX goal_summaries_by_supporter ON goal_summaries USING gin (supporters);

CREATE TABLE goal_check_ins (
    check_in_id uuid PRIMARY KEY,
    goal_id uuid NOT NULL,
    amount double precision NOT NULL,
    occurred_at timestamptz NOT NULL,
    entered_in_error boolean NOT NULL DEFAULT false
);
CREATE INDEX goal_check_ins_by_goal ON goal_check_ins (goal_id, occurred_at);

CREATE TABLE projection_dead_letters (
    event_id uuid PRIMARY KEY,
    goal_id uuid NOT NULL,
    position bigint NOT NULL,
    error text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
