-- The console's trends and audit page (issue 15). Indexes of the trend
-- series (core/trend): each is one aggregate query over a year at most,
-- found by its time column.
CREATE INDEX incident_events_kind_at ON incident_events (kind, at);
CREATE INDEX tickets_answered ON tickets (answered_at) WHERE answered_at IS NOT NULL;
CREATE INDEX tickets_due_unanswered ON tickets (due_at) WHERE answered_at IS NULL;
CREATE INDEX backup_checks_day ON backup_checks (day);

-- The outcome of every walk of the audit chain (the hourly checkpoint, a
-- sys admin's on-demand run): the console's audit page shows the last.
CREATE TABLE audit_verifications (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL,
    by_user    text NOT NULL,
    count      bigint NOT NULL,
    seq        bigint NOT NULL,
    broken_seq bigint NOT NULL DEFAULT 0,
    broken     text NOT NULL DEFAULT '',
    signed     boolean NOT NULL DEFAULT false,
    took_ms    bigint NOT NULL DEFAULT 0
);
