"""The seed's records as table rows, in the order the foreign keys need."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from server.billing.models import BillingMethod
from server.seed.consumption import ConsumptionRows, Series, Timeline
from server.seed.draws import HELSINKI, Draws
from server.seed.prices import Product
from server.seed.records import CollectionCase, Contract, Customer, Invoice, Site
from server.seed.results import Row, SeedData, TableRows
from server.seed.sites import ELECTRIC_HEATING

__all__ = ["Generated", "assemble"]

# (summary field, table, COPY columns), in foreign-key order.
_TABLES: Final[tuple[tuple[str, str, str], ...]] = (
    ("organisations", "organisation", "id code name business_id kind description created_at"),
    ("products", "product", "id code name kind fixed_term_months description"),
    ("prices", "price",
     "id product_id energy_price_c_per_kwh spot_margin_c_per_kwh basic_fee_eur_per_month "
     "vat_rate valid_from valid_to"),
    ("customers", "customer",
     "id customer_number kind first_name last_name organisation_name personal_identity_code "
     "business_id street_address postal_code post_office country email phone language "
     "direct_marketing_objection_at direct_marketing_objection_source "
     "distance_selling_objection_at distance_selling_objection_source research_objection_at "
     "research_objection_source former_customer_since created_at updated_at"),
    ("prospects", "prospect",
     "id first_name last_name email phone postal_code source campaign marketing_consent_at "
     "consent_text consent_expires_on created_at"),
    ("sites", "site",
     "id customer_id metering_point_id street_address postal_code post_office housing_type "
     "ownership heating_type heating_depends_on_electricity annual_consumption_estimate_kwh "
     "main_fuse connection_id grid_operator connection_power_kw connected_on created_at "
     "updated_at"),
    ("offers", "offer",
     "id customer_id prospect_id site_id product_id energy_price_c_per_kwh "
     "spot_margin_c_per_kwh basic_fee_eur_per_month valid_until status created_at"),
    ("contracts", "contract",
     "id contract_number customer_id site_id product_id offer_id energy_price_c_per_kwh "
     "spot_margin_c_per_kwh basic_fee_eur_per_month start_date end_date status sales_channel "
     "created_at"),
    ("consumption", "consumption", "site_id resolution day energy_kwh quality"),
    ("invoices", "invoice",
     "id invoice_number customer_id contract_id reference_number billing_method issue_date "
     "due_date period_start period_end total_excl_vat vat_amount total_incl_vat status "
     "created_at"),
    ("invoice_lines", "invoice_line",
     "invoice_id line_number description quantity unit unit_price vat_rate amount_excl_vat "
     "vat_amount"),
    ("payments", "payment", "id invoice_id paid_on amount reference_number source created_at"),
    ("security_deposits", "security_deposit",
     "id customer_id contract_id amount received_on returned_on status reason"),
    ("collection_cases", "collection_case",
     "id customer_id agency_id stage opened_on closed_on amount_due created_at"),
    ("collection_case_invoices", "collection_case_invoice", "collection_case_id invoice_id"),
    ("assignments", "assignment",
     "id organisation_id customer_id site_id purpose valid_from valid_to revoked_at created_at"),
)  # fmt: skip
_OBJECTIONS: Final = ("direct_marketing", "distance_selling", "research")


@dataclass(frozen=True, slots=True)
class Generated:
    """Everything a seed run decided, as records or (for the simple tables) rows."""

    organisation_rows: list[Row]
    products: list[Product]
    customers: list[Customer]
    sites: list[Site]
    contracts: list[Contract]  # in number order
    series: list[Series]
    timeline: Timeline
    offer_rows: list[Row]
    invoices: list[Invoice]  # in number order
    cases: list[CollectionCase]
    deposit_rows: list[Row]
    assignment_rows: list[Row]
    prospect_rows: list[Row]


def assemble(draws: Draws, generated: Generated) -> SeedData:
    """The rows of every table, and the highest explicit number of each numbered column."""
    rows = _rows_by_table(draws, generated)
    tables = tuple(
        TableRows(summary, table, tuple(columns.split()), rows[table], len(rows[table]))
        for summary, table, columns in _TABLES
    )
    return SeedData(tables, _max_numbers(generated))


def _rows_by_table(draws: Draws, g: Generated) -> dict[str, list[Row] | ConsumptionRows]:
    owner = {s.id: c.id for c in g.customers for s in c.sites}
    contract_site = {k.id: s.id for s in g.sites for k in s.contracts}
    return {
        "organisation": g.organisation_rows,
        "product": [_product_row(p) for p in g.products],
        "price": [
            (pr.id, p.id, pr.energy, pr.margin, pr.fee, pr.vat, pr.valid_from, pr.valid_to)
            for p in g.products
            for pr in p.prices
        ],
        "customer": [_customer_row(c) for c in g.customers],
        "prospect": g.prospect_rows,
        "site": [_site_row(s, owner[s.id]) for s in g.sites],
        "offer": g.offer_rows,
        "contract": [
            _contract_row(k, owner[contract_site[k.id]], contract_site[k.id], draws.today)
            for k in g.contracts
        ],
        "consumption": ConsumptionRows(g.series, g.timeline),
        "invoice": [_invoice_row(i) for i in g.invoices],
        "invoice_line": [line for i in g.invoices for line in _line_rows(i)],
        "payment": _payment_rows(draws, g.invoices),
        "security_deposit": g.deposit_rows,
        "collection_case": [_case_row(case) for case in g.cases],
        "collection_case_invoice": [(case.id, i.id) for case in g.cases for i in case.invoices],
        "assignment": g.assignment_rows,
    }


def _product_row(p: Product) -> Row:
    return (p.id, p.spec.code, p.spec.name, str(p.spec.kind), p.spec.term, p.spec.description)


def _customer_row(c: Customer) -> Row:
    updated = max([c.created_at, *(at for at, _ in c.objections.values())])
    if c.former_since is not None:
        updated = max(updated, c.former_since)
    objections: list[object] = []
    for key in _OBJECTIONS:
        at, source = c.objections.get(key, (None, None))
        objections += [at, source]
    return (
        c.id, c.number, str(c.kind), c.first_name, c.last_name, c.organisation_name, c.hetu,
        c.business_id, c.street, c.area.code, c.area.town, "FI", c.email, c.phone,
        str(c.language), *objections, c.former_since, c.created_at, updated,
    )  # fmt: skip


def _site_row(s: Site, customer_id: uuid.UUID) -> Row:
    created = datetime.combine(s.contracts[0].start - timedelta(days=14), time(17), HELSINKI)
    return (
        s.id, customer_id, s.gsrn, s.street, s.area.code, s.area.town, str(s.housing),
        str(s.ownership), str(s.heating), s.heating in ELECTRIC_HEATING, s.estimate, s.fuse,
        s.connection_id, s.area.grid_operator, s.power, s.connected_on, created, created,
    )  # fmt: skip


def _contract_row(k: Contract, customer_id: uuid.UUID, site_id: uuid.UUID, today: date) -> Row:
    signed = datetime.combine(min(k.start - timedelta(days=14), today), time(17), HELSINKI)
    return (
        k.id, k.number, customer_id, site_id, k.product.id, k.offer_id, k.energy, k.margin,
        k.fee, k.start, k.end, str(k.status), str(k.channel), signed,
    )  # fmt: skip


def _invoice_row(i: Invoice) -> Row:
    return (
        i.id, i.number, i.customer.id, i.contract.id, i.reference, i.customer.billing_method,
        i.issue, i.due, i.period_start, i.period_end, i.excl, i.vat, i.incl, str(i.status),
        datetime.combine(i.issue, time(3), HELSINKI),
    )  # fmt: skip


def _line_rows(i: Invoice) -> list[Row]:
    return [
        (i.id, number, line.description, line.quantity, line.unit, line.unit_price,
         line.vat_rate, line.amount, line.vat)
        for number, line in enumerate(i.lines, start=1)
    ]  # fmt: skip


def _payment_rows(draws: Draws, invoices: Sequence[Invoice]) -> list[Row]:
    """A payment of every paid invoice, in full, booked the next morning."""
    rows: list[Row] = []
    for i in invoices:
        if i.paid_on is None:
            continue
        direct = i.customer.billing_method == BillingMethod.DIRECT_PAYMENT
        rows.append(
            (draws.new_id(), i.id, i.paid_on, i.incl, i.reference,
             "direct_payment" if direct else "bank",
             datetime.combine(i.paid_on + timedelta(days=1), time(4), HELSINKI))
        )  # fmt: skip
    return rows


def _case_row(case: CollectionCase) -> Row:
    return (
        case.id, case.customer.id, case.agency_id, case.stage, case.opened_on, case.closed_on,
        case.amount_due, datetime.combine(case.opened_on, time(9), HELSINKI),
    )  # fmt: skip


def _max_numbers(g: Generated) -> dict[tuple[str, str], int]:
    """The highest customer, contract and invoice numbers (the identity sequences move
    past them)."""
    numbers: dict[tuple[str, str], int] = {}
    if g.customers:
        numbers[("customer", "customer_number")] = g.customers[-1].number
    if g.contracts:
        numbers[("contract", "contract_number")] = g.contracts[-1].number
    if g.invoices:
        numbers[("invoice", "invoice_number")] = g.invoices[-1].number
    return numbers
