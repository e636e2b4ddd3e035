"""access log: request and object records, seals, retention

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 19:10:00.000000
"""

from collections.abc import Sequence

from server.db.migrate import run_sql_file

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    run_sql_file("access_log.sql")


def downgrade() -> None:
    run_sql_file("access_log_downgrade.sql")
