"""The seed data on a real PostgreSQL: deterministic, valid, and consistent.

Two databases are cloned from the migrated template of ``conftest.py`` and seeded
with the same parameters (once per module: seeding takes a few seconds); the
refusal test seeds the per-test database of the ``owner`` fixture.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import asyncpg
import pytest

from server.seed import SeedError, SeedSummary, generate, seed_database
from server.seed.draws import HELSINKI
from server.seed.names import EMAIL_DOMAINS, POSTAL_AREAS
from server.seed.people import COMPANY_BUSINESS_ID
from server.seed.prices import vat_rate_on
from server.seed.sites import ELECTRIC_HEATING
from server.validators import (
    hetu_birth_date,
    make_reference,
    validate_business_id,
    validate_email,
    validate_gsrn,
    validate_hetu,
    validate_main_fuse,
    validate_phone,
    validate_reference,
)
from tests import dbserver, factories

TODAY = date(2026, 11, 24)  # fixed: the data must not depend on the day the tests run
CUSTOMERS = 300
SEED = 20261124

SUMMARY_TABLES = {
    "organisations": "organisation",
    "products": "product",
    "prices": "price",
    "customers": "customer",
    "prospects": "prospect",
    "sites": "site",
    "offers": "offer",
    "contracts": "contract",
    "consumption": "consumption",
    "invoices": "invoice",
    "invoice_lines": "invoice_line",
    "payments": "payment",
    "security_deposits": "security_deposit",
    "collection_cases": "collection_case",
    "collection_case_invoices": "collection_case_invoice",
    "assignments": "assignment",
}

# Every seeded table, with an ORDER BY that makes its rows' order total.
ORDERED_TABLES = {
    "organisation": "id",
    "product": "id",
    "price": "id",
    "customer": "id",
    "prospect": "id",
    "site": "id",
    "offer": "id",
    "contract": "id",
    "consumption": "site_id, resolution, day",
    "invoice": "id",
    "invoice_line": "invoice_id, line_number",
    "payment": "id",
    "security_deposit": "id",
    "collection_case": "id",
    "collection_case_invoice": "collection_case_id, invoice_id",
    "assignment": "id",
}


@dataclass
class Seeded:
    conn: asyncpg.Connection
    summary: SeedSummary
    organisations_before: int  # rows a migration may have added; the seed reuses them
    schema_before: list[str]


SCHEMA_QUERY = """
SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
ORDER BY 1
"""


async def _schema(conn: asyncpg.Connection) -> list[str]:
    return [row[0] for row in await conn.fetch(SCHEMA_QUERY)]


async def _seeded_database(server_url: str, template: str) -> AsyncIterator[Seeded]:
    async with dbserver.new_database(server_url, "rk_seed_test", template=template) as url:
        conn = await asyncpg.connect(url)
        try:
            before = await conn.fetchval("SELECT count(*) FROM organisation")
            schema = await _schema(conn)
            summary = await seed_database(conn, customers=CUSTOMERS, seed=SEED, today=TODAY)
            yield Seeded(conn, summary, before, schema)
        finally:
            await conn.close()


@pytest.fixture(scope="module")
async def seeded(server_url: str, template_database: str) -> AsyncIterator[Seeded]:
    async for value in _seeded_database(server_url, template_database):
        yield value


@pytest.fixture(scope="module")
async def seeded_again(server_url: str, template_database: str) -> AsyncIterator[Seeded]:
    async for value in _seeded_database(server_url, template_database):
        yield value


async def _table_hash(conn: asyncpg.Connection, table: str, order: str) -> str:
    value = await conn.fetchval(
        f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '')) FROM {table} AS t"
    )
    assert isinstance(value, str)
    return value


# --------------------------------------------------------------------------- determinism


async def test_same_seed_gives_identical_rows(seeded: Seeded, seeded_again: Seeded) -> None:
    assert seeded.summary == seeded_again.summary
    for table, order in ORDERED_TABLES.items():
        first = await _table_hash(seeded.conn, table, order)
        second = await _table_hash(seeded_again.conn, table, order)
        assert first == second, f"{table} differs between two seeds with the same parameters"


def test_generation_is_deterministic_and_depends_on_the_seed() -> None:
    def customer_rows(seed: int) -> list[tuple[object, ...]]:
        data = generate(customers=40, seed=seed, today=TODAY, consumption_share=0.05)
        return list(data.table("customer").rows)

    first = generate(customers=40, seed=1, today=TODAY)
    second = generate(customers=40, seed=1, today=TODAY)
    for a, b in zip(first.tables, second.tables, strict=True):
        assert list(a.rows) == list(b.rows), a.table
    assert customer_rows(1) != customer_rows(2)


# --------------------------------------------------------------------------- counts


async def test_summary_matches_the_tables(seeded: Seeded) -> None:
    counts = seeded.summary.as_dict()
    assert counts.keys() == SUMMARY_TABLES.keys()
    for field_name, table in SUMMARY_TABLES.items():
        expected = counts[field_name]
        if table == "organisation":
            expected += seeded.organisations_before
        assert await seeded.conn.fetchval(f"SELECT count(*) FROM {table}") == expected
    assert counts["customers"] == CUSTOMERS
    assert counts["prospects"] == CUSTOMERS // 20
    assert counts["organisations"] + seeded.organisations_before >= 8
    assert seeded.summary.total == sum(counts.values())
    text = str(seeded.summary)
    assert "customers" in text and f"{CUSTOMERS:,}" in text and "total" in text


async def test_constraints_and_indexes_are_as_migrated(seeded: Seeded) -> None:
    """The loader drops foreign keys and primary keys around big COPYs: all are back."""
    assert await _schema(seeded.conn) == seeded.schema_before
    assert any("consumption_pkey PRIMARY KEY" in line for line in seeded.schema_before)


async def test_number_sequences_continue_after_the_seeded_numbers(seeded: Seeded) -> None:
    for table, column, first in (
        ("customer", "customer_number", 100001),
        ("contract", "contract_number", 5000001),
        ("invoice", "invoice_number", 70000001),
    ):
        low, high, count = await seeded.conn.fetchrow(
            f"SELECT min({column}), max({column}), count(*) FROM {table}"
        )
        assert (low, high) == (first, first + count - 1)
        following = await seeded.conn.fetchval(
            "SELECT nextval(pg_get_serial_sequence($1, $2))", table, column
        )
        assert following == high + 1


async def test_refuses_a_database_that_has_customers(owner: asyncpg.Connection) -> None:
    # An organisation that already exists (as the identity tests create them) is reused.
    ksat = await factories.organisation(owner, code="ksat", kind="company")
    organisations_before = await owner.fetchval("SELECT count(*) FROM organisation")
    summary = await seed_database(owner, customers=25, seed=3, today=TODAY)
    assert summary.customers == 25
    assert summary.organisations + organisations_before == await owner.fetchval(
        "SELECT count(*) FROM organisation"
    )
    assert summary.organisations <= 7
    assert await owner.fetchval("SELECT count(*) FROM organisation WHERE code = 'ksat'") == 1
    before = await owner.fetchval("SELECT count(*) FROM invoice")
    with pytest.raises(SeedError, match="not empty"):
        await seed_database(owner, customers=25, seed=4, today=TODAY)
    assert await owner.fetchval("SELECT count(*) FROM customer") == 25
    assert await owner.fetchval("SELECT count(*) FROM invoice") == before
    assert ksat["id"] == await owner.fetchval("SELECT id FROM organisation WHERE code = 'ksat'")


# --------------------------------------------------------------------------- identifiers


async def test_every_identifier_is_valid(seeded: Seeded) -> None:
    conn = seeded.conn
    customers = await conn.fetch("SELECT * FROM customer")
    persons = [c for c in customers if c["kind"] == "person"]
    organisations = [c for c in customers if c["kind"] == "organisation"]
    assert 0.03 <= len(organisations) / len(customers) <= 0.15

    hetus = [c["personal_identity_code"] for c in persons]
    assert all(validate_hetu(h) == h for h in hetus)
    assert len(set(hetus)) == len(hetus)
    for person in persons:
        code = person["personal_identity_code"]
        birth = hetu_birth_date(code)
        assert 1930 <= birth.year <= TODAY.year - 18
        assert 2 <= int(code[7:10]) <= 899
        coming_of_age = date(birth.year + 18, birth.month, 28 if birth.day > 28 else birth.day)
        assert person["created_at"].astimezone(HELSINKI).date() >= coming_of_age
    business_ids = [c["business_id"] for c in organisations]
    assert all(validate_business_id(b) == b for b in business_ids)
    assert len(set(business_ids)) == len(business_ids)
    assert all(c["business_id"] is None for c in persons)
    assert all(c["personal_identity_code"] is None for c in organisations)

    areas = {a.code: a.town for a in POSTAL_AREAS}
    for c in customers:
        assert areas[c["postal_code"]] == c["post_office"]
        assert c["country"] == "FI"
        assert c["language"] in ("fi", "sv", "en")
        if c["email"] is not None:
            assert validate_email(c["email"]) == c["email"]
            assert c["email"].rsplit("@", 1)[1] in EMAIL_DOMAINS
        if c["phone"] is not None:
            assert validate_phone(c["phone"]) == c["phone"]
            assert re.fullmatch(r"\+358(40|41|44|45|50)\d{7}", c["phone"])

    orgs = {r["code"]: r for r in await conn.fetch("SELECT * FROM organisation")}
    assert orgs["ksat"]["business_id"] == COMPANY_BUSINESS_ID
    assert orgs["ksat"]["kind"] == "company"
    for code in ("perinta-a", "perinta-b", "kenttapalvelu-a", "kenttapalvelu-b"):
        assert orgs[code]["kind"] == "subcontractor"
    assert {r["kind"] for r in orgs.values()} == {
        "company", "subcontractor", "partner", "authority", "energy_company"
    }  # fmt: skip
    for org in orgs.values():
        if org["business_id"] is not None:
            assert validate_business_id(org["business_id"]) == org["business_id"]

    sites = await conn.fetch("SELECT * FROM site")
    for s in sites:
        assert validate_gsrn(s["metering_point_id"]) == s["metering_point_id"]
        assert s["metering_point_id"].startswith("643007127")
        assert validate_main_fuse(s["main_fuse"]) == s["main_fuse"]
        assert areas[s["postal_code"]] == s["post_office"]

    invoices = await conn.fetch("SELECT invoice_number, reference_number FROM invoice")
    for inv in invoices:
        assert inv["reference_number"] == make_reference(inv["invoice_number"])
        assert validate_reference(inv["reference_number"]) == inv["reference_number"]
    for ref in await conn.fetch("SELECT reference_number FROM payment"):
        assert validate_reference(ref[0]) == ref[0]


def test_all_century_signs_occur_in_a_larger_population() -> None:
    data = generate(customers=3000, seed=SEED, today=TODAY, consumption_share=0)
    table = data.table("customer")
    column = table.columns.index("personal_identity_code")
    codes = [row[column] for row in table.rows]
    signs = {code[6] for code in codes if isinstance(code, str)}
    assert {"-", "A"} <= signs
    assert signs & set("YXWVU"), "some 1900s codes use the new signs"
    assert signs & set("BCDEF"), "some 2000s codes use the new signs"


async def test_objections_are_recorded_with_time_and_source(seeded: Seeded) -> None:
    rows = await seeded.conn.fetch("SELECT * FROM customer")
    for kind in ("direct_marketing", "distance_selling", "research"):
        marked = [r for r in rows if r[f"{kind}_objection_at"] is not None]
        assert marked, kind
        assert len(marked) < len(rows) * 0.15
        for r in marked:
            source = r[f"{kind}_objection_source"]
            match = re.fullmatch(
                r"(kirje|puhelu|sähköposti|asiakaspalvelu|verkkopalvelu) (\S+)", source
            )
            assert match, source
            local_day = r[f"{kind}_objection_at"].astimezone(HELSINKI).date()
            assert date.fromisoformat(match.group(2)) == local_day
            assert local_day < TODAY
        unmarked = [r for r in rows if r[f"{kind}_objection_at"] is None]
        assert all(r[f"{kind}_objection_source"] is None for r in unmarked)


# --------------------------------------------------------------------------- products, sites


async def test_products_and_prices(seeded: Seeded) -> None:
    conn = seeded.conn
    kinds = {r["kind"] for r in await conn.fetch("SELECT kind FROM product")}
    assert kinds == {"spot", "fixed", "hybrid"}
    terms = {r[0] for r in await conn.fetch("SELECT fixed_term_months FROM product")}
    assert {12, 24, None} <= terms
    prices = await conn.fetch(
        "SELECT p.kind, pr.* FROM price pr JOIN product p ON p.id = pr.product_id"
    )
    for pr in prices:
        assert pr["vat_rate"] == vat_rate_on(pr["valid_from"])
        if pr["valid_from"] >= date(2024, 9, 1):
            assert pr["vat_rate"] == Decimal("25.50")
        elif date(2023, 5, 1) <= pr["valid_from"] < date(2024, 9, 1):
            assert pr["vat_rate"] == Decimal("24.00")
        assert Decimal("2") <= pr["basic_fee_eur_per_month"] <= Decimal("5")
        if pr["kind"] in ("spot", "hybrid"):
            assert Decimal("0.38") <= pr["spot_margin_c_per_kwh"] <= Decimal("0.69")
        else:
            assert pr["spot_margin_c_per_kwh"] is None
        if pr["kind"] in ("fixed", "hybrid"):
            assert Decimal("3") <= pr["energy_price_c_per_kwh"] <= Decimal("25")
        else:
            assert pr["energy_price_c_per_kwh"] is None
    # One price per product and day: the periods of a product never overlap.
    overlapping = await conn.fetchval(
        "SELECT count(*) FROM price a JOIN price b ON a.product_id = b.product_id AND a.id < b.id"
        " AND daterange(a.valid_from, a.valid_to, '[]')"
        " && daterange(b.valid_from, b.valid_to, '[]')"
    )
    assert overlapping == 0
    # Contracts copy the product's price on their start date.
    mismatched = await conn.fetchval(
        "SELECT count(*) FROM contract c JOIN price pr ON pr.product_id = c.product_id"
        " AND c.start_date BETWEEN pr.valid_from AND coalesce(pr.valid_to, 'infinity')"
        " WHERE c.energy_price_c_per_kwh IS DISTINCT FROM pr.energy_price_c_per_kwh"
        " OR c.spot_margin_c_per_kwh IS DISTINCT FROM pr.spot_margin_c_per_kwh"
        " OR c.basic_fee_eur_per_month <> pr.basic_fee_eur_per_month"
    )
    assert mismatched == 0


async def test_sites_are_consistent(seeded: Seeded) -> None:
    conn = seeded.conn
    per_customer = await conn.fetch(
        "SELECT c.id, count(s.id) AS n FROM customer c LEFT JOIN site s ON s.customer_id = c.id"
        " GROUP BY c.id"
    )
    assert all(1 <= r["n"] <= 3 for r in per_customer)
    for s in await conn.fetch("SELECT * FROM site"):
        assert s["heating_depends_on_electricity"] == (s["heating_type"] in ELECTRIC_HEATING)
        assert s["annual_consumption_estimate_kwh"] > 0
        assert s["connection_id"] and s["grid_operator"]
        assert s["connected_on"] < TODAY
    estimates = await conn.fetch(
        "SELECT housing_type, heating_depends_on_electricity AS electric,"
        " avg(annual_consumption_estimate_kwh)::int AS avg FROM site GROUP BY 1, 2"
    )
    by_kind = {(r["housing_type"], r["electric"]): r["avg"] for r in estimates}
    assert 1_500 <= by_kind[("apartment_block", False)] <= 2_500
    if ("detached_house", False) in by_kind:
        assert 3_800 <= by_kind[("detached_house", False)] <= 6_300
    assert by_kind[("detached_house", True)] > by_kind[("detached_house", False)]


async def test_contracts(seeded: Seeded) -> None:
    conn = seeded.conn
    statuses = await conn.fetch("SELECT status, count(*) FROM contract GROUP BY 1")
    counts = {r[0]: r[1] for r in statuses}
    assert counts["active"] > counts.get("ended", 0) > 0
    assert counts.get("terminated", 0) > 0
    channels = {r[0] for r in await conn.fetch("SELECT DISTINCT sales_channel FROM contract")}
    assert {"web", "phone", "field", "customer_service"} <= channels
    for c in await conn.fetch("SELECT * FROM contract"):
        if c["status"] in ("ended", "terminated"):
            assert c["end_date"] is not None and c["end_date"] < TODAY
        elif c["status"] == "active":
            assert c["start_date"] <= TODAY and (c["end_date"] is None or c["end_date"] >= TODAY)
        else:
            assert c["start_date"] > TODAY
    no_phone = await conn.fetchval(
        "SELECT count(*) FROM contract k JOIN customer c ON c.id = k.customer_id"
        " WHERE c.distance_selling_objection_at IS NOT NULL AND k.sales_channel = 'phone'"
    )
    assert no_phone == 0
    overlapping = await conn.fetchval(
        "SELECT count(*) FROM contract a JOIN contract b ON a.site_id = b.site_id AND a.id < b.id"
        " AND daterange(a.start_date, a.end_date, '[]')"
        " && daterange(b.start_date, b.end_date, '[]')"
    )
    assert overlapping == 0, "a site has one contract at a time"


# --------------------------------------------------------------------------- consumption


async def test_consumption(seeded: Seeded) -> None:
    conn = seeded.conn
    sites = seeded.summary.sites
    hourly_sites = await conn.fetchval(
        "SELECT count(DISTINCT site_id) FROM consumption_value WHERE resolution = 'PT1H'"
    )
    assert hourly_sites == max(1, round(sites * 0.05))
    quarter_sites = await conn.fetchval(
        "SELECT count(DISTINCT site_id) FROM consumption_value WHERE resolution = 'PT15M'"
    )
    assert quarter_sites >= 1
    spans = await conn.fetch(
        "SELECT site_id, resolution, count(*) AS n, min(period_start) AS first,"
        " max(period_start) AS last FROM consumption_value GROUP BY 1, 2"
    )
    start = datetime.combine(TODAY - timedelta(days=365), datetime.min.time(), HELSINKI)
    end = datetime.combine(TODAY, datetime.min.time(), HELSINKI)
    hours = int((end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(hours=1))
    for span in spans:
        if span["resolution"] == "PT1H":
            assert (span["n"], span["first"], span["last"]) == (
                hours,
                start,
                end - timedelta(hours=1),
            )
        else:
            assert span["first"] == datetime.combine(
                TODAY - timedelta(days=30), datetime.min.time(), HELSINKI
            )
            assert span["last"] == end - timedelta(minutes=15)
    qualities = {r[0] for r in await conn.fetch("SELECT DISTINCT quality FROM consumption_value")}
    assert "measured" in qualities and qualities <= {"measured", "estimated", "revised"}
    measured_share = await conn.fetchval(
        "SELECT avg((quality = 'measured')::int) FROM consumption_value"
    )
    assert measured_share > 0.95
    # The quarter-hours add up to the hour they belong to.
    mismatched = await conn.fetchval(
        "SELECT count(*) FROM consumption_value h JOIN ("
        "  SELECT site_id, date_trunc('hour', period_start) AS hour, sum(energy_kwh) AS total"
        "  FROM consumption_value WHERE resolution = 'PT15M' GROUP BY 1, 2"
        ") q ON q.site_id = h.site_id AND q.hour = h.period_start"
        " WHERE h.resolution = 'PT1H' AND q.total <> h.energy_kwh"
    )
    assert mismatched == 0
    # The year's total is close to the site's annual estimate.
    ratios = await conn.fetch(
        "SELECT sum(c.energy_kwh) / s.annual_consumption_estimate_kwh AS ratio FROM consumption_value c"
        " JOIN site s ON s.id = c.site_id WHERE c.resolution = 'PT1H' GROUP BY s.id"
    )
    assert all(Decimal("0.85") <= r["ratio"] <= Decimal("1.15") for r in ratios)


# --------------------------------------------------------------------------- billing


async def test_invoice_totals_add_up(seeded: Seeded) -> None:
    conn = seeded.conn
    invoices = {r["id"]: r for r in await conn.fetch("SELECT * FROM invoice")}
    lines: dict[object, list[asyncpg.Record]] = {}
    for line in await conn.fetch("SELECT * FROM invoice_line ORDER BY invoice_id, line_number"):
        lines.setdefault(line["invoice_id"], []).append(line)
    assert invoices.keys() == lines.keys()
    for invoice_id, inv in invoices.items():
        assert inv["total_incl_vat"] == inv["total_excl_vat"] + inv["vat_amount"]
        assert inv["total_incl_vat"] > 0
        its_lines = lines[invoice_id]
        assert [line["line_number"] for line in its_lines] == list(range(1, len(its_lines) + 1))
        assert inv["total_excl_vat"] == sum(line["amount_excl_vat"] for line in its_lines)
        assert inv["vat_amount"] == sum(line["vat_amount"] for line in its_lines)
        for line in its_lines:
            assert line["vat_rate"] == vat_rate_on(inv["period_start"])
            assert line["amount_excl_vat"] == (line["quantity"] * line["unit_price"]).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            assert line["vat_amount"] == (
                line["amount_excl_vat"] * line["vat_rate"] / 100
            ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert {line["unit"] for line in its_lines} == {"kWh", "kk"}
        assert inv["issue_date"] <= TODAY
        assert inv["due_date"] - inv["issue_date"] >= timedelta(days=14)
        assert inv["period_start"] <= inv["period_end"] < inv["issue_date"]
        assert inv["period_start"] >= date(TODAY.year - 1, TODAY.month, 1)
    assert {r["billing_method"] for r in invoices.values()} == {
        "e_invoice", "direct_payment", "email", "paper"
    }  # fmt: skip


async def test_payments_match_paid_invoices(seeded: Seeded) -> None:
    conn = seeded.conn
    rows = await conn.fetch(
        "SELECT i.status, i.total_incl_vat, i.reference_number, i.issue_date, i.due_date,"
        " count(p.id) AS payments, sum(p.amount) AS paid, min(p.reference_number) AS ref,"
        " min(p.paid_on) AS paid_on"
        " FROM invoice i LEFT JOIN payment p ON p.invoice_id = i.id GROUP BY i.id"
    )
    for r in rows:
        if r["status"] == "paid":
            assert r["payments"] == 1
            assert r["paid"] == r["total_incl_vat"]
            assert r["ref"] == r["reference_number"]
            assert r["issue_date"] <= r["paid_on"] < TODAY
        else:
            assert r["payments"] == 0


async def test_payment_states_and_collection(seeded: Seeded) -> None:
    conn = seeded.conn
    counts = {
        r[0]: r[1] for r in await conn.fetch("SELECT status, count(*) FROM invoice GROUP BY 1")
    }
    total = sum(counts.values())
    assert counts["paid"] / total > 0.85
    assert counts["open"] > 0 and counts["overdue"] > 0 and counts["in_collection"] > 0
    assert 0.005 <= counts["overdue"] / total <= 0.06
    assert 0.002 <= counts["in_collection"] / total <= 0.03
    assert await conn.fetchval(
        "SELECT bool_and(due_date >= $1) FROM invoice WHERE status = 'open'", TODAY
    )
    assert await conn.fetchval(
        "SELECT bool_and(due_date < $1) FROM invoice WHERE status = 'overdue'", TODAY
    )
    assert await conn.fetchval(
        "SELECT bool_and(due_date < $1) FROM invoice WHERE status = 'in_collection'",
        TODAY - timedelta(days=35),
    )

    agencies = {
        r["id"]: r["code"]
        for r in await conn.fetch("SELECT id, code FROM organisation WHERE code LIKE 'perinta-%'")
    }
    cases = await conn.fetch("SELECT * FROM collection_case")
    assert cases
    open_cases = [c for c in cases if c["closed_on"] is None]
    assert open_cases and all(c["stage"] != "closed" for c in open_cases)
    assert {agencies[c["agency_id"]] for c in open_cases} == {"perinta-a", "perinta-b"}
    for case in cases:
        linked = await conn.fetch(
            "SELECT i.* FROM collection_case_invoice l JOIN invoice i ON i.id = l.invoice_id"
            " WHERE l.collection_case_id = $1",
            case["id"],
        )
        assert linked and all(i["customer_id"] == case["customer_id"] for i in linked)
        assert case["opened_on"] <= TODAY
        if case["closed_on"] is None:
            assert {i["status"] for i in linked} == {"in_collection"}
            assert case["amount_due"] == sum(i["total_incl_vat"] for i in linked)
        else:
            assert case["stage"] == "closed"
            assert {i["status"] for i in linked} == {"paid"}
        assignment = await conn.fetchrow(
            "SELECT * FROM assignment WHERE customer_id = $1 AND organisation_id = $2",
            case["customer_id"],
            case["agency_id"],
        )
        assert assignment is not None and assignment["purpose"] == "billing"
        assert assignment["valid_from"] == case["opened_on"]
        assert assignment["valid_to"] == case["closed_on"]
    unlinked = await conn.fetchval(
        "SELECT count(*) FROM invoice i WHERE i.status = 'in_collection' AND NOT EXISTS"
        " (SELECT 1 FROM collection_case_invoice l WHERE l.invoice_id = i.id)"
    )
    assert unlinked == 0


async def test_deposits_and_field_service_assignments(seeded: Seeded) -> None:
    conn = seeded.conn
    deposits = await conn.fetch("SELECT * FROM security_deposit")
    assert deposits
    for d in deposits:
        assert d["amount"] > 0 and d["received_on"] <= TODAY
        assert (d["returned_on"] is not None) == (d["status"] == "returned")
    rows = await conn.fetch(
        "SELECT o.code, a.* FROM assignment a JOIN organisation o ON o.id = a.organisation_id"
        " WHERE o.code LIKE 'kenttapalvelu-%'"
    )
    assert {r["code"] for r in rows} == {"kenttapalvelu-a", "kenttapalvelu-b"}
    assert all(r["purpose"] == "delivery" and r["site_id"] is not None for r in rows)
    current = [r for r in rows if r["valid_to"] is None or r["valid_to"] >= TODAY]
    expired = [r for r in rows if r["valid_to"] is not None and r["valid_to"] < TODAY]
    assert current and expired
    assert all(r["valid_from"] <= TODAY for r in rows)


# --------------------------------------------------------------------------- prospects, offers


async def test_prospects_have_marketing_consent(seeded: Seeded) -> None:
    prospects = await seeded.conn.fetch("SELECT * FROM prospect")
    assert len(prospects) == CUSTOMERS // 20
    for p in prospects:
        assert p["source"] in ("competition", "prize_draw")
        assert p["campaign"] and p["consent_text"]
        assert p["email"] is not None or p["phone"] is not None
        consented = p["marketing_consent_at"].astimezone(HELSINKI).date()
        assert consented < TODAY < p["consent_expires_on"]
        years = (p["consent_expires_on"] - consented).days / 365.25
        assert 0.99 <= years <= 2.01


async def test_offers(seeded: Seeded) -> None:
    conn = seeded.conn
    offers = await conn.fetch("SELECT * FROM offer")
    assert any(o["prospect_id"] for o in offers) and any(o["customer_id"] for o in offers)
    for o in offers:
        if o["status"] == "open":
            assert o["valid_until"] >= TODAY
        if o["status"] == "expired":
            assert o["valid_until"] < TODAY
    accepted = await conn.fetchval(
        "SELECT count(*) FROM offer o JOIN contract c ON c.offer_id = o.id"
        " WHERE o.status = 'accepted' AND o.customer_id = c.customer_id"
    )
    assert accepted == sum(1 for o in offers if o["status"] == "accepted") > 0
    to_objectors = await conn.fetchval(
        "SELECT count(*) FROM offer o JOIN customer c ON c.id = o.customer_id"
        " WHERE o.status <> 'accepted' AND c.direct_marketing_objection_at IS NOT NULL"
    )
    assert to_objectors == 0
