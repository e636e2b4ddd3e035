"""access log: request and object records, seals, retention

Create Date: 2026-11-24 19:10:00.000000
"""

from server.db.migrate import run_sql_file

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    run_sql_file("access_log.sql")


def downgrade() -> None:
    run_sql_file("access_log_downgrade.sql")
