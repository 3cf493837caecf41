-- Alertmanager groups as incidents.

CREATE TABLE alert_groups (
    group_key     text PRIMARY KEY,
    receiver      text NOT NULL,
    incident_id   bigint NOT NULL REFERENCES incidents (id),
    labels        jsonb NOT NULL DEFAULT '{}',   -- the group's labels: the silence matchers
    status        text NOT NULL,
    firing        int NOT NULL DEFAULT 0,
    resolved      int NOT NULL DEFAULT 0,
    external_url  text NOT NULL DEFAULT '',
    http_kind     boolean NOT NULL DEFAULT false,
    app           text NOT NULL DEFAULT '',
    joint         boolean NOT NULL DEFAULT false, -- the non-200 rule made it joint troubleshooting
    updated_at    timestamptz NOT NULL,
    notified_at   timestamptz                     -- last chat update, for coalescing
);
CREATE INDEX alert_groups_incident ON alert_groups (incident_id);

CREATE TABLE alerts (
    group_key     text NOT NULL REFERENCES alert_groups (group_key),
    fingerprint   text NOT NULL,
    status        text NOT NULL,
    labels        jsonb NOT NULL DEFAULT '{}',
    annotations   jsonb NOT NULL DEFAULT '{}',
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz,
    generator_url text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (group_key, fingerprint)
);

ALTER TABLE incidents ADD COLUMN source text NOT NULL DEFAULT 'chat';
ALTER TABLE incidents ADD COLUMN channel text NOT NULL DEFAULT '';
ALTER TABLE alert_groups ADD COLUMN flush_due timestamptz; -- a coalesced update is scheduled
