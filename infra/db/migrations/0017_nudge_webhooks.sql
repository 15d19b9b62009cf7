-- Nudges in the webhook feed, and nudges about the webhook feed.

-- A `nudge.sent` delivery names a goal only when the nudge is about one (an overload prompt or
-- a warning to the clinic's admins is not).
ALTER TABLE webhook_deliveries ALTER COLUMN goal_id DROP NOT NULL;

-- The warning to a clinic's admins a day before a failing webhook endpoint is disabled.
ALTER TABLE nudges DROP CONSTRAINT nudges_kind_check;
ALTER TABLE nudges ADD CONSTRAINT nudges_kind_check
    CHECK (kind IN ('check_in_reminder', 'due_soon', 'overdue', 'celebration', 'after_miss',
                    'overload', 'encouragement', 'endpoint_failing'));
