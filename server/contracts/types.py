"""GraphQL types of the contracts domain: products, prices, offers and contracts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from server.contracts.models import ContractStatus, OfferStatus, ProductKind, SalesChannel
from server.graphql.connections import related_connection
from server.graphql.context import RequestContext
from server.graphql.fields import data, graphql_enum
from server.graphql.globalid import Node
from server.graphql.inputs import filter_field
from server.graphql.relay import After, Connection, FilterBy, First
from server.graphql.shaping import related_one

if TYPE_CHECKING:
    from server.billing.types import Invoice, InvoiceListFilter
    from server.sites.types import Site

graphql_enum(ProductKind, description="Fixed price, spot or hybrid.")
graphql_enum(ContractStatus, description="State of a contract.")
graphql_enum(OfferStatus, description="State of an offer.")
graphql_enum(SalesChannel, description="Where the contract was sold (phone is distance selling).")


@strawberry.input(description="Filters of a customer's or a site's contracts.")
class ContractListFilter:
    status: ContractStatus | None = filter_field("Only contracts in this state.")


@strawberry.type(description="A product's prices for one period; VAT is stored with its dates.")
class Price(Node):
    energy_price_c_per_kwh: Decimal | None = data("Energy price, c/kWh (fixed products).")
    spot_margin_c_per_kwh: Decimal | None = data("Margin on the spot price, c/kWh.")
    basic_fee_eur_per_month: Decimal | None = data("Basic fee, EUR per month.")
    vat_rate: Decimal | None = data("VAT rate in per cent.")
    valid_from: date | None = data("First day the price applies.")
    valid_to: date | None = data("Last day the price applies (null: until further notice).")


@strawberry.type(description="An electricity product on sale.")
class Product(Node):
    code: str | None = data("Short product code.")
    name: str | None = data("Product name.")
    kind: ProductKind | None = data("Fixed price, spot or hybrid.")
    fixed_term_months: int | None = data("Length of a fixed term in months (null: open-ended).")
    description: str | None = data("Description for customers.")

    @strawberry.field(description="The product's price periods, oldest first.")
    async def prices(
        self, info: Info[RequestContext, Any], first: First = None, after: After = None
    ) -> Connection[Price] | None:
        from server.contracts.loaders import PRICES_OF_PRODUCT

        return await related_connection(
            info, PRICES_OF_PRODUCT, Price, self.id, first=first, after=after, subject=None
        )


@strawberry.type(description="An offer made to a customer or a prospect.")
class Offer(Node):
    customer_id: strawberry.Private[uuid.UUID | None]
    product_id: strawberry.Private[uuid.UUID]
    energy_price_c_per_kwh: Decimal | None = data("Offered energy price, c/kWh.")
    spot_margin_c_per_kwh: Decimal | None = data("Offered spot margin, c/kWh.")
    basic_fee_eur_per_month: Decimal | None = data("Offered basic fee, EUR per month.")
    valid_until: date | None = data("Last day the offer can be accepted.")
    status: OfferStatus | None = data("Open, accepted, expired or withdrawn.")
    created_at: datetime | None = data("When the offer was made.")

    @strawberry.field(description="The offered product.")
    async def product(self, info: Info[RequestContext, Any]) -> Product | None:
        from server.contracts.loaders import products_by_id

        return await related_one(info, products_by_id, Product, self.product_id, subject=None)


@strawberry.type(description="A sales contract for one usage site.")
class Contract(Node):
    customer_id: strawberry.Private[uuid.UUID]
    site_id: strawberry.Private[uuid.UUID]
    product_id: strawberry.Private[uuid.UUID]
    contract_number: int | None = data("Contract number.")
    energy_price_c_per_kwh: Decimal | None = data("Agreed energy price, c/kWh.")
    spot_margin_c_per_kwh: Decimal | None = data("Agreed margin on the spot price, c/kWh.")
    basic_fee_eur_per_month: Decimal | None = data("Agreed basic fee, EUR per month.")
    start_date: date | None = data("First day of delivery.")
    end_date: date | None = data("Last day of delivery (null: open-ended).")
    status: ContractStatus | None = data("State of the contract.")
    sales_channel: SalesChannel | None = data("Where it was sold.")
    created_at: datetime | None = data("When the contract was registered.")

    @strawberry.field(description="The product sold.")
    async def product(self, info: Info[RequestContext, Any]) -> Product | None:
        from server.contracts.loaders import products_by_id

        return await related_one(info, products_by_id, Product, self.product_id, subject=None)

    @strawberry.field(description="The usage site supplied.")
    async def site(
        self, info: Info[RequestContext, Any]
    ) -> Annotated[Site, strawberry.lazy("server.sites.types")] | None:
        from server.sites.loaders import sites_by_id
        from server.sites.types import Site

        return await related_one(info, sites_by_id, Site, self.site_id)

    @strawberry.field(description="Invoices under this contract, newest first.")
    async def invoices(
        self,
        info: Info[RequestContext, Any],
        first: First = None,
        after: After = None,
        filter: FilterBy[
            Annotated[InvoiceListFilter, strawberry.lazy("server.billing.types")]
        ] = None,
    ) -> Connection[Annotated[Invoice, strawberry.lazy("server.billing.types")]] | None:
        from server.billing.loaders import INVOICES_OF_CONTRACT
        from server.billing.types import Invoice

        return await related_connection(
            info, INVOICES_OF_CONTRACT, Invoice, self.id, first=first, after=after, filter=filter
        )
