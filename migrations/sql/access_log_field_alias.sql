-- Revision 0016: the access log is read under GraphQL coordinates only.
--
-- Every record names a field by its GraphQL coordinate (type Customer, field
-- personalIdentityCode). Rows written before this revision also hold other spellings: the
-- access report of the first release logged its report columns (customer_number,
-- product_name, agency_name), and retention logged a deleted object as the field
-- "deleted". Those rows are sealed and hashed over their bytes, so they are not rewritten:
-- `audit verify` keeps checking them as stored. Instead, access_log_field_alias says what
-- each old name stands for, and the readers see coordinates only:
--
--   access_log_object_stored  the view access_log_object_all was until now: every object
--                             record (old object rows and expanded subject rows) as stored
--   access_log_object_all     the same records with the old names read as coordinates; the
--                             reading functions (accessLog, the console) and `audit export`
--                             read this one, so a search for a coordinate finds every row
--
-- A name with no alias is a coordinate already and is shown as it is; a record without an
-- old name is shown exactly as stored (the same array, in the same order).

CREATE TABLE access_log_field_alias (
    type_name text NOT NULL,
    stored_name text NOT NULL,
    -- The fields of type_name the old name stands for (empty: none of this type; the
    -- value was logged under another type, or is not in the schema).
    field_names text[] NOT NULL,
    CONSTRAINT access_log_field_alias_pkey PRIMARY KEY (type_name, stored_name)
);
-- Changed only by migrations, like the log it explains.
CREATE TRIGGER access_log_field_alias_append_only BEFORE UPDATE OR DELETE
    ON access_log_field_alias FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_field_alias_no_truncate BEFORE TRUNCATE ON access_log_field_alias
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- The coordinates a stored field list stands for: sorted as the service sorts them
-- (byte order), each once.
CREATE FUNCTION access_log_coordinates(p_type_name text, p_names text[]) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT c.name COLLATE "C" ORDER BY c.name COLLATE "C"), '{}')
    FROM unnest(p_names) AS u(name)
    LEFT JOIN access_log_field_alias a
           ON a.type_name = p_type_name AND a.stored_name = u.name
    CROSS JOIN LATERAL unnest(
        CASE WHEN a.stored_name IS NULL THEN ARRAY[u.name] ELSE a.field_names END
    ) AS c(name)
$$;

ALTER VIEW access_log_object_all RENAME TO access_log_object_stored;

-- Only a record that holds an old name goes through the alias table; the set of old names
-- is read once per query (an InitPlan), and the overlap test costs little per row.
CREATE VIEW access_log_object_all AS
    SELECT v.seq, v.at, v.request_id, v.type_name, v.object_id, v.subject_customer_id,
           v.subject_prospect_id, v.operation,
           CASE WHEN v.fields_read && (SELECT coalesce(array_agg(stored_name), '{}')
                                       FROM access_log_field_alias)
                THEN access_log_coordinates(v.type_name, v.fields_read)
                ELSE v.fields_read END AS fields_read,
           CASE WHEN v.fields_masked && (SELECT coalesce(array_agg(stored_name), '{}')
                                         FROM access_log_field_alias)
                THEN access_log_coordinates(v.type_name, v.fields_masked)
                ELSE v.fields_masked END AS fields_masked,
           CASE WHEN v.fields_denied && (SELECT coalesce(array_agg(stored_name), '{}')
                                         FROM access_log_field_alias)
                THEN access_log_coordinates(v.type_name, v.fields_denied)
                ELSE v.fields_denied END AS fields_denied,
           v.position
    FROM access_log_object_stored v;

-- Owner only, as the log itself: the runtime role reads through the reading functions.
REVOKE ALL ON access_log_field_alias, access_log_object_stored, access_log_object_all
    FROM PUBLIC, rekisteri_app;
REVOKE ALL ON FUNCTION access_log_coordinates(text, text[]) FROM PUBLIC;
