-- Signing in to the web app without a password: an e-mailed link, single use and short-lived,
-- and the sessions it (or an invitation) opens.

-- A sign-in link's secret is kept only as a keyed hash, like a token's; `used_at` makes it
-- single use (the update that sets it is the one that takes it).
CREATE TABLE sign_in_links (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    secret_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX sign_in_links_of_user ON sign_in_links (user_id);

-- A web session is an access token held in an HttpOnly cookie: the same caller, the same
-- revocation and the same deactivation check as the API's bearer tokens. This table says which
-- tokens are web sessions, so that "sign out everywhere" ends those and leaves the person's
-- API tokens alone.
CREATE TABLE web_sessions (
    token_id uuid PRIMARY KEY REFERENCES access_tokens (id),
    user_id uuid NOT NULL REFERENCES users (id),
    opened_by text NOT NULL CHECK (opened_by IN ('sign_in_link', 'invitation')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_of_user ON web_sessions (user_id);

GRANT SELECT, INSERT ON sign_in_links TO goals_app;
GRANT UPDATE (used_at) ON sign_in_links TO goals_app;
GRANT SELECT, INSERT ON web_sessions TO goals_app;
