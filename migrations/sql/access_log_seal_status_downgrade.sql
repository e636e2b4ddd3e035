DROP FUNCTION IF EXISTS access_log_seal_status(integer);
