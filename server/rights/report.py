"""The access report (GDPR Art. 15, privacy notice section 10): everything held about one
person, their objections and consents, disclosures about them, and the dates and purposes
of every access from the access log. One document, exported as JSON or PDF and returned
by `dataSubjectReport`.

The report is a table of sections (`SECTIONS`), in the order the document shows them.
Most list the rows of one query, an item per row with the same columns (`RowSection`);
the others compute their items (`ComputedSection`). Every section names the GraphQL
fields that show its columns, and everything shown is put in the access log under them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.coordinates import LoggedFields, logged, stored_columns
from server.audit.types import AccessHistoryEntry
from server.billing import types as billing_types
from server.contracts import types as contract_types
from server.customers import types as customer_types
from server.organisations import types as organisation_types
from server.prospects import types as prospect_types
from server.rights import types as rights_types
from server.rights.labels import CONTROLLER, field_label, label, purpose_label, section_title
from server.rights.tables import (
    assignment_t,
    case_invoice_t,
    case_t,
    change_t,
    contract_t,
    customer_t,
    deposit_t,
    disclosure_customer_t,
    disclosure_t,
    import_source_t,
    invoice_t,
    line_t,
    offer_t,
    organisation_t,
    payment_t,
    product_t,
    prospect_t,
    provenance_t,
    request_t,
    site_t,
)
from server.sites import types as site_types
from server.sites.consumption import LOCAL_TIME
from server.sites.loaders import consumption_sql

LANGUAGES = ("fi", "en")


Row = dict[str, Any]
Item = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Columns:
    """Report columns (keys of the rows, also the keys of their labels) and the GraphQL
    fields of their type that show them, as the access log names them."""

    names: tuple[str, ...]
    logged: LoggedFields


def columns(
    strawberry_type: type[Any], *names: str, shown_as: Mapping[str, str | None] | None = None
) -> Columns:
    return Columns(names, logged(strawberry_type, *names, shown_as=shown_as))


CUSTOMER = columns(
    customer_types.Customer,
    "customer_number",
    "kind",
    "first_name",
    "last_name",
    "organisation_name",
    "personal_identity_code",
    "business_id",
    "street_address",
    "postal_code",
    "post_office",
    "country",
    "email",
    "phone",
    "language",
    "created_at",
    "updated_at",
    "former_customer_since",
    shown_as={"former_customer_since": None},  # not in the schema
)
OBJECTIONS = logged(
    customer_types.Customer,
    "direct_marketing_objection_at",
    "direct_marketing_objection_source",
    "distance_selling_objection_at",
    "distance_selling_objection_source",
    "research_objection_at",
    "research_objection_source",
    "processing_restricted_at",
)
OBJECTION_KINDS = ("direct_marketing", "distance_selling", "research")
# A marketing consent shows everything held about the prospect but when it was stored.
PROSPECT = columns(
    prospect_types.Prospect,
    *(c for c in stored_columns(prospect_types.Prospect) if c != "created_at"),
)
# A site shows everything held about it but when it was registered and last changed.
SITE = columns(
    site_types.Site,
    *(c for c in stored_columns(site_types.Site) if c not in ("created_at", "updated_at")),
)
MONTH = logged(site_types.ConsumptionPoint, "period_start", "energy_kwh")
PRICES = (
    "product_name",
    "energy_price_c_per_kwh",
    "spot_margin_c_per_kwh",
    "basic_fee_eur_per_month",
)
CONTRACT = columns(
    contract_types.Contract,
    "contract_number",
    *PRICES,
    "start_date",
    "end_date",
    "status",
    "sales_channel",
    shown_as={"product_name": "product"},
)
OFFER = columns(
    contract_types.Offer,
    *PRICES,
    "valid_until",
    "status",
    "created_at",
    shown_as={"product_name": "product"},
)
INVOICE = columns(
    billing_types.Invoice,
    "invoice_number",
    "reference_number",
    "billing_method",
    "issue_date",
    "due_date",
    "period_start",
    "period_end",
    "total_excl_vat",
    "vat_amount",
    "total_incl_vat",
    "status",
)
LINE = logged(
    billing_types.InvoiceLine,
    "line_number",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "amount_excl_vat",
    "vat_rate",
)
PAYMENT = columns(
    billing_types.Payment,
    "invoice_number",
    "paid_on",
    "amount",
    "reference_number",
    "source",
    shown_as={"invoice_number": None},  # the invoice's, logged with the invoice
)
DEPOSIT = columns(
    billing_types.SecurityDeposit, "amount", "received_on", "returned_on", "status", "reason"
)
CASE = columns(
    billing_types.CollectionCase,
    "stage",
    "opened_on",
    "closed_on",
    "amount_due",
    "agency_name",
    "invoice_numbers",
    shown_as={"agency_name": "agency", "invoice_numbers": "invoices"},
)
ASSIGNMENT = columns(
    organisation_types.Assignment,
    "organisation_name",
    "target",
    "purpose",
    "valid_from",
    "valid_to",
    "revoked_at",
    # The organisation's name is logged as Organisation.name, the site as the site shown.
    shown_as={"organisation_name": None, "target": None},
)
ORGANISATION_NAME = logged(organisation_types.Organisation, "name")
DISCLOSURE = columns(
    rights_types.Disclosure,
    "recipient",
    "recipient_kind",
    "legal_basis",
    "case_reference",
    "disclosed_on",
    "fields",
)
REQUEST = columns(
    rights_types.DataSubjectRequest,
    "request_number",
    "kind",
    "channel",
    "received_on",
    "due_on",
    "extended_due_on",
    "status",
    "completed_on",
)
CHANGE = logged(rights_types.CustomerChange, "changed_at", "action", "reason", "changes")
FIELD_CHANGE = logged(rights_types.FieldChange, "field_name", "old_value", "new_value")
ACCESS_ENTRY = logged(AccessHistoryEntry, "at", "purpose", "operations", "data_categories")
SOURCE_FIELDS = ("import_kind", "source", "file_name", "file_sha256", "imported_at", "data")
SERIES_FIELDS = ("resolution", "first_step", "last_step", "values_added", "values_revised")


@dataclass(frozen=True, slots=True)
class ReportObject:
    """One object the report shows, with the GraphQL fields of its type it shows."""

    type_name: str
    object_id: str
    customer_id: uuid.UUID | None
    fields: tuple[str, ...]
    prospect_id: uuid.UUID | None = None


@dataclass
class ReportAccess:
    """What producing the report read, for the access log: every object it shows, by its
    GraphQL type and the GraphQL names of the fields shown (Customer.personalIdentityCode
    is logged as type Customer, field personalIdentityCode)."""

    objects: list[ReportObject] = field(default_factory=list)

    def add(
        self,
        shown: LoggedFields,
        object_id: Any,
        customer_id: uuid.UUID | None,
        *,
        prospect_id: uuid.UUID | None = None,
    ) -> None:
        self.objects.append(
            ReportObject(shown.type_name, str(object_id), customer_id, shown.fields, prospect_id)
        )


def plain(value: Any) -> Any:
    """A JSON value: dates as ISO text, money as text with its decimals."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def _field(name: str, label_text: str, value: Any) -> dict[str, Any]:
    return {"name": name, "label": label_text, "value": value}


def _item(
    title: str, row: Mapping[str, Any], names: Sequence[str], language: str, *, item_id: Any = None
) -> Item:
    return {
        "id": str(item_id) if item_id is not None else None,
        "title": title,
        "fields": [_field(name, label(name, language), plain(row.get(name))) for name in names],
    }


async def _rows(session: AsyncSession, statement: Any) -> list[Row]:
    return [dict(r) for r in (await session.execute(statement)).mappings().all()]


async def customer_row(session: AsyncSession, customer_id: uuid.UUID) -> Row | None:
    rows = await _rows(session, select(customer_t).where(customer_t.c.id == customer_id))
    return rows[0] if rows else None


@dataclass
class Draft:
    """A report being made: the person, what was read so far, and what the log records."""

    session: AsyncSession
    customer_id: uuid.UUID
    person: Row
    lang: str
    purposes: Mapping[str, str] | None
    access_entries: Sequence[Mapping[str, Any]] | None
    touched: ReportAccess = field(default_factory=ReportAccess)
    loaded: dict[str, list[Row]] = field(default_factory=dict)  # rows by section key
    prospects: list[Row] = field(default_factory=list)
    lines: dict[Any, list[Row]] = field(default_factory=dict)  # invoice lines by invoice

    @property
    def name(self) -> str:
        parts = ("first_name", "last_name", "organisation_name")
        return " ".join(self.person[p] for p in parts if self.person[p])

    def shown(self, fields: LoggedFields, object_id: Any) -> None:
        """Log an object of the person shown with these fields."""
        self.touched.add(fields, object_id, self.customer_id)

    def ids(self, key: str) -> list[Any]:
        return [row["id"] for row in self.loaded.get(key, [])]


@dataclass(frozen=True, slots=True)
class RowSection:
    """A section with an item per row of one query, every item with the same columns.
    `prepare` runs on the rows before the items are made (reading what they need);
    `details` gives an item's fields after its columns."""

    key: str
    columns: Columns
    query: Callable[[Draft], Select[Any] | None]  # None: there is nothing to read
    title: Callable[[Row], Any]
    prepare: Callable[[Draft, list[Row]], Awaitable[None]] | None = None
    details: Callable[[Draft, Row], list[dict[str, Any]]] | None = None
    object_id: Callable[[Draft, Row], Any] = lambda draft, row: row["id"]

    async def items(self, draft: Draft) -> list[Item]:
        statement = self.query(draft)
        rows = await _rows(draft.session, statement) if statement is not None else []
        draft.loaded[self.key] = rows
        if self.prepare is not None:
            await self.prepare(draft, rows)
        items = []
        for row in rows:
            item = _item(self.title(row), row, self.columns.names, draft.lang, item_id=row["id"])
            if self.details is not None:
                item["fields"].extend(self.details(draft, row))
            items.append(item)
            draft.shown(self.columns.logged, self.object_id(draft, row))
        return items


@dataclass(frozen=True, slots=True)
class ComputedSection:
    """A section whose items a function makes (and logs)."""

    key: str
    make: Callable[[Draft], Awaitable[list[Item]]]

    async def items(self, draft: Draft) -> list[Item]:
        return await self.make(draft)


# -- queries -------------------------------------------------------------------------------


def _of_customer(table: Any, *order: Any) -> Callable[[Draft], Select[Any]]:
    """The rows of `table` that belong to the person, in this order."""
    return lambda draft: (
        select(table).where(table.c.customer_id == draft.customer_id).order_by(*order)
    )


def _priced(table: Any, newest_first: Any) -> Callable[[Draft], Select[Any]]:
    """Contracts or offers of the person, with their product's name."""
    return lambda draft: (
        select(table, product_t.c.name.label("product_name"))
        .join(product_t, product_t.c.id == table.c.product_id)
        .where(table.c.customer_id == draft.customer_id)
        .order_by(newest_first.desc())
    )


def _payments(draft: Draft) -> Select[Any] | None:
    invoice_ids = draft.ids("invoices")
    if not invoice_ids:
        return None
    return (
        select(payment_t, invoice_t.c.invoice_number)
        .join(invoice_t, invoice_t.c.id == payment_t.c.invoice_id)
        .where(payment_t.c.invoice_id.in_(invoice_ids))
        .order_by(payment_t.c.paid_on.desc())
    )


def _cases(draft: Draft) -> Select[Any]:
    invoice_numbers = (
        select(func.array_agg(invoice_t.c.invoice_number))
        .join(case_invoice_t, case_invoice_t.c.invoice_id == invoice_t.c.id)
        .where(case_invoice_t.c.collection_case_id == case_t.c.id)
        .scalar_subquery()
        .label("invoice_numbers")
    )
    return (
        select(case_t, organisation_t.c.name.label("agency_name"), invoice_numbers)
        .outerjoin(organisation_t, organisation_t.c.id == case_t.c.agency_id)
        .where(case_t.c.customer_id == draft.customer_id)
        .order_by(case_t.c.opened_on.desc())
    )


def _assignments(draft: Draft) -> Select[Any]:
    site_ids = draft.ids("sites")
    of_sites: ColumnElement[bool] = assignment_t.c.site_id.in_(site_ids) if site_ids else false()
    return (
        select(assignment_t, organisation_t.c.name.label("organisation_name"))
        .join(organisation_t, organisation_t.c.id == assignment_t.c.organisation_id)
        .where(or_(assignment_t.c.customer_id == draft.customer_id, of_sites))
        .order_by(assignment_t.c.valid_from.desc())
    )


def _disclosures(draft: Draft) -> Select[Any]:
    return (
        select(disclosure_t)
        .join(disclosure_customer_t, disclosure_customer_t.c.disclosure_id == disclosure_t.c.id)
        .where(
            disclosure_customer_t.c.customer_id == draft.customer_id, ~disclosure_t.c.confidential
        )
        .order_by(disclosure_t.c.disclosed_on.desc())
    )


# -- what some sections add to their rows --------------------------------------------------


async def _read_lines(draft: Draft, invoices: list[Row]) -> None:
    """The lines of the invoices, each logged as an InvoiceLine."""
    invoice_ids = [i["id"] for i in invoices]
    if not invoice_ids:
        return
    lines = await _rows(
        draft.session,
        select(line_t)
        .where(line_t.c.invoice_id.in_(invoice_ids))
        .order_by(line_t.c.invoice_id, line_t.c.line_number),
    )
    for line in lines:
        draft.lines.setdefault(line["invoice_id"], []).append(line)
        draft.shown(LINE, f"{line['invoice_id']}:{line['line_number']}")


def _line_fields(draft: Draft, invoice: Row) -> list[dict[str, Any]]:
    return [
        _field(
            f"line_{line['line_number']}",
            f"{label('line', draft.lang)} {line['line_number']}",
            f"{line['description']}: {plain(line['quantity'])} {line['unit']} "
            f"x {plain(line['unit_price'])} = {plain(line['amount_excl_vat'])} "
            f"+ {plain(line['vat_rate'])} %",
        )
        for line in draft.lines.get(invoice["id"], [])
    ]


async def _name_targets(draft: Draft, assignments: list[Row]) -> None:
    """What each assignment covers (a site or the customer relationship) and its purpose
    in words; the organisation's name is logged as read."""
    by_site = {s["id"]: s for s in draft.loaded["sites"]}
    for a in assignments:
        site = by_site.get(a["site_id"])
        a["target"] = (
            site["metering_point_id"] if site else label("customer_relationship", draft.lang)
        )
        a["purpose"] = purpose_label(a["purpose"], draft.lang, draft.purposes)
        draft.touched.add(ORGANISATION_NAME, a["organisation_id"], None)


# -- computed sections ---------------------------------------------------------------------


async def _customer(draft: Draft) -> list[Item]:
    """Basic data of the customer (notice section 5, first item)."""
    draft.shown(CUSTOMER.logged, draft.customer_id)
    return [_item(draft.name, draft.person, CUSTOMER.names, draft.lang)]


def _objection(title: str, since: Any, source: Any, names: Sequence[str], lang: str) -> Item:
    return _item(
        title, {"in_force": since is not None, "since": since, "source": source}, names, lang
    )


async def _objections(draft: Draft) -> list[Item]:
    """Objections in force, the restriction of processing, and marketing consents given
    as a prospect (with the person's e-mail address or phone number)."""
    person, lang = draft.person, draft.lang
    items = [
        _objection(
            label(f"objection_{kind}", lang),
            person[f"{kind}_objection_at"],
            person[f"{kind}_objection_source"],
            ("in_force", "since", "source"),
            lang,
        )
        for kind in OBJECTION_KINDS
    ]
    restricted = person["processing_restricted_at"]
    items.append(
        _objection(
            label("processing_restriction", lang), restricted, None, ("in_force", "since"), lang
        )
    )
    draft.prospects = await _prospects(draft)
    consent = label("marketing_consent", lang)
    items.extend(_item(consent, p, PROSPECT.names, lang, item_id=p["id"]) for p in draft.prospects)
    draft.shown(OBJECTIONS, draft.customer_id)
    for p in draft.prospects:
        draft.touched.add(PROSPECT.logged, p["id"], None, prospect_id=p["id"])
    return items


async def _prospects(draft: Draft) -> list[Row]:
    contacts = [c for c in (draft.person["email"], draft.person["phone"]) if c]
    if not contacts:
        return []
    return await _rows(
        draft.session,
        select(prospect_t).where(
            or_(prospect_t.c.email.in_(contacts), prospect_t.c.phone.in_(contacts))
        ),
    )


# Monthly totals of every series of the sites, aggregated as Site.consumption does.
_MONTHLY = text(
    consumption_sql("MONTH", sites="= ANY(:site_ids)", start="'-infinity'", end="'infinity'")
)


async def _consumption(draft: Draft) -> list[Item]:
    """Monthly consumption per site, logged as the site's ConsumptionPoints."""
    sites_shown = draft.loaded["sites"]
    site_ids = [s["id"] for s in sites_shown]
    monthly = await _rows(draft.session, _MONTHLY.bindparams(site_ids=site_ids)) if site_ids else []
    items = []
    for site in sites_shown:
        months = [m for m in monthly if m["site_id"] == site["id"]]
        if not months:
            continue
        items.append(
            {
                "id": str(site["id"]),
                "title": f"{site['metering_point_id']}",
                "fields": [_month_field(m) for m in months],
            }
        )
        draft.shown(MONTH, site["id"])
    return items


def _month_field(month: Row) -> dict[str, Any]:
    name = month["period_start"].astimezone(LOCAL_TIME).date().strftime("%Y-%m")
    return _field(name, name, f"{plain(month['energy_kwh'])} kWh")


async def _history(draft: Draft) -> list[Item]:
    """The history of corrections, newest first, each field with its old and new value."""
    changes = await _rows(
        draft.session,
        select(change_t)
        .where(change_t.c.customer_id == draft.customer_id)
        .order_by(change_t.c.changed_at.desc()),
    )
    return [_change_item(draft, change) for change in changes]


def _change_item(draft: Draft, change: Row) -> Item:
    old, new = change["old_values"] or {}, change["new_values"] or {}
    keys = sorted(set(old) | set(new))
    draft.shown(CHANGE, change["id"])
    for key in keys:
        draft.shown(FIELD_CHANGE, f"{change['id']}:{key}")
    lang = draft.lang
    return {
        "id": str(change["id"]),
        "title": f"{plain(change['changed_at'])} {label(change['action'], lang)}",
        "fields": [
            _field("reason", label("reason", lang), change["reason"]),
            *[
                _field(
                    key,
                    field_label(key, lang),
                    f"{_shown(old.get(key))} -> {_shown(new.get(key))}",
                )
                for key in keys
            ],
        ],
    }


async def _sources(draft: Draft) -> list[Item]:
    """One item per imported file and object it wrote about the person, newest first
    (privacy notice section 6): metadata of objects shown above, logged there."""
    p, s = provenance_t.c, import_source_t.c
    prospect_ids = [row["id"] for row in draft.prospects]
    rows = await _rows(
        draft.session,
        select(
            p.id,
            p.object_type,
            p.fields,
            *(p[name] for name in SERIES_FIELDS),
            s.kind.label("import_kind"),
            s.source,
            s.file_name,
            s.file_sha256,
            s.finished_at.label("imported_at"),
        )
        .join(import_source_t, s.id == p.source_id)
        .where(or_(p.customer_id == draft.customer_id, p.prospect_id.in_(prospect_ids)))
        .order_by(s.finished_at.desc(), p.id),
    )
    return [_source_item(row, draft.lang) for row in rows]


def _source_item(row: Row, lang: str) -> Item:
    row["data"] = ", ".join(field_label(name, lang) for name in row["fields"])
    row["import_kind"] = label(row["import_kind"], lang)
    names = SOURCE_FIELDS + (SERIES_FIELDS if row["resolution"] else ())
    title = f"{plain(row['imported_at'])} {row['import_kind']}"
    return _item(title, row, names, lang, item_id=row["id"])


async def _access(draft: Draft) -> list[Item]:
    """Every access from the access log: when and for which purpose (not who)."""
    return [_access_item(draft, entry) for entry in draft.access_entries or []]


def _access_item(draft: Draft, entry: Mapping[str, Any]) -> Item:
    draft.shown(ACCESS_ENTRY, entry.get("id"))
    lang = draft.lang
    return {
        "id": str(entry.get("id")),
        "title": plain(entry.get("at")),
        "fields": [
            _field("at", label("at", lang), plain(entry.get("at"))),
            _field(
                "purpose",
                label("purpose", lang),
                purpose_label(entry.get("purpose"), lang, draft.purposes),
            ),
            _field("operations", label("operations", lang), plain(entry.get("operations"))),
            _field(
                "data_categories",
                label("data_categories", lang),
                _categories(entry.get("data_categories"), lang),
            ),
        ],
    }


Section = RowSection | ComputedSection

SECTIONS: tuple[Section, ...] = (
    ComputedSection("customer", _customer),
    ComputedSection("objections", _objections),
    # Usage sites and consumption
    RowSection(
        "sites",
        SITE,
        _of_customer(site_t, site_t.c.metering_point_id),
        title=lambda s: s["street_address"],
    ),
    ComputedSection("consumption", _consumption),
    # Contracts, offers and products with their prices
    RowSection(
        "contracts",
        CONTRACT,
        _priced(contract_t, contract_t.c.start_date),
        title=lambda c: f"{c['contract_number']} {c['product_name']}",
    ),
    RowSection(
        "offers", OFFER, _priced(offer_t, offer_t.c.created_at), title=lambda o: o["product_name"]
    ),
    # Billing and payment data
    RowSection(
        "invoices",
        INVOICE,
        _of_customer(invoice_t, invoice_t.c.issue_date.desc(), invoice_t.c.invoice_number.desc()),
        title=lambda i: str(i["invoice_number"]),
        prepare=_read_lines,
        details=_line_fields,
    ),
    RowSection("payments", PAYMENT, _payments, title=lambda p: plain(p["paid_on"])),
    RowSection(
        "deposits",
        DEPOSIT,
        _of_customer(deposit_t, deposit_t.c.received_on.desc()),
        title=lambda d: plain(d["received_on"]),
    ),
    RowSection("collection", CASE, _cases, title=lambda c: plain(c["opened_on"])),
    # Who else may handle the data: assignments, and disclosures (notice section 7)
    RowSection(
        "assignments",
        ASSIGNMENT,
        _assignments,
        title=lambda a: a["organisation_name"],
        prepare=_name_targets,
    ),
    RowSection(
        "disclosures",
        DISCLOSURE,
        _disclosures,
        title=lambda d: d["recipient"],
        object_id=lambda draft, d: f"{d['id']}:{draft.customer_id}",
    ),
    # The person's own requests and the history of corrections
    RowSection(
        "requests",
        REQUEST,
        _of_customer(request_t, request_t.c.received_on.desc()),
        title=lambda r: str(r["request_number"]),
    ),
    ComputedSection("history", _history),
    # Where the data came from: the imported files that wrote it (privacy notice section 6)
    ComputedSection("sources", _sources),
    ComputedSection("access", _access),
)


async def build_report(
    *,
    session: AsyncSession,
    customer_id: uuid.UUID,
    access_entries: Sequence[Mapping[str, Any]] | None,
    language: str,
    generated_at: datetime,
    purposes: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], ReportAccess]:
    """The report document and the objects read to make it. `access_entries` are the
    access log's entries (None: the log could not be read)."""
    lang = language if language in LANGUAGES else "fi"
    person = await customer_row(session, customer_id)
    if person is None:
        raise LookupError("no such customer")
    draft = Draft(session, customer_id, person, lang, purposes, access_entries)
    sections: list[dict[str, Any]] = []
    for spec in SECTIONS:
        items = await spec.items(draft)
        sections.append({"key": spec.key, "title": section_title(spec.key, lang), "items": items})
    # The last section, the access log's, says whether the log could be read at all.
    sections[-1]["available"] = access_entries is not None
    document = {
        "kind": "data_subject_access_report",
        "language": lang,
        "generatedAt": plain(generated_at),
        "controller": CONTROLLER[lang],
        "customerId": str(customer_id),
        "customerNumber": person["customer_number"],
        "subject": draft.name,
        "sections": sections,
    }
    return document, draft.touched


CATEGORY_SECTIONS = {
    "Customer": "customer",
    "Site": "sites",
    "ConsumptionPoint": "consumption",
    "Contract": "contracts",
    "Offer": "offers",
    "Invoice": "invoices",
    "InvoiceLine": "invoices",
    "Payment": "payments",
    "SecurityDeposit": "deposits",
    "CollectionCase": "collection",
    "Assignment": "assignments",
    "Disclosure": "disclosures",
    "DataSubjectRequest": "requests",
    "CustomerChange": "history",
    "FieldChange": "history",
    "AccessHistoryEntry": "access",
}


def _categories(types: Any, language: str) -> list[str]:
    """Kinds of data as the report's own section titles (Customer -> Basic data)."""
    titles: list[str] = []
    for type_name in types or []:
        key = CATEGORY_SECTIONS.get(str(type_name))
        title = section_title(key, language) if key else str(type_name)
        if title not in titles:
            titles.append(title)
    return titles


def _shown(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)
