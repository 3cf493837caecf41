-- Indexes of the console's trend series (core/trend): each series is one
-- aggregate query over a year at most, found by its time column.
CREATE INDEX incident_events_kind_at ON incident_events (kind, at);
CREATE INDEX tickets_answered ON tickets (answered_at) WHERE answered_at IS NOT NULL;
CREATE INDEX tickets_due_unanswered ON tickets (due_at) WHERE answered_at IS NULL;
CREATE INDEX backup_checks_day ON backup_checks (day);
