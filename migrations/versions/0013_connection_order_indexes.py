"""connection order indexes: nested pages per parent, and common root orders

Nested connections read at most `first + 1` rows of each parent in the relation's order
(a LATERAL sub-select with a LIMIT in the compiled statement, ROW_NUMBER() per parent on
the resolver path); an index on (parent key, order columns) lets each parent's page stop
after its rows. Descending orders scan these indexes backwards. Two root orders that
customer service and billing use get one too.

Create Date: 2026-12-07 20:00:00.000000
"""

from alembic import op

revision: str = "0013"
down_revision: str | None = "0014"

# (index, table, columns)
INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("invoice_contract_issue_idx", "invoice", ("contract_id", "issue_date", "invoice_number")),
    ("invoice_due_idx", "invoice", ("due_date", "id")),
    ("payment_invoice_paid_idx", "payment", ("invoice_id", "paid_on", "id")),
    (
        "security_deposit_customer_received_idx",
        "security_deposit",
        ("customer_id", "received_on", "id"),
    ),
    ("collection_case_customer_opened_idx", "collection_case", ("customer_id", "opened_on", "id")),
    ("price_product_valid_idx", "price", ("product_id", "valid_from", "id")),
    ("contract_customer_start_idx", "contract", ("customer_id", "start_date", "id")),
    ("contract_site_start_idx", "contract", ("site_id", "start_date", "id")),
    ("customer_last_name_order_idx", "customer", ("last_name", "id")),
    ("site_customer_meter_idx", "site", ("customer_id", "metering_point_id")),
)
# The customer's invoices, newest first: the invoice number now ends the index.
OLD_CUSTOMER_INVOICES = ("customer_id", "issue_date")
NEW_CUSTOMER_INVOICES = ("customer_id", "issue_date", "invoice_number")


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))
    op.drop_index("invoice_customer_idx", table_name="invoice")
    op.create_index("invoice_customer_idx", "invoice", list(NEW_CUSTOMER_INVOICES))


def downgrade() -> None:
    op.drop_index("invoice_customer_idx", table_name="invoice")
    op.create_index("invoice_customer_idx", "invoice", list(OLD_CUSTOMER_INVOICES))
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
