"""GraphQL types of the sites domain: usage sites and consumption."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from server.customers.relation import customer_field
from server.graphql.connections import related_connection
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.fields import data, graphql_enum, personal
from server.graphql.globalid import Node
from server.graphql.inputs import filter_field
from server.graphql.relay import After, Connection, FilterBy, First
from server.graphql.shaping import build, relation_allowed
from server.sites.consumption import check_consumption_window
from server.sites.models import HeatingType, HousingType, Ownership

if TYPE_CHECKING:
    from server.contracts.types import Contract, ContractListFilter

graphql_enum(HousingType, description="Type of the building.")
graphql_enum(Ownership, description="Whether the holder owns or rents.")
graphql_enum(HeatingType, description="Main heating system.")

MAX_CONSUMPTION_POINTS = 40_000


@strawberry.enum(description="Time step of aggregated consumption.")
class ConsumptionResolution(Enum):
    QUARTER_HOUR = "QUARTER_HOUR"
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"


_STEP = {
    "QUARTER_HOUR": timedelta(minutes=15),
    "HOUR": timedelta(hours=1),
    "DAY": timedelta(days=1),
    "MONTH": timedelta(days=28),
}


@strawberry.type(description="Energy used in one time step (summed in the database).")
class ConsumptionPoint:
    id: strawberry.ID = strawberry.field(description="Site and start of the step.")
    period_start: datetime | None = data("Start of the step (UTC).")
    energy_kwh: Decimal | None = data("Energy in kWh in this step.")
    values_count: int | None = data("How many metered values were summed.")
    all_measured: bool | None = data("True when every summed value was measured.")
    any_estimated: bool | None = data("True when some summed value was estimated.")


@strawberry.type(description="A usage site (käyttöpaikka): where electricity is used and metered.")
class Site(Node):
    customer_id: strawberry.Private[uuid.UUID]
    metering_point_id: str | None = personal("18-digit metering point ID (GSRN) from Datahub.")
    street_address: str | None = personal("Street address of the site.")
    postal_code: str | None = personal("Postal code of the site.")
    post_office: str | None = personal("Post office (town) of the site.")
    housing_type: HousingType | None = data("Type of the building.")
    ownership: Ownership | None = data("Owned or rented.")
    heating_type: HeatingType | None = data("Main heating system.")
    heating_depends_on_electricity: bool | None = data(
        "Whether heating depends on electricity (protects from winter disconnection)."
    )
    annual_consumption_estimate_kwh: int | None = data("Estimated consumption per year, kWh.")
    main_fuse: str | None = data("Size of the main fuse, e.g. 3x25A.")
    connection_id: str | None = data("Identifier of the electricity connection.")
    grid_operator: str | None = data("Distribution system operator of the connection.")
    connection_power_kw: Decimal | None = data("Connection power, kW.")
    connected_on: date | None = data("When the connection was made.")
    created_at: datetime | None = data("When the site was registered.")
    updated_at: datetime | None = data("When the site's data last changed.")

    customer = customer_field("The customer who holds the site.")

    @strawberry.field(description="Contracts for this site, newest first.")
    async def contracts(
        self,
        info: Info[RequestContext, Any],
        first: First = None,
        after: After = None,
        filter: FilterBy[
            Annotated[ContractListFilter, strawberry.lazy("server.contracts.types")]
        ] = None,
    ) -> Connection[Annotated[Contract, strawberry.lazy("server.contracts.types")]] | None:
        from server.contracts.loaders import CONTRACTS_OF_SITE
        from server.contracts.types import Contract

        return await related_connection(
            info, CONTRACTS_OF_SITE, Contract, self.id, first=first, after=after, filter=filter
        )

    @strawberry.field(description="Consumption summed per time step over [from, to).")
    async def consumption(
        self,
        info: Info[RequestContext, Any],
        from_: Annotated[
            datetime, strawberry.argument(name="from", description="Start (inclusive).")
        ],
        to: Annotated[datetime, strawberry.argument(description="End (exclusive).")],
        resolution: Annotated[
            ConsumptionResolution, strawberry.argument(description="Time step of the result.")
        ] = ConsumptionResolution.DAY,
    ) -> list[ConsumptionPoint] | None:
        from server.sites.loaders import ConsumptionKey, consumption_loader

        ctx = info.context
        if not relation_allowed(ctx, "Site", "consumption"):
            ctx.collector.denied_coordinates.add("Site.consumption")
            return None
        start, end = _aware(from_), _aware(to)
        check_consumption_window(start=start, end=end, resolution=resolution.value)
        if (end - start) / _STEP[resolution.value] > MAX_CONSUMPTION_POINTS:
            raise UserInputError(
                f"at most {MAX_CONSUMPTION_POINTS} points per site; use a coarser resolution",
                field="resolution",
                reason="too many points",
            )
        key = ConsumptionKey(uuid.UUID(str(self.id)), start, end, resolution.value)
        rows = await consumption_loader(ctx).load(key)
        shaped = [
            {
                **row,
                "id": f"{self.id}:{row['period_start'].isoformat()}",
                "customer_id": self.customer_id,
            }
            for row in rows
        ]
        return build(ConsumptionPoint, shaped, ctx, info)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@strawberry.input(description="Filters for the site list.")
class SiteFilter:
    metering_point_id: str | None = filter_field("Exact 18-digit metering point ID (GSRN).")
