-- Back to request rows that store their hash (revision 0014 downgrade): rows written
-- without one get it stored now, as version 2, and the stamp trigger returns. The revision
-- then puts back the two functions this one replaced, from access_log_v2.sql.
ALTER TABLE access_log_request DISABLE TRIGGER access_log_request_append_only;
UPDATE access_log_request r
SET hash_version = 2, row_hash = access_log_request_hash_v2(
    r.seq, r.at, r.request_id, r.event, r.principal, r.organisation, r.roles, r.purpose,
    r.client_address, r.operation_name, r.operation_type, r.document_hash, r.policy_version,
    r.outcome, r.duration_ms, r.detail, r.xid, r.executor, r.field_sets)
WHERE r.hash_version = 3;
ALTER TABLE access_log_request ENABLE TRIGGER access_log_request_append_only;

ALTER TABLE access_log_request DROP CONSTRAINT access_log_request_hash_version;
ALTER TABLE access_log_request ADD CONSTRAINT access_log_request_hash_version
    CHECK (hash_version = 2 OR (hash_version = 1 AND executor IS NULL AND field_sets IS NULL));
ALTER TABLE access_log_request ALTER COLUMN hash_version SET DEFAULT 2;
ALTER TABLE access_log_request ALTER COLUMN row_hash SET NOT NULL;
CREATE TRIGGER access_log_request_stamp BEFORE INSERT ON access_log_request
    FOR EACH ROW EXECUTE FUNCTION access_log_request_stamp();

DROP FUNCTION access_log_request_leaf_hash(access_log_request);
