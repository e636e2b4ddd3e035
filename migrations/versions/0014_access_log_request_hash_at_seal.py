"""access log: request rows no longer store their hash; it is computed at sealing

Create Date: 2026-12-07 21:00:00.000000
"""

from server.db.migrate import restore_functions, run_sql_file, sql_upgrade

revision: str = "0014"
down_revision: str | None = "0011"

upgrade = sql_upgrade("access_log_v3.sql")


def downgrade() -> None:
    run_sql_file("access_log_v3_downgrade.sql")
    # The two functions this revision replaced, as revision 0005 defined them.
    restore_functions("access_log_v2.sql", "access_log_request_expected_hash", "access_log_leaves")
