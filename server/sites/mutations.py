"""Mutations of the sites domain: register a usage site and rectify its data, with history.

The rules are in server/sites/service.py; a resolver reads its input, calls the service and
shapes the row it returns.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from server.graphql.inputs import optional
from server.graphql.mutation import change
from server.sites import service
from server.sites.models import HeatingType, HousingType, Ownership
from server.sites.types import Site


@strawberry.input(description="A new usage site of a customer.")
class CreateSiteInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer who holds the site.")
    metering_point_id: str = strawberry.field(description="18-digit metering point ID (GSRN).")
    street_address: str = strawberry.field(description="Street address of the site.")
    postal_code: str = strawberry.field(description="Postal code of the site.")
    post_office: str = strawberry.field(description="Post office of the site.")
    housing_type: HousingType = strawberry.field(description="Type of the building.")
    ownership: Ownership = strawberry.field(description="Owned or rented.")
    heating_type: HeatingType = strawberry.field(description="Main heating system.")
    main_fuse: str = strawberry.field(description="Main fuse, e.g. 3x25A.")
    connection_id: str = strawberry.field(description="Identifier of the connection.")
    grid_operator: str = strawberry.field(description="Distribution system operator.")
    heating_depends_on_electricity: bool | None = optional("Heating depends on electricity.")
    annual_consumption_estimate_kwh: int | None = optional("Estimated consumption per year, kWh.")
    connection_power_kw: Decimal | None = optional("Connection power, kW.")
    connected_on: date | None = optional("When the connection was made.")
    reason: str | None = optional("Why the site is registered.")


@strawberry.input(
    description="Rectification of a site's data: only the fields given change. A reason or "
    "a data-subject request is required."
)
class UpdateSiteInput:
    site_id: strawberry.ID = strawberry.field(description="The site to change.")
    metering_point_id: str | None = optional("18-digit metering point ID (GSRN).")
    street_address: str | None = optional("Street address of the site.")
    postal_code: str | None = optional("Postal code of the site.")
    post_office: str | None = optional("Post office of the site.")
    housing_type: HousingType | None = optional("Type of the building.")
    ownership: Ownership | None = optional("Owned or rented.")
    heating_type: HeatingType | None = optional("Main heating system.")
    heating_depends_on_electricity: bool | None = optional("Heating depends on electricity.")
    annual_consumption_estimate_kwh: int | None = optional("Estimated consumption per year, kWh.")
    main_fuse: str | None = optional("Main fuse, e.g. 3x25A.")
    connection_id: str | None = optional("Identifier of the connection.")
    grid_operator: str | None = optional("Distribution system operator.")
    connection_power_kw: Decimal | None = optional("Connection power, kW.")
    connected_on: date | None = optional("When the connection was made.")
    reason: str | None = optional("Why the data changes (free text).")
    request_id: strawberry.ID | None = optional("The customer's rectification request it answers.")


@strawberry.type(description="A usage site after a change, and the history entry it left.")
class SitePayload:
    site: Site | None = strawberry.field(
        description="The site as your role may see it after the change."
    )
    change_id: strawberry.ID | None = strawberry.field(
        description="The entry in the holder's Customer.history (null when nothing changed)."
    )


@strawberry.type(description="Usage site mutations.")
class SiteMutation:
    create_site = change(service.create_site, CreateSiteInput, SitePayload)
    update_site = change(service.update_site, UpdateSiteInput, SitePayload)
