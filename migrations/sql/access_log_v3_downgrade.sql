-- Back to request rows that store their hash (revision 0014 downgrade): rows written
-- without one get it stored now, as version 2, and the stamp trigger returns.
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

CREATE OR REPLACE FUNCTION access_log_request_expected_hash(r access_log_request)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN r.hash_version = 2 THEN access_log_request_hash_v2(
            r.seq, r.at, r.request_id, r.event, r.principal, r.organisation, r.roles, r.purpose,
            r.client_address, r.operation_name, r.operation_type, r.document_hash,
            r.policy_version, r.outcome, r.duration_ms, r.detail, r.xid, r.executor,
            r.field_sets)
        WHEN r.hash_version = 1 AND r.executor IS NULL AND r.field_sets IS NULL
        THEN access_log_request_hash(
            r.seq, r.at, r.request_id, r.event, r.principal, r.organisation, r.roles, r.purpose,
            r.client_address, r.operation_name, r.operation_type, r.document_hash,
            r.policy_version, r.outcome, r.duration_ms, r.detail, r.xid)
    END
$$;

CREATE OR REPLACE FUNCTION access_log_leaves(p_after bigint, p_upto bigint, p_limit integer)
RETURNS TABLE (seq bigint, at timestamptz, row_hash bytea)
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT l.seq, l.at, l.row_hash FROM (
        SELECT r.seq, r.at, r.row_hash FROM access_log_request r
        WHERE r.seq > p_after AND r.seq <= p_upto
        UNION ALL
        SELECT o.seq, o.at, o.row_hash FROM access_log_object o
        WHERE o.seq > p_after AND o.seq <= p_upto
        UNION ALL
        SELECT s.seq, s.at, access_log_subject_hash(
                   s.seq, s.at, s.request_id, s.subject_customer_id, s.subject_prospect_id,
                   s.object_ids, s.object_sets, s.xid)
        FROM access_log_subject s
        WHERE s.seq > p_after AND s.seq <= p_upto
    ) l
    ORDER BY l.seq
    LIMIT p_limit
$$;
DO $$
BEGIN
    EXECUTE format(
        'ALTER FUNCTION access_log_leaves(bigint, bigint, integer) '
        'SET search_path = %I, pg_catalog, pg_temp', current_schema());
END
$$;
DROP FUNCTION access_log_request_leaf_hash(access_log_request);
