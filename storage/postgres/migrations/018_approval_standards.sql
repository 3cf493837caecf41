-- Approvals carried as the standards say (issue 16).
--
-- W 8.6 d: a change whose window passes before it starts expires; an
-- approver may set the window when approving, recorded on the decision.
ALTER TABLE requests DROP CONSTRAINT requests_state_check;
ALTER TABLE requests ADD CONSTRAINT requests_state_check
    CHECK (state IN ('pending', 'done', 'rejected', 'cancelled', 'expired'));
ALTER TABLE request_decisions ADD COLUMN window_set text NOT NULL DEFAULT '';

-- Routes change as data. Requests filed before keep the steps they were
-- filed on: the old rows move to a ".1" name together with the requests
-- (pending or closed) that follow them, and the current names get the new
-- steps.
UPDATE approval_routes SET route = route || '.1'
    WHERE route IN ('app_online/cross', 'app_offline/cross', 'operation/dual');
UPDATE requests SET route = route || '.1'
    WHERE route IN ('app_online/cross', 'app_offline/cross', 'operation/dual');

-- M 7.1.1 b, 7.1.2.2 b: a cross-unit app's onboarding or offboarding is
-- agreed by its owner unit's admin (the district admin above when that
-- admin is the requester or there is none), then approved by the sys
-- admin, then carried out by an operator.
-- W 8.2 a/c: a special operation is executed by its requester and checked
-- (复核) by another operator, neither its requester nor an approver nor
-- the executor; "issues" sends it back to the executor.
INSERT INTO approval_routes (route, seq, name, roles, fallback_roles, scope, count, verbs, back_to) VALUES
    ('app_online/cross',   1, 'owner_agree', '{unit_admin}',         '{district_admin}', 'owner',     1, '{approve,reject}', 0),
    ('app_online/cross',   2, 'approve',     '{sys_admin}',          '{}',               'city',      1, '{approve,reject}', 0),
    ('app_online/cross',   3, 'execute',     '{operator}',           '{}',               'city',      1, '{done}',           0),
    ('app_offline/cross',  1, 'owner_agree', '{unit_admin}',         '{district_admin}', 'owner',     1, '{approve,reject}', 0),
    ('app_offline/cross',  2, 'approve',     '{sys_admin}',          '{}',               'city',      1, '{approve,reject}', 0),
    ('app_offline/cross',  3, 'execute',     '{operator}',           '{}',               'city',      1, '{done}',           0),
    ('operation/dual',     1, 'approve',     '{operator,sys_admin}', '{}',               'city',      2, '{approve,reject}', 0),
    ('operation/dual',     2, 'execute',     '{operator,sys_admin}', '{}',               'requester', 1, '{done}',           0),
    ('operation/dual',     3, 'check',       '{operator}',           '{}',               'city',      1, '{ok,issues}',      2);
