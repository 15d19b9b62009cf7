-- E-mail on its way out, and what became of it: the outbox that the worker service's mail
-- delivery drains (infra/mail/, docs/workers.md#e-mail). A row is written in the transaction of
-- what it tells of (an invitation, a nudge), so an e-mail exists exactly when its cause
-- committed, and survives any crash until it is sent.
CREATE TABLE email_outbox (
    id uuid PRIMARY KEY,
    -- The caller's key for what the e-mail says ("invitation:<id>", a nudge's key): one e-mail
    -- per key, however often its cause is handled. Kept after sending, so that it stays one.
    dedup_key text NOT NULL UNIQUE,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    to_address text NOT NULL,
    subject text NOT NULL,
    -- Cleared once the e-mail is sent or given up on: a body may carry a secret (an
    -- invitation's code) that must not outlive its delivery.
    body_text text,
    body_html text,
    headers jsonb NOT NULL DEFAULT '{}',
    -- The same on every attempt, so that a receiver can drop the second copy that a sender
    -- killed between the server's acceptance and its record of it sends.
    message_id text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    -- When a sender may next take it: at once for a new e-mail; after a failure, the retry;
    -- while a sender holds it, the end of that sender's lease.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- The sender holding it; only that sender records how its attempt went.
    claimed_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    sent_at timestamptz,
    CHECK (status <> 'pending' OR body_text IS NOT NULL)
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX email_outbox_failed ON email_outbox (created_at) WHERE status = 'failed';

-- Callers queue (an insert that may find its key taken); senders claim and record, changing
-- only the delivery's columns. Nothing deletes, and nobody rewrites an address or a text.
GRANT SELECT, INSERT ON email_outbox TO goals_app;
GRANT UPDATE (status, attempts, last_error, next_attempt_at, claimed_by, last_attempt_at,
              sent_at, body_text, body_html)
    ON email_outbox TO goals_app;
