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
from server.graphql.context import RequestContext
from server.graphql.loading import by_id_loader, children_loader
from server.graphql.relay import FilterValue, Visible
from server.organisations.models import Organisation

invoice_table = Invoice.__table__  # type: ignore[attr-defined]
line_table = InvoiceLine.__table__  # type: ignore[attr-defined]
payment_table = Payment.__table__  # type: ignore[attr-defined]
deposit_table = SecurityDeposit.__table__  # type: ignore[attr-defined]
case_table = CollectionCase.__table__  # type: ignore[attr-defined]
case_invoice_table = CollectionCaseInvoice.__table__  # type: ignore[attr-defined]
organisation_table = Organisation.__table__  # type: ignore[attr-defined]


def _invoices(ctx: RequestContext, column: Any, ids: list[uuid.UUID]) -> Select[Any]:
    return (
        select(invoice_table)
        .where(column.in_(ids), ctx.access.rows("Invoice"))
        .order_by(
            invoice_table.c.issue_date.desc(),
            invoice_table.c.invoice_number.desc(),
            invoice_table.c.id,
        )
    )


def invoices_by_customer(ctx: RequestContext) -> Any:
    return children_loader(
        ctx,
        "invoices_by_customer",
        lambda ids: _invoices(ctx, invoice_table.c.customer_id, ids),
        "customer_id",
    )


def invoices_by_contract(ctx: RequestContext) -> Any:
    return children_loader(
        ctx,
        "invoices_by_contract",
        lambda ids: _invoices(ctx, invoice_table.c.contract_id, ids),
        "contract_id",
    )


def invoices_by_case(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return (
            select(invoice_table, case_invoice_table.c.collection_case_id)
            .join(case_invoice_table, case_invoice_table.c.invoice_id == invoice_table.c.id)
            .where(case_invoice_table.c.collection_case_id.in_(ids), ctx.access.rows("Invoice"))
            .order_by(invoice_table.c.due_date, invoice_table.c.id)
        )

    return children_loader(ctx, "invoices_by_case", statement, "collection_case_id")


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


def payments_by_invoice(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return (
            _with_customer(payment_table)
            .where(payment_table.c.invoice_id.in_(ids))
            .order_by(payment_table.c.invoice_id, payment_table.c.paid_on, payment_table.c.id)
        )

    return children_loader(ctx, "payments_by_invoice", statement, "invoice_id")


def deposits_by_customer(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return (
            select(deposit_table)
            .where(deposit_table.c.customer_id.in_(ids))
            .order_by(deposit_table.c.received_on.desc(), deposit_table.c.id)
        )

    return children_loader(ctx, "deposits_by_customer", statement, "customer_id")


def collection_cases_by_customer(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return (
            select(case_table)
            .where(case_table.c.customer_id.in_(ids), ctx.access.rows("CollectionCase"))
            .order_by(case_table.c.opened_on.desc(), case_table.c.id)
        )

    return children_loader(ctx, "collection_cases_by_customer", statement, "customer_id")


def organisations_by_id(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return select(organisation_table).where(organisation_table.c.id.in_(ids))

    return by_id_loader(ctx, "organisation_by_id", statement)


def invoices_by_id(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return select(invoice_table).where(invoice_table.c.id.in_(ids), ctx.access.rows("Invoice"))

    return by_id_loader(ctx, "invoice_by_id", statement)


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
    today: date | ColumnElement[Any],
) -> list[ColumnElement[bool]]:
    """SQL conditions for the invoice filters (values or bind parameters; None: not
    given); they test only the invoice's own columns."""
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(invoice_table.c.status == status)
    if overdue is not None:
        is_overdue = invoice_overdue(today)
        if isinstance(overdue, bool):
            conditions.append(is_overdue if overdue else ~is_overdue)
        else:
            conditions.append(is_overdue == overdue)
    if customer_id is not None:
        conditions.append(invoice_table.c.customer_id == customer_id)
    return conditions
