-- Back to the access-log layout of revision 0003 (revision 0005 downgrade).
--
-- Layout 2 keeps per-subject rows, executors and field sets that layout 1 cannot hold,
-- and request rows hashed with version 2 would no longer verify without the columns
-- their hash covers. Dropping them destroys evidence, so the downgrade refuses while
-- the log holds any row written after the upgrade, unless the session sets
-- rekisteri.downgrade_discards_log = 'on' (development databases only).
--
-- The revision then puts back the functions layout 2 replaced, from access_log.sql.
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
