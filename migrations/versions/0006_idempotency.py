"""idempotency keys: the first answer to a mutation sent with an Idempotency-Key

Create Date: 2026-12-01 21:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from server.db.migrate import timestamp_now

revision: str = "0006"
down_revision: str | None = "0005"


def upgrade() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("principal", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("request_hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=False),
        timestamp_now("created_at"),
        sa.PrimaryKeyConstraint("principal", "key"),
    )
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_record TO rekisteri_app")


def downgrade() -> None:
    op.drop_table("idempotency_record")
