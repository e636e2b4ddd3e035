"""Root query fields of the contracts domain."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

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
from server.graphql.connections import checked_order, root_connection
from server.graphql.context import RequestContext
from server.graphql.guards import checked_filter, filter_id, open_page, require_readable_for_filter
from server.graphql.ordering import OrderBy, OrderInput, Sortable, SortField
from server.graphql.relay import After, Before, Connection, FilterBy, First, Last, SortKey


@strawberry.input(description="Filters for the contract list.")
class ContractFilter:
    status: ContractStatus | None = strawberry.field(
        default=None, description="Only contracts in this state."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this customer's contracts."
    )


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


class ContractOrder(OrderInput, sortable=CONTRACT_ORDER):
    pass


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


class ProductOrder(OrderInput, sortable=PRODUCT_ORDER):
    pass


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


class OfferOrder(OrderInput, sortable=OFFER_ORDER):
    pass


OFFER_FILTER_COORDINATES = {"status": "Offer.status"}


@strawberry.input(description="Filters for the product list.")
class ProductFilter:
    kind: ProductKind | None = strawberry.field(
        default=None, description="Only products of this kind."
    )


@strawberry.input(description="Filters for the offer list.")
class OfferFilter:
    status: OfferStatus | None = strawberry.field(
        default=None, description="Only offers in this state."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only offers to this customer."
    )


@strawberry.type(description="Product and offer queries.")
class CatalogueQuery:
    @strawberry.field(description="Products on sale with their prices, in code order.")
    async def products(
        self,
        info: Info[RequestContext, Any],
        first: First = None,
        after: After = None,
        filter: FilterBy[ProductFilter] = None,
        last: Last = None,
        before: Before = None,
        order_by: OrderBy[ProductOrder] = None,
    ) -> Connection[Product]:
        ctx = info.context
        page = open_page(ctx, first, after, last=last, before=before, type_name="Product")
        if page is None:
            return Connection.empty()
        values = checked_filter(ctx, filter, {"kind": "Product.kind"})
        terms = checked_order(ctx, PRODUCT_ORDER, order_by)
        conditions = product_filter_conditions(ctx.access.rows, **values)
        return await root_connection(
            info, Product, PRODUCT_ORDER, page, terms=terms, conditions=conditions, subject=None
        )

    @strawberry.field(
        description="Offers made to customers and prospects, newest first unless `orderBy` "
        "says else."
    )
    async def offers(
        self,
        info: Info[RequestContext, Any],
        first: First = None,
        after: After = None,
        filter: FilterBy[OfferFilter] = None,
        last: Last = None,
        before: Before = None,
        order_by: OrderBy[OfferOrder] = None,
    ) -> Connection[Offer]:
        ctx = info.context
        page = open_page(ctx, first, after, last=last, before=before, type_name="Offer")
        if page is None:
            return Connection.empty()
        values = checked_filter(ctx, filter, OFFER_FILTER_COORDINATES)
        customer = filter_id(filter.customer_id if filter else None, "Customer")
        if customer.matches_nothing:
            return Connection.empty()
        terms = checked_order(ctx, OFFER_ORDER, order_by)
        conditions = offer_filter_conditions(ctx.access.rows, customer_id=customer.key, **values)
        return await root_connection(
            info,
            Offer,
            OFFER_ORDER,
            page,
            terms=terms,
            conditions=conditions,
            subject="customer_id",
            prospect="prospect_id",
        )


@strawberry.type(description="Contract queries.")
class ContractQuery:
    @strawberry.field(description="Contracts, in contract-number order unless `orderBy` says else.")
    async def contracts(
        self,
        info: Info[RequestContext, Any],
        first: First = None,
        after: After = None,
        filter: FilterBy[ContractFilter] = None,
        last: Last = None,
        before: Before = None,
        order_by: OrderBy[ContractOrder] = None,
    ) -> Connection[Contract]:
        ctx = info.context
        page = open_page(ctx, first, after, last=last, before=before, type_name="Contract")
        if page is None:
            return Connection.empty()
        status = filter.status.value if filter and filter.status else None
        if status:
            require_readable_for_filter(ctx, "Contract.status", "filter.status")
        customer = filter_id(filter.customer_id if filter else None, "Customer")
        if customer.matches_nothing:
            return Connection.empty()
        terms = checked_order(ctx, CONTRACT_ORDER, order_by)
        conditions = contract_filter_conditions(
            ctx.access.rows, status=status, customer_id=customer.key
        )
        return await root_connection(
            info, Contract, CONTRACT_ORDER, page, terms=terms, conditions=conditions
        )
