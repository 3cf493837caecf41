-- Approvals: requests, their routes as data, decisions; timers.

CREATE TABLE requests (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,
    route       text NOT NULL,
    state       text NOT NULL CHECK (state IN ('pending', 'done', 'rejected', 'cancelled')),
    step        int NOT NULL,
    requester   text NOT NULL REFERENCES users (id),
    title       text NOT NULL,
    app         text NOT NULL DEFAULT '',
    unit        text NOT NULL DEFAULT '',
    payload     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    step_since  timestamptz NOT NULL,
    closed_at   timestamptz
);
CREATE INDEX requests_pending ON requests (state) WHERE state = 'pending';
CREATE INDEX requests_requester ON requests (requester, id);

-- A route is the ordered steps of a request kind in one scope. Each step
-- names the roles that act on it (and fallback roles when nobody holds
-- them in scope), where the scope unit comes from, how many distinct
-- people must act, and the verbs they may use.
CREATE TABLE approval_routes (
    route          text NOT NULL,
    seq            int NOT NULL,
    name           text NOT NULL,
    roles          text[] NOT NULL,
    fallback_roles text[] NOT NULL DEFAULT '{}',
    scope          text NOT NULL CHECK (scope IN ('owner', 'city', 'app', 'target', 'requester')),
    count          int NOT NULL DEFAULT 1 CHECK (count >= 1),
    verbs          text[] NOT NULL,
    back_to        int NOT NULL DEFAULT 0,
    PRIMARY KEY (route, seq)
);

INSERT INTO approval_routes (route, seq, name, roles, fallback_roles, scope, count, verbs, back_to) VALUES
    ('app_online/unit',    1, 'approve',     '{unit_admin}',     '{district_admin,sys_admin}', 'owner',     1, '{approve,reject}', 0),
    ('app_online/unit',    2, 'execute',     '{operator}',       '{}',                         'city',      1, '{done}',           0),
    ('app_online/cross',   1, 'approve',     '{sys_admin}',      '{}',                         'city',      1, '{approve,reject}', 0),
    ('app_online/cross',   2, 'execute',     '{operator}',       '{}',                         'city',      1, '{done}',           0),
    ('app_offline/unit',   1, 'approve',     '{unit_admin}',     '{district_admin,sys_admin}', 'owner',     1, '{approve,reject}', 0),
    ('app_offline/unit',   2, 'execute',     '{operator}',       '{}',                         'city',      1, '{done}',           0),
    ('app_offline/cross',  1, 'approve',     '{sys_admin}',      '{}',                         'city',      1, '{approve,reject}', 0),
    ('app_offline/cross',  2, 'execute',     '{operator}',       '{}',                         'city',      1, '{done}',           0),
    ('app_release/city',     1, 'approve',     '{sys_admin}',      '{}',                         'city',  1, '{approve,reject}', 0),
    ('app_release/district', 1, 'approve',     '{district_admin}', '{sys_admin}',                'owner', 1, '{approve,reject}', 0),
    ('app_release/unit',     1, 'approve',     '{unit_admin}',     '{district_admin,sys_admin}', 'owner', 1, '{approve,reject}', 0),
    ('app_release/city',     2, 'uat_request', '{access_party}',   '{}',                         'app',   1, '{uat_request}',    0),
    ('app_release/district', 2, 'uat_request', '{access_party}',   '{}',                         'app',   1, '{uat_request}',    0),
    ('app_release/unit',     2, 'uat_request', '{access_party}',   '{}',                         'app',   1, '{uat_request}',    0),
    ('app_release/city',     3, 'uat',         '{operator}',       '{}',                         'city',  1, '{pass,fail}',      2),
    ('app_release/district', 3, 'uat',         '{operator}',       '{}',                         'city',  1, '{pass,fail}',      2),
    ('app_release/unit',     3, 'uat',         '{operator}',       '{}',                         'city',  1, '{pass,fail}',      2),
    ('app_release/city',     4, 'notice',      '{operator}',       '{}',                         'city',  1, '{publish}',        0),
    ('app_release/district', 4, 'notice',      '{operator}',       '{}',                         'city',  1, '{publish}',        0),
    ('app_release/unit',     4, 'notice',      '{operator}',       '{}',                         'city',  1, '{publish}',        0),
    ('app_release/city',     5, 'release',     '{access_party}',   '{}',                         'app',   1, '{confirm}',        0),
    ('app_release/district', 5, 'release',     '{access_party}',   '{}',                         'app',   1, '{confirm}',        0),
    ('app_release/unit',     5, 'release',     '{access_party}',   '{}',                         'app',   1, '{confirm}',        0),
    ('permission/unit',    1, 'approve',     '{district_admin}', '{sys_admin}',                'target',    1, '{approve,reject}', 0),
    ('change/normal',      1, 'approve',     '{sys_admin}',      '{}',                         'city',      1, '{approve,reject}', 0),
    ('change/normal',      2, 'implement',   '{operator,sys_admin}', '{}',                     'city',      1, '{start}',          0),
    ('change/normal',      3, 'complete',    '{operator,sys_admin}', '{}',                     'city',      1, '{done}',           0),
    ('change/normal',      4, 'review',      '{operator,sys_admin}', '{}',                     'city',      1, '{ok,issues}',      0),
    ('change/emergency',   1, 'approve',     '{sys_admin}',      '{}',                         'city',      1, '{approve,reject}', 0),
    ('change/emergency',   2, 'approve2',    '{operator,sys_admin,district_admin}', '{}',      'city',      1, '{approve,reject}', 0),
    ('change/emergency',   3, 'implement',   '{operator,sys_admin}', '{}',                     'city',      1, '{start}',          0),
    ('change/emergency',   4, 'complete',    '{operator,sys_admin}', '{}',                     'city',      1, '{done}',           0),
    ('change/emergency',   5, 'review',      '{operator,sys_admin}', '{}',                     'city',      1, '{ok,issues}',      0),
    ('operation/dual',     1, 'approve',     '{operator,sys_admin}', '{}',                     'city',      2, '{approve,reject}', 0),
    ('operation/dual',     2, 'execute',     '{operator,sys_admin}', '{}',                     'requester', 1, '{done}',           0);

CREATE TABLE request_decisions (
    id         bigserial PRIMARY KEY,
    request_id bigint NOT NULL REFERENCES requests (id),
    step       int NOT NULL,
    actor      text NOT NULL,
    verb       text NOT NULL,
    note       text NOT NULL DEFAULT '',
    platform   text NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX request_decisions_request ON request_decisions (request_id, id);

-- Permission grants on apps (M 5.2.2): workbench visibility and in-app permissions.
CREATE TABLE app_grants (
    app        text NOT NULL REFERENCES apps (code),
    grantee    text NOT NULL,          -- "user:<id>" or "unit:<code>"
    kind       text NOT NULL,          -- "visible" or "inapp:<name>"
    request_id bigint REFERENCES requests (id),
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (app, grantee, kind)
);

-- Timers: due times live here; asynq only triggers them.
CREATE TABLE timers (
    id       bigserial PRIMARY KEY,
    kind     text NOT NULL,
    ref      text NOT NULL,
    due_at   timestamptz NOT NULL,
    state    text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'fired', 'cancelled')),
    data     jsonb NOT NULL DEFAULT '{}',
    fired_at timestamptz
);
CREATE INDEX timers_due ON timers (due_at) WHERE state = 'pending';
CREATE INDEX timers_ref ON timers (ref) WHERE state = 'pending';

ALTER TABLE apps ADD COLUMN version text NOT NULL DEFAULT '';
