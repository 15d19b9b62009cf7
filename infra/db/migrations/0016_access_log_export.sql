-- The audit export reads the access log by time after the events (infra/audit/export_access.py):
-- this index hands it a range of records in the order it writes them, without sorting the range
-- or reading the rest of the log. Appends pay one more index entry each.
CREATE INDEX access_log_recorded_at ON access_log (recorded_at, id);

-- Every goal read waits for its record's batch to commit (services/api/audit/recording.py), so the
-- slowest append is every waiting read's slowest answer. Two things made appends slow at times:
--
-- The GIN index by client gathered new entries in a pending list, and the append that found the
-- list full merged all of it into the index, for tens of milliseconds, with every read of that
-- batch and the batches queued behind it waiting. Entries now go straight into the index: each
-- append costs a little more, and none costs the merge.
ALTER INDEX access_log_by_client SET (fastupdate = off);

-- The foreign keys to clinics, users and access tokens checked and locked (FOR KEY SHARE) the
-- caller's rows for every record: three lookups a record, and one lock of the same clinic row in
-- every batch of every API process, which PostgreSQL shares between concurrent batches through
-- multixacts. A record copies the ids of the caller the API has just authenticated from those
-- tables, and no row of them is ever deleted (users are deactivated, tokens revoked): the keys
-- kept nothing out, and an audit record should not depend on another table's row to be stored.
ALTER TABLE access_log
    DROP CONSTRAINT access_log_clinic_id_fkey,
    DROP CONSTRAINT access_log_user_id_fkey,
    DROP CONSTRAINT access_log_token_id_fkey;
