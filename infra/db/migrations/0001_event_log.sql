-- The event log: the one source of truth. Rows are only ever inserted.
CREATE TABLE events (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id text NOT NULL,
    stream_version integer NOT NULL CHECK (stream_version > 0),
    event_id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    -- The writing transaction's id: the global feed orders and fences by it (see read_all).
    transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    -- The backstop for optimistic concurrency: one event per stream and version.
    CONSTRAINT events_stream_version UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_feed ON events (transaction_id, position);

-- The head of each stream. Appends advance it with a conditional upsert, which serialises
-- writers of the same stream without a second round trip or a retry loop.
CREATE TABLE streams (
    stream_id text PRIMARY KEY,
    version integer NOT NULL CHECK (version > 0)
);

CREATE FUNCTION refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % is refused; append a correction instead', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_event_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();
