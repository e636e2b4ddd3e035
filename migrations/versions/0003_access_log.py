"""access log: request and object records, seals, retention

Create Date: 2026-11-24 19:10:00.000000
"""

from server.db.migrate import sql_downgrade, sql_upgrade

revision: str = "0003"
down_revision: str | None = "0002"

upgrade = sql_upgrade("access_log.sql")
downgrade = sql_downgrade("access_log_downgrade.sql")
