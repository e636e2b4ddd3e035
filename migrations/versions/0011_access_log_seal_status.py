"""access log seal status: the last seal, the unsealed rows and the last verification

The security console shows them; the runtime role reads none of the log's tables, so they
come through one SECURITY DEFINER function that returns counts, times and the newest
verification record (no row of the log itself).

Create Date: 2026-12-03 12:00:00.000000
"""

from server.db.migrate import sql_downgrade, sql_upgrade

revision: str = "0011"
down_revision: str | None = "0010"

upgrade = sql_upgrade("access_log_seal_status.sql")
downgrade = sql_downgrade("access_log_seal_status_downgrade.sql")
