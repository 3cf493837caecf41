-- Inspections (M 7.3.2, W 6), backup checks and restore tests (W 8.4),
-- the daily digest (M 6.1).

CREATE TABLE inspection_plans (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL,
    cron       text NOT NULL,
    assignee   text NOT NULL,
    items      text[] NOT NULL,
    grace      interval NOT NULL,
    level      int NOT NULL CHECK (level BETWEEN 1 AND 4),
    active     boolean NOT NULL DEFAULT true,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX inspection_plans_name ON inspection_plans (name) WHERE active;

CREATE TABLE inspection_runs (
    id        bigserial PRIMARY KEY,
    plan_id   bigint NOT NULL REFERENCES inspection_plans (id),
    plan      text NOT NULL,
    items     text[] NOT NULL,
    assignees text[] NOT NULL,
    due_at    timestamptz NOT NULL,
    state     text NOT NULL CHECK (state IN ('pending', 'done')),
    missed    boolean NOT NULL DEFAULT false,
    results   jsonb NOT NULL DEFAULT '{}',
    done_at   timestamptz
);
CREATE INDEX inspection_runs_plan ON inspection_runs (plan_id, due_at DESC);
CREATE INDEX inspection_runs_due ON inspection_runs (due_at);

CREATE TABLE backup_plans (
    id         bigserial PRIMARY KEY,
    system     text NOT NULL,
    daily_at   text NOT NULL,
    full_day   int NOT NULL DEFAULT 0 CHECK (full_day BETWEEN 0 AND 28),
    active     boolean NOT NULL DEFAULT true,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX backup_plans_system ON backup_plans (system) WHERE active;

CREATE TABLE backup_reports (
    id      bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES backup_plans (id),
    day     date NOT NULL,
    at      timestamptz NOT NULL,
    kind    text NOT NULL CHECK (kind IN ('full', 'incremental')),
    ok      boolean NOT NULL,
    note    text NOT NULL DEFAULT '',
    by_user text NOT NULL,
    source  text NOT NULL
);
CREATE INDEX backup_reports_plan ON backup_reports (plan_id, at DESC);

-- One expected daily backup of a plan.
CREATE TABLE backup_checks (
    plan_id   bigint NOT NULL REFERENCES backup_plans (id),
    day       date NOT NULL,
    due_at    timestamptz NOT NULL,
    state     text NOT NULL CHECK (state IN ('pending', 'ok', 'failed', 'missing')),
    report_id bigint REFERENCES backup_reports (id),
    PRIMARY KEY (plan_id, day)
);

-- A failed backup: the fault report, its incident and the re-run task.
CREATE TABLE backup_faults (
    id            bigserial PRIMARY KEY,
    plan_id       bigint NOT NULL REFERENCES backup_plans (id),
    report_id     bigint NOT NULL REFERENCES backup_reports (id),
    incident_id   bigint NOT NULL,
    assignees     text[] NOT NULL,
    state         text NOT NULL CHECK (state IN ('open', 'closed')),
    created_at    timestamptz NOT NULL,
    closed_at     timestamptz,
    closed_report bigint REFERENCES backup_reports (id)
);
CREATE INDEX backup_faults_open ON backup_faults (plan_id) WHERE state = 'open';

CREATE TABLE backup_verifications (
    id      bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES backup_plans (id),
    month   text NOT NULL,
    ok      boolean NOT NULL,
    note    text NOT NULL DEFAULT '',
    by_user text NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX backup_verifications_plan ON backup_verifications (plan_id, month);

-- The monthly backup-record audit, signed off by the operator lead.
CREATE TABLE backup_audits (
    month      text PRIMARY KEY,
    summary    jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    signed_by  text,
    signed_at  timestamptz
);

-- Digests sent, one per manager and day, whatever the schedulers do.
CREATE TABLE digest_sent (
    day     date NOT NULL,
    user_id text NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (day, user_id)
);

ALTER TABLE webchat_messages ADD COLUMN image bytea;
