-- Pushed monthly reports and quarterly internal checks (issue 17 item 3).

-- One row per report kind, period and recipient: a second scheduler's
-- insert conflicts and sends nothing ("*" marks the period's own work,
-- the check's corrective actions).
CREATE TABLE report_sent (
    kind     text NOT NULL,           -- monthly | check
    period   text NOT NULL,           -- YYYY-MM | YYYY-Qn
    user_id  text NOT NULL,
    sent_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, period, user_id)
);

-- Corrective actions of the quarterly internal check (W 6 c–e).
CREATE TABLE check_actions (
    quarter  text NOT NULL,
    n        int NOT NULL,
    plan     text NOT NULL,
    kind     text NOT NULL,           -- missed | issue
    item     text NOT NULL DEFAULT '',
    count    int NOT NULL DEFAULT 0,
    owner    text NOT NULL,
    due_at   timestamptz NOT NULL,
    state    text NOT NULL DEFAULT 'open',
    done_by  text NOT NULL DEFAULT '',
    done_at  timestamptz,
    PRIMARY KEY (quarter, n)
);
