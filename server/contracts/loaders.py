"""Batched reads of contracts, products, prices and offers."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from server.contracts.models import Contract, Offer, Price, Product
from server.graphql.context import RequestContext
from server.graphql.loading import by_id_loader, children_loader
from server.graphql.relay import FilterValue, Visible

contract_table = Contract.__table__  # type: ignore[attr-defined]
product_table = Product.__table__  # type: ignore[attr-defined]
price_table = Price.__table__  # type: ignore[attr-defined]
offer_table = Offer.__table__  # type: ignore[attr-defined]


def _newest_first(statement: Select[Any]) -> Select[Any]:
    return statement.order_by(contract_table.c.start_date.desc(), contract_table.c.id)


def contracts_by_customer(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return _newest_first(
            select(contract_table).where(
                contract_table.c.customer_id.in_(ids), ctx.access.rows("Contract")
            )
        )

    return children_loader(ctx, "contracts_by_customer", statement, "customer_id")


def contracts_by_site(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return _newest_first(
            select(contract_table).where(
                contract_table.c.site_id.in_(ids), ctx.access.rows("Contract")
            )
        )

    return children_loader(ctx, "contracts_by_site", statement, "site_id")


def products_by_id(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return select(product_table).where(product_table.c.id.in_(ids))

    return by_id_loader(ctx, "product_by_id", statement)


def prices_by_product(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return (
            select(price_table)
            .where(price_table.c.product_id.in_(ids))
            .order_by(price_table.c.product_id, price_table.c.valid_from, price_table.c.id)
        )

    return children_loader(ctx, "prices_by_product", statement, "product_id")


def offers_by_customer(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return (
            select(offer_table)
            .where(offer_table.c.customer_id.in_(ids))
            .order_by(offer_table.c.created_at.desc())
        )

    return children_loader(ctx, "offers_by_customer", statement, "customer_id")


def contract_filter_conditions(
    visible: Visible,
    *,
    status: FilterValue[str] = None,
    customer_id: FilterValue[uuid.UUID] = None,
) -> list[ColumnElement[bool]]:
    """SQL conditions for the contract filters (values or bind parameters; None: not
    given); they test only the contract's own columns."""
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(contract_table.c.status == status)
    if customer_id is not None:
        conditions.append(contract_table.c.customer_id == customer_id)
    return conditions


def contracts_by_id(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return select(contract_table).where(
            contract_table.c.id.in_(ids), ctx.access.rows("Contract")
        )

    return by_id_loader(ctx, "contract_by_id", statement)
