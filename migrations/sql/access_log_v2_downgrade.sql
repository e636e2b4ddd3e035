-- Back to the access-log layout of revision 0003 (revision 0005 downgrade).
--
-- Layout 2 keeps per-subject rows, executors and field sets that layout 1 cannot hold,
-- and request rows hashed with version 2 would no longer verify without the columns
-- their hash covers. Dropping them destroys evidence, so the downgrade refuses while
-- the log holds any row written after the upgrade, unless the session sets
-- rekisteri.downgrade_discards_log = 'on' (development databases only).
DO $$
BEGIN
    IF coalesce(current_setting('rekisteri.downgrade_discards_log', true), '') <> 'on'
       AND (EXISTS (SELECT 1 FROM access_log_subject)
            OR EXISTS (SELECT 1 FROM access_log_request WHERE hash_version <> 1)) THEN
        RAISE EXCEPTION 'the access log holds rows of layout 2; downgrading would destroy them'
            USING HINT = 'On a development database: SET rekisteri.downgrade_discards_log = on';
    END IF;
END
$$;

DROP VIEW IF EXISTS access_log_object_all;
DROP FUNCTION IF EXISTS access_log_field_union(text[]);
DROP FUNCTION IF EXISTS access_log_field_sets(jsonb);
DROP TABLE IF EXISTS access_log_verification;
DROP TABLE IF EXISTS access_log_seal_digest;
DROP TABLE IF EXISTS access_log_subject;
DROP FUNCTION IF EXISTS access_log_subject_hash(bigint, timestamptz, uuid, uuid, uuid, uuid[], smallint[], xid8);

CREATE OR REPLACE FUNCTION access_log_request_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_hash := access_log_request_hash(
        NEW.seq, NEW.at, NEW.request_id, NEW.event, NEW.principal, NEW.organisation,
        NEW.roles, NEW.purpose, NEW.client_address, NEW.operation_name, NEW.operation_type,
        NEW.document_hash, NEW.policy_version, NEW.outcome, NEW.duration_ms, NEW.detail,
        NEW.xid);
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION access_log_ensure_partitions(months_ahead integer DEFAULT 2)
RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER SET lock_timeout = '2s' AS $$
DECLARE
    first_month date := (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month')::date;
    month date;
    parent text;
    child text;
BEGIN
    IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 36 THEN
        RAISE EXCEPTION 'months_ahead must be between 0 and 36';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('rekisteri.access_log.partitions'));
    FOR i IN 0 .. months_ahead + 1 LOOP
        month := (first_month + make_interval(months => i))::date;
        FOREACH parent IN ARRAY ARRAY['access_log_request', 'access_log_object'] LOOP
            child := format('%s_y%sm%s', parent, to_char(month, 'YYYY'), to_char(month, 'MM'));
            IF to_regclass(child) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                    child, parent,
                    to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00',
                    to_char((month + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
                EXECUTE format(
                    'CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON %I '
                    'FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change()', child);
                RETURN NEXT child;
            END IF;
        END LOOP;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION access_log_drop_before(boundary date)
RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER SET lock_timeout = '5s' AS $$
DECLARE
    child record;
BEGIN
    IF boundary IS NULL OR boundary <> date_trunc('month', boundary)::date THEN
        RAISE EXCEPTION 'the boundary must be the first day of a month';
    END IF;
    FOR child IN
        SELECT c.relname AS name
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent IN ('access_log_request'::regclass, 'access_log_object'::regclass)
          AND c.relname ~ '^access_log_(request|object)_y[0-9]{4}m[0-9]{2}$'
          AND (to_date(substring(c.relname from 'y([0-9]{4}m[0-9]{2})$'), 'YYYY"m"MM')
               + interval '1 month')::date <= boundary
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', child.name);
        RETURN NEXT child.name;
    END LOOP;
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
    ) l
    ORDER BY l.seq
    LIMIT p_limit
$$;

CREATE OR REPLACE FUNCTION access_log_search(
    p_customer_id uuid, p_prospect_id uuid, p_request_id uuid, p_principal text,
    p_organisation text, p_purpose text, p_from timestamptz, p_to timestamptz,
    p_before_seq bigint, p_limit integer
) RETURNS TABLE (
    seq bigint, at timestamptz, request_id uuid, event text, principal text,
    organisation text, roles text[], purpose text, client_address text,
    operation_name text, operation_type text, document_hash text, policy_version text,
    outcome text, duration_ms real, detail text, object_count bigint
) LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
    conditions text[] := ARRAY['true'];
    times text := '';
BEGIN
    IF p_limit IS NULL OR p_limit < 0 OR p_limit > 10001 THEN
        RAISE EXCEPTION 'p_limit must be between 0 and 10001';
    END IF;
    IF p_from IS NOT NULL THEN
        times := times || ' AND %1$s.at >= $7';
    END IF;
    IF p_to IS NOT NULL THEN
        times := times || ' AND %1$s.at < $8';
    END IF;
    IF p_customer_id IS NOT NULL THEN
        conditions := conditions || format(
            '(r.request_id, r.at) IN (SELECT o.request_id, o.at FROM access_log_object o '
            'WHERE o.subject_customer_id = $1' || times || ')', 'o');
    END IF;
    IF p_prospect_id IS NOT NULL THEN
        conditions := conditions || format(
            '(r.request_id, r.at) IN (SELECT o.request_id, o.at FROM access_log_object o '
            'WHERE o.subject_prospect_id = $2' || times || ')', 'o');
    END IF;
    IF p_request_id IS NOT NULL THEN
        conditions := conditions || 'r.request_id = $3'::text;
    END IF;
    IF p_principal IS NOT NULL THEN
        conditions := conditions || 'r.principal = $4'::text;
    END IF;
    IF p_organisation IS NOT NULL THEN
        conditions := conditions || 'r.organisation = $5'::text;
    END IF;
    IF p_purpose IS NOT NULL THEN
        conditions := conditions || 'r.purpose = $6'::text;
    END IF;
    IF p_before_seq IS NOT NULL THEN
        conditions := conditions || 'r.seq < $9'::text;
    END IF;
    RETURN QUERY EXECUTE
        'SELECT r.seq, r.at, r.request_id, r.event, r.principal, r.organisation, r.roles, '
        'r.purpose, r.client_address, r.operation_name, r.operation_type, r.document_hash, '
        'r.policy_version, r.outcome, r.duration_ms, r.detail, '
        '(SELECT count(*) FROM access_log_object c WHERE c.request_id = r.request_id AND c.at = r.at) '
        'FROM access_log_request r WHERE ' || array_to_string(conditions, ' AND ')
        || format(times, 'r') || ' ORDER BY r.seq DESC LIMIT $10'
        USING p_customer_id, p_prospect_id, p_request_id, p_principal, p_organisation,
              p_purpose, p_from, p_to, p_before_seq, p_limit;
END
$$;

CREATE OR REPLACE FUNCTION access_log_objects(
    p_request_ids uuid[], p_from timestamptz, p_to timestamptz, p_limit_per_request integer
) RETURNS TABLE (
    seq bigint, at timestamptz, request_id uuid, type_name text, object_id text,
    subject_customer_id uuid, subject_prospect_id uuid, operation text,
    fields_read text[], fields_masked text[], fields_denied text[]
) LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT n.seq, n.at, n.request_id, n.type_name, n.object_id, n.subject_customer_id,
           n.subject_prospect_id, n.operation, n.fields_read, n.fields_masked, n.fields_denied
    FROM (
        SELECT o.*, row_number() OVER (PARTITION BY o.request_id ORDER BY o.seq) AS position
        FROM access_log_object o
        WHERE o.request_id = ANY (p_request_ids) AND o.at >= p_from AND o.at <= p_to
    ) n
    WHERE p_limit_per_request IS NULL OR n.position <= p_limit_per_request
    ORDER BY n.request_id, n.seq
$$;

CREATE OR REPLACE FUNCTION access_history(p_customer_ids uuid[])
RETURNS TABLE (
    customer_id uuid, seq bigint, at timestamptz, purpose text, operations text[],
    data_categories text[]
) LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT o.subject_customer_id, r.seq, r.at, r.purpose,
           array_agg(DISTINCT o.operation ORDER BY o.operation),
           array_agg(DISTINCT o.type_name ORDER BY o.type_name)
    FROM access_log_object o
    JOIN access_log_request r ON r.request_id = o.request_id AND r.at = o.at
    WHERE o.subject_customer_id = ANY (p_customer_ids)
    GROUP BY o.subject_customer_id, r.seq, r.at, r.purpose
    ORDER BY o.subject_customer_id, r.seq DESC
$$;

DROP FUNCTION IF EXISTS access_log_request_expected_hash(access_log_request);
DROP FUNCTION IF EXISTS access_log_request_hash_v2(bigint, timestamptz, uuid, text, text, text, text[], text, text, text, text, text, text, text, real, text, xid8, text, jsonb);
ALTER TABLE access_log_request DROP CONSTRAINT access_log_request_hash_version;
-- Rows written after the upgrade (only when discarding was asked for) lose what their
-- hash covered; they are removed with it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM access_log_request WHERE hash_version <> 1) THEN
        SET LOCAL session_replication_role = replica;
        DELETE FROM access_log_request WHERE hash_version <> 1;
        SET LOCAL session_replication_role = origin;
    END IF;
END
$$;
ALTER TABLE access_log_request DROP COLUMN field_sets;
ALTER TABLE access_log_request DROP COLUMN executor;
ALTER TABLE access_log_request DROP COLUMN hash_version;

GRANT INSERT (
    at, request_id, type_name, object_id, subject_customer_id, subject_prospect_id, operation,
    fields_read, fields_masked, fields_denied
) ON access_log_object TO rekisteri_app;

DO $$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'access_log_ensure_partitions(integer)',
        'access_log_drop_before(date)',
        'access_log_leaves(bigint, bigint, integer)',
        'access_log_search(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz, bigint, integer)',
        'access_log_objects(uuid[], timestamptz, timestamptz, integer)',
        'access_history(uuid[])'
    ] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_catalog, pg_temp', fn, current_schema());
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
END
$$;
