-- Foundation: org, roles, identities, apps, rotations, audit log, outbox, webchat.

CREATE TABLE units (
    code       text PRIMARY KEY,
    name       text NOT NULL,
    level      text NOT NULL CHECK (level IN ('city', 'district', 'unit', 'department')),
    parent     text REFERENCES units (code),
    path       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    removed    boolean NOT NULL DEFAULT false
);
CREATE INDEX units_path ON units (path text_pattern_ops);
CREATE UNIQUE INDEX units_one_root ON units ((parent IS NULL)) WHERE parent IS NULL;

CREATE TABLE users (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    unit       text NOT NULL REFERENCES units (code),
    created_at timestamptz NOT NULL,
    removed    boolean NOT NULL DEFAULT false
);
CREATE INDEX users_unit ON users (unit);

CREATE TABLE role_grants (
    user_id    text NOT NULL REFERENCES users (id),
    role       text NOT NULL,
    scope      text NOT NULL,
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, role, scope)
);
CREATE INDEX role_grants_scope ON role_grants (scope);
CREATE INDEX role_grants_role ON role_grants (role);

CREATE TABLE identities (
    platform    text NOT NULL,
    external_id text NOT NULL,
    user_id     text NOT NULL REFERENCES users (id),
    PRIMARY KEY (platform, external_id)
);
CREATE INDEX identities_user ON identities (user_id);

CREATE TABLE apps (
    code       text PRIMARY KEY,
    name       text NOT NULL,
    owner      text NOT NULL REFERENCES units (code),
    scope      text NOT NULL CHECK (scope IN ('unit', 'cross')),
    level      text NOT NULL CHECK (level IN ('city', 'district', 'unit')),
    status     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE duty_rotations (
    name          text PRIMARY KEY,
    unit          text NOT NULL REFERENCES units (code),
    members       text[] NOT NULL,
    every         text NOT NULL CHECK (every IN ('day', 'week')),
    handover      text NOT NULL,
    skip_holidays boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The audit log is append-only and hash-chained (see core/audit).
CREATE TABLE audit_log (
    seq       bigint PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    platform  text NOT NULL,
    action    text NOT NULL,
    entity    text NOT NULL,
    before    text NOT NULL DEFAULT '',
    after     text NOT NULL DEFAULT '',
    prev_hash text NOT NULL,
    hash      text NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, seq);

CREATE TABLE audit_head (
    id   int PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Transactional outbox: one row per notice and recipient.
CREATE TABLE outbox (
    id                  bigserial PRIMARY KEY,
    created_at          timestamptz NOT NULL DEFAULT now(),
    kind                text NOT NULL,
    ref                 text NOT NULL DEFAULT '',
    to_user             text NOT NULL DEFAULT '',
    to_channel          text NOT NULL DEFAULT '',
    data                jsonb NOT NULL DEFAULT '{}',
    state               text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts            int NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    delivered_platforms text[] NOT NULL DEFAULT '{}',
    delivered_at        timestamptz,
    lease_until         timestamptz,
    last_error          text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE state = 'pending';

-- Webchat: the embedded platform's messages. id and seq share one sequence:
-- an update takes a new seq, so polling "after" a cursor sees it again.
CREATE SEQUENCE webchat_seq;
CREATE TABLE webchat_messages (
    id         bigint PRIMARY KEY DEFAULT nextval('webchat_seq'),
    seq        bigint NOT NULL,
    revision   int NOT NULL DEFAULT 1,
    to_user    text NOT NULL DEFAULT '',
    to_channel text NOT NULL DEFAULT '',
    status     text NOT NULL,
    ref        text NOT NULL DEFAULT '',
    title      text NOT NULL DEFAULT '',
    body       text NOT NULL DEFAULT '',
    fields     jsonb NOT NULL DEFAULT '[]',
    buttons    jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webchat_messages_seq ON webchat_messages (seq);
CREATE INDEX webchat_messages_user ON webchat_messages (to_user, seq) WHERE to_user <> '';
CREATE INDEX webchat_messages_channel ON webchat_messages (to_channel, seq) WHERE to_channel <> '';
CREATE INDEX webchat_messages_ref ON webchat_messages (ref) WHERE ref <> '';

CREATE TABLE webchat_channel_members (
    channel text NOT NULL,
    user_id text NOT NULL,
    PRIMARY KEY (channel, user_id)
);
CREATE INDEX webchat_channel_members_user ON webchat_channel_members (user_id);
