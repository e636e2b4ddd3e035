"""Batched reads of customers, always limited by the principal's row scope."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select

from server.billing.models import Invoice
from server.customers.models import Customer
from server.graphql.context import RequestContext
from server.graphql.loading import Row, by_id_loader, fetch_rows
from server.graphql.relay import PageRequest, after_row
from server.sites.models import Site

customer_table = Customer.__table__  # type: ignore[attr-defined]
_site: Any = Site.__table__.c  # type: ignore[attr-defined]
_invoice: Any = Invoice.__table__.c  # type: ignore[attr-defined]


def _c(name: str) -> Any:
    return customer_table.c[name]


def customers_by_id(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return select(customer_table).where(_c("id").in_(ids), ctx.access.rows("Customer"))

    return by_id_loader(ctx, "customer_by_id", statement)


def filter_conditions(
    *,
    name: str | None,
    customer_number: int | None,
    personal_identity_code: str | None,
    metering_point_id: str | None,
    invoice_status: str | None,
    overdue: bool | None,
    today: Any,
) -> list[ColumnElement[bool]]:
    """SQL conditions for the customer-service search filters."""
    conditions: list[ColumnElement[bool]] = []
    if name:
        pattern = f"%{name.lower()}%"
        full = func.lower(
            func.concat_ws(" ", _c("first_name"), _c("last_name"), _c("organisation_name"))
        )
        conditions.append(full.like(pattern))
    if customer_number is not None:
        conditions.append(_c("customer_number") == customer_number)
    if personal_identity_code:
        conditions.append(_c("personal_identity_code") == personal_identity_code)
    if metering_point_id:
        conditions.append(
            exists().where(
                _site.customer_id == _c("id"),
                _site.metering_point_id == metering_point_id,
            )
        )
    if invoice_status:
        conditions.append(
            exists().where(
                _invoice.customer_id == _c("id"),
                _invoice.status == invoice_status,
            )
        )
    if overdue is not None:
        is_overdue = exists().where(
            _invoice.customer_id == _c("id"),
            or_(
                _invoice.status == "overdue",
                and_(_invoice.status == "open", _invoice.due_date < today),
            ),
        )
        conditions.append(is_overdue if overdue else ~is_overdue)
    return conditions


async def customer_page(
    *, ctx: RequestContext, conditions: list[ColumnElement[bool]], page: PageRequest
) -> list[Row]:
    """One page in customer-number order, fetched with one statement (LIMIT first + 1)."""
    statement = select(customer_table).where(ctx.access.rows("Customer"), *conditions)
    if page.after:
        statement = statement.where(
            _c("customer_number") > after_row(customer_table, "customer_number", page)
        )
    statement = statement.order_by(_c("customer_number")).limit(page.first + 1)
    return await fetch_rows(ctx.session, statement)
