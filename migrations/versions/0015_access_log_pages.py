"""access log pages: accessLog in any order, both ways and counted; accessHistory paged

Create Date: 2026-12-07 23:00:00.000000
"""

from server.db.migrate import sql_downgrade, sql_upgrade

revision: str = "0015"
down_revision: str | None = "0008"

upgrade = sql_upgrade("access_log_pages.sql")
downgrade = sql_downgrade("access_log_pages_downgrade.sql")
