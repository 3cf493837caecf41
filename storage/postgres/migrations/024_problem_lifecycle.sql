-- Problem lifecycle (W 8.5 e–i): 待分析 (open) → 分析中 (analysing) →
-- 已找到根因 (cause_found) → 已解决 (resolved, with the change that fixed
-- it) → 已关闭 (closed), with an owner and a due date. The state check
-- widens (old code writes 'open' and reads 'resolved', both still allowed).
ALTER TABLE problems DROP CONSTRAINT IF EXISTS problems_state_check;
ALTER TABLE problems ADD CONSTRAINT problems_state_check
    CHECK (state IN ('open', 'analysing', 'cause_found', 'resolved', 'closed'));
ALTER TABLE problems
    ADD COLUMN owner       text NOT NULL DEFAULT '',
    ADD COLUMN due         date,
    ADD COLUMN change_id   bigint,
    ADD COLUMN change_ref  text NOT NULL DEFAULT '',
    ADD COLUMN incident_id bigint,
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN closed_at   timestamptz;

-- Review actions marked done (who, when).
ALTER TABLE incident_actions
    ADD COLUMN done_at timestamptz,
    ADD COLUMN done_by text NOT NULL DEFAULT '';
CREATE INDEX incident_actions_open ON incident_actions (due) WHERE NOT done;
