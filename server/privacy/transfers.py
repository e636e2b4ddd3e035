"""Transfers: data goes only to recipients inside the EU/EEA (privacy notice section 8).

One check for every way data leaves the register: an assignment to an organisation, an API
key of an organisation's system, a disclosure, and an export written for a recipient. The
list of countries is `server.validators.EU_EEA_COUNTRIES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.tables import table_of
from server.organisations.models import Organisation
from server.validators import COUNTRY_CODES, IdentifierError, is_eu_eea, validate_country

OUTSIDE_EU_EEA = "outside the EU/EEA"
NOTICE_PROMISE = "the privacy notice (section 8) transfers no data outside the EU or EEA"

organisation_table = table_of(Organisation)


class TransferRefused(Exception):
    """Data would go to a recipient whose country is not allowed. `field` names the input
    that chose the recipient, `reason` is short (e.g. "outside the EU/EEA")."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(message)


def refusal(country: str | None) -> str | None:
    """Why data may not go to a recipient in `country` (a canonical code), or None."""
    if country is None or country not in COUNTRY_CODES:
        return "not an ISO 3166-1 country code"
    if not is_eu_eea(country):
        return OUTSIDE_EU_EEA
    return None


def check_country(country: str | None, *, field: str, recipient: str) -> None:
    """Raise TransferRefused when `recipient` in `country` may not receive data."""
    reason = refusal(country)
    if reason is None:
        return
    if reason == OUTSIDE_EU_EEA:
        message = f"{field}: {recipient} is in {country}, {OUTSIDE_EU_EEA}; {NOTICE_PROMISE}"
    else:
        message = f"{field}: the country of {recipient} is {reason}"
    raise TransferRefused(field, reason, message)


def parse_country(value: str, *, field: str) -> str:
    """A country code given as input, canonical; TransferRefused names the field."""
    try:
        return validate_country(value)
    except IdentifierError as exc:
        raise TransferRefused(field, exc.reason, f"{field}: {exc.reason}") from None


@dataclass(frozen=True, slots=True)
class Recipient:
    code: str
    name: str
    kind: str
    country: str


async def recipient_organisation(session: AsyncSession, code: str, *, field: str) -> Recipient:
    """The registered organisation `code` that an export is written for, checked: it must
    exist and be inside the EU/EEA (TransferRefused otherwise)."""
    row = (
        await session.execute(
            select(
                organisation_table.c.code,
                organisation_table.c.name,
                organisation_table.c.kind,
                organisation_table.c.country,
            ).where(organisation_table.c.code == code.strip())
        )
    ).first()
    if row is None:
        raise TransferRefused(
            field, "unknown organisation", f"{field}: no organisation with code {code!r}"
        )
    recipient = Recipient(row.code, row.name, row.kind, row.country)
    check_country(recipient.country, field=field, recipient=f"organisation {recipient.code}")
    return recipient
