"""access log seal status: the last seal, the unsealed rows and the last verification

The security console shows them; the runtime role reads none of the log's tables, so they
come through one SECURITY DEFINER function that returns counts, times and the newest
verification record (no row of the log itself).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

from server.db.migrate import run_sql_file

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    run_sql_file("access_log_seal_status.sql")


def downgrade() -> None:
    run_sql_file("access_log_seal_status_downgrade.sql")
