"""Mutations of the sites domain: register a usage site and rectify its data, with history."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import insert, select
from strawberry.types import Info

from server.customers.models import Customer as CustomerRow
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.inputs import camel, given_fields
from server.graphql.loading import Row
from server.graphql.payloads import payload
from server.graphql.shaping import build_one
from server.operations.inputs import require_reason, text_input
from server.operations.writes import fetch_one, load_in_scope, require_write
from server.rights.history import request_of_customer, update_with_history, write_with_history
from server.rights.models import ChangeAction, ChangedType
from server.sites.models import Site as SiteRow
from server.sites.types import HeatingTypeEnum, HousingTypeEnum, OwnershipEnum, Site
from server.validators import (
    IdentifierError,
    validate_gsrn,
    validate_main_fuse,
    validate_postal_code,
)

site_table = SiteRow.__table__  # type: ignore[attr-defined]
customer_table = CustomerRow.__table__  # type: ignore[attr-defined]
CONTROL_FIELDS = ("site_id", "customer_id", "reason", "request_id")
MAX_ESTIMATE_KWH = 100_000_000

TEXT_LIMITS = {"street_address": 200, "post_office": 100, "connection_id": 40, "grid_operator": 200}
REQUIRED = frozenset(
    {
        "metering_point_id",
        "street_address",
        "postal_code",
        "post_office",
        "housing_type",
        "ownership",
        "heating_type",
        "heating_depends_on_electricity",
        "main_fuse",
        "connection_id",
        "grid_operator",
    }
)
IDENTIFIERS: dict[str, Callable[[str], str]] = {
    "metering_point_id": validate_gsrn,
    "postal_code": validate_postal_code,
    "main_fuse": validate_main_fuse,
}


def _opt(description: str) -> Any:
    return strawberry.field(default=strawberry.UNSET, description=description)


@strawberry.input(description="A new usage site of a customer.")
class CreateSiteInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer who holds the site.")
    metering_point_id: str = strawberry.field(description="18-digit metering point ID (GSRN).")
    street_address: str = strawberry.field(description="Street address of the site.")
    postal_code: str = strawberry.field(description="Postal code of the site.")
    post_office: str = strawberry.field(description="Post office of the site.")
    housing_type: HousingTypeEnum = strawberry.field(description="Type of the building.")  # type: ignore[valid-type]
    ownership: OwnershipEnum = strawberry.field(description="Owned or rented.")  # type: ignore[valid-type]
    heating_type: HeatingTypeEnum = strawberry.field(description="Main heating system.")  # type: ignore[valid-type]
    main_fuse: str = strawberry.field(description="Main fuse, e.g. 3x25A.")
    connection_id: str = strawberry.field(description="Identifier of the connection.")
    grid_operator: str = strawberry.field(description="Distribution system operator.")
    heating_depends_on_electricity: bool | None = _opt("Heating depends on electricity.")
    annual_consumption_estimate_kwh: int | None = _opt("Estimated consumption per year, kWh.")
    connection_power_kw: Decimal | None = _opt("Connection power, kW.")
    connected_on: date | None = _opt("When the connection was made.")
    reason: str | None = _opt("Why the site is registered.")


@strawberry.input(
    description="Rectification of a site's data: only the fields given change. A reason or "
    "a data-subject request is required."
)
class UpdateSiteInput:
    site_id: strawberry.ID = strawberry.field(description="The site to change.")
    metering_point_id: str | None = _opt("18-digit metering point ID (GSRN).")
    street_address: str | None = _opt("Street address of the site.")
    postal_code: str | None = _opt("Postal code of the site.")
    post_office: str | None = _opt("Post office of the site.")
    housing_type: HousingTypeEnum | None = _opt("Type of the building.")  # type: ignore[valid-type]
    ownership: OwnershipEnum | None = _opt("Owned or rented.")  # type: ignore[valid-type]
    heating_type: HeatingTypeEnum | None = _opt("Main heating system.")  # type: ignore[valid-type]
    heating_depends_on_electricity: bool | None = _opt("Heating depends on electricity.")
    annual_consumption_estimate_kwh: int | None = _opt("Estimated consumption per year, kWh.")
    main_fuse: str | None = _opt("Main fuse, e.g. 3x25A.")
    connection_id: str | None = _opt("Identifier of the connection.")
    grid_operator: str | None = _opt("Distribution system operator.")
    connection_power_kw: Decimal | None = _opt("Connection power, kW.")
    connected_on: date | None = _opt("When the connection was made.")
    reason: str | None = _opt("Why the data changes (free text).")
    request_id: strawberry.ID | None = _opt("The customer's rectification request it answers.")


@strawberry.type(description="A usage site after a change, and the history entry it left.")
class SitePayload:
    site: Site | None = strawberry.field(
        description="The site as your role may see it after the change."
    )
    change_id: strawberry.ID | None = strawberry.field(
        description="The entry in the holder's Customer.history (null when nothing changed)."
    )


def validate_site_values(values: Mapping[str, Any], *, prefix: str = "input") -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, raw in values.items():
        field = f"{prefix}.{camel(name)}"
        value = raw.value if hasattr(raw, "value") else raw
        if value is None and name in REQUIRED:
            raise UserInputError(f"{field} is required", field=field, reason="required")
        if name in IDENTIFIERS:
            try:
                clean[name] = IDENTIFIERS[name](value)
            except IdentifierError as exc:
                raise UserInputError(f"{field}: {exc}", field=field, reason=exc.reason) from None
        elif name in TEXT_LIMITS:
            clean[name] = text_input(
                value, field=field, max_length=TEXT_LIMITS[name], required=name in REQUIRED
            )
        elif name == "annual_consumption_estimate_kwh":
            if value is not None and not 0 <= value <= MAX_ESTIMATE_KWH:
                raise UserInputError(
                    f"{field} must be between 0 and {MAX_ESTIMATE_KWH}",
                    field=field,
                    reason="out of range",
                )
            clean[name] = value
        elif name == "connection_power_kw":
            if value is not None and not Decimal(0) < value < Decimal(100_000_000):
                raise UserInputError(
                    f"{field} must be positive", field=field, reason="out of range"
                )
            clean[name] = value.quantize(Decimal("0.01")) if value is not None else None
        else:
            clean[name] = value
    return clean


async def check_metering_point_free(
    ctx: RequestContext, gsrn: str | None, *, site_id: uuid.UUID | None
) -> None:
    if not gsrn:
        return
    statement = select(site_table.c.id).where(site_table.c.metering_point_id == gsrn)
    if site_id is not None:
        statement = statement.where(site_table.c.id != site_id)
    if await ctx.session.scalar(statement) is not None:
        raise UserInputError(
            "This metering point is already registered to another site",
            field="input.meteringPointId",
            reason="duplicate",
        )


async def create_site(
    *, ctx: RequestContext, customer_id: uuid.UUID, values: Mapping[str, Any], reason: str
) -> tuple[uuid.UUID, uuid.UUID | None]:
    site_id = uuid.uuid4()
    await ctx.session.execute(
        insert(site_table).values(id=site_id, customer_id=customer_id, **values)
    )
    change_id = await write_with_history(
        ctx,
        type_name="Site",
        object_type=ChangedType.SITE,
        customer_id=customer_id,
        object_id=site_id,
        action=ChangeAction.CREATE,
        old={},
        new=values,
        reason=reason,
    )
    return site_id, change_id


async def update_site(
    *,
    ctx: RequestContext,
    current: Row,
    values: Mapping[str, Any],
    reason: str | None,
    request_id: uuid.UUID | None,
) -> uuid.UUID | None:
    return await update_with_history(
        ctx,
        table=site_table,
        type_name="Site",
        object_type=ChangedType.SITE,
        current=current,
        customer_id=current["customer_id"],
        values=values,
        reason=reason,
        request_id=request_id,
    )


async def site_result(
    ctx: RequestContext, info: Info[RequestContext, Any], site_id: uuid.UUID
) -> Site | None:
    statement = select(site_table).where(site_table.c.id == site_id, ctx.access.rows("Site"))
    row = await fetch_one(ctx, statement)
    return build_one(Site, row, ctx, info, through=("site",))


def _id(value: uuid.UUID | None) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value else None


@strawberry.type(description="Usage site mutations.")
class SiteMutation:
    @strawberry.mutation(description="Register a usage site for a customer.")
    async def create_site(
        self, info: Info[RequestContext, Any], input: CreateSiteInput
    ) -> SitePayload:
        ctx = info.context
        sent = given_fields(input, exclude=CONTROL_FIELDS)
        require_write(ctx, "Site", sent)
        holder = await load_in_scope(
            ctx, customer_table, "Customer", input.customer_id, field="input.customerId", lock=False
        )
        values = validate_site_values(sent)
        values.setdefault("heating_depends_on_electricity", False)
        if values["heating_depends_on_electricity"] is None:
            values["heating_depends_on_electricity"] = False
        await check_metering_point_free(ctx, values["metering_point_id"], site_id=None)
        reason = input.reason if input.reason is not strawberry.UNSET else None
        reason = text_input(reason, field="input.reason", max_length=1000) or "site registered"
        site_id, change_id = await create_site(
            ctx=ctx, customer_id=holder["id"], values=values, reason=reason
        )
        return payload(
            SitePayload, ctx, site=await site_result(ctx, info, site_id), change_id=_id(change_id)
        )

    @strawberry.mutation(
        description="Rectify a site's data (housing, heating, fuse, consumption estimate, "
        "address, connection); previous values are kept in the holder's history."
    )
    async def update_site(
        self, info: Info[RequestContext, Any], input: UpdateSiteInput
    ) -> SitePayload:
        ctx = info.context
        sent = given_fields(input, exclude=CONTROL_FIELDS)
        require_write(ctx, "Site", sent)
        if not sent:
            raise UserInputError("Nothing to change", field="input", reason="no fields given")
        request_given = input.request_id if input.request_id is not strawberry.UNSET else None
        reason_given = input.reason if input.reason is not strawberry.UNSET else None
        require_reason(reason_given, request_given)
        current = await load_in_scope(ctx, site_table, "Site", input.site_id, field="input.siteId")
        values = validate_site_values(sent)
        if "metering_point_id" in values:
            await check_metering_point_free(ctx, values["metering_point_id"], site_id=current["id"])
        request_id = await request_of_customer(
            ctx.session, request_given, current["customer_id"], field="input.requestId"
        )
        change_id = await update_site(
            ctx=ctx,
            current=current,
            values=values,
            reason=reason_given.strip() if reason_given else None,
            request_id=request_id,
        )
        return payload(
            SitePayload,
            ctx,
            site=await site_result(ctx, info, current["id"]),
            change_id=_id(change_id),
        )
