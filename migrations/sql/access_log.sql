-- The access log: who read or wrote whose register data, when and for what purpose.
--
--   access_log_request    one row per request (and per refused request, failed
--                         authentication, policy reload, CLI action)
--   access_log_object     one row per object a request returned or wrote, with the
--                         fields resolved on it split into read / masked / denied
--   access_log_seal       signed Merkle batches over both tables, chained root to root
--   access_log_retention  signed records of partitions dropped after the retention period
--
-- Guarantees kept here, in the database:
--   * Append-only: the runtime role rekisteri_app may only INSERT; BEFORE UPDATE/DELETE
--     row triggers and BEFORE TRUNCATE statement triggers refuse changes even from the
--     owner or a superuser (who can still disable triggers: sealing makes that visible).
--   * Every row carries row_hash = SHA-256 of a canonical encoding of the row, set by a
--     BEFORE INSERT trigger with access_log_request_hash / access_log_object_hash, so
--     `rekisteri audit verify` recomputes it in SQL in exactly the same way.
--   * Column defaults take the transaction id (xid) and then the position (seq) from one
--     sequence shared by both tables; the runtime role may not supply seq, xid or
--     row_hash (column-level INSERT rights). Every row with seq <= S therefore belongs
--     to a transaction whose id is below any transaction id assigned after S was read;
--     once those transactions are over, the range up to S is final and can be sealed.
--     No request waits on a common lock for this.
--   * The app role reads nothing directly: the auditor API and the sealer go through
--     SECURITY DEFINER functions owned by the owner, granted EXECUTE to rekisteri_app.
--
-- Objects are created in the first schema of search_path, so this file names no schema.

CREATE SEQUENCE access_log_seq AS bigint MINVALUE 1 START 1 CACHE 1 NO CYCLE;

CREATE TABLE access_log_request (
    -- The transaction id is taken before the position (the CASE is evaluated first).
    seq bigint NOT NULL DEFAULT nextval(CASE WHEN pg_current_xact_id() IS NOT NULL THEN 'access_log_seq'::regclass END),
    at timestamptz NOT NULL,
    request_id uuid NOT NULL,
    event text NOT NULL CONSTRAINT access_log_request_event_format CHECK (event ~ '^[a-z][a-z_]{0,39}$'),
    principal text CONSTRAINT access_log_request_principal_length CHECK (length(principal) <= 200),
    organisation text CONSTRAINT access_log_request_organisation_length CHECK (length(organisation) <= 200),
    roles text[] NOT NULL DEFAULT '{}',
    purpose text CONSTRAINT access_log_request_purpose_length CHECK (length(purpose) <= 100),
    client_address text CONSTRAINT access_log_request_client_length CHECK (length(client_address) <= 100),
    operation_name text CONSTRAINT access_log_request_operation_length CHECK (length(operation_name) <= 200),
    operation_type text CONSTRAINT access_log_request_operation_type_length CHECK (length(operation_type) <= 20),
    document_hash text CONSTRAINT access_log_request_document_hash_length CHECK (length(document_hash) <= 128),
    policy_version text CONSTRAINT access_log_request_policy_version_length CHECK (length(policy_version) <= 100),
    outcome text NOT NULL CONSTRAINT access_log_request_outcome_format CHECK (outcome ~ '^[a-z][a-z_]{0,39}$'),
    duration_ms real NOT NULL CONSTRAINT access_log_request_duration_valid CHECK (duration_ms >= 0),
    detail text CONSTRAINT access_log_request_detail_length CHECK (length(detail) <= 2000),
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    row_hash bytea NOT NULL,
    CONSTRAINT access_log_request_pkey PRIMARY KEY (seq, at)
) PARTITION BY RANGE (at);

CREATE INDEX access_log_request_request_idx ON access_log_request (request_id);
CREATE INDEX access_log_request_principal_idx ON access_log_request (principal, seq);
CREATE INDEX access_log_request_organisation_idx ON access_log_request (organisation, seq);
CREATE INDEX access_log_request_purpose_idx ON access_log_request (purpose, seq);

CREATE TABLE access_log_object (
    -- The transaction id is taken before the position (the CASE is evaluated first).
    seq bigint NOT NULL DEFAULT nextval(CASE WHEN pg_current_xact_id() IS NOT NULL THEN 'access_log_seq'::regclass END),
    at timestamptz NOT NULL,
    request_id uuid NOT NULL,
    type_name text NOT NULL CONSTRAINT access_log_object_type_length CHECK (length(type_name) <= 100),
    object_id text NOT NULL CONSTRAINT access_log_object_id_length CHECK (length(object_id) <= 200),
    subject_customer_id uuid,
    subject_prospect_id uuid,
    operation text NOT NULL CONSTRAINT access_log_object_operation_format CHECK (operation ~ '^[a-z][a-z_]{0,19}$'),
    fields_read text[] NOT NULL DEFAULT '{}',
    fields_masked text[] NOT NULL DEFAULT '{}',
    fields_denied text[] NOT NULL DEFAULT '{}',
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    row_hash bytea NOT NULL,
    CONSTRAINT access_log_object_pkey PRIMARY KEY (seq, at)
) PARTITION BY RANGE (at);

CREATE INDEX access_log_object_request_idx ON access_log_object (request_id);
CREATE INDEX access_log_object_customer_idx ON access_log_object (subject_customer_id, seq)
    WHERE subject_customer_id IS NOT NULL;
CREATE INDEX access_log_object_prospect_idx ON access_log_object (subject_prospect_id, seq)
    WHERE subject_prospect_id IS NOT NULL;

-- Canonical row bytes: fixed-size values in their binary send form, text as its length in
-- characters followed by its UTF-8 bytes, arrays as their text form likewise, NULLs with
-- a marker. The encoding is injective and depends on no setting (time zone, date style,
-- float digits, client encoding). The table name and a version come first, so that rows
-- cannot move between tables. The functions are STABLE, not IMMUTABLE (convert_to is
-- STABLE), so that PostgreSQL inlines them into the trigger and into `audit verify`.
CREATE FUNCTION access_log_text_bytes(value text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(int4send(length(value)) || convert_to(value, 'UTF8'), '\xffffffff'::bytea)
$$;

CREATE FUNCTION access_log_uuid_bytes(value uuid) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce('\x01'::bytea || uuid_send(value), '\x00'::bytea)
$$;

CREATE FUNCTION access_log_request_hash(
    p_seq bigint, p_at timestamptz, p_request_id uuid, p_event text, p_principal text,
    p_organisation text, p_roles text[], p_purpose text, p_client_address text,
    p_operation_name text, p_operation_type text, p_document_hash text,
    p_policy_version text, p_outcome text, p_duration_ms real, p_detail text, p_xid xid8
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(
        'access_log_request/1'::bytea
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
    )
$$;

CREATE FUNCTION access_log_object_hash(
    p_seq bigint, p_at timestamptz, p_request_id uuid, p_type_name text, p_object_id text,
    p_subject_customer_id uuid, p_subject_prospect_id uuid, p_operation text,
    p_fields_read text[], p_fields_masked text[], p_fields_denied text[], p_xid xid8
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(
        'access_log_object/1'::bytea
        || int8send(p_seq) || timestamptz_send(p_at) || access_log_uuid_bytes(p_request_id)
        || access_log_text_bytes(p_type_name) || access_log_text_bytes(p_object_id)
        || access_log_uuid_bytes(p_subject_customer_id)
        || access_log_uuid_bytes(p_subject_prospect_id)
        || access_log_text_bytes(p_operation)
        || access_log_text_bytes(p_fields_read::text)
        || access_log_text_bytes(p_fields_masked::text)
        || access_log_text_bytes(p_fields_denied::text)
        || xid8send(p_xid)
    )
$$;

-- BEFORE INSERT: the hash of the row as stored (after the defaults for seq and xid). A
-- value the inserter supplied for row_hash is overwritten.
CREATE FUNCTION access_log_request_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_hash := access_log_request_hash(
        NEW.seq, NEW.at, NEW.request_id, NEW.event, NEW.principal, NEW.organisation,
        NEW.roles, NEW.purpose, NEW.client_address, NEW.operation_name, NEW.operation_type,
        NEW.document_hash, NEW.policy_version, NEW.outcome, NEW.duration_ms, NEW.detail,
        NEW.xid);
    RETURN NEW;
END
$$;

CREATE FUNCTION access_log_object_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_hash := access_log_object_hash(
        NEW.seq, NEW.at, NEW.request_id, NEW.type_name, NEW.object_id,
        NEW.subject_customer_id, NEW.subject_prospect_id, NEW.operation,
        NEW.fields_read, NEW.fields_masked, NEW.fields_denied, NEW.xid);
    RETURN NEW;
END
$$;

CREATE FUNCTION access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER access_log_request_stamp BEFORE INSERT ON access_log_request
    FOR EACH ROW EXECUTE FUNCTION access_log_request_stamp();
CREATE TRIGGER access_log_request_append_only BEFORE UPDATE OR DELETE ON access_log_request
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_request_no_truncate BEFORE TRUNCATE ON access_log_request
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

CREATE TRIGGER access_log_object_stamp BEFORE INSERT ON access_log_object
    FOR EACH ROW EXECUTE FUNCTION access_log_object_stamp();
CREATE TRIGGER access_log_object_append_only BEFORE UPDATE OR DELETE ON access_log_object
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_object_no_truncate BEFORE TRUNCATE ON access_log_object
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- Seals: batch n covers every row with first_seq <= seq <= last_seq; leaf_ranges lists
-- the positions that held a row when it was sealed (the others were never committed).
-- merkle_root is the RFC 6962 tree head over the row hashes in seq order, prev_root the
-- root of batch n - 1 (32 zero bytes for batch 1); signature is an HMAC-SHA256 with the
-- seal key, which the database never sees.
CREATE TABLE access_log_seal (
    batch_no bigint NOT NULL CONSTRAINT access_log_seal_pkey PRIMARY KEY,
    first_seq bigint NOT NULL,
    last_seq bigint NOT NULL,
    leaf_count bigint NOT NULL,
    leaf_ranges int8multirange NOT NULL,
    min_at timestamptz NOT NULL,
    max_at timestamptz NOT NULL,
    merkle_root bytea NOT NULL,
    prev_root bytea NOT NULL,
    sealed_at timestamptz NOT NULL,
    key_id text NOT NULL,
    signature text NOT NULL,
    CONSTRAINT access_log_seal_range CHECK (batch_no >= 1 AND 1 <= first_seq AND first_seq <= last_seq),
    CONSTRAINT access_log_seal_leaves CHECK (leaf_count >= 1),
    CONSTRAINT access_log_seal_roots CHECK (octet_length(merkle_root) = 32 AND octet_length(prev_root) = 32)
);

-- Continuity is also enforced on insert: batch numbers, ranges and roots follow on.
CREATE FUNCTION access_log_seal_follows() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    previous record;
BEGIN
    SELECT s.batch_no, s.last_seq, s.merkle_root INTO previous
        FROM access_log_seal s ORDER BY s.batch_no DESC LIMIT 1;
    IF previous IS NULL THEN
        IF NEW.batch_no <> 1 OR NEW.first_seq <> 1 OR NEW.prev_root <> decode(repeat('00', 32), 'hex') THEN
            RAISE EXCEPTION 'the first seal must be batch 1 from seq 1 with a zero previous root';
        END IF;
    ELSIF NEW.batch_no <> previous.batch_no + 1
          OR NEW.first_seq <> previous.last_seq + 1
          OR NEW.prev_root <> previous.merkle_root THEN
        RAISE EXCEPTION 'seal batch % does not follow batch %', NEW.batch_no, previous.batch_no;
    END IF;
    IF lower(NEW.leaf_ranges) < NEW.first_seq OR upper(NEW.leaf_ranges) > NEW.last_seq + 1 THEN
        RAISE EXCEPTION 'seal batch % lists positions outside its range', NEW.batch_no;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER access_log_seal_follows BEFORE INSERT ON access_log_seal
    FOR EACH ROW EXECUTE FUNCTION access_log_seal_follows();
CREATE TRIGGER access_log_seal_append_only BEFORE UPDATE OR DELETE ON access_log_seal
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_seal_no_truncate BEFORE TRUNCATE ON access_log_seal
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- Retention: which partitions were dropped, before which instant, signed like a seal.
CREATE TABLE access_log_retention (
    id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT access_log_retention_pkey PRIMARY KEY,
    dropped_at timestamptz NOT NULL,
    dropped_before timestamptz NOT NULL,
    partitions text[] NOT NULL,
    principal text,
    key_id text NOT NULL,
    signature text NOT NULL
);

CREATE TRIGGER access_log_retention_append_only BEFORE UPDATE OR DELETE ON access_log_retention
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_retention_no_truncate BEFORE TRUNCATE ON access_log_retention
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- ---------------------------------------------------------------------------------------
-- Partitions: one per table and calendar month (UTC), named <table>_yYYYYmMM. Statement
-- triggers are not inherited, so each partition gets its own TRUNCATE guard.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION access_log_ensure_partitions(months_ahead integer DEFAULT 2)
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

-- Drops every monthly partition that ends on or before `boundary` (the first day of a
-- month). Owner only; `rekisteri audit drop-before` checks the retention and records it.
CREATE FUNCTION access_log_drop_before(boundary date)
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

-- ---------------------------------------------------------------------------------------
-- Sealing, callable by the runtime role (it may not read the tables themselves).
-- ---------------------------------------------------------------------------------------

-- The highest position handed out so far (last_seq), then a transaction id assigned now
-- to the caller (next_xid). Ids are handed out in increasing order and the stamp
-- trigger takes a row's transaction id before its position, so every row at or below
-- last_seq belongs to a transaction with an id below next_xid. (The xmax of a snapshot
-- is not enough: it is the newest completed id + 1, and running transactions may hold
-- larger ids.) The caller must not have a transaction id yet, or it would be too old.
CREATE FUNCTION access_log_watermark(OUT last_seq bigint, OUT next_xid xid8)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'take the access-log watermark in a transaction that has not written';
    END IF;
    last_seq := coalesce(pg_sequence_last_value('access_log_seq'), 0);
    next_xid := pg_current_xact_id();
END
$$;

-- True when no other transaction of this database with an id below p_next_xid is
-- running: every row up to the matching watermark is then committed or gone for good.
-- Transactions of other databases on the same server do not count.
CREATE FUNCTION access_log_writers_done(p_next_xid xid8)
RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    reference bigint := p_next_xid::text::bigint;
    reference_low bigint := reference % 4294967296;
BEGIN
    IF pg_snapshot_xmin(pg_current_snapshot()) >= p_next_xid THEN
        RETURN true;
    END IF;
    PERFORM pg_stat_clear_snapshot();
    -- backend_xid is a 32-bit id; running ids lie within 2^31 of the reference, so
    -- the signed 32-bit difference widens them to full ids.
    RETURN NOT EXISTS (
        SELECT 1
        FROM pg_stat_activity a
        WHERE a.datid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
          AND a.backend_xid IS NOT NULL
          AND a.pid <> pg_backend_pid()
          AND reference + ((a.backend_xid::text::bigint - reference_low + 6442450944) % 4294967296
                           - 2147483648) < reference
    );
END
$$;

CREATE FUNCTION access_log_last_seal(OUT batch_no bigint, OUT last_seq bigint, OUT merkle_root bytea)
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT s.batch_no, s.last_seq, s.merkle_root FROM access_log_seal s
    ORDER BY s.batch_no DESC LIMIT 1
$$;

-- Row hashes of both tables in seq order, p_after < seq <= p_upto, at most p_limit rows.
CREATE FUNCTION access_log_leaves(p_after bigint, p_upto bigint, p_limit integer)
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

-- ---------------------------------------------------------------------------------------
-- Reading, for the auditor API and the data-subject report (policy applies in the app).
-- ---------------------------------------------------------------------------------------

-- Requests newest first (seq descending), before p_before_seq when given.
CREATE FUNCTION access_log_search(
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

-- Object rows of some requests (their `at` bounds the partitions to read), in seq
-- order, at most p_limit_per_request per request when given.
CREATE FUNCTION access_log_objects(
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

-- The data-subject report (CJEU C-579/21) for some customers: when, for which purpose,
-- which kinds of data. No principal, organisation or address of the person who looked.
CREATE FUNCTION access_history(p_customer_ids uuid[])
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

-- ---------------------------------------------------------------------------------------
-- Rights. rekisteri_app: INSERT on the log tables except the columns the database fills
-- (seq, xid, row_hash), INSERT on seals (for the in-app sealer), the sequence for the
-- seq default, EXECUTE on the reading and sealing functions. Nothing else, for it or for
-- PUBLIC.
-- ---------------------------------------------------------------------------------------
REVOKE ALL ON access_log_request, access_log_object, access_log_seal, access_log_retention
    FROM PUBLIC, rekisteri_app;
REVOKE ALL ON SEQUENCE access_log_seq FROM PUBLIC, rekisteri_app;
GRANT INSERT (
    at, request_id, event, principal, organisation, roles, purpose, client_address,
    operation_name, operation_type, document_hash, policy_version, outcome, duration_ms, detail
) ON access_log_request TO rekisteri_app;
GRANT INSERT (
    at, request_id, type_name, object_id, subject_customer_id, subject_prospect_id, operation,
    fields_read, fields_masked, fields_denied
) ON access_log_object TO rekisteri_app;
GRANT INSERT ON access_log_seal TO rekisteri_app;
GRANT USAGE ON SEQUENCE access_log_seq TO rekisteri_app;

DO $$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'access_log_seal_follows()',
        'access_log_ensure_partitions(integer)',
        'access_log_drop_before(date)',
        'access_log_watermark()',
        'access_log_writers_done(xid8)',
        'access_log_last_seal()',
        'access_log_leaves(bigint, bigint, integer)',
        'access_log_search(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz, bigint, integer)',
        'access_log_objects(uuid[], timestamptz, timestamptz, integer)',
        'access_history(uuid[])'
    ] LOOP
        -- SECURITY DEFINER functions see only this schema and the catalogue, never a
        -- temporary table of the caller.
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_catalog, pg_temp', fn, current_schema());
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
END
$$;

GRANT EXECUTE ON FUNCTION
    access_log_ensure_partitions(integer),
    access_log_watermark(),
    access_log_writers_done(xid8),
    access_log_last_seal(),
    access_log_leaves(bigint, bigint, integer),
    access_log_search(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz, bigint, integer),
    access_log_objects(uuid[], timestamptz, timestamptz, integer),
    access_history(uuid[])
TO rekisteri_app;

SELECT count(*) FROM access_log_ensure_partitions(2);
