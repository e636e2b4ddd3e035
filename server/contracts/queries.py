"""Root query fields of the contracts domain."""

from __future__ import annotations

import strawberry

from server.contracts.loaders import (
    contract_filter_conditions,
    contract_table,
    offer_filter_conditions,
    offer_table,
    product_filter_conditions,
    product_table,
)
from server.contracts.models import ContractStatus, OfferStatus, ProductKind
from server.contracts.types import Contract, Offer, Product
from server.graphql.connections import RootPage, root_connection, root_connection_field
from server.graphql.guards import checked_filter, filter_id, require_readable_for_filter
from server.graphql.inputs import filter_field
from server.graphql.ordering import Sortable, SortField
from server.graphql.relay import Connection, SortKey


@strawberry.input(description="Filters for the contract list.")
class ContractFilter:
    status: ContractStatus | None = filter_field("Only contracts in this state.")
    customer_id: strawberry.ID | None = filter_field("Only this customer's contracts.")


CONTRACT_ORDER = Sortable(
    "Contract",
    contract_table,
    {
        "CONTRACT_NUMBER": SortField(
            "contract_number", "Contract.contractNumber", "Contract number (the default)."
        ),
        "START_DATE": SortField("start_date", "Contract.startDate", "First day of delivery."),
        "END_DATE": SortField("end_date", "Contract.endDate", "Last day of delivery."),
        "STATUS": SortField("status", "Contract.status", "State of the contract."),
        "CREATED_AT": SortField("created_at", "Contract.createdAt", "When registered."),
    },
    (SortKey("contract_number"),),
)


PRODUCT_ORDER = Sortable(
    "Product",
    product_table,
    {
        "CODE": SortField("code", "Product.code", "Product code (the default)."),
        "NAME": SortField("name", "Product.name", "Product name."),
        "KIND": SortField("kind", "Product.kind", "Fixed price, spot or hybrid."),
    },
    (SortKey("code"),),
)


OFFER_ORDER = Sortable(
    "Offer",
    offer_table,
    {
        "CREATED_AT": SortField("created_at", "Offer.createdAt", "When made (the default: DESC)."),
        "VALID_UNTIL": SortField("valid_until", "Offer.validUntil", "Last day to accept."),
        "STATUS": SortField("status", "Offer.status", "State of the offer."),
    },
    (SortKey("created_at", descending=True), SortKey("id", descending=True)),
)


OFFER_FILTER_COORDINATES = {"status": "Offer.status"}


@strawberry.input(description="Filters for the product list.")
class ProductFilter:
    kind: ProductKind | None = filter_field("Only products of this kind.")


@strawberry.input(description="Filters for the offer list.")
class OfferFilter:
    status: OfferStatus | None = filter_field("Only offers in this state.")
    customer_id: strawberry.ID | None = filter_field("Only offers to this customer.")


async def products_page(asked: RootPage[ProductFilter]) -> Connection[Product]:
    """Products on sale with their prices, in code order."""
    ctx = asked.context
    values = checked_filter(ctx, asked.filter, {"kind": "Product.kind"})
    conditions = product_filter_conditions(ctx.access.rows, **values)
    return await root_connection(asked, Product, PRODUCT_ORDER, conditions=conditions, subject=None)


async def offers_page(asked: RootPage[OfferFilter]) -> Connection[Offer]:
    """Offers made to customers and prospects, newest first unless `orderBy` says else."""
    ctx = asked.context
    values = checked_filter(ctx, asked.filter, OFFER_FILTER_COORDINATES)
    customer = filter_id(asked.filter.customer_id if asked.filter else None, "Customer")
    if customer.matches_nothing:
        return Connection.empty()
    conditions = offer_filter_conditions(ctx.access.rows, customer_id=customer.key, **values)
    return await root_connection(
        asked,
        Offer,
        OFFER_ORDER,
        conditions=conditions,
        subject="customer_id",
        prospect="prospect_id",
    )


async def contracts_page(asked: RootPage[ContractFilter]) -> Connection[Contract]:
    """Contracts, in contract-number order unless `orderBy` says else."""
    ctx = asked.context
    chosen = asked.filter
    status = chosen.status.value if chosen and chosen.status else None
    if status:
        require_readable_for_filter(ctx, "Contract.status", "filter.status")
    customer = filter_id(chosen.customer_id if chosen else None, "Customer")
    if customer.matches_nothing:
        return Connection.empty()
    conditions = contract_filter_conditions(
        ctx.access.rows, status=status, customer_id=customer.key
    )
    return await root_connection(asked, Contract, CONTRACT_ORDER, conditions=conditions)


@strawberry.type(description="Product and offer queries.")
class CatalogueQuery:
    products = root_connection_field(Product, PRODUCT_ORDER, products_page, filter=ProductFilter)
    offers = root_connection_field(Offer, OFFER_ORDER, offers_page, filter=OfferFilter)


@strawberry.type(description="Contract queries.")
class ContractQuery:
    contracts = root_connection_field(
        Contract, CONTRACT_ORDER, contracts_page, filter=ContractFilter
    )
