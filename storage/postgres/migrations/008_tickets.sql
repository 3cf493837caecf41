-- Feedback tickets with working-day SLA clocks (M 6.2, W 5.5 c).
CREATE TABLE tickets (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('tech', 'business', 'disclosure')),
    title        text NOT NULL,
    asker        text NOT NULL REFERENCES users (id),
    app          text NOT NULL DEFAULT '',
    unit         text NOT NULL DEFAULT '',
    assignees    text[] NOT NULL DEFAULT '{}',
    state        text NOT NULL CHECK (state IN ('open', 'waiting', 'answered', 'closed')),
    answer       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    paused_at    timestamptz,
    answered_at  timestamptz,
    closed_at    timestamptz,
    overdue      boolean NOT NULL DEFAULT false
);
CREATE INDEX tickets_open ON tickets (state) WHERE state IN ('open', 'waiting');

CREATE TABLE ticket_events (
    id        bigserial PRIMARY KEY,
    ticket_id bigint NOT NULL REFERENCES tickets (id),
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    kind      text NOT NULL,
    body      text NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
