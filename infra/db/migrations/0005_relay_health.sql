-- How the relay's passes go, recorded by the relay itself, so that the API (another process)
-- can report it. Lag alone does not show a relay that is down or cannot reach Redis while the
-- log is quiet: no event waits, yet the next one will.
CREATE TABLE relay_health (
    relay text PRIMARY KEY,
    -- The end of the last pass that relayed everything it read (at most a second stale).
    last_pass_at timestamptz,
    -- The first of the failed passes since the last good one; NULL while passes succeed.
    failing_since timestamptz,
    last_failure_at timestamptz,
    -- The kind of error the last failed pass met; the relay's log has the whole of it.
    last_error text,
    failed_passes bigint NOT NULL DEFAULT 0
);

INSERT INTO relay_health (relay) VALUES ('relay');

-- The relay updates its row; readiness and metrics read it.
GRANT SELECT, UPDATE ON relay_health TO goals_app;
