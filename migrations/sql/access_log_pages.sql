-- Revision 0015: the access log's lists page like the register's connections.
--
--   accessLog               any order of a few request columns (the log position `seq` the
--                           unique tie-breaker), forwards and backwards between two
--                           cursors, and a count: access_log_page, access_log_count,
--                           access_log_has_entry
--   Customer.accessHistory  a page per customer, newest first, after a cursor, filtered by
--                           time and purpose, and a count: access_history_page,
--                           access_history_count, access_history_has_position
--
-- A cursor names a row by its log position, as every cursor of the API names a row: an
-- entry of the log by its `seq`, an entry of a customer's history by its position (below).
-- The functions of revisions 0003 and 0005 stay for callers of their own.
--
-- Objects are created in the first schema of search_path, so this file names no schema.

-- ---------------------------------------------------------------------------------------
-- accessLog
-- ---------------------------------------------------------------------------------------

-- The WHERE condition of the auditors' filters over `access_log_request r`, with the
-- filter values as $1..$8 of the caller's EXECUTE (customer, prospect, request, principal,
-- organisation, purpose, from, to). Builds text only.
CREATE FUNCTION access_log_conditions(
    p_customer_id uuid, p_prospect_id uuid, p_request_id uuid, p_principal text,
    p_organisation text, p_purpose text, p_from timestamptz, p_to timestamptz
) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    conditions text[] := ARRAY['true'];
    times text := '';
BEGIN
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
    RETURN array_to_string(conditions, ' AND ') || format(times, 'r');
END
$$;

-- The columns an order may name; the nullable ones sort their NULLs last in either
-- direction (first when a page is read backwards), as every connection of the API does.
CREATE FUNCTION access_log_order_nullable(p_column text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_column IN ('principal', 'organisation', 'purpose') THEN
        RETURN true;
    ELSIF p_column IN ('seq', 'at', 'event', 'outcome', 'duration_ms') THEN
        RETURN false;
    END IF;
    RAISE EXCEPTION 'access log rows cannot be ordered by %', p_column;
END
$$;

-- Rows of `access_log_request r` strictly after (p_after) or before the row held in the
-- caller's parameter p_row (the cursor's row) in the order of the keys.
CREATE FUNCTION access_log_keyset(
    p_columns text[], p_descending boolean[], p_row text, p_after boolean
) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    terms text[] := '{}';
    equal text := 'true';
    own text;
    pos text;
    beyond text;
    nullable boolean;
BEGIN
    FOR i IN 1 .. cardinality(p_columns) LOOP
        nullable := access_log_order_nullable(p_columns[i]);
        own := format('r.%I', p_columns[i]);
        pos := format('(%s).%I', p_row, p_columns[i]);
        beyond := format('%s %s %s', own,
                         CASE WHEN p_descending[i] <> p_after THEN '>' ELSE '<' END, pos);
        IF nullable AND p_after THEN  -- NULLs last: nothing after a NULL, NULLs after the rest
            beyond := format('(%s IS NOT NULL AND (%s OR %s IS NULL))', pos, beyond, own);
        ELSIF nullable THEN
            beyond := format('(%s IS NOT NULL AND (%s IS NULL OR %s))', own, pos, beyond);
        END IF;
        terms := terms || format('(%s AND %s)', equal, beyond);
        equal := equal || ' AND ' || format(
            CASE WHEN nullable THEN '%s IS NOT DISTINCT FROM %s' ELSE '%s = %s' END,
            own, pos);
    END LOOP;
    RETURN '(' || array_to_string(terms, ' OR ') || ')';
END
$$;

-- One page of requests: the filters, the rows between the cursors' rows (by seq), in the
-- order of the keys (reversed when p_backwards: the page before p_before_seq), at most
-- p_limit rows. The last key must be `seq`, so that the order is total. A cursor naming no
-- row gives an empty page (access_log_has_entry tells the two apart).
CREATE FUNCTION access_log_page(
    p_customer_id uuid, p_prospect_id uuid, p_request_id uuid, p_principal text,
    p_organisation text, p_purpose text, p_from timestamptz, p_to timestamptz,
    p_order_columns text[], p_order_descending boolean[], p_after_seq bigint,
    p_before_seq bigint, p_backwards boolean, p_limit integer
) RETURNS TABLE (
    seq bigint, at timestamptz, request_id uuid, event text, principal text,
    organisation text, roles text[], purpose text, client_address text,
    operation_name text, operation_type text, document_hash text, policy_version text,
    outcome text, duration_ms real, detail text, object_count bigint
) LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
    conditions text := access_log_conditions(
        p_customer_id, p_prospect_id, p_request_id, p_principal, p_organisation, p_purpose,
        p_from, p_to);
    keys integer := cardinality(p_order_columns);
    after_row access_log_request;
    before_row access_log_request;
    ordering text[] := '{}';
    backwards boolean := coalesce(p_backwards, false);
BEGIN
    IF p_limit IS NULL OR p_limit < 0 OR p_limit > 10001 THEN
        RAISE EXCEPTION 'p_limit must be between 0 and 10001';
    END IF;
    IF keys IS NULL OR keys < 1 OR keys > 8
       OR cardinality(p_order_descending) IS DISTINCT FROM keys
       OR p_order_columns[keys] IS DISTINCT FROM 'seq'
       OR array_position(p_order_descending, NULL) IS NOT NULL
    THEN
        RAISE EXCEPTION 'the order must be 1 to 8 keys ending with seq';
    END IF;
    IF p_after_seq IS NOT NULL THEN
        SELECT * INTO after_row FROM access_log_request q WHERE q.seq = p_after_seq;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        conditions := conditions || ' AND '
            || access_log_keyset(p_order_columns, p_order_descending, '$9', true);
    END IF;
    IF p_before_seq IS NOT NULL THEN
        SELECT * INTO before_row FROM access_log_request q WHERE q.seq = p_before_seq;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        conditions := conditions || ' AND '
            || access_log_keyset(p_order_columns, p_order_descending, '$10', false);
    END IF;
    FOR i IN 1 .. keys LOOP
        -- Only nullable columns name their NULLs' place: `seq DESC` must stay the order of
        -- the primary key read backwards, or the newest page reads every partition.
        ordering := ordering || format('r.%I %s%s', p_order_columns[i],
            CASE WHEN p_order_descending[i] <> backwards THEN 'DESC' ELSE 'ASC' END,
            CASE WHEN NOT access_log_order_nullable(p_order_columns[i]) THEN ''
                 WHEN backwards THEN ' NULLS FIRST' ELSE ' NULLS LAST' END);
    END LOOP;
    RETURN QUERY EXECUTE
        'SELECT r.seq, r.at, r.request_id, r.event, r.principal, r.organisation, r.roles, '
        'r.purpose, r.client_address, r.operation_name, r.operation_type, r.document_hash, '
        'r.policy_version, r.outcome, r.duration_ms, r.detail, '
        '(SELECT count(*) FROM access_log_object c WHERE c.request_id = r.request_id AND c.at = r.at) '
        '+ (SELECT count(DISTINCT (c.seq, r.field_sets -> (e.set_no - 1) ->> ''type'', '
        'r.field_sets -> (e.set_no - 1) ->> ''operation'', e.object_id)) '
        'FROM access_log_subject c CROSS JOIN LATERAL unnest(c.object_ids, c.object_sets) AS e(object_id, set_no) '
        'WHERE c.request_id = r.request_id AND c.at = r.at) '
        'FROM access_log_request r WHERE ' || conditions
        || ' ORDER BY ' || array_to_string(ordering, ', ') || ' LIMIT $11'
        USING p_customer_id, p_prospect_id, p_request_id, p_principal, p_organisation,
              p_purpose, p_from, p_to, after_row, before_row, p_limit;
END
$$;

-- How many requests the filters leave (accessLog's totalCount).
CREATE FUNCTION access_log_count(
    p_customer_id uuid, p_prospect_id uuid, p_request_id uuid, p_principal text,
    p_organisation text, p_purpose text, p_from timestamptz, p_to timestamptz
) RETURNS bigint LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
    total bigint;
BEGIN
    EXECUTE 'SELECT count(*) FROM access_log_request r WHERE ' || access_log_conditions(
            p_customer_id, p_prospect_id, p_request_id, p_principal, p_organisation,
            p_purpose, p_from, p_to)
        INTO total
        USING p_customer_id, p_prospect_id, p_request_id, p_principal, p_organisation,
              p_purpose, p_from, p_to;
    RETURN total;
END
$$;

-- Whether a request row has this position (a cursor of accessLog names a row).
CREATE FUNCTION access_log_has_entry(p_seq bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM access_log_request q WHERE q.seq = p_seq)
$$;

-- ---------------------------------------------------------------------------------------
-- Customer.accessHistory
-- ---------------------------------------------------------------------------------------

-- One customer's recorded accesses, one row per request, from the (subject_customer_id,
-- seq) indexes: the request, its time, the field sets its subject rows used (layout 2)
-- and the operations and types of its old object rows (layout 1). The position is the
-- largest log position among them: unique, and newest first in log order. Plain SQL, not
-- SECURITY DEFINER, so that it is inlined into the functions below.
CREATE FUNCTION access_history_requests(
    p_customer_id uuid, p_from timestamptz, p_to timestamptz
) RETURNS TABLE (
    request_id uuid, at timestamptz, entry_position bigint, sets integer[], operations text[],
    data_categories text[]
) LANGUAGE sql STABLE AS $$
    SELECT h.request_id, h.at, max(h.seq),
           array_agg(DISTINCT h.set_no) FILTER (WHERE h.set_no IS NOT NULL),
           array_agg(DISTINCT h.operation) FILTER (WHERE h.operation IS NOT NULL),
           array_agg(DISTINCT h.type_name) FILTER (WHERE h.type_name IS NOT NULL)
    FROM (
        SELECT s.seq, s.request_id, s.at, u.set_no, NULL::text AS operation,
               NULL::text AS type_name
        FROM access_log_subject s
        CROSS JOIN LATERAL (SELECT DISTINCT n::integer FROM unnest(s.object_sets) AS n) u(set_no)
        WHERE s.subject_customer_id = p_customer_id
          AND (p_from IS NULL OR s.at >= p_from) AND (p_to IS NULL OR s.at < p_to)
        UNION ALL
        SELECT o.seq, o.request_id, o.at, NULL, o.operation, o.type_name
        FROM access_log_object o
        WHERE o.subject_customer_id = p_customer_id
          AND (p_from IS NULL OR o.at >= p_from) AND (p_to IS NULL OR o.at < p_to)
    ) h
    GROUP BY h.request_id, h.at
$$;

-- Whether a position belongs to the history of one of the customers (a cursor of
-- Customer.accessHistory must name an entry of the lists asked for).
CREATE FUNCTION access_history_has_position(p_customer_ids uuid[], p_position bigint)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (
        SELECT 1 FROM access_log_subject s
        WHERE s.subject_customer_id = ANY (p_customer_ids) AND s.seq = p_position
    ) OR EXISTS (
        SELECT 1 FROM access_log_object o
        WHERE o.subject_customer_id = ANY (p_customer_ids) AND o.seq = p_position
    )
$$;

-- The page of each customer: at most p_limit entries (NULL: all of them) before the
-- position p_before_position, newest first; nothing when that position is in none of the
-- customers' histories (a cursor names an entry of the lists asked for). The requests are
-- sorted by position before their rows are fetched (the OFFSET 0 fences), so a page costs
-- its own entries' index probes (one per request row, `at` pruning it to one partition),
-- not the customer's whole history's; only a purpose filter reads on until the page is
-- full.
CREATE FUNCTION access_history_page(
    p_customer_ids uuid[], p_purpose text, p_from timestamptz, p_to timestamptz,
    p_before_position bigint, p_limit integer
) RETURNS TABLE (
    customer_id uuid, entry_position bigint, seq bigint, at timestamptz, purpose text,
    operations text[], data_categories text[]
) LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT c.customer_id, e.entry_position, e.seq, e.at, e.purpose, e.operations, e.data_categories
    FROM (
        SELECT DISTINCT u.id FROM unnest(p_customer_ids) AS u(id)
        WHERE p_before_position IS NULL
           OR access_history_has_position(p_customer_ids, p_before_position)
    ) AS c(customer_id)
    CROSS JOIN LATERAL (
        SELECT g.entry_position, r.seq, r.at, r.purpose,
               ARRAY(
                   SELECT DISTINCT v.value
                   FROM unnest(g.operations || ARRAY(
                       SELECT r.field_sets -> (n - 1) ->> 'operation'
                       FROM unnest(g.sets) AS n)) AS v(value)
                   WHERE v.value IS NOT NULL ORDER BY v.value
               ) AS operations,
               ARRAY(
                   SELECT DISTINCT v.value
                   FROM unnest(g.data_categories || ARRAY(
                       SELECT r.field_sets -> (n - 1) ->> 'type'
                       FROM unnest(g.sets) AS n)) AS v(value)
                   WHERE v.value IS NOT NULL ORDER BY v.value
               ) AS data_categories
        FROM (
            SELECT h.* FROM access_history_requests(c.customer_id, p_from, p_to) h
            WHERE p_before_position IS NULL OR h.entry_position < p_before_position
            ORDER BY h.entry_position DESC
            OFFSET 0
        ) g
        CROSS JOIN LATERAL (
            SELECT q.seq, q.at, q.purpose, q.field_sets FROM access_log_request q
            WHERE q.request_id = g.request_id AND q.at = g.at
            OFFSET 0
        ) r
        WHERE p_purpose IS NULL OR r.purpose = p_purpose
        ORDER BY g.entry_position DESC
        LIMIT p_limit
    ) e
    ORDER BY c.customer_id, e.entry_position DESC
$$;

-- How many entries each customer's history has under the filters. A subject row and its
-- request row are written in one statement and dropped with the same monthly partition,
-- so the request rows are read only to test the purpose.
CREATE FUNCTION access_history_count(
    p_customer_ids uuid[], p_purpose text, p_from timestamptz, p_to timestamptz
) RETURNS TABLE (customer_id uuid, total bigint)
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT c.customer_id, (
        SELECT count(*) FROM access_history_requests(c.customer_id, p_from, p_to) g
        WHERE p_purpose IS NULL OR EXISTS (
            SELECT 1 FROM access_log_request q
            WHERE q.request_id = g.request_id AND q.at = g.at AND q.purpose = p_purpose)
    )
    FROM (SELECT DISTINCT u.id FROM unnest(p_customer_ids) AS u(id)) AS c(customer_id)
$$;

-- ---------------------------------------------------------------------------------------
-- Rights: the readers run as the owner, see only this schema, and only the app calls them
-- ---------------------------------------------------------------------------------------
DO $$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'access_log_conditions(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz)',
        'access_log_order_nullable(text)',
        'access_log_keyset(text[], boolean[], text, boolean)',
        'access_log_page(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz, text[], boolean[], bigint, bigint, boolean, integer)',
        'access_log_count(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz)',
        'access_log_has_entry(bigint)',
        'access_history_requests(uuid, timestamptz, timestamptz)',
        'access_history_page(uuid[], text, timestamptz, timestamptz, bigint, integer)',
        'access_history_count(uuid[], text, timestamptz, timestamptz)',
        'access_history_has_position(uuid[], bigint)'
    ] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
    FOREACH fn IN ARRAY ARRAY[
        'access_log_page(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz, text[], boolean[], bigint, bigint, boolean, integer)',
        'access_log_count(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz)',
        'access_log_has_entry(bigint)',
        'access_history_page(uuid[], text, timestamptz, timestamptz, bigint, integer)',
        'access_history_count(uuid[], text, timestamptz, timestamptz)',
        'access_history_has_position(uuid[], bigint)'
    ] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_catalog, pg_temp', fn, current_schema());
        -- JIT (which a large log's estimates switch on) costs far more than these reads.
        EXECUTE format('ALTER FUNCTION %s SET jit = off', fn);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO rekisteri_app', fn);
    END LOOP;
END
$$;
ALTER FUNCTION access_history_page(uuid[], text, timestamptz, timestamptz, bigint, integer)
    SET max_parallel_workers_per_gather = 0;
ALTER FUNCTION access_history_count(uuid[], text, timestamptz, timestamptz)
    SET max_parallel_workers_per_gather = 0;
