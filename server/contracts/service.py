"""Rules of the contracts domain: make an offer, accept it into a contract, terminate it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, false, or_, select, true, update

from server.contracts.loaders import contract_table, offer_table, product_table
from server.contracts.models import ContractStatus, OfferStatus, ProductKind
from server.customers.loaders import customer_table
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.operations.inputs import not_before, text_input
from server.operations.writes import Writes, columns_of, load_in_scope, require_rows, row_of
from server.prospects.loaders import prospect_table
from server.sites.loaders import site_table

IN_FORCE = (ContractStatus.PENDING.value, ContractStatus.ACTIVE.value)
MAX_PRICE = Decimal(1000)

OFFER = Writes(
    "Offer",
    ("product", "basic_fee_eur_per_month", "valid_until", "status"),
    optional=("energy_price_c_per_kwh", "spot_margin_c_per_kwh"),
)
ACCEPTED_OFFER = Writes("Offer", ("status",))
CONTRACT = Writes("Contract", ("start_date", "sales_channel", "status", "site", "product"))
TERMINATED_CONTRACT = Writes("Contract", ("end_date", "status"))


@dataclass(frozen=True, slots=True)
class Accepted:
    """The contract made from an offer (None when out of the principal's scope), and the
    offer after it."""

    contract: dict[str, Any] | None
    offer: dict[str, Any] | None


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


async def _party(
    ctx: RequestContext, customer_id: Any | None, prospect_id: Any | None, site_id: Any | None
) -> dict[str, uuid.UUID]:
    """The offer's customer (and site) or prospect, inside the principal's row scope."""
    if (customer_id is None) == (prospect_id is None):
        raise UserInputError(
            "Give either a customer or a prospect", field="input.customerId", reason="one party"
        )
    if customer_id is None:
        prospect = await load_in_scope(
            ctx, prospect_table, "Prospect", prospect_id, field="input.prospectId", lock=False
        )
        return {"prospect_id": prospect["id"]}
    holder = await load_in_scope(
        ctx, customer_table, "Customer", customer_id, field="input.customerId", lock=False
    )
    party = {"customer_id": holder["id"]}
    if site_id is not None:
        party["site_id"] = await _site_of_customer(ctx, site_id, holder["id"], field="input.siteId")
    return party


async def create_offer(
    *,
    ctx: RequestContext,
    product_id: Any,
    basic_fee_eur_per_month: Decimal,
    valid_until: date,
    customer_id: Any | None = None,
    prospect_id: Any | None = None,
    site_id: Any | None = None,
    energy_price_c_per_kwh: Decimal | None = None,
    spot_margin_c_per_kwh: Decimal | None = None,
) -> dict[str, Any] | None:
    """Make an offer to a customer or a prospect.

    A customer's offer may be for one of their sites."""
    writes = OFFER.when(
        energy_price_c_per_kwh=energy_price_c_per_kwh is not None,
        spot_margin_c_per_kwh=spot_margin_c_per_kwh is not None,
    )
    writes.check(ctx)
    party = await _party(ctx, customer_id, prospect_id, site_id)
    product, kind = await columns_of(ctx, product_id, product_table.c.kind, field="input.productId")
    energy = _price(energy_price_c_per_kwh, "input.energyPriceCPerKwh")
    margin = _price(spot_margin_c_per_kwh, "input.spotMarginCPerKwh")
    check_prices(kind, energy, margin)
    fee = _price(basic_fee_eur_per_month, "input.basicFeeEurPerMonth")
    if valid_until < ctx.access.today:
        raise UserInputError(
            "An offer must be valid until today or later",
            field="input.validUntil",
            reason="in the past",
        )
    offer_id = await writes.insert(
        ctx,
        offer_table,
        {
            **party,
            "product_id": product,
            "energy_price_c_per_kwh": energy,
            "spot_margin_c_per_kwh": margin,
            "basic_fee_eur_per_month": fee,
            "valid_until": valid_until,
            "status": OfferStatus.OPEN.value,
        },
        customer_id=party.get("customer_id"),
        prospect_id=party.get("prospect_id"),
    )
    return await row_of(ctx, offer_table, offer_id)


async def _open_offer(ctx: RequestContext, value: Any) -> dict[str, Any]:
    """The offer, locked, if its customer is in scope (or it is a prospect's and prospects
    are); it must be open, unexpired and a customer's."""
    require_rows(ctx, "Customer", field="input.offerId")
    visible_customers = select(customer_table.c.id).where(ctx.access.rows("Customer"))
    prospects_visible = true() if ctx.access.can_see_rows("Prospect") else false()
    in_scope = or_(
        offer_table.c.customer_id.in_(visible_customers),
        and_(offer_table.c.customer_id.is_(None), prospects_visible),
    )
    offer = await load_in_scope(
        ctx, offer_table, "Offer", value, field="input.offerId", where=in_scope
    )
    if offer["customer_id"] is None:
        raise UserInputError(
            "An offer to a prospect is accepted once the prospect is registered as a customer",
            field="input.offerId",
            reason="prospect",
        )
    if offer["status"] != OfferStatus.OPEN.value:
        raise UserInputError(
            f"The offer is {offer['status']}, not open", field="input.offerId", reason="not open"
        )
    if offer["valid_until"] < ctx.access.today:
        raise UserInputError("The offer has expired", field="input.offerId", reason="expired")
    return offer


async def _free_site(
    ctx: RequestContext, offer: dict[str, Any], value: Any | None, start_date: date
) -> uuid.UUID:
    """The site supplied (given, or the offer's), with no contract in force from the start."""
    if value is not None:
        site_id = await _site_of_customer(ctx, value, offer["customer_id"], field="input.siteId")
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
            or_(contract_table.c.end_date.is_(None), contract_table.c.end_date >= start_date),
        )
    )
    if clash is not None:
        raise UserInputError(
            "The site already has a contract in force on that date",
            field="input.startDate",
            reason="overlapping contract",
        )
    return site_id


async def _set_former_customer_since(
    ctx: RequestContext, customer_id: uuid.UUID, since: datetime | None
) -> None:
    await ctx.session.execute(
        update(customer_table)
        .where(customer_table.c.id == customer_id)
        .values(former_customer_since=since)
    )


async def accept_offer(
    *,
    ctx: RequestContext,
    offer_id: Any,
    start_date: date,
    sales_channel: str,
    site_id: Any | None = None,
) -> Accepted:
    """Accept an open offer: it becomes a contract.

    The customer is no longer a former customer."""
    CONTRACT.check(ctx)
    ACCEPTED_OFFER.check(ctx)
    offer = await _open_offer(ctx, offer_id)
    site = await _free_site(ctx, offer, site_id, start_date)
    customer_id = offer["customer_id"]
    status = ContractStatus.ACTIVE if start_date <= ctx.access.today else ContractStatus.PENDING
    contract_id = await CONTRACT.insert(
        ctx,
        contract_table,
        {
            "customer_id": customer_id,
            "site_id": site,
            "product_id": offer["product_id"],
            "offer_id": offer["id"],
            "energy_price_c_per_kwh": offer["energy_price_c_per_kwh"],
            "spot_margin_c_per_kwh": offer["spot_margin_c_per_kwh"],
            "basic_fee_eur_per_month": offer["basic_fee_eur_per_month"],
            "start_date": start_date,
            "status": status.value,
            "sales_channel": sales_channel,
        },
        customer_id=customer_id,
    )
    await ACCEPTED_OFFER.update(
        ctx,
        offer_table,
        offer["id"],
        {"status": OfferStatus.ACCEPTED.value},
        customer_id=customer_id,
    )
    await _set_former_customer_since(ctx, customer_id, None)
    return Accepted(
        await row_of(ctx, contract_table, contract_id, scope="Contract"),
        await row_of(ctx, offer_table, offer["id"]),
    )


async def terminate_contract(
    *, ctx: RequestContext, contract_id: Any, end_date: date, reason: str | None
) -> dict[str, Any] | None:
    """Terminate a contract: delivery ends on the end date.

    Terminate on `end_date`; with no other contract in force, the customer becomes a former
    customer from the next day (retention starts counting from then)."""
    TERMINATED_CONTRACT.check(ctx)
    text_input(reason, field="input.reason", max_length=1000)
    contract = await load_in_scope(
        ctx, contract_table, "Contract", contract_id, field="input.contractId"
    )
    if contract["status"] not in IN_FORCE:
        raise UserInputError(
            f"The contract is {contract['status']}, not in force",
            field="input.contractId",
            reason="not in force",
        )
    message = "The end date is before the start of delivery"
    not_before(
        end_date, contract["start_date"], message, field="input.endDate", reason="before start"
    )
    customer_id = contract["customer_id"]
    values = {"end_date": end_date, "status": ContractStatus.TERMINATED.value}
    await TERMINATED_CONTRACT.update(
        ctx, contract_table, contract["id"], values, customer_id=customer_id
    )
    others = await ctx.session.scalar(
        select(contract_table.c.id).where(
            contract_table.c.customer_id == customer_id,
            contract_table.c.id != contract["id"],
            contract_table.c.status.in_(IN_FORCE),
        )
    )
    if others is None:
        since = datetime.combine(end_date + timedelta(days=1), time(0), tzinfo=UTC)
        await _set_former_customer_since(ctx, customer_id, since)
    return await row_of(ctx, contract_table, contract["id"], scope="Contract")
