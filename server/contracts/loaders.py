"""Batched reads of contracts, products, prices and offers."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement

from server.contracts.models import Contract, Offer, Price, Product
from server.db.tables import table_of
from server.graphql.connections import ListFilter, NestedList
from server.graphql.context import RequestContext
from server.graphql.loading import RowLoader, rows_by_id
from server.graphql.relay import ID_KEY, FilterValue, SortKey, Visible, columns_equal

contract_table = table_of(Contract)
product_table = table_of(Product)
price_table = table_of(Price)
offer_table = table_of(Offer)


def products_by_id(ctx: RequestContext) -> RowLoader:
    return rows_by_id(ctx, product_table, None)


CONTRACT_LIST_FILTER = ListFilter(
    {"status": "Contract.status"},
    lambda visible, **values: contract_filter_conditions(visible, **values),
)
# Newest first.
NEWEST_CONTRACTS = (SortKey("start_date", descending=True), SortKey("id", descending=True))
CONTRACTS_OF_CUSTOMER = NestedList(
    "contracts_of_customer",
    contract_table,
    contract_table.c.customer_id,
    NEWEST_CONTRACTS,
    "Contract",
    filter=CONTRACT_LIST_FILTER,
)
CONTRACTS_OF_SITE = NestedList(
    "contracts_of_site",
    contract_table,
    contract_table.c.site_id,
    NEWEST_CONTRACTS,
    "Contract",
    filter=CONTRACT_LIST_FILTER,
)
PRICES_OF_PRODUCT = NestedList(
    "prices_of_product", price_table, price_table.c.product_id, (SortKey("valid_from"), ID_KEY)
)


def product_filter_conditions(
    visible: Visible, *, kind: FilterValue[str] = None
) -> list[ColumnElement[bool]]:
    """SQL conditions for the product filters (values or bind parameters; None: not given)."""
    return columns_equal(product_table, kind=kind)


def offer_filter_conditions(
    visible: Visible,
    *,
    status: FilterValue[str] = None,
    customer_id: FilterValue[uuid.UUID] = None,
) -> list[ColumnElement[bool]]:
    """SQL conditions for the offer filters (values or bind parameters; None: not given);
    they test only the offer's own columns."""
    return columns_equal(offer_table, status=status, customer_id=customer_id)


def contract_filter_conditions(
    visible: Visible,
    *,
    status: FilterValue[str] = None,
    customer_id: FilterValue[uuid.UUID] = None,
) -> list[ColumnElement[bool]]:
    """SQL conditions for the contract filters (values or bind parameters; None: not
    given); they test only the contract's own columns."""
    return columns_equal(contract_table, status=status, customer_id=customer_id)


def contracts_by_id(ctx: RequestContext) -> RowLoader:
    return rows_by_id(ctx, contract_table, "Contract")
