-- Review actions, the problem library, and incident links to problems.

CREATE TABLE incident_actions (
    id          bigserial PRIMARY KEY,
    incident_id bigint NOT NULL REFERENCES incidents (id),
    body        text NOT NULL,
    owner       text NOT NULL REFERENCES users (id),
    due         date NOT NULL,
    done        boolean NOT NULL DEFAULT false
);
CREATE INDEX incident_actions_incident ON incident_actions (incident_id);

CREATE TABLE problems (
    id         bigserial PRIMARY KEY,
    title      text NOT NULL,
    system     text NOT NULL DEFAULT '',
    cause      text NOT NULL DEFAULT '',
    state      text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    proposed   boolean NOT NULL DEFAULT false,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL
);

ALTER TABLE incidents ADD COLUMN problem_id bigint REFERENCES problems (id);
CREATE INDEX incidents_created ON incidents (created_at);
