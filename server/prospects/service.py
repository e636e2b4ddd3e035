"""Rules of the prospects domain (privacy notice section 6): a prospect is stored only with
a recorded consent to marketing, and withdrawing the consent erases the prospect."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete

from server.contracts.loaders import offer_table
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.operations.inputs import identifier, text_input
from server.operations.writes import Writes, load_in_scope, row_of
from server.prospects.loaders import prospect_table
from server.validators import validate_email, validate_phone, validate_postal_code

DEFAULT_CONSENT_DAYS: Final = 730  # a consent is relied on for two years unless it says otherwise
CONSENT_REQUIRED = (
    "A prospect is stored only with a recorded consent to marketing and to being contacted "
    "(privacy notice section 6)"
)

CREATED_PROSPECT = Writes(
    "Prospect",
    (
        "first_name",
        "last_name",
        "source",
        "marketing_consent_at",
        "consent_text",
        "consent_expires_on",
    ),
    optional=("email", "phone", "postal_code", "campaign"),
)
WITHDRAWN_CONSENT = Writes("Prospect", ("marketing_consent_at",))


@dataclass(frozen=True, slots=True)
class Consent:
    """A prospect's consent to marketing and to being contacted."""

    given_at: datetime
    text: str
    expires_on: date | None = None


def consent_expires_on(*, given_at: datetime, expires_on: date | None = None) -> date:
    """The last day a marketing consent given at `given_at` is relied on."""
    return expires_on or given_at.date() + timedelta(days=DEFAULT_CONSENT_DAYS)


def consent_values(consent: Consent | None, today: date) -> dict[str, Any]:
    """The consent columns, or BAD_USER_INPUT when no usable consent was recorded."""
    if consent is None:
        raise UserInputError(CONSENT_REQUIRED, field="input.consent", reason="consent required")
    text = text_input(consent.text, field="input.consent.text", max_length=1000, required=True)
    given_at = consent.given_at if consent.given_at.tzinfo else consent.given_at.replace(tzinfo=UTC)
    if given_at.date() > today:
        raise UserInputError(
            "The consent cannot be given in the future",
            field="input.consent.givenAt",
            reason="in the future",
        )
    expires_on = consent_expires_on(given_at=given_at, expires_on=consent.expires_on)
    if expires_on < today:
        raise UserInputError(
            "The consent has already expired", field="input.consent.expiresOn", reason="expired"
        )
    return {
        "marketing_consent_at": given_at,
        "consent_text": text,
        "consent_expires_on": expires_on,
    }


def _contact(value: str | None, validate: Callable[[str], str], field: str) -> str | None:
    if value is None or not value.strip():
        return None
    return identifier(validate, value, field=field)


async def create_prospect(
    *,
    ctx: RequestContext,
    first_name: str,
    last_name: str,
    source: str,
    consent: Consent | None,
    email: str | None = None,
    phone: str | None = None,
    postal_code: str | None = None,
    campaign: str | None = None,
) -> dict[str, Any] | None:
    """Store a prospect with their marketing consent; refused without one."""
    writes = CREATED_PROSPECT.when(
        email=email is not None,
        phone=phone is not None,
        postal_code=postal_code is not None,
        campaign=campaign is not None,
    )
    writes.check(ctx)
    values = consent_values(consent, ctx.access.today)
    values["first_name"] = text_input(
        first_name, field="input.firstName", max_length=100, required=True
    )
    values["last_name"] = text_input(
        last_name, field="input.lastName", max_length=100, required=True
    )
    values["email"] = _contact(email, validate_email, "input.email")
    values["phone"] = _contact(phone, validate_phone, "input.phone")
    values["postal_code"] = _contact(postal_code, validate_postal_code, "input.postalCode")
    if values["email"] is None and values["phone"] is None:
        raise UserInputError(
            "A prospect needs an e-mail address or a phone number",
            field="input.email",
            reason="required",
        )
    values["campaign"] = text_input(campaign, field="input.campaign", max_length=200) or ""
    values["source"] = source
    prospect_id = uuid.uuid4()
    await writes.insert(
        ctx, prospect_table, values, customer_id=None, prospect_id=prospect_id, row_id=prospect_id
    )
    return await row_of(ctx, prospect_table, prospect_id)


async def withdraw_prospect_consent(*, ctx: RequestContext, prospect_id: Any) -> uuid.UUID:
    """The prospect withdraws their consent: the prospect and their offers are erased at once; the
    access log keeps only the prospect's ID."""
    WITHDRAWN_CONSENT.check(ctx)
    prospect = await load_in_scope(
        ctx, prospect_table, "Prospect", prospect_id, field="input.prospectId"
    )
    erased: uuid.UUID = prospect["id"]
    await ctx.session.execute(delete(offer_table).where(offer_table.c.prospect_id == erased))
    await ctx.session.execute(delete(prospect_table).where(prospect_table.c.id == erased))
    WITHDRAWN_CONSENT.record(ctx, erased, customer_id=None, prospect_id=erased)
    return erased
