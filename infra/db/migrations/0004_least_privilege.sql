-- Least privilege. The service runs as goals_app, which may append to the log and read it, and
-- keep each consumer's own tables, and nothing more: it owns nothing, may create nothing, and so
-- can neither drop a table nor lift the log's append-only triggers. The roles are made by
-- `goals migrate` before this runs (infra/db/roles.py); this runs as goals_owner.
--
-- A grant here is exactly what the service's SQL does to each table. A new statement that needs
-- more gets its grant in a new migration.

-- The goal projection's tables belong to the role that rebuilds them: a rebuild creates fresh
-- tables and renames them into place, which only their owner may do.
ALTER TABLE goal_summaries OWNER TO goals_projections;
ALTER TABLE goal_check_ins OWNER TO goals_projections;
ALTER TABLE projection_dead_letters OWNER TO goals_projections;
-- So that the tables a rebuild creates come with the grants the live ones have.
ALTER DEFAULT PRIVILEGES FOR ROLE goals_projections
    GRANT SELECT, INSERT, UPDATE ON TABLES TO goals_app;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;

-- The log: read and appended to, never changed. Appends move the stream's head (an upsert, and
-- batches lock the heads first: SELECT ... FOR NO KEY UPDATE needs UPDATE).
GRANT SELECT, INSERT ON events TO goals_app;
GRANT SELECT, INSERT, UPDATE ON streams TO goals_app;

-- Identity and access: tokens are revoked by an update, care teams lose members by a delete.
GRANT SELECT, INSERT ON clinics, users TO goals_app;
GRANT SELECT, INSERT, DELETE ON care_team TO goals_app;
GRANT SELECT, INSERT, UPDATE ON access_tokens TO goals_app;
-- A key is claimed by an insert and its response stored by an update.
GRANT SELECT, INSERT, UPDATE ON idempotency_keys TO goals_app;

-- Consumers: their checkpoints, and the goal projection's rows.
GRANT SELECT, INSERT, UPDATE ON consumer_checkpoints TO goals_app;
GRANT SELECT, INSERT, UPDATE ON goal_summaries, goal_check_ins TO goals_app;
GRANT SELECT, INSERT ON projection_dead_letters TO goals_app;

-- Readiness compares the applied migrations with the release's; workers compare the
-- projection's version with their code's. Only a rebuild records a new version.
GRANT SELECT ON schema_migrations, projection_versions TO goals_app;
GRANT INSERT, UPDATE ON projection_versions TO goals_projections;
