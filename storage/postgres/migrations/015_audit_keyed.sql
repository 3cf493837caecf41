-- Audit chain keyed with a key held outside the database (core/audit):
-- keyed_from is the seq of the rekey checkpoint, the first entry sealed
-- with the key (0: the chain is not keyed yet). opsbot writes that entry
-- at its first change with audit.key_file; entries before it keep their
-- plain SHA-256 hashes.
ALTER TABLE audit_head ADD COLUMN keyed_from bigint NOT NULL DEFAULT 0;

-- TRUNCATE is refused like UPDATE and DELETE (a statement trigger: TRUNCATE
-- fires no row triggers). The owner can still disable triggers; the key and
-- the published checkpoints are what catch that.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
