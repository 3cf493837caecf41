-- Emergency plans and drills (W 9.1 k, W 9.3), early warnings (W 9.3 a)
-- and recurring duties (issue 17 items 4 and 9).
CREATE TABLE emergency_plans (
    id          bigserial PRIMARY KEY,
    system      text NOT NULL,
    title       text NOT NULL,
    level       int NOT NULL,
    file        text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    reviewed_at timestamptz,
    reviewed_by text NOT NULL DEFAULT '',
    review_note text NOT NULL DEFAULT '',
    review_due  timestamptz NOT NULL
);

CREATE TABLE emergency_drills (
    id           bigserial PRIMARY KEY,
    plan_id      bigint NOT NULL REFERENCES emergency_plans (id),
    day          date NOT NULL,
    state        text NOT NULL,
    participants text[] NOT NULL DEFAULT '{}',
    findings     jsonb NOT NULL DEFAULT '[]',
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    recorded_by  text NOT NULL DEFAULT '',
    recorded_at  timestamptz
);
CREATE INDEX emergency_drills_plan ON emergency_drills (plan_id);

CREATE TABLE emergency_warnings (
    id        bigserial PRIMARY KEY,
    level     int NOT NULL,
    text      text NOT NULL,
    state     text NOT NULL,
    issued_by text NOT NULL,
    issued_at timestamptz NOT NULL,
    lifted_by text NOT NULL DEFAULT '',
    lifted_at timestamptz,
    lift_text text NOT NULL DEFAULT ''
);

-- Recurring duties: seeded ones carry a seed key so seeding is idempotent.
CREATE TABLE duty_tasks (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    every       text NOT NULL,
    owner       text NOT NULL,
    due_rule    text NOT NULL,
    next_due    timestamptz NOT NULL,
    seed_key    text UNIQUE,
    last_done   timestamptz,
    last_by     text NOT NULL DEFAULT '',
    last_note   text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL
);
