"""Mutations of prospects (privacy notice section 6): a prospect is stored only with a
recorded consent to marketing, and withdrawing the consent erases the prospect."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import strawberry
from sqlalchemy import delete, insert, select
from strawberry.types import Info

from server.contracts.models import Offer as OfferRow
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.globalid import to_global_id
from server.graphql.inputs import camel, given_fields
from server.graphql.payloads import payload
from server.graphql.shaping import build_one
from server.operations.inputs import enum_value, text_input
from server.operations.writes import fetch_one, load_in_scope, record_write, require_write
from server.prospects.models import Prospect as ProspectRow
from server.prospects.service import consent_expires_on
from server.prospects.types import Prospect, ProspectSourceEnum
from server.validators import IdentifierError, validate_email, validate_phone, validate_postal_code

prospect_table = ProspectRow.__table__  # type: ignore[attr-defined]
offer_table = OfferRow.__table__  # type: ignore[attr-defined]
CONSENT_FIELDS = ("marketing_consent_at", "consent_text", "consent_expires_on")
CONSENT_REQUIRED = (
    "A prospect is stored only with a recorded consent to marketing and to being contacted "
    "(privacy notice section 6)"
)


def _opt(description: str) -> Any:
    return strawberry.field(default=strawberry.UNSET, description=description)


@strawberry.input(description="The prospect's consent to marketing and to being contacted.")
class MarketingConsentInput:
    given_at: datetime = strawberry.field(description="When the consent was given.")
    text: str = strawberry.field(description="The consent text the prospect agreed to.")
    expires_on: date | None = _opt("Last day the consent is relied on (default two years).")


@strawberry.input(description="A potential customer, stored only with marketing consent.")
class CreateProspectInput:
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    source: ProspectSourceEnum = strawberry.field(description="Where the prospect came from.")  # type: ignore[valid-type]
    consent: MarketingConsentInput | None = _opt("The recorded marketing consent (required).")
    email: str | None = _opt("E-mail address (an e-mail or a phone is required).")
    phone: str | None = _opt("Phone number.")
    postal_code: str | None = _opt("Postal code.")
    campaign: str | None = _opt("Campaign the consent was collected in.")


@strawberry.input(description="The prospect withdraws their consent: the prospect is erased.")
class WithdrawProspectConsentInput:
    prospect_id: strawberry.ID = strawberry.field(description="The prospect.")


@strawberry.type(description="A prospect after it was stored.")
class ProspectPayload:
    prospect: Prospect | None = strawberry.field(description="The prospect as your role sees it.")


@strawberry.type(description="A prospect erased after withdrawing consent.")
class ProspectErasurePayload:
    prospect_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the erased prospect (the access log keeps its UUID only)."
    )
    erased_at: datetime | None = strawberry.field(description="When the prospect was erased.")


def _contact(value: Any, validate: Any, field: str) -> str | None:
    if value is None or value is strawberry.UNSET or not str(value).strip():
        return None
    try:
        result: str = validate(value)
    except IdentifierError as exc:
        raise UserInputError(f"{field}: {exc}", field=field, reason=exc.reason) from None
    return result


def consent_values(consent: MarketingConsentInput | None, today: date) -> dict[str, Any]:
    """The consent columns, or BAD_USER_INPUT when no usable consent was recorded."""
    if consent is None or consent is strawberry.UNSET:
        raise UserInputError(CONSENT_REQUIRED, field="input.consent", reason="consent required")
    text = text_input(consent.text, field="input.consent.text", max_length=1000, required=True)
    given_at = consent.given_at if consent.given_at.tzinfo else consent.given_at.replace(tzinfo=UTC)
    if given_at.date() > today:
        raise UserInputError(
            "The consent cannot be given in the future",
            field="input.consent.givenAt",
            reason="in the future",
        )
    expires_on = consent_expires_on(
        given_at=given_at,
        expires_on=consent.expires_on if consent.expires_on is not strawberry.UNSET else None,
    )
    if expires_on < today:
        raise UserInputError(
            "The consent has already expired", field="input.consent.expiresOn", reason="expired"
        )
    return {
        "marketing_consent_at": given_at,
        "consent_text": text,
        "consent_expires_on": expires_on,
    }


@strawberry.type(description="Prospect mutations.")
class ProspectMutation:
    @strawberry.mutation(
        description="Store a prospect with their marketing consent; refused without one."
    )
    async def create_prospect(
        self, info: Info[RequestContext, Any], input: CreateProspectInput
    ) -> ProspectPayload:
        ctx = info.context
        sent = given_fields(input, exclude=("consent",))
        require_write(ctx, "Prospect", [*sent, *CONSENT_FIELDS])
        values = consent_values(input.consent, ctx.access.today)
        values["first_name"] = text_input(
            input.first_name, field="input.firstName", max_length=100, required=True
        )
        values["last_name"] = text_input(
            input.last_name, field="input.lastName", max_length=100, required=True
        )
        values["email"] = _contact(input.email, validate_email, "input.email")
        values["phone"] = _contact(input.phone, validate_phone, "input.phone")
        values["postal_code"] = _contact(
            input.postal_code, validate_postal_code, "input.postalCode"
        )
        if values["email"] is None and values["phone"] is None:
            raise UserInputError(
                "A prospect needs an e-mail address or a phone number",
                field="input.email",
                reason="required",
            )
        campaign = input.campaign if input.campaign is not strawberry.UNSET else None
        values["campaign"] = text_input(campaign, field="input.campaign", max_length=200) or ""
        values["source"] = enum_value(input.source)
        prospect_id = uuid.uuid4()
        await ctx.session.execute(insert(prospect_table).values(id=prospect_id, **values))
        record_write(
            ctx,
            "Prospect",
            prospect_id,
            customer_id=None,
            prospect_id=prospect_id,
            fields=[camel(k) for k in values],
        )
        row = await fetch_one(ctx, select(prospect_table).where(prospect_table.c.id == prospect_id))
        return payload(
            ProspectPayload,
            ctx,
            prospect=build_one(
                Prospect, row, ctx, info, through=("prospect",), subject=None, prospect="id"
            ),
        )

    @strawberry.mutation(
        description="The prospect withdraws their consent: the prospect and their offers are "
        "erased at once; the access log keeps only the prospect's ID."
    )
    async def withdraw_prospect_consent(
        self, info: Info[RequestContext, Any], input: WithdrawProspectConsentInput
    ) -> ProspectErasurePayload:
        ctx = info.context
        require_write(ctx, "Prospect", ["marketing_consent_at"])
        prospect = await load_in_scope(
            ctx, prospect_table, "Prospect", input.prospect_id, field="input.prospectId"
        )
        await erase_prospect(ctx=ctx, prospect_id=prospect["id"])
        return payload(
            ProspectErasurePayload,
            ctx,
            prospect_id=strawberry.ID(to_global_id("Prospect", prospect["id"])),
            erased_at=datetime.now(UTC),
        )


async def erase_prospect(*, ctx: RequestContext, prospect_id: uuid.UUID) -> None:
    await ctx.session.execute(delete(offer_table).where(offer_table.c.prospect_id == prospect_id))
    await ctx.session.execute(delete(prospect_table).where(prospect_table.c.id == prospect_id))
    record_write(
        ctx,
        "Prospect",
        prospect_id,
        customer_id=None,
        prospect_id=prospect_id,
        fields=["marketingConsentAt"],
    )
