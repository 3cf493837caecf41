-- Duty overrides and incidents with their timeline.

ALTER TABLE duty_rotations ADD COLUMN start_date date NOT NULL DEFAULT current_date;

CREATE TABLE duty_overrides (
    rotation   text NOT NULL REFERENCES duty_rotations (name),
    day        date NOT NULL,
    user_id    text NOT NULL REFERENCES users (id),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (rotation, day)
);

CREATE TABLE incidents (
    id             bigserial PRIMARY KEY,
    title          text NOT NULL,
    level          int NOT NULL CHECK (level BETWEEN 1 AND 4),
    state          text NOT NULL CHECK (state IN ('declared', 'acknowledged', 'mitigated', 'resolved', 'closed')),
    system         text NOT NULL DEFAULT '',
    unit           text NOT NULL DEFAULT '',
    rotation       text NOT NULL DEFAULT '',
    owner          text NOT NULL DEFAULT '',
    declared_by    text NOT NULL,
    stakeholders   text[] NOT NULL DEFAULT '{}',
    escalation     int NOT NULL DEFAULT 0,
    summary        text NOT NULL DEFAULT '',
    cause          text NOT NULL DEFAULT '',
    actions        text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    acked_at       timestamptz,
    mitigated_at   timestamptz,
    resolved_at    timestamptz,
    closed_at      timestamptz,
    last_update_at timestamptz NOT NULL
);
CREATE INDEX incidents_open ON incidents (state) WHERE state <> 'closed';

CREATE TABLE incident_events (
    id          bigserial PRIMARY KEY,
    incident_id bigint NOT NULL REFERENCES incidents (id),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    kind        text NOT NULL,
    body        text NOT NULL DEFAULT ''
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
