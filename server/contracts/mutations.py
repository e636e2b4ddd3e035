"""Mutations of the contracts domain: make an offer, accept it into a contract, terminate."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import and_, false, insert, or_, select, true, update
from strawberry.types import Info

from server.contracts.models import Contract as ContractRow
from server.contracts.models import ContractStatus, OfferStatus, ProductKind
from server.contracts.models import Offer as OfferRow
from server.contracts.models import Product as ProductRow
from server.contracts.types import Contract, Offer, SalesChannelEnum
from server.customers.models import Customer as CustomerRow
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.payloads import payload
from server.graphql.shaping import build_one
from server.operations.inputs import enum_value, not_found, parse_uuid, text_input
from server.operations.writes import (
    fetch_one,
    load_in_scope,
    record_write,
    require_rows,
    require_write,
)
from server.prospects.models import Prospect as ProspectRow
from server.sites.models import Site as SiteRow

offer_table = OfferRow.__table__  # type: ignore[attr-defined]
contract_table = ContractRow.__table__  # type: ignore[attr-defined]
product_table = ProductRow.__table__  # type: ignore[attr-defined]
customer_table = CustomerRow.__table__  # type: ignore[attr-defined]
site_table = SiteRow.__table__  # type: ignore[attr-defined]
prospect_table = ProspectRow.__table__  # type: ignore[attr-defined]
IN_FORCE = (ContractStatus.PENDING.value, ContractStatus.ACTIVE.value)
MAX_PRICE = Decimal(1000)


def _opt(description: str) -> Any:
    return strawberry.field(default=strawberry.UNSET, description=description)


def _value(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


@strawberry.input(description="An offer to a customer (or a prospect) for one product.")
class CreateOfferInput:
    product_id: strawberry.ID = strawberry.field(description="The product offered.")
    basic_fee_eur_per_month: Decimal = strawberry.field(description="Basic fee, EUR/month.")
    valid_until: date = strawberry.field(description="Last day the offer can be accepted.")
    customer_id: strawberry.ID | None = _opt("The customer (give this or prospectId).")
    prospect_id: strawberry.ID | None = _opt("The prospect (give this or customerId).")
    site_id: strawberry.ID | None = _opt("The customer's site the offer is for.")
    energy_price_c_per_kwh: Decimal | None = _opt("Energy price, c/kWh (fixed, hybrid).")
    spot_margin_c_per_kwh: Decimal | None = _opt("Margin on the spot price, c/kWh (spot).")


@strawberry.input(description="Acceptance of an open offer: it becomes a contract.")
class AcceptOfferInput:
    offer_id: strawberry.ID = strawberry.field(description="The offer accepted.")
    start_date: date = strawberry.field(description="First day of delivery.")
    sales_channel: SalesChannelEnum = strawberry.field(description="Where it was sold.")  # type: ignore[valid-type]
    site_id: strawberry.ID | None = _opt("The site supplied, if the offer names none.")


@strawberry.input(description="Termination of a contract on an end date.")
class TerminateContractInput:
    contract_id: strawberry.ID = strawberry.field(description="The contract terminated.")
    end_date: date = strawberry.field(description="Last day of delivery.")
    reason: str | None = _opt("Why the contract ends (moving, switching supplier...).")


@strawberry.type(description="An offer after it was made.")
class OfferPayload:
    offer: Offer | None = strawberry.field(description="The offer as your role may see it.")


@strawberry.type(description="A contract after it was made or changed.")
class ContractPayload:
    contract: Contract | None = strawberry.field(
        description="The contract as your role may see it."
    )
    offer: Offer | None = strawberry.field(description="The offer it was made from, if any.")


def _price(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if not Decimal(0) <= value < MAX_PRICE:
        raise UserInputError(
            f"{field} must be between 0 and {MAX_PRICE}", field=field, reason="out of range"
        )
    return value


def check_prices(kind: str, energy: Decimal | None, margin: Decimal | None) -> None:
    if kind in (ProductKind.FIXED.value, ProductKind.HYBRID.value) and energy is None:
        raise UserInputError(
            "This product needs an energy price",
            field="input.energyPriceCPerKwh",
            reason="required",
        )
    if kind in (ProductKind.SPOT.value, ProductKind.HYBRID.value) and margin is None:
        raise UserInputError(
            "This product needs a spot margin", field="input.spotMarginCPerKwh", reason="required"
        )


async def _offer_result(
    ctx: RequestContext, info: Info[RequestContext, Any], offer_id: uuid.UUID
) -> Offer | None:
    row = await fetch_one(ctx, select(offer_table).where(offer_table.c.id == offer_id))
    return build_one(Offer, row, ctx, info, through=("offer",))


async def _contract_result(
    ctx: RequestContext, info: Info[RequestContext, Any], contract_id: uuid.UUID
) -> Contract | None:
    statement = select(contract_table).where(
        contract_table.c.id == contract_id, ctx.access.rows("Contract")
    )
    row = await fetch_one(ctx, statement)
    return build_one(Contract, row, ctx, info, through=("contract",))


async def _site_of_customer(
    ctx: RequestContext, value: Any, customer_id: uuid.UUID, *, field: str
) -> uuid.UUID:
    site = await load_in_scope(ctx, site_table, "Site", value, field=field, lock=False)
    if site["customer_id"] != customer_id:
        raise UserInputError(
            f"{field}: the site is not the customer's", field=field, reason="other customer"
        )
    site_id: uuid.UUID = site["id"]
    return site_id


def _visible_customer_ids(ctx: RequestContext) -> Any:
    return select(customer_table.c.id).where(ctx.access.rows("Customer"))


async def create_offer(*, ctx: RequestContext, values: dict[str, Any]) -> uuid.UUID:
    offer_id = uuid.uuid4()
    await ctx.session.execute(
        insert(offer_table).values(id=offer_id, status=OfferStatus.OPEN.value, **values)
    )
    record_write(
        ctx,
        "Offer",
        offer_id,
        customer_id=values.get("customer_id"),
        prospect_id=values.get("prospect_id"),
        fields=[k for k in values if not k.endswith("_id")],
    )
    return offer_id


async def accept_offer(
    *,
    ctx: RequestContext,
    offer: Any,
    site_id: uuid.UUID,
    start_date: date,
    sales_channel: str,
) -> uuid.UUID:
    """The contract from an offer; the customer is no longer a former customer."""
    contract_id = uuid.uuid4()
    status = ContractStatus.ACTIVE if start_date <= ctx.access.today else ContractStatus.PENDING
    values = {
        "customer_id": offer["customer_id"],
        "site_id": site_id,
        "product_id": offer["product_id"],
        "offer_id": offer["id"],
        "energy_price_c_per_kwh": offer["energy_price_c_per_kwh"],
        "spot_margin_c_per_kwh": offer["spot_margin_c_per_kwh"],
        "basic_fee_eur_per_month": offer["basic_fee_eur_per_month"],
        "start_date": start_date,
        "status": status.value,
        "sales_channel": sales_channel,
    }
    await ctx.session.execute(insert(contract_table).values(id=contract_id, **values))
    await ctx.session.execute(
        update(offer_table)
        .where(offer_table.c.id == offer["id"])
        .values(status=OfferStatus.ACCEPTED.value)
    )
    await ctx.session.execute(
        update(customer_table)
        .where(customer_table.c.id == offer["customer_id"])
        .values(former_customer_since=None)
    )
    customer_id = offer["customer_id"]
    record_write(ctx, "Offer", offer["id"], customer_id=customer_id, fields=["status"])
    record_write(
        ctx,
        "Contract",
        contract_id,
        customer_id=customer_id,
        fields=["startDate", "salesChannel", "status", "product", "site"],
    )
    return contract_id


async def terminate_contract(*, ctx: RequestContext, contract: Any, end_date: date) -> None:
    """Terminate on `end_date`; with no other contract in force, the customer becomes a
    former customer from the next day (retention starts counting from then)."""
    await ctx.session.execute(
        update(contract_table)
        .where(contract_table.c.id == contract["id"])
        .values(end_date=end_date, status=ContractStatus.TERMINATED.value)
    )
    others = await ctx.session.scalar(
        select(contract_table.c.id).where(
            contract_table.c.customer_id == contract["customer_id"],
            contract_table.c.id != contract["id"],
            contract_table.c.status.in_(IN_FORCE),
        )
    )
    if others is None:
        since = datetime.combine(end_date + timedelta(days=1), time(0), tzinfo=UTC)
        await ctx.session.execute(
            update(customer_table)
            .where(customer_table.c.id == contract["customer_id"])
            .values(former_customer_since=since)
        )
    record_write(
        ctx,
        "Contract",
        contract["id"],
        customer_id=contract["customer_id"],
        fields=["endDate", "status"],
    )


@strawberry.type(description="Offer and contract mutations.")
class ContractMutation:
    @strawberry.mutation(description="Make an offer to a customer or a prospect.")
    async def create_offer(
        self, info: Info[RequestContext, Any], input: CreateOfferInput
    ) -> OfferPayload:
        ctx = info.context
        written = ["product", "basic_fee_eur_per_month", "valid_until", "status"]
        for name in ("energy_price_c_per_kwh", "spot_margin_c_per_kwh"):
            if _value(getattr(input, name)) is not None:
                written.append(name)
        require_write(ctx, "Offer", written)
        customer_value, prospect_value = _value(input.customer_id), _value(input.prospect_id)
        if (customer_value is None) == (prospect_value is None):
            raise UserInputError(
                "Give either a customer or a prospect", field="input.customerId", reason="one party"
            )
        values: dict[str, Any] = {}
        if customer_value is not None:
            holder = await load_in_scope(
                ctx,
                customer_table,
                "Customer",
                customer_value,
                field="input.customerId",
                lock=False,
            )
            values["customer_id"] = holder["id"]
            site_value = _value(input.site_id)
            if site_value is not None:
                values["site_id"] = await _site_of_customer(
                    ctx, site_value, holder["id"], field="input.siteId"
                )
        else:
            prospect = await load_in_scope(
                ctx,
                prospect_table,
                "Prospect",
                prospect_value,
                field="input.prospectId",
                lock=False,
            )
            values["prospect_id"] = prospect["id"]
        product_id = parse_uuid(input.product_id, field="input.productId")
        kind = await ctx.session.scalar(
            select(product_table.c.kind).where(product_table.c.id == product_id)
        )
        if kind is None:
            raise not_found("input.productId")
        energy = _price(_value(input.energy_price_c_per_kwh), "input.energyPriceCPerKwh")
        margin = _price(_value(input.spot_margin_c_per_kwh), "input.spotMarginCPerKwh")
        check_prices(kind, energy, margin)
        fee = _price(input.basic_fee_eur_per_month, "input.basicFeeEurPerMonth")
        if input.valid_until < ctx.access.today:
            raise UserInputError(
                "An offer must be valid until today or later",
                field="input.validUntil",
                reason="in the past",
            )
        values.update(
            product_id=product_id,
            energy_price_c_per_kwh=energy,
            spot_margin_c_per_kwh=margin,
            basic_fee_eur_per_month=fee,
            valid_until=input.valid_until,
        )
        offer_id = await create_offer(ctx=ctx, values=values)
        return payload(OfferPayload, ctx, offer=await _offer_result(ctx, info, offer_id))

    @strawberry.mutation(description="Accept an open offer: it becomes a contract.")
    async def accept_offer(
        self, info: Info[RequestContext, Any], input: AcceptOfferInput
    ) -> ContractPayload:
        ctx = info.context
        require_write(ctx, "Contract", ["start_date", "sales_channel", "status", "site"])
        require_write(ctx, "Offer", ["status"])
        require_rows(ctx, "Customer", field="input.offerId")
        offer_id = parse_uuid(input.offer_id, field="input.offerId")
        offer = await fetch_one(
            ctx,
            select(offer_table)
            .where(
                offer_table.c.id == offer_id,
                or_(
                    offer_table.c.customer_id.in_(_visible_customer_ids(ctx)),
                    and_(
                        offer_table.c.customer_id.is_(None),
                        true() if ctx.access.can_see_rows("Prospect") else false(),
                    ),
                ),
            )
            .with_for_update(),
        )
        if offer is None:
            raise not_found("input.offerId")
        if offer["customer_id"] is None:
            raise UserInputError(
                "An offer to a prospect is accepted once the prospect is registered as a customer",
                field="input.offerId",
                reason="prospect",
            )
        if offer["status"] != OfferStatus.OPEN.value:
            raise UserInputError(
                f"The offer is {offer['status']}, not open",
                field="input.offerId",
                reason="not open",
            )
        if offer["valid_until"] < ctx.access.today:
            raise UserInputError("The offer has expired", field="input.offerId", reason="expired")
        site_value = _value(input.site_id)
        if site_value is not None:
            site_id = await _site_of_customer(
                ctx, site_value, offer["customer_id"], field="input.siteId"
            )
        elif offer["site_id"] is not None:
            site_id = offer["site_id"]
        else:
            raise UserInputError(
                "The offer names no site: give siteId", field="input.siteId", reason="required"
            )
        clash = await ctx.session.scalar(
            select(contract_table.c.id).where(
                contract_table.c.site_id == site_id,
                contract_table.c.status.in_(IN_FORCE),
                or_(
                    contract_table.c.end_date.is_(None),
                    contract_table.c.end_date >= input.start_date,
                ),
            )
        )
        if clash is not None:
            raise UserInputError(
                "The site already has a contract in force on that date",
                field="input.startDate",
                reason="overlapping contract",
            )
        contract_id = await accept_offer(
            ctx=ctx,
            offer=offer,
            site_id=site_id,
            start_date=input.start_date,
            sales_channel=enum_value(input.sales_channel),
        )
        return payload(
            ContractPayload,
            ctx,
            contract=await _contract_result(ctx, info, contract_id),
            offer=await _offer_result(ctx, info, offer["id"]),
        )

    @strawberry.mutation(description="Terminate a contract: delivery ends on the end date.")
    async def terminate_contract(
        self, info: Info[RequestContext, Any], input: TerminateContractInput
    ) -> ContractPayload:
        ctx = info.context
        require_write(ctx, "Contract", ["end_date", "status"])
        text_input(_value(input.reason), field="input.reason", max_length=1000)
        contract = await load_in_scope(
            ctx, contract_table, "Contract", input.contract_id, field="input.contractId"
        )
        if contract["status"] not in IN_FORCE:
            raise UserInputError(
                f"The contract is {contract['status']}, not in force",
                field="input.contractId",
                reason="not in force",
            )
        if input.end_date < contract["start_date"]:
            raise UserInputError(
                "The end date is before the start of delivery",
                field="input.endDate",
                reason="before start",
            )
        await terminate_contract(ctx=ctx, contract=contract, end_date=input.end_date)
        return payload(
            ContractPayload, ctx, contract=await _contract_result(ctx, info, contract["id"])
        )
