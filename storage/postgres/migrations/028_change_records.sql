-- Change records and requests (issue 17).
--
-- W 5.6 a: every app passes a system test before it goes online. An
-- onboarding, once approved, waits for its requester (the access party,
-- or the unit acting for the app) to ask for the test; an operator passes
-- or fails it (a fail, with its reason, goes back to the request); only
-- then does an operator put the app online. Requests filed before keep
-- the steps they were filed on: the old rows move to a ".2" name with
-- the requests that follow them.
UPDATE approval_routes SET route = route || '.2' WHERE route IN ('app_online/unit', 'app_online/cross');
UPDATE requests SET route = route || '.2' WHERE route IN ('app_online/unit', 'app_online/cross');

-- M 4.2.3 b: a unit contact asks the district admin covering their unit
-- for an org change; once approved the admin carries it out and marks it
-- done (reminded until then).
-- W 8.4.3 c: access to offline backup data is approved by a sys admin and
-- registered.
-- (M 5.2.2: a revoke follows the grant's route, permission/unit.)
INSERT INTO approval_routes (route, seq, name, roles, fallback_roles, scope, count, verbs, back_to) VALUES
    ('app_online/unit',     1, 'approve',         '{unit_admin}',     '{district_admin,sys_admin}', 'owner',     1, '{approve,reject}',      0),
    ('app_online/unit',     2, 'systest_request', '{access_party}',   '{}',                         'requester', 1, '{test_request}',        0),
    ('app_online/unit',     3, 'systest',         '{operator}',       '{}',                         'city',      1, '{test_pass,test_fail}', 2),
    ('app_online/unit',     4, 'execute',         '{operator}',       '{}',                         'city',      1, '{done}',                0),
    ('app_online/cross',    1, 'owner_agree',     '{unit_admin}',     '{district_admin}',           'owner',     1, '{approve,reject}',      0),
    ('app_online/cross',    2, 'approve',         '{sys_admin}',      '{}',                         'city',      1, '{approve,reject}',      0),
    ('app_online/cross',    3, 'systest_request', '{access_party}',   '{}',                         'requester', 1, '{test_request}',        0),
    ('app_online/cross',    4, 'systest',         '{operator}',       '{}',                         'city',      1, '{test_pass,test_fail}', 3),
    ('app_online/cross',    5, 'execute',         '{operator}',       '{}',                         'city',      1, '{done}',                0),
    ('org_change/district', 1, 'approve',         '{district_admin}', '{sys_admin}',                'owner',     1, '{approve,reject}',      0),
    ('org_change/district', 2, 'carry_out',       '{district_admin}', '{sys_admin}',                'owner',     1, '{done}',                0),
    ('backup_access/city',  1, 'approve',         '{sys_admin}',      '{}',                         'city',      1, '{approve,reject}',      0);
