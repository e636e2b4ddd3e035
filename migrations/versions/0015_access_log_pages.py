"""access log pages: accessLog in any order, both ways and counted; accessHistory paged

Create Date: 2026-12-07 23:00:00.000000
"""

from server.db.migrate import run_sql_file

revision: str = "0015"
down_revision: str | None = "0008"


def upgrade() -> None:
    run_sql_file("access_log_pages.sql")


def downgrade() -> None:
    run_sql_file("access_log_pages_downgrade.sql")
