-- Browser sign-in sessions (only the SHA-256 of the cookie's secret is
-- kept) and sign-ins started at a provider and not yet back, so any
-- replica can finish a login another started.
CREATE TABLE web_sessions (
    id         text PRIMARY KEY,
    hash       text NOT NULL UNIQUE,
    user_id    text NOT NULL REFERENCES users (id),
    via        text NOT NULL,
    csrf       text NOT NULL,
    address    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at   timestamptz
);
CREATE INDEX web_sessions_user ON web_sessions (user_id) WHERE ended_at IS NULL;

CREATE TABLE web_login_flows (
    state      text PRIMARY KEY, -- SHA-256 of the state parameter
    via        text NOT NULL,
    verifier   text NOT NULL,
    nonce      text NOT NULL,
    return_to  text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_login_flows_expiry ON web_login_flows (expires_at);
