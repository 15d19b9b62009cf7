-- The audit export reads the log by time (infra/audit/export.py): this index hands it a range
-- of events in the order it writes them, so PostgreSQL streams them without sorting the range.
CREATE INDEX events_recorded_at ON events (recorded_at, position);
