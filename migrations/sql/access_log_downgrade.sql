-- Removes the access log (revision 0003). Dropping the log destroys evidence: only for
-- development databases.
DROP FUNCTION IF EXISTS access_history(uuid[]);
DROP FUNCTION IF EXISTS access_log_objects(uuid[], timestamptz, timestamptz, integer);
DROP FUNCTION IF EXISTS access_log_search(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz, bigint, integer);
DROP FUNCTION IF EXISTS access_log_leaves(bigint, bigint, integer);
DROP FUNCTION IF EXISTS access_log_last_seal();
DROP FUNCTION IF EXISTS access_log_writers_done(xid8);
DROP FUNCTION IF EXISTS access_log_watermark();
DROP FUNCTION IF EXISTS access_log_drop_before(date);
DROP FUNCTION IF EXISTS access_log_ensure_partitions(integer);
DROP TABLE IF EXISTS access_log_retention;
DROP TABLE IF EXISTS access_log_seal;
DROP TABLE IF EXISTS access_log_object;
DROP TABLE IF EXISTS access_log_request;
DROP FUNCTION IF EXISTS access_log_seal_follows();
DROP FUNCTION IF EXISTS access_log_refuse_change();
DROP FUNCTION IF EXISTS access_log_object_stamp();
DROP FUNCTION IF EXISTS access_log_request_stamp();
DROP FUNCTION IF EXISTS access_log_object_hash(bigint, timestamptz, uuid, text, text, uuid, uuid, text, text[], text[], text[], xid8);
DROP FUNCTION IF EXISTS access_log_request_hash(bigint, timestamptz, uuid, text, text, text, text[], text, text, text, text, text, text, text, real, text, xid8);
DROP FUNCTION IF EXISTS access_log_uuid_bytes(uuid);
DROP FUNCTION IF EXISTS access_log_text_bytes(text);
DROP SEQUENCE IF EXISTS access_log_seq;
