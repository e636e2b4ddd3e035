"""Root query fields of the billing domain."""

from __future__ import annotations

from datetime import date

import strawberry

from server.billing.loaders import invoice_filter_conditions, invoice_table, invoices_by_id
from server.billing.models import InvoiceStatus
from server.billing.types import Invoice
from server.graphql.connections import RootPage, root_connection, root_connection_field
from server.graphql.guards import filter_id, require_readable_for_filter
from server.graphql.inputs import filter_field
from server.graphql.ordering import Sortable, SortField
from server.graphql.relay import Connection, SortKey
from server.graphql.shaping import root_object_field


@strawberry.input(description="Filters for the invoice list.")
class InvoiceFilter:
    status: InvoiceStatus | None = filter_field("Only invoices in this state.")
    overdue: bool | None = filter_field("True: overdue (past due and unpaid); false: not overdue.")
    customer_id: strawberry.ID | None = filter_field("Only this customer's invoices.")
    issued_from: date | None = filter_field("Only invoices issued on this day or later.")
    issued_to: date | None = filter_field("Only invoices issued on this day or earlier.")


INVOICE_ORDER = Sortable(
    "Invoice",
    invoice_table,
    {
        "INVOICE_NUMBER": SortField(
            "invoice_number", "Invoice.invoiceNumber", "Invoice number (the default: DESC)."
        ),
        "ISSUE_DATE": SortField("issue_date", "Invoice.issueDate", "Date of issue."),
        "DUE_DATE": SortField("due_date", "Invoice.dueDate", "Due date."),
        "TOTAL_INCL_VAT": SortField("total_incl_vat", "Invoice.totalInclVat", "Total with VAT."),
        "STATUS": SortField("status", "Invoice.status", "State of the invoice."),
        "CREATED_AT": SortField("created_at", "Invoice.createdAt", "When created."),
    },
    (SortKey("invoice_number", descending=True),),
)


async def invoices_page(asked: RootPage[InvoiceFilter]) -> Connection[Invoice]:
    """Invoices, newest invoice number first unless `orderBy` says else."""
    ctx = asked.context
    chosen = asked.filter or InvoiceFilter()
    if chosen.status is not None or chosen.overdue is not None:
        require_readable_for_filter(ctx, "Invoice.status", "filter.status")
    if chosen.issued_from is not None or chosen.issued_to is not None:
        require_readable_for_filter(ctx, "Invoice.issueDate", "filter.issuedFrom")
    customer = filter_id(chosen.customer_id, "Customer")
    if customer.matches_nothing:
        return Connection.empty()
    conditions = invoice_filter_conditions(
        ctx.access.rows,
        status=chosen.status.value if chosen.status else None,
        overdue=chosen.overdue,
        customer_id=customer.key,
        issued_from=chosen.issued_from,
        issued_to=chosen.issued_to,
        today=ctx.access.today,
    )
    return await root_connection(asked, Invoice, INVOICE_ORDER, conditions=conditions)


@strawberry.type(description="Invoice queries.")
class BillingQuery:
    invoice = root_object_field(Invoice, invoices_by_id, noun="invoice")

    invoices = root_connection_field(Invoice, INVOICE_ORDER, invoices_page, filter=InvoiceFilter)
