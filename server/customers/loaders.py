"""Batched reads of customers, always limited by the principal's row scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, and_, exists, func, literal, or_

from server.billing.models import Invoice
from server.customers.models import Customer
from server.db.tables import table_of
from server.graphql.context import RequestContext
from server.graphql.loading import RowLoader, rows_by_id
from server.graphql.relay import FilterValue, Visible, columns_equal, flag_condition
from server.sites.models import Site

customer_table = table_of(Customer)
_site = table_of(Site).c
_invoice = table_of(Invoice).c


def _c(name: str) -> Any:
    return customer_table.c[name]


def customers_by_id(ctx: RequestContext) -> RowLoader:
    return rows_by_id(ctx, customer_table, "Customer")


def _text(value: str | ColumnElement[Any]) -> ColumnElement[Any]:
    return value if isinstance(value, ColumnElement) else literal(value, String)


def _like_pattern(value: str | ColumnElement[Any]) -> ColumnElement[Any]:
    """'%' || lower(value) || '%' with LIKE's own wildcards escaped, computed in SQL."""
    escaped = func.replace(
        func.replace(func.replace(_text(value), "\\", "\\\\"), "%", "\\%"), "_", "\\_"
    )
    return literal("%", String).concat(func.lower(escaped, type_=String)).concat("%")


def _has_visible(
    rows: Any, type_name: str, visible: Visible, condition: ColumnElement[bool]
) -> ColumnElement[bool]:
    """The customer has a row of `type_name` (columns `rows`) inside the row scope where
    `condition` holds."""
    return exists().where(rows.customer_id == _c("id"), condition, visible(type_name))


def filter_conditions(
    visible: Visible,
    *,
    name: FilterValue[str] = None,
    customer_number: FilterValue[int] = None,
    personal_identity_code: FilterValue[str] = None,
    metering_point_id: FilterValue[str] = None,
    invoice_status: FilterValue[str] = None,
    overdue: FilterValue[bool] = None,
    today: date | ColumnElement[Any],
) -> list[ColumnElement[bool]]:
    """SQL conditions for the customer-service search filters.

    `visible(TypeName)` is the row scope (normally `ctx.access.rows`): a filter that tests
    other rows (sites, invoices) tests only those the principal may see, so a filter cannot
    reveal facts outside the scope. Values are Python values or bind parameters; a value is
    only used inside SQL, so the statement can be built once with bind parameters. None
    leaves a filter out."""
    conditions: list[ColumnElement[bool]] = []
    if name is not None:
        full = func.lower(
            func.concat_ws(" ", _c("first_name"), _c("last_name"), _c("organisation_name")),
            type_=String,
        )
        conditions.append(full.like(_like_pattern(name), escape="\\"))
    conditions += columns_equal(
        customer_table,
        customer_number=customer_number,
        personal_identity_code=personal_identity_code,
    )
    if metering_point_id is not None:
        conditions.append(
            _has_visible(_site, "Site", visible, _site.metering_point_id == metering_point_id)
        )
    if invoice_status is not None:
        conditions.append(
            _has_visible(_invoice, "Invoice", visible, _invoice.status == invoice_status)
        )
    if overdue is not None:
        is_overdue = _has_visible(
            _invoice,
            "Invoice",
            visible,
            or_(
                _invoice.status == "overdue",
                and_(_invoice.status == "open", _invoice.due_date < today),
            ),
        )
        conditions.append(flag_condition(is_overdue, overdue))
    return conditions
