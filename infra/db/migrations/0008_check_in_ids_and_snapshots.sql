-- A check-in's id is unique within its goal, and a check-in is corrected at most once: the log
-- holds both, so that no fold keeps every id to decide them (domain/goals/state.py). A goal's
-- correction names no check-in (its id is null here), and nulls never collide.
CREATE UNIQUE INDEX events_check_in_once ON events (stream_id, (data ->> 'check_in_id'), event_type)
    WHERE event_type IN ('progress_recorded', 'correction_recorded');

-- Goals as a fold left them, so that a process folding a long goal afresh reads only the events
-- after one (infra/goals/snapshots.py). A cache, never the truth: emptying it loses nothing but
-- time, and a row folded by another fold than the running one's (`fold_version`) is set aside.
CREATE TABLE goal_snapshots (
    goal_id uuid PRIMARY KEY,
    fold_version integer NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    folded bytea NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now()
);

-- The API reads and replaces snapshots; an operator may empty the table at any time.
GRANT SELECT, INSERT, UPDATE ON goal_snapshots TO goals_app;
