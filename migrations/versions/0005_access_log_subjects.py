"""access log layout 2: one row per request and data subject, field sets on the request

Create Date: 2026-12-01 20:30:00.000000
"""

from server.db.migrate import restore_functions, run_sql_file, sql_upgrade

revision: str = "0005"
down_revision: str | None = "0004"

upgrade = sql_upgrade("access_log_v2.sql")


def downgrade() -> None:
    run_sql_file("access_log_v2_downgrade.sql")
    # The functions layout 2 replaced, as revision 0003 created them.
    restore_functions(
        "access_log.sql",
        "access_log_request_stamp",
        "access_log_ensure_partitions",
        "access_log_drop_before",
        "access_log_leaves",
        "access_log_search",
        "access_log_objects",
        "access_history",
    )
