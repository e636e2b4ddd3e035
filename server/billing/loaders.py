"""Batched reads of invoices, lines, payments, deposits and collection cases."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from server.billing.models import (
    CollectionCase,
    CollectionCaseInvoice,
    Invoice,
    InvoiceLine,
    Payment,
    SecurityDeposit,
)
from server.db.tables import table_of
from server.graphql.connections import ListFilter, NestedList
from server.graphql.context import RequestContext
from server.graphql.loading import RowLoader, children_loader, rows_by_id
from server.graphql.relay import (
    ID_KEY,
    FilterValue,
    SortKey,
    Visible,
    columns_equal,
    flag_condition,
)

invoice_table = table_of(Invoice)
line_table = table_of(InvoiceLine)
payment_table = table_of(Payment)
deposit_table = table_of(SecurityDeposit)
case_table = table_of(CollectionCase)
case_invoice_table = table_of(CollectionCaseInvoice)


INVOICE_LIST_FILTER = ListFilter(
    {
        "status": "Invoice.status",
        "overdue": "Invoice.status",
        "issued_from": "Invoice.issueDate",
        "issued_to": "Invoice.issueDate",
    },
    lambda visible, **values: invoice_filter_conditions(visible, **values),
    dated=True,
)
# Newest first; the invoice number is unique, so it ends the order.
NEWEST_INVOICES = (
    SortKey("issue_date", descending=True),
    SortKey("invoice_number", descending=True),
)
INVOICES_OF_CUSTOMER = NestedList(
    "invoices_of_customer",
    invoice_table,
    invoice_table.c.customer_id,
    NEWEST_INVOICES,
    "Invoice",
    filter=INVOICE_LIST_FILTER,
)
INVOICES_OF_CONTRACT = NestedList(
    "invoices_of_contract",
    invoice_table,
    invoice_table.c.contract_id,
    NEWEST_INVOICES,
    "Invoice",
    filter=INVOICE_LIST_FILTER,
)
INVOICES_OF_CASE = NestedList(
    "invoices_of_case",
    invoice_table,
    case_invoice_table.c.collection_case_id,
    (SortKey("due_date"), ID_KEY),
    "Invoice",
    link=(case_invoice_table, case_invoice_table.c.invoice_id == invoice_table.c.id),
    filter=INVOICE_LIST_FILTER,
)
# A payment's data subject is its invoice's customer.
PAYMENTS_OF_INVOICE = NestedList(
    "payments_of_invoice",
    payment_table,
    payment_table.c.invoice_id,
    (SortKey("paid_on"), ID_KEY),
    extra=(
        invoice_table,
        invoice_table.c.id == payment_table.c.invoice_id,
        (invoice_table.c.customer_id,),
    ),
)
DEPOSITS_OF_CUSTOMER = NestedList(
    "deposits_of_customer",
    deposit_table,
    deposit_table.c.customer_id,
    (SortKey("received_on", descending=True), SortKey("id", descending=True)),
)
CASES_OF_CUSTOMER = NestedList(
    "cases_of_customer",
    case_table,
    case_table.c.customer_id,
    (SortKey("opened_on", descending=True), SortKey("id", descending=True)),
    "CollectionCase",
)


def _with_customer(table: Any, *extra: Any) -> Select[Any]:
    """Child rows of an invoice carry the invoice's customer: the data subject."""
    return select(table, invoice_table.c.customer_id, *extra).join(
        invoice_table, invoice_table.c.id == table.c.invoice_id
    )


def lines_by_invoice(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return (
            _with_customer(
                line_table,
                func.concat(line_table.c.invoice_id, ":", line_table.c.line_number).label("id"),
            )
            .where(line_table.c.invoice_id.in_(ids))
            .order_by(line_table.c.invoice_id, line_table.c.line_number)
        )

    return children_loader(ctx, "lines_by_invoice", statement, "invoice_id")


def invoices_by_id(ctx: RequestContext) -> RowLoader:
    return rows_by_id(ctx, invoice_table, "Invoice")


def invoice_overdue(today: date | ColumnElement[Any]) -> ColumnElement[bool]:
    """Past due and unpaid on `today` (a value or a bind parameter)."""
    return or_(
        invoice_table.c.status == "overdue",
        and_(invoice_table.c.status == "open", invoice_table.c.due_date < today),
    )


def invoice_filter_conditions(
    visible: Visible,
    *,
    status: FilterValue[str] = None,
    overdue: FilterValue[bool] = None,
    customer_id: FilterValue[uuid.UUID] = None,
    issued_from: FilterValue[date] = None,
    issued_to: FilterValue[date] = None,
    today: date | ColumnElement[Any],
) -> list[ColumnElement[bool]]:
    """SQL conditions for the invoice filters (values or bind parameters; None: not
    given); they test only the invoice's own columns."""
    conditions = columns_equal(invoice_table, status=status, customer_id=customer_id)
    if overdue is not None:
        conditions.append(flag_condition(invoice_overdue(today), overdue))
    if issued_from is not None:
        conditions.append(invoice_table.c.issue_date >= issued_from)
    if issued_to is not None:
        conditions.append(invoice_table.c.issue_date <= issued_to)
    return conditions
