-- Who may use the service, and who cares for whom. Every change here is also appended to the
-- event log (streams `clinic-*`, `user-*`), so the log tells who changed access and when.
CREATE TABLE clinics (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    active_goal_limit integer NOT NULL DEFAULT 5 CHECK (active_goal_limit > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    role text NOT NULL
        CHECK (role IN ('admin', 'therapist', 'client', 'supporter', 'auditor', 'integration')),
    display_name text NOT NULL,
    email text NOT NULL,
    time_zone text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_per_clinic UNIQUE (clinic_id, email)
);

CREATE TABLE care_team (
    client_id uuid NOT NULL REFERENCES users (id),
    therapist_id uuid NOT NULL REFERENCES users (id),
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, therapist_id)
);
CREATE INDEX care_team_by_therapist ON care_team (therapist_id);

-- Only a keyed hash of each token is kept; the token itself is shown once, when issued.
CREATE TABLE access_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    secret_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX access_tokens_by_user ON access_tokens (user_id);

-- The first successful response to each (caller, Idempotency-Key), written in the same
-- transaction as the request's events, so a retry either finds it or finds nothing was done.
CREATE TABLE idempotency_keys (
    actor_id uuid NOT NULL,
    key text NOT NULL,
    fingerprint bytea NOT NULL,
    status_code integer,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, key)
);

-- A client's goals are found straight from the log when a new goal is set.
CREATE INDEX events_goal_by_client ON events ((data ->> 'client_id'))
    WHERE event_type = 'goal_set';
