-- Where each consumer of the log stands on each goal, and the events it could not apply, for
-- the consumers that keep no version in tables of their own (infra/projections/follow.py; the
-- goal summaries keep theirs in their rows).
CREATE TABLE consumer_progress (
    consumer text NOT NULL,
    goal_id uuid NOT NULL,
    -- The last version of the goal's stream the consumer applied, and that event's position.
    version integer NOT NULL,
    last_position bigint NOT NULL,
    -- Set when an event could not be applied; the goal waits for an operator, the rest go on.
    stalled_at_version integer,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, goal_id)
);

CREATE TABLE consumer_dead_letters (
    consumer text NOT NULL,
    event_id uuid NOT NULL,
    goal_id uuid NOT NULL,
    position bigint NOT NULL,
    error text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- The workers apply events and keep their place; only a rebuild starts a consumer afresh.
GRANT SELECT, INSERT, UPDATE ON consumer_progress TO goals_app;
GRANT SELECT, INSERT ON consumer_dead_letters TO goals_app;
GRANT DELETE ON consumer_progress, consumer_dead_letters TO goals_projections;
