-- Notices to an app's users and backup policy fields (issue 17).
--
-- M 7.3.3 b: a public notice about an app, asked by its access party or an
-- admin or contact of its owner unit, is approved by the owner unit's
-- admin (the district admin above, then the sys admin, when that admin is
-- the requester or there is none) and goes to the app's users.
INSERT INTO approval_routes (route, seq, name, roles, fallback_roles, scope, count, verbs, back_to) VALUES
    ('app_notice/unit', 1, 'approve', '{unit_admin}', '{district_admin,sys_admin}', 'owner', 1, '{approve,reject}', 0);

-- W 8.4.1: a backup plan records where backups are kept (存放位置), how
-- long (保留期限), how they are taken (备份方式) and who is responsible
-- (责任人). Plans made before stay valid with the fields empty; the
-- monthly backup audit lists them as findings.
ALTER TABLE backup_plans
    ADD COLUMN location  text NOT NULL DEFAULT '',
    ADD COLUMN retention text NOT NULL DEFAULT '',
    ADD COLUMN method    text NOT NULL DEFAULT '',
    ADD COLUMN owner     text NOT NULL DEFAULT '';
