-- Paging beyond chat (issue 19): people's verified mobiles and e-mail
-- addresses, their quiet hours, every page sent (once per key) with its
-- delivery status, and one-time acknowledge links stored by their hash.
CREATE TABLE contact_methods (
    id           bigserial PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id),
    kind         text NOT NULL,            -- mobile, email
    value        text NOT NULL,
    verified     boolean NOT NULL DEFAULT false,
    code_hash    text NOT NULL DEFAULT '',
    code_expires timestamptz,
    attempts     int NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    UNIQUE (user_id, kind, value)
);

CREATE TABLE paging_quiet (
    user_id text PRIMARY KEY REFERENCES users (id),
    quiet   text NOT NULL
);

CREATE TABLE pages (
    id          bigserial PRIMARY KEY,
    key         text NOT NULL UNIQUE,      -- incident:N/user/step/method
    incident_id bigint NOT NULL REFERENCES incidents (id),
    user_id     text NOT NULL,
    step        int NOT NULL,
    method      text NOT NULL,
    address     text NOT NULL DEFAULT '',
    level       int NOT NULL,
    title       text NOT NULL,
    status      text NOT NULL,
    provider    text NOT NULL DEFAULT '',
    message_id  text NOT NULL DEFAULT '',
    attempts    int NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    acked_at    timestamptz
);
CREATE INDEX pages_incident ON pages (incident_id, id);
CREATE INDEX pages_user_at ON pages (user_id, at);
CREATE INDEX pages_address ON pages (address, id);
CREATE INDEX pages_message ON pages (message_id) WHERE message_id <> '';

CREATE TABLE ack_tokens (
    hash        text PRIMARY KEY,          -- sha256 of the link's secret
    page_id     bigint NOT NULL REFERENCES pages (id),
    incident_id bigint NOT NULL REFERENCES incidents (id),
    user_id     text NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
