-- Credentials that can be traced and revoked as a tree, invitations in place of tokens issued to
-- someone else, users that can be edited and deactivated, and settings each clinic chooses.
-- Every change to these rows is also appended to the event log (streams `clinic-*`, `user-*`,
-- `care-team-*`): the rows are what requests check, the log is what happened.

-- A clinic's own settings (the active-goal limit was already one).
ALTER TABLE clinics
    ADD COLUMN default_time_zone text NOT NULL DEFAULT 'UTC',
    ADD COLUMN max_token_lifetime_days integer NOT NULL DEFAULT 90
        CHECK (max_token_lifetime_days BETWEEN 1 AND 365);

-- A deactivated user keeps their history; their tokens stop working at once.
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;
CREATE INDEX users_directory ON users (clinic_id, display_name, id);

-- An invitation: a short-lived, single-use code an admin makes for a user, which only its holder
-- redeems for their own token. Only a keyed hash of the code is kept.
CREATE TABLE invitations (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    code_hash bytea NOT NULL UNIQUE,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    redeemed_at timestamptz,
    withdrawn_at timestamptz
);
CREATE INDEX invitations_by_user ON invitations (user_id);

-- Who issued each token and from which token, invitation or command. `ancestors` lists the
-- token's parent, its parent's parent and so on, so that the token check sees at once whether
-- any of them was revoked. Tokens from before this migration have none.
ALTER TABLE access_tokens
    ADD COLUMN parent_id uuid REFERENCES access_tokens (id),
    ADD COLUMN issued_by uuid REFERENCES users (id),
    ADD COLUMN invitation_id uuid REFERENCES invitations (id),
    ADD COLUMN ancestors uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX access_tokens_by_ancestor ON access_tokens USING gin (ancestors);

-- Users are edited and deactivated, clinics' settings changed, invitations redeemed or
-- withdrawn: each by an update of these columns alone.
GRANT UPDATE (display_name, email, time_zone, deactivated_at) ON users TO goals_app;
GRANT UPDATE (active_goal_limit, default_time_zone, max_token_lifetime_days)
    ON clinics TO goals_app;
GRANT SELECT, INSERT ON invitations TO goals_app;
GRANT UPDATE (redeemed_at, withdrawn_at) ON invitations TO goals_app;
