-- Nudges: what the service says to people between sessions, and each person's say over it.
-- A nudge is stored under its key before it is sent, so that whatever finds it again (a second
-- scan, a duplicated message, a restart mid-send) stores and sends nothing twice. What was sent
-- or dropped is also appended to the log (streams `nudge-*`); these rows are the inbox and the
-- work still to do.

CREATE TABLE notification_preferences (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    quiet_start time NOT NULL DEFAULT '21:00',
    quiet_end time NOT NULL DEFAULT '08:00',
    daily_cap integer NOT NULL DEFAULT 3 CHECK (daily_cap BETWEEN 1 AND 20),
    reminder_time time NOT NULL DEFAULT '09:00',
    in_app boolean NOT NULL DEFAULT true,
    email boolean NOT NULL DEFAULT true,
    muted_goals uuid[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nudges (
    id uuid PRIMARY KEY,
    -- (rule, goal or client, period or occurrence, recipient): see domain/nudges/nudge.py.
    key text NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('check_in_reminder', 'due_soon', 'overdue', 'celebration',
                                       'after_miss', 'overload', 'encouragement')),
    recipient_id uuid NOT NULL REFERENCES users (id),
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    goal_id uuid,
    message text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dropped')),
    created_at timestamptz NOT NULL,
    -- When it may go out next: quiet hours and the daily cap move it later.
    deliver_at timestamptz NOT NULL,
    stale_at timestamptz,
    sent_at timestamptz,
    channels text[] NOT NULL DEFAULT '{}',
    dropped_reason text,
    read_at timestamptz,
    correlation_id text NOT NULL,
    -- The event that called for it, for event-based nudges.
    causation_id text
);
CREATE INDEX nudges_due ON nudges (deliver_at) WHERE status = 'pending';
CREATE INDEX nudges_inbox ON nudges (recipient_id, sent_at DESC, id DESC) WHERE status = 'sent';

-- The service stores nudges, moves them through their states and marks them read; it never
-- deletes one, nor changes what one says or to whom.
GRANT SELECT, INSERT ON nudges TO goals_app;
GRANT UPDATE (status, deliver_at, sent_at, channels, dropped_reason, read_at) ON nudges TO goals_app;
GRANT SELECT, INSERT, UPDATE ON notification_preferences TO goals_app;
