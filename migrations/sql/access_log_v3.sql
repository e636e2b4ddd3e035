-- Revision 0014: request rows no longer store their hash; it is computed when it is needed.
--
-- Until now every request row went through a PL/pgSQL trigger that computed a SHA-256 of
-- the row and stored it (hash_version 2). Subject rows stopped storing one in revision 0005
-- for the reason written at the top of access_log_v2.sql: a stored, unkeyed row hash adds
-- nothing to the signed Merkle seal (whoever can edit a row can recompute it in the same
-- UPDATE), and the seal is computed over the row's hash however it is obtained. The
-- trigger cost about a third of a request row's insert, on every request. So:
--
--   hash_version 3   the default of new rows: row_hash is NULL, and the same version 2 hash
--                    is computed from the row's columns when the sealer reads the leaves
--                    (access_log_leaves), when `audit verify` recomputes them and when
--                    `audit export` writes them (access_log_request_leaf_hash)
--   hash_version 1, 2  rows written before keep their stored hash, still checked against
--                    their columns by `audit verify`
--
-- The runtime role still cannot choose the version or a hash: it has no INSERT right on
-- either column, and the constraint below ties the version to a stored hash or to none.

ALTER TABLE access_log_request ALTER COLUMN row_hash DROP NOT NULL;
ALTER TABLE access_log_request ALTER COLUMN hash_version SET DEFAULT 3;
ALTER TABLE access_log_request DROP CONSTRAINT access_log_request_hash_version;
ALTER TABLE access_log_request ADD CONSTRAINT access_log_request_hash_version CHECK (
    (hash_version = 3 AND row_hash IS NULL)
    OR (hash_version = 2 AND row_hash IS NOT NULL)
    OR (hash_version = 1 AND row_hash IS NOT NULL AND executor IS NULL AND field_sets IS NULL));
DROP TRIGGER access_log_request_stamp ON access_log_request;

-- The hash a request row must have, by its version (what `audit verify` compares with a
-- stored hash, and the leaf of a row that stores none).
CREATE OR REPLACE FUNCTION access_log_request_expected_hash(r access_log_request)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN r.hash_version IN (2, 3) THEN access_log_request_hash_v2(
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

-- The leaf of a request row in the seal: its stored hash, or the one computed now.
CREATE FUNCTION access_log_request_leaf_hash(r access_log_request)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(r.row_hash, access_log_request_expected_hash(r))
$$;

CREATE OR REPLACE FUNCTION access_log_leaves(p_after bigint, p_upto bigint, p_limit integer)
RETURNS TABLE (seq bigint, at timestamptz, row_hash bytea)
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT l.seq, l.at, l.row_hash FROM (
        SELECT r.seq, r.at, access_log_request_leaf_hash(r) AS row_hash
        FROM access_log_request r
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
