"""access log: rows written under other field names are read under their GraphQL coordinates

The log's rows are sealed and hashed over their bytes, so the rows that name fields
otherwise stay as they are (and `audit verify` checks them as stored); the alias table
below says which coordinates each old name stands for, and the view every reader uses
shows the coordinates (see migrations/sql/access_log_field_alias.sql).

The old names are every name the service logged that is no field of its GraphQL type:
the report columns of the first access report (snake_case, and a few shown under another
field or none) and the "deleted" of retention, which stands for every field stored in the
deleted object's row.

Create Date: 2026-12-07 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.migrate import run_sql_file

revision: str = "0016"
down_revision: str | None = "0015"

# The report columns the first access report logged, by type; each is the snake_case
# form of its field unless OTHER_FIELDS says otherwise.
REPORT_COLUMNS: dict[str, str] = {
    "Customer": "customer_number first_name last_name organisation_name personal_identity_code"
    " business_id street_address postal_code post_office created_at updated_at"
    " former_customer_since",
    "Site": "metering_point_id street_address postal_code post_office housing_type heating_type"
    " heating_depends_on_electricity annual_consumption_estimate_kwh main_fuse connection_id"
    " grid_operator connection_power_kw connected_on",
    "Contract": "contract_number product_name energy_price_c_per_kwh spot_margin_c_per_kwh"
    " basic_fee_eur_per_month start_date end_date sales_channel",
    "Offer": "product_name energy_price_c_per_kwh spot_margin_c_per_kwh basic_fee_eur_per_month"
    " valid_until created_at",
    "Invoice": "invoice_number reference_number billing_method issue_date due_date period_start"
    " period_end total_excl_vat vat_amount total_incl_vat",
    "Payment": "invoice_number paid_on reference_number",
    "SecurityDeposit": "received_on returned_on",
    "CollectionCase": "opened_on closed_on amount_due agency_name invoice_numbers",
}
# Columns shown under another field of their type, or under none (the payment's invoice
# number is the invoice's, logged with the invoice; former_customer_since is no field).
OTHER_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Customer", "former_customer_since"): (),
    ("Contract", "product_name"): ("product",),
    ("Offer", "product_name"): ("product",),
    ("Payment", "invoice_number"): (),
    ("CollectionCase", "agency_name"): ("agency",),
    ("CollectionCase", "invoice_numbers"): ("invoices",),
}
# Retention's "deleted": every field stored in the row of the object it deleted.
DELETED: dict[str, str] = {
    "Invoice": "invoiceNumber referenceNumber billingMethod issueDate dueDate periodStart"
    " periodEnd totalExclVat vatAmount totalInclVat status createdAt",
    "SecurityDeposit": "amount receivedOn returnedOn status reason",
    "CollectionCase": "stage openedOn closedOn amountDue",
}

alias_table = sa.table(
    "access_log_field_alias",
    sa.column("type_name", sa.Text()),
    sa.column("stored_name", sa.Text()),
    sa.column("field_names", postgresql.ARRAY(sa.Text())),
)


def _camel(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _alias(type_name: str, stored_name: str, fields: tuple[str, ...]) -> dict[str, object]:
    return {"type_name": type_name, "stored_name": stored_name, "field_names": list(fields)}


def aliases() -> list[dict[str, object]]:
    """Every old name with the coordinates it stands for."""
    rows = [
        _alias(type_name, column, OTHER_FIELDS.get((type_name, column), (_camel(column),)))
        for type_name, columns in REPORT_COLUMNS.items()
        for column in columns.split()
    ]
    rows.extend(
        _alias(type_name, "deleted", tuple(fields.split())) for type_name, fields in DELETED.items()
    )
    return rows


def upgrade() -> None:
    run_sql_file("access_log_field_alias.sql")
    op.bulk_insert(alias_table, aliases())


def downgrade() -> None:
    run_sql_file("access_log_field_alias_downgrade.sql")
