-- Back to revision 0008: the paging readers of revision 0015 go.
DROP FUNCTION access_history_has_position(uuid[], bigint);
DROP FUNCTION access_history_count(uuid[], text, timestamptz, timestamptz);
DROP FUNCTION access_history_page(uuid[], text, timestamptz, timestamptz, bigint, integer);
DROP FUNCTION access_history_requests(uuid, timestamptz, timestamptz);
DROP FUNCTION access_log_has_entry(bigint);
DROP FUNCTION access_log_count(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz);
DROP FUNCTION access_log_page(
    uuid, uuid, uuid, text, text, text, timestamptz, timestamptz, text[], boolean[], bigint,
    bigint, boolean, integer);
DROP FUNCTION access_log_keyset(text[], boolean[], text, boolean);
DROP FUNCTION access_log_order_nullable(text);
DROP FUNCTION access_log_conditions(uuid, uuid, uuid, text, text, text, timestamptz, timestamptz);
