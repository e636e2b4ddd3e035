"""recipient countries: organisations and disclosures name the country of the recipient

Privacy notice section 8: nothing is transferred outside the EU or EEA. The service refuses
an assignment, an API key, a disclosure or an export to a recipient outside; the record of
processing checks the organisations against the list. Rows registered before this revision
are Finnish.

Create Date: 2026-12-01 22:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"

COLUMNS = (("organisation", "country"), ("disclosure", "recipient_country"))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(
            table,
            sa.Column(
                column,
                sqlmodel.sql.sqltypes.AutoString(length=2),
                server_default="FI",
                nullable=False,
            ),
        )
        op.create_check_constraint(f"{column}_format", table, f"{column} ~ '^[A-Z]{{2}}$'")


def downgrade() -> None:
    for table, column in COLUMNS:
        op.drop_constraint(f"{column}_format", table, type_="check")
        op.drop_column(table, column)
