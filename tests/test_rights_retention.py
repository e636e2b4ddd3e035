"""Retention: settled former customers lose what is no longer needed; accounting records
stay for the statutory period; prospects go when their consent does."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from server.rights.cli import run_retention
from server.rights.retention import RetentionRules, voucher_kept_until
from server.settings import Settings
from tests import factories
from tests.conftest import gid
from tests.factories import customer_input
from tests.test_mutations_harness import Api, api_fixture, today  # noqa: F401

ONE = "query($id: ID!) { customer(id: $id) { id email } }"


def test_voucher_period_follows_kirjanpitolaki() -> None:
    rules = RetentionRules(today=date(2026, 11, 24))
    # A voucher of the financial year 2017 is kept to the end of 2023.
    assert voucher_kept_until(date(2017, 4, 30), rules) == date(2023, 12, 31)
    broken_year = RetentionRules(today=date(2026, 11, 24), fiscal_year_end_month=4)
    # FY 1.5.2016-30.4.2017 ends in 2017: kept to 31.12.2023 (the facts sheet's example).
    assert voucher_kept_until(date(2016, 9, 1), broken_year) == date(2023, 12, 31)
    assert voucher_kept_until(date(2017, 5, 1), broken_year) == date(2024, 12, 31)


async def _former_customer(api: Api, *, ended_days_ago: int = 90) -> dict[str, dict[str, Any]]:
    product = await factories.product(api.owner)
    graph = await factories.customer_graph(
        api.owner,
        product_id=product["id"],
        sites=1,
        invoices_per_contract=1,
        former_customer_since=datetime.now(UTC) - timedelta(days=ended_days_ago),
        direct_marketing_objection_at=datetime(2025, 1, 1, tzinfo=UTC),
        direct_marketing_objection_source="letter",
    )
    await api.owner.execute(
        "UPDATE contract SET status = 'ended', end_date = $2 WHERE customer_id = $1",
        graph.customer["id"],
        today() - timedelta(days=ended_days_ago + 1),
    )
    await factories.consumption(
        api.owner,
        site_id=graph.sites[0]["id"],
        resolution="PT1H",
        values=[(datetime(2026, 1, 1, tzinfo=UTC), Decimal("2.000"), "measured")],
    )
    return {"customer": graph.customer, "invoice": graph.invoices[0]}


async def test_dry_run_lists_and_changes_nothing(api: Api, settings: Settings) -> None:
    former = await _former_customer(api)
    unsettled = await _former_customer(api)
    await api.owner.execute(
        "UPDATE invoice SET status = 'open' WHERE customer_id = $1", unsettled["customer"]["id"]
    )
    recent = await _former_customer(api, ended_days_ago=10)
    old_prospect = await factories.prospect(
        api.owner, consent_expires_on=today() - timedelta(days=1)
    )
    fresh_prospect = await factories.prospect(api.owner)
    lines = await run_retention(settings, rules=RetentionRules(today=today()), dry_run=True)
    text = "\n".join(lines)
    assert lines[0] == "dry run: nothing was changed"
    assert f"anonymise customer {former['customer']['customer_number']}" in text
    assert "1 consumption values" in text
    assert str(unsettled["customer"]["customer_number"]) not in text
    assert str(recent["customer"]["customer_number"]) not in text
    assert f"erase prospect {old_prospect['id']} (consent expired)" in text
    assert str(fresh_prospect["id"]) not in text
    assert await api.count("customer", "anonymised_at IS NOT NULL") == 0
    assert await api.count("prospect") == 2
    assert await api.count("consumption_value") == 3
    assert await api.count("retention_run") == 0


async def test_run_anonymises_keeps_accounting_records_and_is_recorded(
    api: Api, settings: Settings
) -> None:
    former = await _former_customer(api)
    customer = former["customer"]
    await api.mutate(
        """mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) { changeId } }""",
        as_="customer_service",
        input=customer_input(customer, phone="0401112222", reason="new number"),
    )
    expired = await factories.prospect(api.owner, consent_expires_on=today() - timedelta(days=1))
    product = await factories.product(api.owner)
    await factories.insert(
        api.owner,
        "offer",
        {
            "id": uuid.uuid4(),
            "customer_id": customer["id"],
            "product_id": product["id"],
            "spot_margin_c_per_kwh": Decimal("0.3"),
            "basic_fee_eur_per_month": Decimal("2.90"),
            "valid_until": today(),
            "status": "open",
        },
    )
    lines = await run_retention(settings, rules=RetentionRules(today=today()), dry_run=False)
    assert f"anonymise customer {customer['customer_number']}" in "\n".join(lines)
    assert "1 open offers" in "\n".join(lines)
    assert await api.count("offer", "customer_id = $1", customer["id"]) == 0
    row = await api.owner.fetchrow("SELECT * FROM customer WHERE id = $1", customer["id"])
    assert row["anonymised_at"] is not None and row["processing_restricted_at"] is not None
    assert (row["email"], row["phone"], row["personal_identity_code"]) == (None, None, None)
    assert row["direct_marketing_objection_source"] is None
    # Accounting records stay (the name and billing address with them), for billing only.
    assert row["last_name"] == customer["last_name"]
    assert await api.count("invoice", "customer_id = $1", customer["id"]) == 1
    assert await api.count("payment") == 1
    assert await api.count("consumption_value") == 0
    assert await api.count("prospect", "id = $1", expired["id"]) == 0
    hidden = await api.run(ONE, as_="customer_service", variables={"id": str(customer["id"])})
    assert hidden.ok()["customer"] is None
    billing = await api.run(ONE, as_="billing", variables={"id": str(customer["id"])})
    assert billing.ok()["customer"] == {"id": gid("Customer", customer["id"]), "email": None}
    # The history no longer holds the erased values.
    values = await api.owner.fetch(
        "SELECT old_values, new_values, action FROM change_record WHERE customer_id = $1",
        customer["id"],
    )
    assert "0401112222" not in str([dict(v) for v in values])
    assert "anonymise" in {v["action"] for v in values}
    # The run is recorded: in retention_run and in the access log.
    summary = await api.owner.fetchval("SELECT summary FROM retention_run")
    assert str(customer["customer_number"]) in summary
    # (the access log is append-only and shared by the tests: find this run's records)
    run_request = await api.owner.fetchval(
        "SELECT request_id FROM access_log_object_all WHERE subject_prospect_id = $1", expired["id"]
    )
    event = await api.owner.fetchrow(
        "SELECT event, detail FROM access_log_request WHERE request_id = $1", run_request
    )
    assert event["event"] == "cli" and event["detail"].startswith("retention apply")
    assert (
        await api.count(
            "access_log_object_all",
            "subject_customer_id = $1 AND operation = 'write'",
            customer["id"],
        )
        >= 1
    )
    assert await api.count("access_log_object_all", "subject_prospect_id = $1", expired["id"]) == 1
    # A second run finds nothing new to anonymise.
    again = await run_retention(settings, rules=RetentionRules(today=today()), dry_run=True)
    assert f"anonymise customer {customer['customer_number']}" not in "\n".join(again)


async def test_accounting_records_go_after_the_statutory_period(
    api: Api, settings: Settings
) -> None:
    former = await _former_customer(api)
    customer = former["customer"]
    await run_retention(settings, rules=RetentionRules(today=today()), dry_run=False)
    # Seven years later the vouchers of 2026 are past their period, and so is the name.
    later = date(today().year + 7, 1, 15)
    lines = await run_retention(settings, rules=RetentionRules(today=later), dry_run=False)
    text = "\n".join(lines)
    assert f"erase name and addresses of customer {customer['customer_number']}" in text
    assert await api.count("invoice", "customer_id = $1", customer["id"]) == 0
    assert await api.count("payment") == 0
    row = await api.owner.fetchrow("SELECT * FROM customer WHERE id = $1", customer["id"])
    assert (row["first_name"], row["last_name"], row["street_address"]) == (None, None, "")


def test_commands_register_and_run(settings: Settings, capsys: object) -> None:
    import argparse

    from server.rights.cli import register

    parser = argparse.ArgumentParser(prog="rekisteri")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["retention", "apply", "--dry-run", "--today", "2026-01-01"])
    assert args.func(args, settings) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "dry run: nothing was changed" in out and "as of 2026-01-01" in out
    export = parser.parse_args(["dsar", "export", "123", "--format", "pdf", "--language", "en"])
    assert (export.customer, export.format, export.language) == ("123", "pdf", "en")
    assert export.func(export, settings) == 1  # no such customer
