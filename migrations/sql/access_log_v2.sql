-- The access log, layout 2 (revision 0005): one row per request and data subject.
--
--   access_log_request    one row per request, as before, plus `executor` and `field_sets`:
--                         the distinct (type, operation, read/masked/denied fields)
--                         combinations of the objects the request touched, as a JSON array
--   access_log_subject    one row per (request, data subject): the IDs of that person's
--                         objects and, parallel to them, the 1-based index into the request
--                         row's field_sets saying which type and fields each object had
--   access_log_object     no longer written; its rows are sealed history and stay, and every
--                         reader, the sealer and `audit verify` take them together with the
--                         expanded subject rows
--   access_log_verification  signed records of successful `audit verify` runs, so that a
--                         run checks only what is new since the last verified head
--   access_log_seal_digest   per sealed batch, the first 8 bytes of every leaf's hash, so
--                         that `audit verify` can name the row that changed in a batch
--
-- Why subject rows have no stored hash and no BEFORE INSERT trigger:
--   A stored row hash is only as good as the seal over it. Anyone able to edit a row at
--   all (a superuser who disables the append-only triggers, or the owner with
--   session_replication_role = replica) can recompute a stored hash in the same UPDATE,
--   since the hash function is public and unkeyed. What detects such an edit is the
--   signed Merkle seal, and the seal is computed over the row's hash however it is
--   obtained. So access_log_subject_hash() computes the hash from the row's columns when
--   the sealer reads the leaves (access_log_leaves) and again when `audit verify`
--   recomputes them: an edit of a sealed subject row changes its leaf and the batch root,
--   exactly as an edit with a recomputed stored hash does, and the leaf digest of the
--   batch (access_log_seal_digest) names the row. Before it is sealed a row is protected
--   by the append-only triggers and rights only, as before (a stored hash never protected
--   an unsealed row against anyone able to disable triggers). What it saves: a PL/pgSQL
--   trigger call and a 32-byte hash per row in the request path.
--
-- Object IDs are UUIDs. IDs that are not (InvoiceLine "<invoice uuid>:<line no>",
-- ConsumptionPoint "<site uuid>:<timestamp>", Disclosure "<disclosure uuid>:<customer uuid>")
-- are logged as the UUID before the first ':'; log positions used as IDs (AccessLogEntry,
-- AccessLogObject, AccessHistoryEntry) as the UUID whose 128-bit value is the number
-- ("<seq>:<n>" as seq * 2^32 + n). The writer (server/audit/service.py) does the mapping.
--
-- Objects are created in the first schema of search_path, so this file names no schema.

-- ---------------------------------------------------------------------------------------
-- Request rows: executor, field sets, and a hash version the app cannot set
-- ---------------------------------------------------------------------------------------

-- Existing rows get hash_version 1 (a constant default: no rewrite); rows inserted from
-- now on get 2, which the stamp trigger enforces whatever the inserter supplied.
ALTER TABLE access_log_request ADD COLUMN hash_version smallint NOT NULL DEFAULT 1;
ALTER TABLE access_log_request ALTER COLUMN hash_version SET DEFAULT 2;
ALTER TABLE access_log_request ADD COLUMN executor text
    CONSTRAINT access_log_request_executor_length CHECK (length(executor) <= 20);
ALTER TABLE access_log_request ADD COLUMN field_sets jsonb
    CONSTRAINT access_log_request_field_sets_array CHECK (jsonb_typeof(field_sets) = 'array');
ALTER TABLE access_log_request ADD CONSTRAINT access_log_request_hash_version
    CHECK (hash_version = 2 OR (hash_version = 1 AND executor IS NULL AND field_sets IS NULL));

-- Version 2 of the request hash: the version 1 encoding with its own prefix, followed by
-- executor and the canonical text of field_sets (jsonb prints keys in a fixed order and
-- depends on no setting).
CREATE FUNCTION access_log_request_hash_v2(
    p_seq bigint, p_at timestamptz, p_request_id uuid, p_event text, p_principal text,
    p_organisation text, p_roles text[], p_purpose text, p_client_address text,
    p_operation_name text, p_operation_type text, p_document_hash text,
    p_policy_version text, p_outcome text, p_duration_ms real, p_detail text, p_xid xid8,
    p_executor text, p_field_sets jsonb
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(
        'access_log_request/2'::bytea
        || int8send(p_seq) || timestamptz_send(p_at) || access_log_uuid_bytes(p_request_id)
        || access_log_text_bytes(p_event) || access_log_text_bytes(p_principal)
        || access_log_text_bytes(p_organisation)
        || access_log_text_bytes(p_roles::text)
        || access_log_text_bytes(p_purpose) || access_log_text_bytes(p_client_address)
        || access_log_text_bytes(p_operation_name) || access_log_text_bytes(p_operation_type)
        || access_log_text_bytes(p_document_hash) || access_log_text_bytes(p_policy_version)
        || access_log_text_bytes(p_outcome)
        || coalesce(float4send(p_duration_ms), '\xffffffff'::bytea)
        || access_log_text_bytes(p_detail) || xid8send(p_xid)
        || access_log_text_bytes(p_executor) || access_log_text_bytes(p_field_sets::text)
    )
$$;

-- The hash a request row must have, by its version (what `audit verify` compares). A
-- version 1 row with an executor or field sets has no valid hash.
CREATE FUNCTION access_log_request_expected_hash(r access_log_request)
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

CREATE OR REPLACE FUNCTION access_log_request_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.hash_version := 2;
    NEW.row_hash := access_log_request_hash_v2(
        NEW.seq, NEW.at, NEW.request_id, NEW.event, NEW.principal, NEW.organisation,
        NEW.roles, NEW.purpose, NEW.client_address, NEW.operation_name, NEW.operation_type,
        NEW.document_hash, NEW.policy_version, NEW.outcome, NEW.duration_ms, NEW.detail,
        NEW.xid, NEW.executor, NEW.field_sets);
    RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Subject rows
-- ---------------------------------------------------------------------------------------

CREATE TABLE access_log_subject (
    -- The transaction id is taken before the position (the CASE is evaluated first).
    seq bigint NOT NULL DEFAULT nextval(CASE WHEN pg_current_xact_id() IS NOT NULL THEN 'access_log_seq'::regclass END),
    at timestamptz NOT NULL,
    request_id uuid NOT NULL,
    subject_customer_id uuid,
    subject_prospect_id uuid,
    object_ids uuid[] NOT NULL,
    object_sets smallint[] NOT NULL,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT access_log_subject_parallel CHECK (
        cardinality(object_ids) >= 1 AND cardinality(object_ids) = cardinality(object_sets)
        AND array_ndims(object_ids) = 1 AND array_ndims(object_sets) = 1),
    CONSTRAINT access_log_subject_pkey PRIMARY KEY (seq, at)
) PARTITION BY RANGE (at);

CREATE INDEX access_log_subject_request_idx ON access_log_subject (request_id);
CREATE INDEX access_log_subject_customer_idx ON access_log_subject (subject_customer_id, seq)
    WHERE subject_customer_id IS NOT NULL;
CREATE INDEX access_log_subject_prospect_idx ON access_log_subject (subject_prospect_id, seq)
    WHERE subject_prospect_id IS NOT NULL;

-- The canonical hash of a subject row, computed when the sealer reads the leaves and when
-- `audit verify` recomputes them (never stored: see the top of this file). The arrays in
-- their binary send form (dimensions, bounds, element type and each element with its
-- length: self-delimiting and independent of settings), which costs about a third less
-- than their text form.
CREATE FUNCTION access_log_subject_hash(
    p_seq bigint, p_at timestamptz, p_request_id uuid, p_subject_customer_id uuid,
    p_subject_prospect_id uuid, p_object_ids uuid[], p_object_sets smallint[], p_xid xid8
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(
        'access_log_subject/1'::bytea
        || int8send(p_seq) || timestamptz_send(p_at) || access_log_uuid_bytes(p_request_id)
        || access_log_uuid_bytes(p_subject_customer_id)
        || access_log_uuid_bytes(p_subject_prospect_id)
        || coalesce(array_send(p_object_ids), '\xffffffff'::bytea)
        || coalesce(array_send(p_object_sets), '\xffffffff'::bytea)
        || xid8send(p_xid)
    )
$$;

CREATE TRIGGER access_log_subject_append_only BEFORE UPDATE OR DELETE ON access_log_subject
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_subject_no_truncate BEFORE TRUNCATE ON access_log_subject
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- The field sets of a request row as rows (set_no is the 1-based index object_sets use).
-- Plain SQL, not SECURITY DEFINER, so that it is inlined into the readers.
CREATE FUNCTION access_log_field_sets(p_field_sets jsonb)
RETURNS TABLE (
    set_no integer, type_name text, operation text, fields_read text[], fields_masked text[],
    fields_denied text[]
) LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT x.n::integer, x.fs ->> 'type', x.fs ->> 'operation',
           ARRAY(SELECT jsonb_array_elements_text(coalesce(x.fs -> 'read', '[]'))),
           ARRAY(SELECT jsonb_array_elements_text(coalesce(x.fs -> 'masked', '[]'))),
           ARRAY(SELECT jsonb_array_elements_text(coalesce(x.fs -> 'denied', '[]')))
    FROM jsonb_array_elements(coalesce(p_field_sets, '[]'::jsonb)) WITH ORDINALITY AS x(fs, n)
$$;

-- The sorted union of comma-joined field lists (GraphQL field names contain no commas).
CREATE FUNCTION access_log_field_union(p_lists text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT n ORDER BY n), '{}')
    FROM unnest(p_lists) AS l(list), unnest(string_to_array(l.list, ',')) AS u(n)
    WHERE n <> ''
$$;

-- Every object record in the shape of access_log_object: the old rows, then each subject
-- row expanded (one row per object: type, operation and fields from its field set; seq is
-- the subject row's, position the object's first place in the row). An executor may list
-- one object under several field sets (reached along paths that selected different
-- fields); it is one record here with the union of the fields, as the old layout kept it.
-- Owner only: for operators, `audit export`, tests, and the reading functions below.
CREATE VIEW access_log_object_all AS
    SELECT o.seq, o.at, o.request_id, o.type_name, o.object_id, o.subject_customer_id,
           o.subject_prospect_id, o.operation, o.fields_read, o.fields_masked, o.fields_denied,
           1::bigint AS position
    FROM access_log_object o
    UNION ALL
    SELECT s.seq, s.at, s.request_id, x.type_name, x.object_id::text, s.subject_customer_id,
           s.subject_prospect_id, x.operation, x.fields_read, x.fields_masked, x.fields_denied,
           x.position
    FROM access_log_subject s
    CROSS JOIN LATERAL (  -- an index probe per subject row, never a join over all requests
        SELECT q.field_sets FROM access_log_request q
        WHERE q.request_id = s.request_id AND q.at = s.at
        OFFSET 0
    ) r
    CROSS JOIN LATERAL (
        SELECT e.object_id, f.type_name, f.operation, min(e.position) AS position,
               CASE WHEN count(*) = 1 THEN min(f.fields_read)
                    ELSE access_log_field_union(array_agg(array_to_string(f.fields_read, ','))) END
                   AS fields_read,
               CASE WHEN count(*) = 1 THEN min(f.fields_masked)
                    ELSE access_log_field_union(array_agg(array_to_string(f.fields_masked, ','))) END
                   AS fields_masked,
               CASE WHEN count(*) = 1 THEN min(f.fields_denied)
                    ELSE access_log_field_union(array_agg(array_to_string(f.fields_denied, ','))) END
                   AS fields_denied
        FROM unnest(s.object_ids, s.object_sets) WITH ORDINALITY AS e(object_id, set_no, position)
        JOIN (SELECT * FROM access_log_field_sets(r.field_sets) OFFSET 0) f
          ON f.set_no = e.set_no
        GROUP BY e.object_id, f.type_name, f.operation
    ) x;

-- ---------------------------------------------------------------------------------------
-- Seal digests and verification records
-- ---------------------------------------------------------------------------------------

-- digests: 8 bytes per leaf of the batch, in seq order (the first 8 bytes of the row's
-- hash). Not part of the signed seal: it only tells `audit verify` which row of a batch
-- whose root no longer matches was changed.
CREATE TABLE access_log_seal_digest (
    batch_no bigint NOT NULL CONSTRAINT access_log_seal_digest_pkey PRIMARY KEY,
    digests bytea NOT NULL,
    CONSTRAINT access_log_seal_digest_size CHECK (octet_length(digests) % 8 = 0)
);

CREATE TRIGGER access_log_seal_digest_append_only BEFORE UPDATE OR DELETE ON access_log_seal_digest
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_seal_digest_no_truncate BEFORE TRUNCATE ON access_log_seal_digest
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- One row per `audit verify` run (owner only). A run that found nothing records the
-- newest batch it checked (batch_no, last_seq, merkle_root); the next run without --full
-- starts after the newest such record whose signature (HMAC-SHA256 under the seal key)
-- is valid, and checks that the chain still passes through that root.
CREATE TABLE access_log_verification (
    id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT access_log_verification_pkey PRIMARY KEY,
    at timestamptz NOT NULL,
    batch_no bigint NOT NULL,
    last_seq bigint NOT NULL,
    merkle_root bytea NOT NULL,
    full_check boolean NOT NULL,
    rows_checked bigint NOT NULL,
    result text NOT NULL CONSTRAINT access_log_verification_result CHECK (result IN ('ok', 'problems')),
    principal text CONSTRAINT access_log_verification_principal_length CHECK (length(principal) <= 200),
    key_id text NOT NULL,
    signature text NOT NULL,
    CONSTRAINT access_log_verification_root CHECK (octet_length(merkle_root) = 32)
);

CREATE TRIGGER access_log_verification_append_only BEFORE UPDATE OR DELETE ON access_log_verification
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_verification_no_truncate BEFORE TRUNCATE ON access_log_verification
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- ---------------------------------------------------------------------------------------
-- Partitions and retention cover the subject table
-- ---------------------------------------------------------------------------------------
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
        FOREACH parent IN ARRAY ARRAY['access_log_request', 'access_log_object', 'access_log_subject'] LOOP
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
        WHERE i.inhparent IN ('access_log_request'::regclass, 'access_log_object'::regclass,
                              'access_log_subject'::regclass)
          AND c.relname ~ '^access_log_(request|object|subject)_y[0-9]{4}m[0-9]{2}$'
          AND (to_date(substring(c.relname from 'y([0-9]{4}m[0-9]{2})$'), 'YYYY"m"MM')
               + interval '1 month')::date <= boundary
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', child.name);
        RETURN NEXT child.name;
    END LOOP;
END
$$;

-- A subject partition for every month the request table has one (months created ahead
-- or kept from the past), then the usual window.
DO $$
DECLARE
    part record;
    child text;
BEGIN
    FOR part IN
        SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bounds
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'access_log_request'::regclass
          AND c.relname ~ '^access_log_request_y[0-9]{4}m[0-9]{2}$'
    LOOP
        child := 'access_log_subject_' || substring(part.name from 'y[0-9]{4}m[0-9]{2}$');
        IF to_regclass(child) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF access_log_subject %s', child, part.bounds);
            EXECUTE format(
                'CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON %I '
                'FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change()', child);
        END IF;
    END LOOP;
END
$$;
SELECT count(*) FROM access_log_ensure_partitions(2);

-- ---------------------------------------------------------------------------------------
-- Sealing: leaves of all three tables, in seq order
-- ---------------------------------------------------------------------------------------
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

-- ---------------------------------------------------------------------------------------
-- Reading: the same signatures and result columns, over old object rows and subject rows
-- ---------------------------------------------------------------------------------------
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
        conditions := conditions || (
            '(r.request_id, r.at) IN (SELECT o.request_id, o.at FROM access_log_object o '
            'WHERE o.subject_customer_id = $1' || format(times, 'o')
            || ' UNION ALL SELECT s.request_id, s.at FROM access_log_subject s '
            'WHERE s.subject_customer_id = $1' || format(times, 's') || ')');
    END IF;
    IF p_prospect_id IS NOT NULL THEN
        conditions := conditions || (
            '(r.request_id, r.at) IN (SELECT o.request_id, o.at FROM access_log_object o '
            'WHERE o.subject_prospect_id = $2' || format(times, 'o')
            || ' UNION ALL SELECT s.request_id, s.at FROM access_log_subject s '
            'WHERE s.subject_prospect_id = $2' || format(times, 's') || ')');
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
        '+ (SELECT count(DISTINCT (c.seq, r.field_sets -> (e.set_no - 1) ->> ''type'', '
        'r.field_sets -> (e.set_no - 1) ->> ''operation'', e.object_id)) '
        'FROM access_log_subject c CROSS JOIN LATERAL unnest(c.object_ids, c.object_sets) AS e(object_id, set_no) '
        'WHERE c.request_id = r.request_id AND c.at = r.at) '
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
        SELECT o.*, row_number() OVER (PARTITION BY o.request_id ORDER BY o.seq, o.position) AS rank
        FROM access_log_object_all o
        WHERE o.request_id = ANY (p_request_ids) AND o.at >= p_from AND o.at <= p_to
    ) n
    WHERE p_limit_per_request IS NULL OR n.rank <= p_limit_per_request
    ORDER BY n.request_id, n.seq, n.position
$$;

-- The data-subject report (CJEU C-579/21): uses the (subject, seq) indexes, and joins each
-- hit's request row by (request_id, at), which prunes to one partition.
CREATE OR REPLACE FUNCTION access_history(p_customer_ids uuid[])
RETURNS TABLE (
    customer_id uuid, seq bigint, at timestamptz, purpose text, operations text[],
    data_categories text[]
) LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT h.customer_id, r.seq, r.at, r.purpose,
           array_agg(DISTINCT c.operation ORDER BY c.operation),
           array_agg(DISTINCT c.type_name ORDER BY c.type_name)
    FROM (
        SELECT o.subject_customer_id AS customer_id, o.request_id, o.at,
               NULL::smallint[] AS sets, o.operation, o.type_name
        FROM access_log_object o
        WHERE o.subject_customer_id = ANY (p_customer_ids)
        UNION ALL
        SELECT s.subject_customer_id, s.request_id, s.at, s.object_sets, NULL, NULL
        FROM access_log_subject s
        WHERE s.subject_customer_id = ANY (p_customer_ids)
    ) h
    -- LATERAL with OFFSET 0 (not flattened into a join the planner could hash): one index
    -- probe per hit (request_id index; `at` prunes to one partition at run time), never a
    -- scan of the request table however it grows.
    CROSS JOIN LATERAL (
        SELECT q.seq, q.at, q.purpose, q.field_sets FROM access_log_request q
        WHERE q.request_id = h.request_id AND q.at = h.at
        OFFSET 0
    ) r
    -- An old object row is its own category; a subject row's come from its field sets.
    CROSS JOIN LATERAL (
        SELECT coalesce(h.operation, r.field_sets -> (u.n - 1) ->> 'operation') AS operation,
               coalesce(h.type_name, r.field_sets -> (u.n - 1) ->> 'type') AS type_name
        FROM unnest(coalesce(h.sets, '{0}'::smallint[])) AS u(n)
    ) c
    GROUP BY h.customer_id, r.seq, r.at, r.purpose
    ORDER BY h.customer_id, r.seq DESC
$$;

-- ---------------------------------------------------------------------------------------
-- Rights. rekisteri_app: INSERT on the new columns of the request rows and on the subject
-- rows except what the database fills (seq, xid; hash_version and row_hash of requests),
-- INSERT on seal digests (the in-app sealer). The old object table is closed: sealed
-- history, no longer written. Nothing on verification records or the view.
-- ---------------------------------------------------------------------------------------
REVOKE ALL ON access_log_subject, access_log_seal_digest, access_log_verification,
    access_log_object_all FROM PUBLIC, rekisteri_app;
REVOKE INSERT ON access_log_object FROM rekisteri_app;
GRANT INSERT (executor, field_sets) ON access_log_request TO rekisteri_app;
GRANT INSERT (
    at, request_id, subject_customer_id, subject_prospect_id, object_ids, object_sets
) ON access_log_subject TO rekisteri_app;
GRANT INSERT ON access_log_seal_digest TO rekisteri_app;

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
-- A report for a few customers touches a few hundred rows: parallel workers only add
-- their start-up time, and JIT compilation (which a large log's estimates trigger) costs
-- several hundred milliseconds, far more than the query. The same for the auditors' reads.
ALTER FUNCTION access_history(uuid[]) SET max_parallel_workers_per_gather = 0;
ALTER FUNCTION access_history(uuid[]) SET jit = off;
ALTER FUNCTION access_log_objects(uuid[], timestamptz, timestamptz, integer) SET jit = off;
ALTER FUNCTION access_log_search(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz, bigint, integer) SET jit = off;
