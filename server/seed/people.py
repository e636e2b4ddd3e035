"""The seed's organisations and customers: names, identity codes, business IDs, addresses
and contact details, each identifier made by `server.validators`."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Final

from server.billing.models import BillingMethod
from server.customers.models import CustomerKind, Language
from server.organisations.models import OrganisationKind
from server.seed import names
from server.seed.draws import Draws, office_moment, weighted
from server.seed.names import POSTAL_AREAS, PostalArea
from server.seed.records import Customer
from server.seed.results import Row
from server.sites.models import HousingType
from server.validators import (
    IdentifierError,
    make_business_id,
    make_hetu,
    validate_business_id,
    validate_email,
    validate_phone,
)

__all__ = ["COMPANY_BUSINESS_ID", "People", "any_postal_area"]

COMPANY_BUSINESS_ID: Final = "0206323-2"

# (code, name, business ID: "" for a new one, None for none; kind, description)
_ORGANISATIONS: Final[tuple[tuple[str, str, str | None, str, str], ...]] = (
    ("ksat", "Koillis-Satakunnan Sähkö Oy", COMPANY_BUSINESS_ID, OrganisationKind.COMPANY,
     "Rekisterinpitäjä: sähkön myynti ja jakeluverkko. PL 25, 34801 Virrat."),
    ("perinta-a", "Satakunnan Perintäpalvelu Oy", "", OrganisationKind.SUBCONTRACTOR,
     "Perintätoimisto: maksamattomien laskujen perintä (alihankkija)."),
    ("perinta-b", "Pirkanmaan Saatavahallinta Oy", "", OrganisationKind.SUBCONTRACTOR,
     "Perintätoimisto: maksamattomien laskujen perintä (alihankkija)."),
    ("kenttapalvelu-a", "Virtain Sähköasennus Oy", "", OrganisationKind.SUBCONTRACTOR,
     "Kenttäpalvelut: mittarinvaihdot, kytkennät ja katkaisut (alihankkija)."),
    ("kenttapalvelu-b", "Pohjois-Pirkan Verkkotyö Oy", "", OrganisationKind.SUBCONTRACTOR,
     "Kenttäpalvelut: liittymätyöt ja mittaroinnit (alihankkija)."),
    ("kumppani-aurinko", "Aurinkokatto Kumppanit Oy", "", OrganisationKind.PARTNER,
     "Yhteistyökumppani: aurinkopaneelien myynti ja asennus."),
    ("energiavirasto", "Energiavirasto", None, OrganisationKind.AUTHORITY,
     "Viranomainen (sähkömarkkinoiden valvonta); luovutukset lain nojalla."),
    ("verkkoyhtio", "Pohjois-Satakunnan Sähköverkko Oy", "", OrganisationKind.ENERGY_COMPANY,
     "Jakeluverkonhaltija: tietojen vaihto Datahubin kautta."),
)  # fmt: skip


def any_postal_area(draws: Draws) -> PostalArea:
    """A postal area, as likely as its weight."""
    return weighted(draws.rng, [(a, a.weight) for a in POSTAL_AREAS])


class People:
    """Draws organisations and customers; no identity code or business ID is drawn twice."""

    def __init__(self, draws: Draws) -> None:
        self.draws = draws
        self.hetus: set[str] = set()
        self.business_ids: set[str] = {COMPANY_BUSINESS_ID}

    def organisations(self) -> tuple[list[Row], dict[str, uuid.UUID]]:
        """The organisation rows, and their ids by code."""
        draws = self.draws
        created = office_moment(date(draws.today.year - 10, 1, 2), draws.rng)
        rows: list[Row] = []
        ids: dict[str, uuid.UUID] = {}
        for code, name, bid, kind, description in _ORGANISATIONS:
            org_id = draws.new_id()
            if bid == "":
                bid = self.new_business_id()
            elif bid is not None:
                bid = validate_business_id(bid)
            ids[code] = org_id
            rows.append((org_id, code, name, bid, str(kind), description, created))
        return rows, ids

    def new_business_id(self) -> str:
        while True:
            body = f"{self.draws.rng.randrange(1_000_000, 3_400_000):07d}"
            try:
                value = make_business_id(body)
            except IdentifierError:  # no business ID has this body
                continue
            if value not in self.business_ids:
                self.business_ids.add(value)
                return value

    def person_identity(self, male: bool) -> tuple[str, date]:
        """A new identity code of an adult, and the birth date in it."""
        rng = self.draws.rng
        latest = self.draws.today.year - 19  # every customer is of age
        while True:
            year = min(latest, int(rng.triangular(1930, latest + 1, 1962)))
            birth = date(year, 1, 1) + timedelta(days=rng.randrange(365))
            if birth.year != year:
                continue
            # The new signs (2023 decree) are rare: codes issued since 2023.
            if year < 2000:
                sign = "-" if rng.random() < 0.97 else rng.choice("YXWVU")
            else:
                sign = "A" if rng.random() < 0.95 else rng.choice("BCDEF")
            individual = rng.randrange(2, 900)
            if (individual % 2 == 1) != male:
                individual = individual + 1 if individual < 899 else individual - 1
            code = make_hetu(birth, individual, sign=sign)
            if code in self.hetus:
                continue
            self.hetus.add(code)
            return code, birth

    def address(self, area: PostalArea, housing: str) -> str:
        """A street address of the housing type's kind (staircase and flat in a block)."""
        rng = self.draws.rng
        street = rng.choice(names.STREET_NAMES)
        number = rng.randint(1, 60)
        if housing == HousingType.APARTMENT_BLOCK:
            return f"{street} {number} {rng.choice('ABCD')} {rng.randint(1, 48)}"
        if housing == HousingType.TERRACED_HOUSE:
            return f"{street} {number} {rng.choice('ABCDEF')} {rng.randint(1, 8)}"
        if housing == HousingType.SEMI_DETACHED_HOUSE:
            return f"{street} {number} {rng.choice('AB')}"
        return f"{street} {number}"

    def contact(
        self, *name_parts: str, organisation: bool = False
    ) -> tuple[str | None, str | None]:
        """An e-mail address made of the name parts and a mobile number; either may be None."""
        rng = self.draws.rng
        email = None
        if rng.random() < (0.95 if organisation else 0.85):
            local = names.email_local_part(*name_parts)
            if not organisation and rng.random() < 0.5:
                local += str(rng.randint(1, 99))
            email = validate_email(f"{local}@{rng.choice(names.EMAIL_DOMAINS)}")
        phone = None
        if rng.random() < (0.8 if organisation else 0.9):
            prefix = weighted(rng, (("40", 40), ("50", 35), ("44", 10), ("45", 10), ("41", 5)))
            phone = validate_phone(f"+358{prefix}{rng.randrange(10**7):07d}")
        return email, phone

    def customer(self) -> Customer:
        """A new customer: an organisation (8 %) or a person."""
        draws = self.draws
        customer_id = draws.new_id()
        area = any_postal_area(draws)
        billing = weighted(
            draws.rng,
            (
                (BillingMethod.E_INVOICE, 35),
                (BillingMethod.DIRECT_PAYMENT, 20),
                (BillingMethod.EMAIL, 30),
                (BillingMethod.PAPER, 15),
            ),
        )
        if draws.rng.random() < 0.08:
            return self._organisation_customer(customer_id, area, billing)
        return self._person_customer(customer_id, area, billing)

    def _organisation_customer(
        self, customer_id: uuid.UUID, area: PostalArea, billing: str
    ) -> Customer:
        rng = self.draws.rng
        word = rng.choice(names.ORGANISATION_WORDS)
        style = rng.random()
        if style < 0.25:
            org_name = f"Asunto Oy {word}"
        elif style < 0.35:
            org_name = f"Kiinteistö Oy {word}"
        else:
            trade = rng.choice(names.ORGANISATION_TRADES)
            org_name = f"{word}n {trade} {rng.choice(names.ORGANISATION_FORMS)}"
        email, phone = self.contact("laskutus", word, organisation=True)
        return Customer(
            id=customer_id, kind=CustomerKind.ORGANISATION, first_name=None, last_name=None,
            organisation_name=org_name, hetu=None, business_id=self.new_business_id(),
            street=self.address(area, HousingType.BUSINESS_PREMISES), area=area,
            email=email, phone=phone,
            language=Language.FI if rng.random() < 0.95 else Language.SV,
            billing_method=billing if billing != BillingMethod.DIRECT_PAYMENT else "e_invoice",
        )  # fmt: skip

    def _person_customer(self, customer_id: uuid.UUID, area: PostalArea, billing: str) -> Customer:
        rng = self.draws.rng
        language = weighted(rng, ((Language.FI, 88), (Language.SV, 8), (Language.EN, 4)))
        male = rng.random() < 0.5
        if language == Language.SV:
            first = rng.choice(
                names.SWEDISH_MALE_FIRST_NAMES if male else names.SWEDISH_FEMALE_FIRST_NAMES
            )
            last = rng.choice(names.SWEDISH_LAST_NAMES)
        else:
            first = rng.choice(names.MALE_FIRST_NAMES if male else names.FEMALE_FIRST_NAMES)
            last = rng.choice(names.LAST_NAMES)
        hetu, birth = self.person_identity(male)
        email, phone = self.contact(first, last)
        if billing == BillingMethod.EMAIL and email is None:
            billing = BillingMethod.PAPER
        return Customer(
            id=customer_id, kind=CustomerKind.PERSON, first_name=first, last_name=last,
            organisation_name=None, hetu=hetu, business_id=None, street="", area=area,
            email=email, phone=phone, language=language, billing_method=billing, birth=birth,
        )  # fmt: skip
