"""trusted documents: GraphQL documents registered by the owner and called by their SHA-256

The service (rekisteri_app) may only read them: a document is registered or removed by
`rekisteri operations add|remove`, never by a client.

Create Date: 2026-12-02 10:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from server.db.migrate import timestamp_now

revision: str = "0010"
down_revision: str | None = "0007"


def upgrade() -> None:
    op.create_table(
        "trusted_document",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("registered_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        timestamp_now("registered_at"),
        sa.CheckConstraint(
            "sha256 = encode(sha256(convert_to(document, 'UTF8')), 'hex')",
            name="trusted_document_sha256_matches",
        ),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.execute("GRANT SELECT ON trusted_document TO rekisteri_app")


def downgrade() -> None:
    op.drop_table("trusted_document")
