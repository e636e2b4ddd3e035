-- The sealing state of the access log in one row (revision 0011), for the security console:
--   the newest seal (batch, last position, when, which key), the positions handed out so
--   far, how many rows wait for a seal (counted up to p_limit per table: the rows after the
--   last sealed position, an index range on each partition's (seq, at) key) and the oldest
--   of them, and the newest `audit verify` record with what its signature covers, so that
--   the service can check the signature with its public keys.

CREATE FUNCTION access_log_seal_status(
    p_limit integer,
    OUT batch_no bigint, OUT last_sealed_seq bigint, OUT sealed_at timestamptz,
    OUT seal_key_id text, OUT last_issued_seq bigint, OUT unsealed_rows bigint,
    OUT oldest_unsealed_at timestamptz, OUT verified_at timestamptz,
    OUT verified_batch_no bigint, OUT verified_last_seq bigint,
    OUT verified_root bytea, OUT verification_full boolean, OUT verification_rows bigint,
    OUT verification_result text, OUT verification_principal text,
    OUT verification_key_id text, OUT verification_signature text
) LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
    after bigint;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100000000 THEN
        RAISE EXCEPTION 'p_limit must be between 1 and 100000000';
    END IF;
    SELECT s.batch_no, s.last_seq, s.sealed_at, s.key_id
      INTO batch_no, last_sealed_seq, sealed_at, seal_key_id
      FROM access_log_seal s ORDER BY s.batch_no DESC LIMIT 1;
    after := coalesce(last_sealed_seq, 0);
    last_issued_seq := coalesce(pg_sequence_last_value('access_log_seq'), 0);
    SELECT count(*), min(u.at) INTO unsealed_rows, oldest_unsealed_at FROM (
        (SELECT r.at FROM access_log_request r WHERE r.seq > after LIMIT p_limit)
        UNION ALL
        (SELECT s.at FROM access_log_subject s WHERE s.seq > after LIMIT p_limit)
        UNION ALL
        (SELECT o.at FROM access_log_object o WHERE o.seq > after LIMIT p_limit)
    ) u;
    SELECT v.at, v.batch_no, v.last_seq, v.merkle_root, v.full_check, v.rows_checked,
           v.result, v.principal, v.key_id, v.signature
      INTO verified_at, verified_batch_no, verified_last_seq, verified_root,
           verification_full, verification_rows, verification_result,
           verification_principal, verification_key_id, verification_signature
      FROM access_log_verification v ORDER BY v.id DESC LIMIT 1;
END
$$;

-- Objects are created in the first schema of search_path, so this file names no schema.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION access_log_seal_status(integer) SET search_path = %I, pg_catalog, pg_temp', current_schema());
END
$$;
ALTER FUNCTION access_log_seal_status(integer) SET jit = off;
REVOKE ALL ON FUNCTION access_log_seal_status(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access_log_seal_status(integer) TO rekisteri_app;
