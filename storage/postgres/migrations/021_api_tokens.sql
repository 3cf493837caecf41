-- API tokens (issue 14). A personal token acts as its owner with the
-- owner's roles; a service token acts as a service user, an integration's
-- own org user with explicit roles (api.service_users, webchat.token).
-- Only the SHA-256 of a secret is kept; prefix is its non-secret start.

-- Service users are never picked as people to notify, approve or be on duty.
ALTER TABLE users ADD COLUMN service boolean NOT NULL DEFAULT false;

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    hash         text NOT NULL UNIQUE,
    prefix       text NOT NULL,
    name         text NOT NULL,
    user_id      text NOT NULL REFERENCES users (id),
    kind         text NOT NULL CHECK (kind IN ('personal', 'service')),
    scope        text NOT NULL CHECK (scope IN ('read', 'write')),
    from_config  boolean NOT NULL DEFAULT false,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    revoked_by   text NOT NULL DEFAULT '',
    last_used_at timestamptz
);
-- A user's live tokens have distinct names.
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (user_id, name) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_kind ON api_tokens (kind) WHERE revoked_at IS NULL;
