"""The access report (GDPR Art. 15, privacy notice section 10): everything held about one
person, their objections and consents, disclosures about them, and the dates and purposes
of every access from the access log. One document, exported as JSON or PDF and returned
by `dataSubjectReport`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import false, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.billing.models import (
    CollectionCase,
    CollectionCaseInvoice,
    Invoice,
    InvoiceLine,
    Payment,
    SecurityDeposit,
)
from server.contracts.models import Contract, Offer, Product
from server.customers.models import Customer
from server.imports.models import ImportProvenance, ImportSource
from server.organisations.models import Assignment, Organisation
from server.prospects.models import Prospect
from server.rights.labels import CONTROLLER, label, purpose_label, section_title
from server.rights.models import ChangeRecord, DataSubjectRequest, Disclosure, DisclosureCustomer
from server.sites.loaders import consumption_sql
from server.sites.models import Site
from server.sites.service import LOCAL_TIME

LANGUAGES = ("fi", "en")


def _t(model: Any) -> Any:
    return model.__table__


customer_t, site_t = _t(Customer), _t(Site)
contract_t, offer_t, product_t = _t(Contract), _t(Offer), _t(Product)
invoice_t, line_t, payment_t = _t(Invoice), _t(InvoiceLine), _t(Payment)
deposit_t, case_t, case_invoice_t = (
    _t(SecurityDeposit),
    _t(CollectionCase),
    _t(CollectionCaseInvoice),
)
assignment_t, organisation_t, prospect_t = _t(Assignment), _t(Organisation), _t(Prospect)
change_t, request_t = _t(ChangeRecord), _t(DataSubjectRequest)
disclosure_t, disclosure_customer_t = _t(Disclosure), _t(DisclosureCustomer)
provenance_t, import_source_t = _t(ImportProvenance), _t(ImportSource)

CUSTOMER_FIELDS = (
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
)
SITE_FIELDS = (
    "metering_point_id",
    "street_address",
    "postal_code",
    "post_office",
    "housing_type",
    "ownership",
    "heating_type",
    "heating_depends_on_electricity",
    "annual_consumption_estimate_kwh",
    "main_fuse",
    "connection_id",
    "grid_operator",
    "connection_power_kw",
    "connected_on",
)
CONTRACT_FIELDS = (
    "contract_number",
    "product_name",
    "energy_price_c_per_kwh",
    "spot_margin_c_per_kwh",
    "basic_fee_eur_per_month",
    "start_date",
    "end_date",
    "status",
    "sales_channel",
)
OFFER_FIELDS = (
    "product_name",
    "energy_price_c_per_kwh",
    "spot_margin_c_per_kwh",
    "basic_fee_eur_per_month",
    "valid_until",
    "status",
    "created_at",
)
INVOICE_FIELDS = (
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
PAYMENT_FIELDS = ("invoice_number", "paid_on", "amount", "reference_number", "source")
DEPOSIT_FIELDS = ("amount", "received_on", "returned_on", "status", "reason")
CASE_FIELDS = ("stage", "opened_on", "closed_on", "amount_due", "agency_name", "invoice_numbers")
ASSIGNMENT_FIELDS = (
    "organisation_name",
    "target",
    "purpose",
    "valid_from",
    "valid_to",
    "revoked_at",
)
DISCLOSURE_FIELDS = (
    "recipient",
    "recipient_kind",
    "legal_basis",
    "case_reference",
    "disclosed_on",
    "fields",
)
REQUEST_FIELDS = (
    "request_number",
    "kind",
    "channel",
    "received_on",
    "due_on",
    "extended_due_on",
    "status",
    "completed_on",
)
PROSPECT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "source",
    "campaign",
    "marketing_consent_at",
    "consent_text",
    "consent_expires_on",
)


# Report columns that are shown under another GraphQL field of the type (or are no field
# of it: None). Every other column is the snake_case form of its GraphQL field.
GRAPHQL_RENAMES: dict[str, dict[str, str | None]] = {
    "Customer": {"former_customer_since": None},
    "Contract": {"product_name": "product"},
    "Offer": {"product_name": "product"},
    "Payment": {"invoice_number": None},
    "CollectionCase": {"agency_name": "agency", "invoice_numbers": "invoices"},
    "Assignment": {"organisation_name": None, "target": None},
}
OBJECTION_FIELDS = (
    "directMarketingObjectionAt",
    "directMarketingObjectionSource",
    "distanceSellingObjectionAt",
    "distanceSellingObjectionSource",
    "researchObjectionAt",
    "researchObjectionSource",
    "processingRestrictedAt",
)
LINE_FIELDS = (
    "lineNumber",
    "description",
    "quantity",
    "unit",
    "unitPrice",
    "amountExclVat",
    "vatRate",
)
CHANGE_FIELDS = ("changedAt", "action", "reason", "changes")
FIELD_CHANGE_FIELDS = ("fieldName", "oldValue", "newValue")
ACCESS_ENTRY_FIELDS = ("at", "purpose", "operations", "dataCategories")


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def graphql_fields(type_name: str, columns: Sequence[str]) -> list[str]:
    """The GraphQL field names of `type_name` that show these report columns."""
    renames = GRAPHQL_RENAMES.get(type_name, {})
    names: list[str] = []
    for column in columns:
        name = renames[column] if column in renames else camel_case(column)
        if name is not None and name not in names:
            names.append(name)
    return names


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
        type_name: str,
        object_id: Any,
        customer_id: uuid.UUID | None,
        columns: Sequence[str],
        *,
        prospect_id: uuid.UUID | None = None,
    ) -> None:
        """`columns` are report columns (snake_case), mapped to GraphQL field names."""
        self.add_fields(
            type_name,
            object_id,
            customer_id,
            graphql_fields(type_name, columns),
            prospect_id=prospect_id,
        )

    def add_fields(
        self,
        type_name: str,
        object_id: Any,
        customer_id: uuid.UUID | None,
        fields: Sequence[str],
        *,
        prospect_id: uuid.UUID | None = None,
    ) -> None:
        """`fields` are GraphQL field names of `type_name`."""
        self.objects.append(
            ReportObject(type_name, str(object_id), customer_id, tuple(fields), prospect_id)
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


def _item(
    title: str, row: Mapping[str, Any], names: Sequence[str], language: str, *, item_id: Any = None
) -> dict[str, Any]:
    return {
        "id": str(item_id) if item_id is not None else None,
        "title": title,
        "fields": [
            {"name": name, "label": label(name, language), "value": plain(row.get(name))}
            for name in names
        ],
    }


def _section(key: str, language: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "title": section_title(key, language), "items": items}


async def _rows(session: AsyncSession, statement: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in (await session.execute(statement)).mappings().all()]


async def customer_row(session: AsyncSession, customer_id: uuid.UUID) -> dict[str, Any] | None:
    rows = await _rows(session, select(customer_t).where(customer_t.c.id == customer_id))
    return rows[0] if rows else None


# Monthly totals of every series of the sites, aggregated as Site.consumption does.
_MONTHLY = text(
    consumption_sql("MONTH", sites="= ANY(:site_ids)", start="'-infinity'", end="'infinity'")
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
    touched = ReportAccess()
    person = await customer_row(session, customer_id)
    if person is None:
        raise LookupError("no such customer")
    sections: list[dict[str, Any]] = []

    # Basic data of the customer (notice section 5, first item)
    name = " ".join(
        p for p in (person["first_name"], person["last_name"], person["organisation_name"]) if p
    )
    sections.append(_section("customer", lang, [_item(name, person, CUSTOMER_FIELDS, lang)]))
    touched.add("Customer", customer_id, customer_id, CUSTOMER_FIELDS)

    objections = []
    for kind in ("direct_marketing", "distance_selling", "research"):
        at, source = person[f"{kind}_objection_at"], person[f"{kind}_objection_source"]
        objections.append(
            _item(
                label(f"objection_{kind}", lang),
                {"in_force": at is not None, "since": at, "source": source},
                ("in_force", "since", "source"),
                lang,
            )
        )
    objections.append(
        _item(
            label("processing_restriction", lang),
            {
                "in_force": person["processing_restricted_at"] is not None,
                "since": person["processing_restricted_at"],
            },
            ("in_force", "since"),
            lang,
        )
    )
    contacts = [c for c in (person["email"], person["phone"]) if c]
    prospects = (
        await _rows(
            session,
            select(prospect_t).where(
                or_(prospect_t.c.email.in_(contacts), prospect_t.c.phone.in_(contacts))
            ),
        )
        if contacts
        else []
    )
    for prospect in prospects:
        objections.append(
            _item(
                label("marketing_consent", lang),
                prospect,
                PROSPECT_FIELDS,
                lang,
                item_id=prospect["id"],
            )
        )
    sections.append(_section("objections", lang, objections))
    touched.add_fields("Customer", customer_id, customer_id, OBJECTION_FIELDS)
    for prospect in prospects:
        touched.add("Prospect", prospect["id"], None, PROSPECT_FIELDS, prospect_id=prospect["id"])

    # Usage sites and consumption
    sites = await _rows(
        session,
        select(site_t)
        .where(site_t.c.customer_id == customer_id)
        .order_by(site_t.c.metering_point_id),
    )
    sections.append(
        _section(
            "sites",
            lang,
            [_item(s["street_address"], s, SITE_FIELDS, lang, item_id=s["id"]) for s in sites],
        )
    )
    for s in sites:
        touched.add("Site", s["id"], customer_id, SITE_FIELDS)
    monthly = (
        await _rows(session, _MONTHLY.bindparams(site_ids=[s["id"] for s in sites]))
        if sites
        else []
    )
    by_site = {s["id"]: s for s in sites}
    consumption_items = []
    for site in sites:
        months = [m for m in monthly if m["site_id"] == site["id"]]
        for m in months:
            m["month"] = m["period_start"].astimezone(LOCAL_TIME).date()
        if months:
            consumption_items.append(
                {
                    "id": str(site["id"]),
                    "title": f"{by_site[site['id']]['metering_point_id']}",
                    "fields": [
                        {
                            "name": m["month"].strftime("%Y-%m"),
                            "label": m["month"].strftime("%Y-%m"),
                            "value": f"{plain(m['energy_kwh'])} kWh",
                        }
                        for m in months
                    ],
                }
            )
            touched.add_fields(
                "ConsumptionPoint", site["id"], customer_id, ("periodStart", "energyKwh")
            )
    sections.append(_section("consumption", lang, consumption_items))

    # Contracts, offers and products with their prices
    contracts = await _rows(
        session,
        select(contract_t, product_t.c.name.label("product_name"))
        .join(product_t, product_t.c.id == contract_t.c.product_id)
        .where(contract_t.c.customer_id == customer_id)
        .order_by(contract_t.c.start_date.desc()),
    )
    sections.append(
        _section(
            "contracts",
            lang,
            [
                _item(
                    f"{c['contract_number']} {c['product_name']}",
                    c,
                    CONTRACT_FIELDS,
                    lang,
                    item_id=c["id"],
                )
                for c in contracts
            ],
        )
    )
    offers = await _rows(
        session,
        select(offer_t, product_t.c.name.label("product_name"))
        .join(product_t, product_t.c.id == offer_t.c.product_id)
        .where(offer_t.c.customer_id == customer_id)
        .order_by(offer_t.c.created_at.desc()),
    )
    sections.append(
        _section(
            "offers",
            lang,
            [_item(o["product_name"], o, OFFER_FIELDS, lang, item_id=o["id"]) for o in offers],
        )
    )
    for c in contracts:
        touched.add("Contract", c["id"], customer_id, CONTRACT_FIELDS)
    for o in offers:
        touched.add("Offer", o["id"], customer_id, OFFER_FIELDS)

    # Billing and payment data
    invoices = await _rows(
        session,
        select(invoice_t)
        .where(invoice_t.c.customer_id == customer_id)
        .order_by(invoice_t.c.issue_date.desc(), invoice_t.c.invoice_number.desc()),
    )
    invoice_ids = [i["id"] for i in invoices]
    lines = (
        await _rows(
            session,
            select(line_t)
            .where(line_t.c.invoice_id.in_(invoice_ids))
            .order_by(line_t.c.invoice_id, line_t.c.line_number),
        )
        if invoice_ids
        else []
    )
    invoice_items = []
    for invoice in invoices:
        item = _item(
            str(invoice["invoice_number"]), invoice, INVOICE_FIELDS, lang, item_id=invoice["id"]
        )
        for line in (entry for entry in lines if entry["invoice_id"] == invoice["id"]):
            touched.add_fields(
                "InvoiceLine",
                f"{invoice['id']}:{line['line_number']}",
                customer_id,
                LINE_FIELDS,
            )
            item["fields"].append(
                {
                    "name": f"line_{line['line_number']}",
                    "label": f"{label('line', lang)} {line['line_number']}",
                    "value": f"{line['description']}: {plain(line['quantity'])} {line['unit']} "
                    f"x {plain(line['unit_price'])} = {plain(line['amount_excl_vat'])} "
                    f"+ {plain(line['vat_rate'])} %",
                }
            )
        invoice_items.append(item)
        touched.add("Invoice", invoice["id"], customer_id, INVOICE_FIELDS)
    sections.append(_section("invoices", lang, invoice_items))
    payments = (
        await _rows(
            session,
            select(payment_t, invoice_t.c.invoice_number)
            .join(invoice_t, invoice_t.c.id == payment_t.c.invoice_id)
            .where(payment_t.c.invoice_id.in_(invoice_ids))
            .order_by(payment_t.c.paid_on.desc()),
        )
        if invoice_ids
        else []
    )
    sections.append(
        _section(
            "payments",
            lang,
            [
                _item(plain(p["paid_on"]), p, PAYMENT_FIELDS, lang, item_id=p["id"])
                for p in payments
            ],
        )
    )
    for p in payments:
        touched.add("Payment", p["id"], customer_id, PAYMENT_FIELDS)
    deposits = await _rows(
        session,
        select(deposit_t)
        .where(deposit_t.c.customer_id == customer_id)
        .order_by(deposit_t.c.received_on.desc()),
    )
    sections.append(
        _section(
            "deposits",
            lang,
            [
                _item(plain(d["received_on"]), d, DEPOSIT_FIELDS, lang, item_id=d["id"])
                for d in deposits
            ],
        )
    )
    for d in deposits:
        touched.add("SecurityDeposit", d["id"], customer_id, DEPOSIT_FIELDS)
    cases = await _rows(
        session,
        select(
            case_t,
            organisation_t.c.name.label("agency_name"),
            select(func.array_agg(invoice_t.c.invoice_number))
            .join(case_invoice_t, case_invoice_t.c.invoice_id == invoice_t.c.id)
            .where(case_invoice_t.c.collection_case_id == case_t.c.id)
            .scalar_subquery()
            .label("invoice_numbers"),
        )
        .outerjoin(organisation_t, organisation_t.c.id == case_t.c.agency_id)
        .where(case_t.c.customer_id == customer_id)
        .order_by(case_t.c.opened_on.desc()),
    )
    sections.append(
        _section(
            "collection",
            lang,
            [_item(plain(c["opened_on"]), c, CASE_FIELDS, lang, item_id=c["id"]) for c in cases],
        )
    )
    for c in cases:
        touched.add("CollectionCase", c["id"], customer_id, CASE_FIELDS)

    # Who else may handle the data: assignments, and disclosures (notice section 7)
    site_ids = [s["id"] for s in sites]
    assignments = await _rows(
        session,
        select(assignment_t, organisation_t.c.name.label("organisation_name"))
        .join(organisation_t, organisation_t.c.id == assignment_t.c.organisation_id)
        .where(
            or_(
                assignment_t.c.customer_id == customer_id,
                assignment_t.c.site_id.in_(site_ids) if site_ids else false(),
            )
        )
        .order_by(assignment_t.c.valid_from.desc()),
    )
    for a in assignments:
        a["target"] = (
            by_site[a["site_id"]]["metering_point_id"]
            if a["site_id"] in by_site
            else label("customer_relationship", lang)
        )
        a["purpose"] = purpose_label(a["purpose"], lang, purposes)
    for a in assignments:
        touched.add("Assignment", a["id"], customer_id, ASSIGNMENT_FIELDS)
        touched.add_fields("Organisation", a["organisation_id"], None, ("name",))
    sections.append(
        _section(
            "assignments",
            lang,
            [
                _item(a["organisation_name"], a, ASSIGNMENT_FIELDS, lang, item_id=a["id"])
                for a in assignments
            ],
        )
    )
    disclosures = await _rows(
        session,
        select(disclosure_t)
        .join(disclosure_customer_t, disclosure_customer_t.c.disclosure_id == disclosure_t.c.id)
        .where(disclosure_customer_t.c.customer_id == customer_id, ~disclosure_t.c.confidential)
        .order_by(disclosure_t.c.disclosed_on.desc()),
    )
    for d in disclosures:
        touched.add("Disclosure", f"{d['id']}:{customer_id}", customer_id, DISCLOSURE_FIELDS)
    sections.append(
        _section(
            "disclosures",
            lang,
            [
                _item(d["recipient"], d, DISCLOSURE_FIELDS, lang, item_id=d["id"])
                for d in disclosures
            ],
        )
    )

    # The person's own requests and the history of corrections
    requests = await _rows(
        session,
        select(request_t)
        .where(request_t.c.customer_id == customer_id)
        .order_by(request_t.c.received_on.desc()),
    )
    for r in requests:
        touched.add("DataSubjectRequest", r["id"], customer_id, REQUEST_FIELDS)
    sections.append(
        _section(
            "requests",
            lang,
            [
                _item(str(r["request_number"]), r, REQUEST_FIELDS, lang, item_id=r["id"])
                for r in requests
            ],
        )
    )
    changes = await _rows(
        session,
        select(change_t)
        .where(change_t.c.customer_id == customer_id)
        .order_by(change_t.c.changed_at.desc()),
    )
    history_items = []
    for change in changes:
        old, new = change["old_values"] or {}, change["new_values"] or {}
        touched.add_fields("CustomerChange", change["id"], customer_id, CHANGE_FIELDS)
        for key in sorted(set(old) | set(new)):
            touched.add_fields(
                "FieldChange", f"{change['id']}:{key}", customer_id, FIELD_CHANGE_FIELDS
            )
        history_items.append(
            {
                "id": str(change["id"]),
                "title": f"{plain(change['changed_at'])} {label(change['action'], lang)}",
                "fields": [
                    {"name": "reason", "label": label("reason", lang), "value": change["reason"]},
                    *[
                        {
                            "name": key,
                            "label": label(_snake(key), lang),
                            "value": f"{_shown(old.get(key))} -> {_shown(new.get(key))}",
                        }
                        for key in sorted(set(old) | set(new))
                    ],
                ],
            }
        )
    sections.append(_section("history", lang, history_items))

    # Where the data came from: the imported files that wrote it (privacy notice section 6).
    # Metadata of the objects shown above, which are logged as read.
    prospect_ids = [p["id"] for p in prospects]
    sections.append(
        _section("sources", lang, await _source_items(session, customer_id, prospect_ids, lang))
    )

    # Every access from the access log: when and for which purpose (not who)
    access_items = []
    for entry in access_entries or []:
        touched.add_fields("AccessHistoryEntry", entry.get("id"), customer_id, ACCESS_ENTRY_FIELDS)
        access_items.append(
            {
                "id": str(entry.get("id")),
                "title": plain(entry.get("at")),
                "fields": [
                    {"name": "at", "label": label("at", lang), "value": plain(entry.get("at"))},
                    {
                        "name": "purpose",
                        "label": label("purpose", lang),
                        "value": purpose_label(entry.get("purpose"), lang, purposes),
                    },
                    {
                        "name": "operations",
                        "label": label("operations", lang),
                        "value": plain(entry.get("operations")),
                    },
                    {
                        "name": "data_categories",
                        "label": label("data_categories", lang),
                        "value": _categories(entry.get("data_categories"), lang),
                    },
                ],
            }
        )
    access_section = _section("access", lang, access_items)
    access_section["available"] = access_entries is not None
    sections.append(access_section)

    document = {
        "kind": "data_subject_access_report",
        "language": lang,
        "generatedAt": plain(generated_at),
        "controller": CONTROLLER[lang],
        "customerId": str(customer_id),
        "customerNumber": person["customer_number"],
        "subject": name,
        "sections": sections,
    }
    return document, touched


SOURCE_FIELDS = ("import_kind", "source", "file_name", "file_sha256", "imported_at", "data")
SERIES_FIELDS = ("resolution", "first_step", "last_step", "values_added", "values_revised")


async def _source_items(
    session: AsyncSession, customer_id: uuid.UUID, prospect_ids: list[Any], lang: str
) -> list[dict[str, Any]]:
    """One item per imported file and object it wrote about the person, newest first."""
    p, s = provenance_t.c, import_source_t.c
    rows = await _rows(
        session,
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
        .where(or_(p.customer_id == customer_id, p.prospect_id.in_(prospect_ids)))
        .order_by(s.finished_at.desc(), p.id),
    )
    items = []
    for row in rows:
        row["data"] = ", ".join(label(_snake(name), lang) for name in row["fields"])
        kind = row["import_kind"]
        row["import_kind"] = label(kind, lang)
        names = SOURCE_FIELDS + (SERIES_FIELDS if row["resolution"] else ())
        title = f"{plain(row['imported_at'])} {row['import_kind']}"
        items.append(_item(title, row, names, lang, item_id=row["id"]))
    return items


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


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _shown(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)
