"""The seed's marketing: prospects (always with consent) and the offers sent to prospects
and customers who have not objected to direct marketing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from server.prospects.models import ProspectSource
from server.seed import names
from server.seed.contracts import Contracts
from server.seed.draws import Draws, add_months, office_moment
from server.seed.people import People, any_postal_area
from server.seed.records import Customer
from server.seed.results import Row
from server.validators import validate_email

__all__ = ["Prospect", "marketing_offers", "prospects"]

_CAMPAIGNS: Final = (
    ("Virtain markkinat {year}: arvonta", ProspectSource.PRIZE_DRAW),
    ("Asuntomessut {year}: energiavisa", ProspectSource.COMPETITION),
    ("Ruoveden kesäpäivät {year}: arvonta", ProspectSource.PRIZE_DRAW),
    ("Sähköautoilijan tietokilpailu {year}", ProspectSource.COMPETITION),
    ("Mökkimessut Tampere {year}: arvonta", ProspectSource.PRIZE_DRAW),
    ("Energiansäästöviikko {year}: kilpailu", ProspectSource.COMPETITION),
)
_CONSENT_TEXT: Final = (
    "Annan Koillis-Satakunnan Sähkö Oy:lle suostumukseni käsitellä antamiani "
    "yhteystietoja ja lähettää minulle sähkösopimuksia koskevaa markkinointia "
    "sähköpostitse, tekstiviestillä ja puhelimitse sekä ottaa minuun yhteyttä. "
    "Suostumus on voimassa {years} ja sen voi perua milloin tahansa."
)


@dataclass(frozen=True, slots=True)
class Prospect:
    id: uuid.UUID
    consented_on: date
    row: Row


def prospects(draws: Draws, people: People, count: int) -> list[Prospect]:
    """`count` prospects met at campaigns, each with a consent of one or two years."""
    return [_prospect(draws, people) for _ in range(count)]


def _prospect(draws: Draws, people: People) -> Prospect:
    rng, today = draws.rng, draws.today
    male = rng.random() < 0.5
    first_name = rng.choice(names.MALE_FIRST_NAMES if male else names.FEMALE_FIRST_NAMES)
    last_name = rng.choice(names.LAST_NAMES)
    email, phone = people.contact(first_name, last_name)
    if email is None and phone is None:
        local = names.email_local_part(first_name, last_name)
        email = validate_email(f"{local}@example.fi")
    postal = any_postal_area(draws).code
    years = 1 if rng.random() < 0.5 else 2
    consent_day = today - timedelta(days=rng.randint(1, 330 if years == 1 else 700))
    consent_at = office_moment(consent_day, rng, 9, 20)
    campaign, source = rng.choice(_CAMPAIGNS)
    prospect_id = draws.new_id()
    row = (
        prospect_id, first_name, last_name, email, phone,
        postal if rng.random() < 0.7 else None,
        source.value, campaign.format(year=consent_day.year), consent_at,
        _CONSENT_TEXT.format(years="vuoden" if years == 1 else "kaksi vuotta"),
        add_months(consent_day, 12 * years), consent_at,
    )  # fmt: skip
    return Prospect(prospect_id, consent_at.date(), row)


def marketing_offers(
    draws: Draws,
    contracts: Contracts,
    prospects: Sequence[Prospect],
    customers: Sequence[Customer],
) -> list[Row]:
    """Offers to 30 % of the prospects and to 5 % of the current customers who have not
    objected to direct marketing (for their first site)."""
    rng = draws.rng
    rows: list[Row] = []
    for prospect in prospects:
        if rng.random() < 0.3:
            rows.append(contracts.marketing_offer(None, prospect.id, None, prospect.consented_on))
    for customer in customers:
        if (
            "direct_marketing" in customer.objections
            or customer.former_since is not None
            or rng.random() >= 0.05
        ):
            continue
        site = customer.sites[0]
        rows.append(
            contracts.marketing_offer(customer.id, None, site.id, customer.created_at.date())
        )
    return rows
