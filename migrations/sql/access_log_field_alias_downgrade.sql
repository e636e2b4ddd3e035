-- Back to reading the stored names (revision 0016 downgrade). No log row was changed by
-- the upgrade, so none is changed here.
DROP VIEW access_log_object_all;
ALTER VIEW access_log_object_stored RENAME TO access_log_object_all;
DROP FUNCTION access_log_coordinates(text, text[]);
DROP TABLE access_log_field_alias;
