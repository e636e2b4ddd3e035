"""seal status: the last seal and the positions handed out, readable by the runtime role

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Two index look-ups, whatever the size of the log: the newest seal (primary key) and the
# sequence's last value. /metrics calls it on every scrape.
STATUS_FUNCTION = """
CREATE FUNCTION access_log_seal_status(
    OUT batch_no bigint, OUT sealed_seq bigint, OUT sealed_at timestamptz, OUT issued_seq bigint
) LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT s.batch_no, coalesce(s.last_seq, 0), s.sealed_at,
           coalesce(pg_sequence_last_value('access_log_seq'), 0)
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
        SELECT a.batch_no, a.last_seq, a.sealed_at FROM access_log_seal a
        ORDER BY a.batch_no DESC LIMIT 1
    ) AS s ON true
$$
"""
SIGNATURE = "access_log_seal_status()"


def upgrade() -> None:
    op.execute(STATUS_FUNCTION)
    op.execute(
        f"DO $$ BEGIN EXECUTE format('ALTER FUNCTION {SIGNATURE} "
        "SET search_path = %I, pg_catalog, pg_temp', current_schema()); END $$"
    )
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO rekisteri_app")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
