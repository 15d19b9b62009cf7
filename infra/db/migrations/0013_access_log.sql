-- The access log: one row for every request to a route that reads goal data, whatever its
-- outcome (services/api/audit/recording.py). Like the event log it is only ever appended to:
-- goals_app may insert and read rows, never change or delete them, and the trigger refuses even
-- the owner. Nothing in the service deletes a row; retention is an operator's archive (docs/api.md).
CREATE TABLE access_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- When the request arrived (the API's clock) and when its record was committed.
    requested_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    -- The caller; all null when the request proved no one (401).
    clinic_id uuid REFERENCES clinics (id),
    user_id uuid REFERENCES users (id),
    token_id uuid REFERENCES access_tokens (id),
    role text,
    -- Whose goals the request read or tried to read, as far as the caller's clinic knows them.
    client_ids uuid[] NOT NULL DEFAULT '{}',
    goal_ids uuid[] NOT NULL DEFAULT '{}',
    method text NOT NULL,
    route text NOT NULL,
    path text NOT NULL,
    status smallint NOT NULL,
    correlation_id text NOT NULL,
    -- The writing transaction: the records of one batch share it.
    transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id()
);

CREATE INDEX access_log_by_clinic ON access_log (clinic_id, id);
CREATE INDEX access_log_by_user ON access_log (user_id, id);
CREATE INDEX access_log_by_client ON access_log USING gin (client_ids);

CREATE FUNCTION refuse_access_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % is refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER access_log_append_only
    BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION refuse_access_log_change();

CREATE TRIGGER access_log_no_truncate
    BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_access_log_change();

REVOKE ALL ON access_log FROM PUBLIC;
GRANT SELECT, INSERT ON access_log TO goals_app;
