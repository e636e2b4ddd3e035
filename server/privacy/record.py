"""The record of processing activities (GDPR Art. 30), written from what the register knows.

- the controller and the register: the privacy notice (`server.privacy.notice`);
- the purposes: policies/purposes.csv, with the notice's section-4 wording;
- per purpose, the categories of data: the GraphQL types and fields the compiled policy
  lets each role read (in full or masked) under it, and the rows it may see;
- the recipients: the organisations of the database by kind, and the disclosures by legal
  basis;
- the transfers: none outside the EU/EEA, checked against every organisation's and every
  disclosure recipient's country;
- the retention periods `rekisteri retention apply` enforces (server/rights/retention.py)
  and the access log's (`rekisteri audit drop-before`).

`gather` reads the database; `build_record` makes a language's document of it, and
`server.privacy.render` writes that as Markdown, HTML or PDF. A problem (a transfer outside
the EU/EEA, a purpose the notice does not name) is written at the top of the record and
makes `record.problems` non-empty: the command then exits non-zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from graphql import GraphQLObjectType, get_named_type
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.authz.decision import Access
from server.authz.policy import CompiledPolicy
from server.db.tables import table_of
from server.organisations.models import Organisation, OrganisationKind
from server.privacy.notice import CONTROLLER, purpose_wording, unnamed_purposes
from server.privacy.transfers import refusal
from server.rights import retention
from server.rights.models import Disclosure, DisclosureCustomer

organisation_table = table_of(Organisation)
disclosure_table = table_of(Disclosure)
disclosure_customer_table = table_of(DisclosureCustomer)

# Result wrappers of mutations hold no data of their own.
WRAPPER_SUFFIX = "Payload"

# ------------------------------------------------------------------ the document model


@dataclass
class Block:
    """A paragraph, a bullet list, a table or an alert (a problem, shown loudly)."""

    kind: str  # "p" | "list" | "table" | "alert"
    text: str = ""
    items: list[str] = field(default_factory=list)
    header: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2


@dataclass
class RecordDocument:
    language: str
    title: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    problems: list[str]


# ------------------------------------------------------------------------ the facts


@dataclass(frozen=True)
class OrganisationFact:
    code: str
    name: str
    business_id: str | None
    kind: str
    country: str
    description: str


@dataclass(frozen=True)
class DisclosureFact:
    legal_basis: str
    recipient_kind: str
    country: str
    disclosures: int
    people: int
    first: date
    last: date


@dataclass(frozen=True)
class RegisterFacts:
    organisations: list[OrganisationFact]
    disclosures: list[DisclosureFact]


async def gather(session: AsyncSession) -> RegisterFacts:
    """What the database holds about recipients (no personal data: organisations, and
    disclosures counted per legal basis)."""
    organisations = [
        OrganisationFact(
            row.code, row.name, row.business_id, row.kind, row.country, row.description
        )
        for row in await session.execute(
            select(organisation_table).order_by(
                organisation_table.c.kind, organisation_table.c.code
            )
        )
    ]
    d = disclosure_table
    dc = disclosure_customer_table
    statement = (
        select(
            d.c.legal_basis,
            d.c.recipient_kind,
            d.c.recipient_country,
            func.count(func.distinct(d.c.id)),
            func.count(func.distinct(dc.c.customer_id)),
            func.min(d.c.disclosed_on),
            func.max(d.c.disclosed_on),
        )
        .select_from(d.outerjoin(dc, dc.c.disclosure_id == d.c.id))
        .group_by(d.c.legal_basis, d.c.recipient_kind, d.c.recipient_country)
        .order_by(d.c.legal_basis, d.c.recipient_kind, d.c.recipient_country)
    )
    disclosures = [DisclosureFact(*row) for row in await session.execute(statement)]
    return RegisterFacts(organisations, disclosures)


# ------------------------------------------------------------------------- wording

TEXT: dict[str, dict[str, str]] = {
    "title": {
        "fi": "Seloste käsittelytoimista (tietosuoja-asetus 30 art.)",
        "en": "Record of processing activities (GDPR Art. 30)",
    },
    "register": {"fi": "Rekisteri", "en": "Register"},
    "as_of": {"fi": "Laadittu", "en": "Written on"},
    "policy": {"fi": "Käyttöoikeuspolitiikan versio", "en": "Access policy version"},
    "problems": {"fi": "HUOMIO: selosteessa on puutteita", "en": "WARNING: problems found"},
    "controller": {"fi": "1. Rekisterinpitäjä", "en": "1. Controller"},
    "contact": {
        "fi": "Yhteyshenkilö rekisteriasioissa",
        "en": "Contact person for register matters",
    },
    "business_id": {"fi": "Y-tunnus", "en": "Business ID"},
    "address": {"fi": "Osoite", "en": "Address"},
    "phone": {"fi": "Puhelin", "en": "Phone"},
    "purposes": {
        "fi": "2. Käsittelyn tarkoitukset ja tietoryhmät",
        "en": "2. Purposes of processing and categories of data",
    },
    "purposes_intro": {
        "fi": "Tarkoitukset ovat käyttöoikeuspolitiikan (policies/purposes.csv) ja "
        "tietosuojaselosteen kohdan 4 mukaiset. Kunkin tarkoituksen alla luetellaan roolit, "
        "jotka voivat toimia sen nojalla, ja tiedot (GraphQL-tyyppi: kentät), jotka "
        "politiikka antaa roolin lukea; (peitetty) = näytetään vain osittain, "
        "* = henkilötieto.",
        "en": "The purposes are those of the access policy (policies/purposes.csv) and the "
        "privacy notice's section 4. Under each purpose: the roles that may act under it and "
        "the data (GraphQL type: fields) the policy lets the role read; (masked) = shown "
        "only in part, * = personal data.",
    },
    "duty": {
        "fi": "Ei tietosuojaselosteen kohdassa 4: rekisterinpitäjän lakisääteinen velvoite.",
        "en": "Not in section 4 of the privacy notice: a legal duty of the controller.",
    },
    "unnamed": {
        "fi": "Tietosuojaselosteen kohta 4 ei mainitse tätä tarkoitusta.",
        "en": "Section 4 of the privacy notice does not name this purpose.",
    },
    "unnamed_problem": {
        "fi": "Politiikka sallii tarkoituksen {purpose}, jota tietosuojaselosteen kohta 4 "
        "ei mainitse.",
        "en": "The policy grants purpose {purpose}, which section 4 of the privacy notice "
        "does not name.",
    },
    "rows": {"fi": "Rivit", "en": "Rows"},
    "policy_purpose": {"fi": "Politiikan tarkoitus", "en": "Policy purpose"},
    "masked": {"fi": "peitetty", "en": "masked"},
    "nothing": {"fi": "ei tietoja", "en": "no data"},
    "subjects": {
        "fi": "Rekisteröidyt: asiakkaat (henkilö- ja yritysasiakkaat yhteyshenkilöineen) ja "
        "potentiaaliset asiakkaat, jotka ovat antaneet markkinointi- ja yhteydenottoluvan "
        "(tietosuojaseloste kohdat 5 ja 6).",
        "en": "Data subjects: customers (people, and organisations' contact persons) and "
        "prospects who gave consent to marketing and contact (privacy notice sections 5 "
        "and 6).",
    },
    "recipients": {"fi": "3. Vastaanottajat", "en": "3. Recipients"},
    "recipients_intro": {
        "fi": "Organisaatiot, joille tietoja voidaan antaa, lajeittain (tietokannasta), ja "
        "tehdyt luovutukset oikeusperusteittain (tietosuojaseloste kohta 7).",
        "en": "The organisations data may be given to, by kind (from the database), and the "
        "disclosures made, by legal basis (privacy notice section 7).",
    },
    "organisations": {"fi": "Organisaatiot", "en": "Organisations"},
    "disclosures": {"fi": "Luovutukset oikeusperusteittain", "en": "Disclosures by legal basis"},
    "no_disclosures": {"fi": "Luovutuksia ei ole kirjattu.", "en": "No disclosures recorded."},
    "no_organisations": {"fi": "Ei organisaatioita.", "en": "No organisations."},
    "name": {"fi": "Nimi", "en": "Name"},
    "code": {"fi": "Tunnus", "en": "Code"},
    "country": {"fi": "Maa", "en": "Country"},
    "what": {"fi": "Tehtävä", "en": "What it does"},
    "legal_basis": {"fi": "Oikeusperuste", "en": "Legal basis"},
    "recipient_kind": {"fi": "Vastaanottaja", "en": "Recipient"},
    "count": {"fi": "Luovutuksia", "en": "Disclosures"},
    "people": {"fi": "Henkilöitä", "en": "People"},
    "period": {"fi": "Ajalla", "en": "Period"},
    "transfers": {
        "fi": "4. Siirrot EU:n tai ETA:n ulkopuolelle",
        "en": "4. Transfers outside the EU/EEA",
    },
    "no_transfers": {
        "fi": "Tietoja ei siirretä EU:n tai ETA:n ulkopuolelle (tietosuojaseloste kohta 8). "
        "Tarkistettu: organisaatioiden ({organisations}) ja luovutusten vastaanottajien "
        "({disclosures} ryhmää) maat; kaikki ovat EU:ssa tai ETA:ssa ({countries}).",
        "en": "No data is transferred outside the EU or EEA (privacy notice section 8). "
        "Checked: the countries of the organisations ({organisations}) and of the "
        "disclosures' recipients ({disclosures} groups); all are inside the EU/EEA "
        "({countries}).",
    },
    "outside": {
        "fi": "{what} {name} on maassa {country}, EU:n/ETA:n ulkopuolella, vaikka "
        "tietosuojaselosteen kohdan 8 mukaan tietoja ei siirretä sinne.",
        "en": "{what} {name} is in {country}, outside the EU/EEA, although the privacy "
        "notice (section 8) transfers no data there.",
    },
    "organisation": {"fi": "Organisaatio", "en": "Organisation"},
    "disclosure_group": {
        "fi": "Luovutusten vastaanottaja",
        "en": "The recipient of disclosures under",
    },
    "retention": {"fi": "5. Säilytysajat", "en": "5. Retention periods"},
    "retention_intro": {
        "fi": "Säilytysajat, joita `rekisteri retention apply` noudattaa "
        "(server/rights/retention.py), ja lokin säilytys (`rekisteri audit drop-before`).",
        "en": "The periods `rekisteri retention apply` enforces (server/rights/retention.py), "
        "and the access log's (`rekisteri audit drop-before`).",
    },
    "ret_contact": {
        "fi": "Entiset asiakkaat: kun asiakkuus on päättynyt ja viimeinen saatava maksettu, "
        "{days} päivän kuluttua poistetaan kentät {fields}; kulutustiedot; avoimet "
        "tarjoukset; käsittelijöiden muistiinpanot; ja samat arvot muutoshistoriasta. "
        "Asiakas merkitään anonymisoiduksi.",
        "en": "Former customers: {days} days after the customer relationship has ended and "
        "the last claim is settled, these go: the fields {fields}; the consumption series; "
        "open offers; the handlers' notes; and the same values in the change history. "
        "The customer is marked anonymised.",
    },
    "ret_vouchers": {
        "fi": "Kirjanpitoaineisto (laskut, suoritukset, vakuudet, perintä): {years} vuotta "
        "sen kalenterivuoden lopusta, jona tilikausi päättyi (tilikausi päättyy "
        "{month}. kuussa; kirjanpitolaki 2:10).",
        "en": "Accounting vouchers (invoices, payments, deposits, collection): {years} years "
        "from the end of the calendar year in which the financial year ended (the "
        "financial year ends in month {month}; Accounting Act 2:10).",
    },
    "ret_identity": {
        "fi": "Kun viimeinenkin kirjanpitoaineisto on poistettu: {fields}.",
        "en": "When the last voucher has gone: {fields}.",
    },
    "ret_prospects": {
        "fi": "Potentiaaliset asiakkaat: poistetaan, kun lupa päättyy, viimeistään "
        "{months} kuukauden kuluttua tallentamisesta.",
        "en": "Prospects: erased when their consent expires, at the latest {months} months "
        "after they were stored.",
    },
    "ret_log": {
        "fi": "Käyttöloki: {months} kuukautta (kuukausiosiot poistetaan sen jälkeen).",
        "en": "Access log: {months} months (older monthly partitions are dropped).",
    },
}

KINDS: dict[str, dict[str, str]] = {
    OrganisationKind.COMPANY: {"fi": "Rekisterinpitäjä (yhtiö)", "en": "The controller"},
    OrganisationKind.SUBCONTRACTOR: {"fi": "Alihankkijat", "en": "Subcontractors"},
    OrganisationKind.PARTNER: {"fi": "Yhteistyökumppanit", "en": "Partners"},
    OrganisationKind.AUTHORITY: {"fi": "Viranomaiset", "en": "Authorities"},
    OrganisationKind.ENERGY_COMPANY: {"fi": "Energiayhtiöt", "en": "Energy companies"},
}
RECIPIENT_KINDS = {
    "authority": {"fi": "viranomainen", "en": "authority"},
    "energy_company": {"fi": "energiayhtiö", "en": "energy company"},
}


def _t(key: str, language: str, **values: Any) -> str:
    return TEXT[key][language].format(**values)


# ------------------------------------------------------------------- the categories


def data_fields(schema: Any) -> dict[str, set[str]]:
    """Per GraphQL type, its fields that hold data (not relations to other objects)."""
    found: dict[str, set[str]] = {}
    for name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        scalars = set()
        for field_name, graphql_field in graphql_type.fields.items():
            if not isinstance(get_named_type(graphql_field.type), GraphQLObjectType):
                scalars.add(field_name)
        found[name] = scalars
    return found


def categories(
    policy: CompiledPolicy, role: str, purpose: str, fields_of: dict[str, set[str]], language: str
) -> list[str]:
    """'Type: field, field (masked), ...' for each type the role reads anything of."""
    grant = policy.grants.get((role, purpose))
    if grant is None:
        return []
    by_type: dict[str, list[str]] = defaultdict(list)
    for coordinate in sorted(grant.fields):
        access = grant.fields[coordinate]
        type_name, _, name = coordinate.partition(".")
        if type_name.endswith(WRAPPER_SUFFIX) or name not in fields_of.get(type_name, set()):
            continue
        shown = name + ("*" if coordinate in policy.catalogue.personal_data else "")
        if access is Access.MASK:
            shown += f" ({_t('masked', language)})"
        by_type[type_name].append(shown)
    return [f"{type_name}: {', '.join(names)}" for type_name, names in sorted(by_type.items())]


# ------------------------------------------------------------------------ the record


def build_record(
    *,
    policy: CompiledPolicy,
    facts: RegisterFacts,
    schema: Any,
    language: str,
    today: date,
    log_retention_months: int,
) -> RecordDocument:
    problems: list[str] = []
    for purpose in unnamed_purposes(policy):
        problems.append(_t("unnamed_problem", language, purpose=purpose))

    controller = Section(
        _t("controller", language),
        [
            Block(
                "list",
                items=[
                    CONTROLLER.name,
                    f"{_t('business_id', language)}: {CONTROLLER.business_id}",
                    f"{_t('address', language)}: {CONTROLLER.address}",
                    f"{_t('phone', language)}: {CONTROLLER.phone}",
                    CONTROLLER.website,
                    f"{_t('contact', language)}: {CONTROLLER.contact_name}, "
                    f"{CONTROLLER.contact_email}, {CONTROLLER.contact_phone}",
                ],
            )
        ],
    )

    purposes = Section(
        _t("purposes", language),
        [Block("p", _t("purposes_intro", language)), Block("p", _t("subjects", language))],
    )
    fields_of = data_fields(schema)
    sections = [controller, purposes]
    for purpose, description in policy.purposes.items():
        wording, named = purpose_wording(purpose, language)
        blocks = [Block("p", f"{_t('policy_purpose', language)}: `{purpose}` ({description})")]
        if not named:
            duty = wording != ""
            blocks.append(
                Block("p" if duty else "alert", _t("duty" if duty else "unnamed", language))
            )
        for role in sorted(policy.roles):
            if purpose not in policy.role_purposes.get(role, frozenset()):
                continue
            grant = policy.grants[(role, purpose)]
            rows = ", ".join(
                f"{type_name} ({'+'.join(scopes)})"
                for type_name, scopes in sorted(grant.scopes.items())
            )
            items = categories(policy, role, purpose, fields_of, language) or [
                _t("nothing", language)
            ]
            if rows:
                items.append(f"{_t('rows', language)}: {rows}")
            blocks.append(Block("p", f"**{role}**: {policy.roles[role].description}"))
            blocks.append(Block("list", items=items))
        sections.append(Section(wording or description, blocks, level=3))

    recipients = Section(_t("recipients", language), [Block("p", _t("recipients_intro", language))])
    sections.append(recipients)
    by_kind: dict[str, list[OrganisationFact]] = defaultdict(list)
    for organisation in facts.organisations:
        by_kind[organisation.kind].append(organisation)
    if not facts.organisations:
        recipients.blocks.append(Block("p", _t("no_organisations", language)))
    for kind in OrganisationKind:
        members = by_kind.get(kind.value)
        if not members:
            continue
        recipients.blocks.append(Block("p", f"**{KINDS[kind][language]}**"))
        recipients.blocks.append(
            Block(
                "table",
                header=tuple(
                    _t(k, language) for k in ("name", "code", "business_id", "country", "what")
                ),
                rows=[
                    (o.name, o.code, o.business_id or "-", o.country, o.description or "-")
                    for o in members
                ],
            )
        )
    recipients.blocks.append(Block("p", f"**{_t('disclosures', language)}**"))
    if facts.disclosures:
        recipients.blocks.append(
            Block(
                "table",
                header=tuple(
                    _t(k, language)
                    for k in (
                        "legal_basis",
                        "recipient_kind",
                        "country",
                        "count",
                        "people",
                        "period",
                    )
                ),
                rows=[
                    (
                        d.legal_basis,
                        RECIPIENT_KINDS.get(d.recipient_kind, {}).get(language, d.recipient_kind),
                        d.country,
                        str(d.disclosures),
                        str(d.people),
                        f"{d.first.isoformat()} - {d.last.isoformat()}",
                    )
                    for d in facts.disclosures
                ],
            )
        )
    else:
        recipients.blocks.append(Block("p", _t("no_disclosures", language)))

    transfers = Section(_t("transfers", language))
    sections.append(transfers)
    outside: list[str] = []
    for organisation in facts.organisations:
        if refusal(organisation.country) is not None:
            outside.append(
                _t(
                    "outside",
                    language,
                    what=_t("organisation", language),
                    name=f"{organisation.name} ({organisation.code})",
                    country=organisation.country,
                )
            )
    for disclosure in facts.disclosures:
        if refusal(disclosure.country) is not None:
            outside.append(
                _t(
                    "outside",
                    language,
                    what=_t("disclosure_group", language),
                    name=f"«{disclosure.legal_basis}»",
                    country=disclosure.country,
                )
            )
    if outside:
        transfers.blocks.extend(Block("alert", line) for line in outside)
        problems.extend(outside)
    else:
        countries = sorted(
            {o.country for o in facts.organisations} | {d.country for d in facts.disclosures}
        )
        transfers.blocks.append(
            Block(
                "p",
                _t(
                    "no_transfers",
                    language,
                    organisations=len(facts.organisations),
                    disclosures=len(facts.disclosures),
                    countries=", ".join(countries) or "-",
                ),
            )
        )

    rules = retention.RetentionRules(today=today)
    contact_fields = ", ".join(f"Customer.{name}" for name in retention.CONTACT.fields)
    identity_fields = ", ".join(f"Customer.{name}" for name in retention.IDENTITY.fields)
    sections.append(
        Section(
            _t("retention", language),
            [
                Block("p", _t("retention_intro", language)),
                Block(
                    "list",
                    items=[
                        _t(
                            "ret_contact",
                            language,
                            days=rules.settle_grace_days,
                            fields=contact_fields,
                        ),
                        _t(
                            "ret_vouchers",
                            language,
                            years=rules.voucher_years,
                            month=rules.fiscal_year_end_month,
                        ),
                        _t("ret_identity", language, fields=identity_fields),
                        _t("ret_prospects", language, months=rules.prospect_months),
                        _t("ret_log", language, months=log_retention_months),
                    ],
                ),
            ],
        )
    )
    return RecordDocument(
        language=language,
        title=_t("title", language),
        facts=[
            (_t("register", language), CONTROLLER.register.of(language)),
            (_t("as_of", language), today.isoformat()),
            (_t("policy", language), policy.version),
        ],
        sections=sections,
        problems=problems,
    )
