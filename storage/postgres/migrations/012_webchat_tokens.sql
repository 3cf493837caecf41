-- Personal web chat sign-in tokens (only their SHA-256 is kept).
CREATE TABLE webchat_tokens (
    hash       text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id),
    issued_by  text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX webchat_tokens_user ON webchat_tokens (user_id) WHERE revoked_at IS NULL;
