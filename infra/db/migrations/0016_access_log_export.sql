-- The audit export reads the access log by time after the events (infra/audit/export_access.py):
-- this index hands it a range of records in the order it writes them, without sorting the range
-- or reading the rest of the log. Appends pay one more index entry each.
CREATE INDEX access_log_recorded_at ON access_log (recorded_at, id);
