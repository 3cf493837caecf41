-- Every write of an alert group's row gives it a new version, never used
-- before (not even by a group deleted and stored again). A process that
-- wrote version v of a group knows its alerts as of v (storage's alert
-- cache) and uses that only while the group is still at v.
CREATE SEQUENCE alert_group_versions;
ALTER TABLE alert_groups ADD COLUMN version bigint NOT NULL DEFAULT nextval('alert_group_versions');
