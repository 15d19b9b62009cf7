-- Webhook feeds to other clinic systems (docs/workers.md#webhook-deliveries).

-- An endpoint of another system that receives a clinic's goal events. Never deleted, only marked
-- so: its deliveries are the accounting of what went where.
CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    url text NOT NULL,
    event_types text[] NOT NULL,
    format text NOT NULL CHECK (format IN ('id-only', 'full', 'fhir')),
    description text NOT NULL DEFAULT '',
    -- Signing needs the key itself, so it is kept as it was given out (`whsec_...`).
    secret text NOT NULL,
    -- The secret before the last rotation, which signs beside the new one until it expires.
    previous_secret text,
    previous_secret_expires_at timestamptz,
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text,
    -- The last sequence number given to one of its deliveries: a receiver that sees a number
    -- skipped knows it missed one.
    last_sequence bigint NOT NULL DEFAULT 0,
    -- Since when every attempt failed (NULL after a success); five days of it disable the
    -- endpoint, after a warning a day earlier.
    failing_since timestamptz,
    warned_at timestamptz,
    -- One sender at a time per endpoint: a slow receiver holds one sender, not all of them.
    sending_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

CREATE INDEX webhook_endpoints_clinic ON webhook_endpoints (clinic_id) WHERE deleted_at IS NULL;

-- One event for one endpoint: which event went (or is to go) where, and how it ended.
-- Its id is the `webhook-id` of every attempt.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id),
    clinic_id uuid NOT NULL,
    sequence bigint NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    goal_id uuid NOT NULL,
    -- Whose information was disclosed, for the accounting of disclosures.
    client_id uuid,
    position bigint NOT NULL,
    -- pending: to be sent at next_attempt_at; held: recorded while the endpoint was disabled
    -- (a replay sends it); delivered; failed: every attempt of the schedule failed.
    state text NOT NULL CHECK (state IN ('pending', 'held', 'delivered', 'failed')),
    attempt_count integer NOT NULL DEFAULT 0,
    -- Also a sender's lease: a claimed delivery is due again if its sender dies.
    next_attempt_at timestamptz,
    last_status integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (endpoint_id, sequence),
    UNIQUE (endpoint_id, event_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, endpoint_id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_client ON webhook_deliveries (clinic_id, client_id, created_at);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at timestamptz NOT NULL,
    status_code integer,
    duration_ms integer NOT NULL,
    error text,
    -- At most 1 KiB of what the receiver answered.
    response_body text NOT NULL DEFAULT ''
);

CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

GRANT SELECT, INSERT, UPDATE ON webhook_endpoints TO goals_app;
GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO goals_app;
GRANT SELECT, INSERT ON webhook_attempts TO goals_app;
