-- Tamper evidence (docs/audit.md, "Tamper evidence"): every event carries a hash over its
-- content and the hash of the event before it in its stream, and signed checkpoints fold every
-- event's hash, in the feed's order, into one digest.
--
-- The hash is the one that domain/audit/chain.py defines (the verifier's own code, which never
-- calls the functions below):
--   hash = sha256(previous_hash || canonical), previous_hash of a stream's first event 32 zeros,
--   canonical = each field as `<its length in UTF-8 bytes>:<its text>,`, in this order:
--   position, transaction_id, stream_id, stream_version, event_id, event_type,
--   recorded_at (microseconds since 1970), data (as jsonb text), metadata (as jsonb text).

ALTER TABLE events ADD COLUMN previous_hash bytea, ADD COLUMN hash bytea;

-- PL/pgSQL rather than SQL: a SQL function with a FROM clause is not inlined, and is planned
-- again in every transaction that calls it from a trigger, which cost an append more than half
-- of its rate. Each line here is a simple expression, planned once per session.
CREATE FUNCTION event_chain_hash(previous_hash bytea, e events) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    position_text text := e.position::text;
    transaction_text text := e.transaction_id::text;
    version_text text := e.stream_version::text;
    recorded_text text := (extract(epoch FROM e.recorded_at) * 1000000)::bigint::text;
    data_text text := e.data::text;
    metadata_text text := e.metadata::text;
BEGIN
    RETURN sha256(previous_hash || convert_to(concat(
        octet_length(position_text), ':', position_text, ',',
        octet_length(transaction_text), ':', transaction_text, ',',
        octet_length(e.stream_id), ':', e.stream_id, ',',
        octet_length(version_text), ':', version_text, ',',
        '36:', e.event_id, ',',
        octet_length(e.event_type), ':', e.event_type, ',',
        octet_length(recorded_text), ':', recorded_text, ',',
        octet_length(data_text), ':', data_text, ',',
        octet_length(metadata_text), ':', metadata_text, ','), 'UTF8'));
END;
$$;

-- Every insert is chained here, whoever makes it: the service's appends, whose statement has
-- already locked the stream's head row (so the event before this one is committed, or written
-- earlier by the same statement), and an operator's own. A value the writer gave is replaced;
-- goals_app may not even name these columns (below). The previous event is found by the
-- (stream_id, stream_version) index the log keeps anyway: no new lock, no new contention.
CREATE FUNCTION chain_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stream_version = 1 THEN
        NEW.previous_hash := '\x0000000000000000000000000000000000000000000000000000000000000000';
    ELSE
        SELECT e.hash INTO NEW.previous_hash FROM public.events e
        WHERE e.stream_id = NEW.stream_id AND e.stream_version = NEW.stream_version - 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'version % of stream % follows no event', NEW.stream_version,
                NEW.stream_id USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    NEW.hash := public.event_chain_hash(NEW.previous_hash, NEW);
    RETURN NEW;
END;
$$;

-- The events already in the log are chained as they stand: their chain proves nothing about what
-- happened to them before this migration, only from now on. Each row is rewritten once, so the
-- table doubles until vacuumed, and appends wait until the migration commits.
ALTER TABLE events DISABLE TRIGGER events_append_only;
DO $$
DECLARE
    e events;
    previous bytea;
    last_stream text;
BEGIN
    FOR e IN SELECT * FROM events ORDER BY stream_id, stream_version LOOP
        IF last_stream IS DISTINCT FROM e.stream_id THEN
            previous := '\x0000000000000000000000000000000000000000000000000000000000000000';
            last_stream := e.stream_id;
        END IF;
        UPDATE events SET previous_hash = previous, hash = event_chain_hash(previous, e)
        WHERE position = e.position
        RETURNING hash INTO previous;
    END LOOP;
END;
$$;
ALTER TABLE events ENABLE TRIGGER events_append_only;

ALTER TABLE events ALTER COLUMN previous_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;

CREATE TRIGGER events_chained
    BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION chain_event();

-- The service names only the columns an append gives; the rest are the log's own.
REVOKE INSERT ON events FROM goals_app;
GRANT INSERT (stream_id, stream_version, event_id, event_type, data, metadata)
    ON events TO goals_app;

-- Signed checkpoints (infra/audit/checkpoints.py). Checkpoint `sequence` covers every event
-- whose transaction_id is below `fence`: `digest` is sha256 over the previous checkpoint's digest
-- and the hashes of the events between the two fences, in (transaction_id, position) order.
-- `signature` is Ed25519, by the operator's key, over the message domain/audit/chain.py builds
-- from the other columns; `public_key` names the key that signed.
CREATE TABLE audit_checkpoints (
    sequence bigint PRIMARY KEY CHECK (sequence > 0),
    fence xid8 NOT NULL,
    events bigint NOT NULL CHECK (events >= 0),
    last_position bigint NOT NULL,
    previous_digest bytea NOT NULL,
    digest bytea NOT NULL,
    taken_at timestamptz NOT NULL,
    public_key bytea NOT NULL,
    signature bytea NOT NULL
);

CREATE FUNCTION refuse_checkpoint_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints are append-only: % is refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_checkpoint_change();

CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_checkpoint_change();

REVOKE ALL ON audit_checkpoints FROM PUBLIC;
GRANT SELECT, INSERT ON audit_checkpoints TO goals_app;
