"""Address changes from an address service: customers named by identity code or customer
number get the new postal address, the old one stays in the history with the file as the
reason; rows that name nobody or several customers are reported, never guessed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from server.imports.models import ImportKind
from server.settings import Settings
from tests import factories
from tests.conftest import Users, export_for_oversight, gql
from tests.import_files import ADDRESS_HEADER, import_log, run, text_file
from tests.test_report_access import record_request

ADDRESSES = ImportKind.ADDRESSES
NEW = "Uusikatu 1 A 2;00100;Helsinki"
HISTORY = """
query ($id: ID!) {
  customer(id: $id) {
    streetAddress
    history { edges { node { reason changes { fieldName oldValue newValue } } } }
  }
}
"""


async def address(owner: asyncpg.Connection, customer_id: Any) -> tuple[str, str, str]:
    row = await owner.fetchrow(
        "SELECT street_address, postal_code, post_office FROM customer WHERE id = $1", customer_id
    )
    assert row is not None
    return (row[0], row[1], row[2])


async def test_customers_named_by_either_key_get_the_address_and_its_history(
    settings: Settings,
    owner: asyncpg.Connection,
    client: httpx.AsyncClient,
    users: Users,
    tmp_path: Path,
) -> None:
    person = await factories.customer(owner)
    numbered = await factories.customer(owner)
    company = await factories.customer(
        owner,
        **factories.company("Sähkö Oy", "2077474-0"),
    )
    path = text_file(
        tmp_path / "osoitteet.csv",
        ADDRESS_HEADER,
        [
            f"{person['personal_identity_code']};;{NEW}",
            f";{numbered['customer_number']};Toinenkatu 5;33100;Tampere",
            f"2077474-0;{company['customer_number']};Yrityskatu 1;00100;Helsinki",
        ],
    )
    imported = await run(settings, ADDRESSES, path, source="Osoitepalvelu")
    result = imported.result
    assert result.outcome == "written" and imported.rejects() == []
    assert result.counts == {"customersUpdated": 3, "customersUnchanged": 0}
    assert await address(owner, person["id"]) == ("Uusikatu 1 A 2", "00100", "Helsinki")
    assert await address(owner, numbered["id"]) == ("Toinenkatu 5", "33100", "Tampere")
    assert await address(owner, company["id"]) == ("Yrityskatu 1", "00100", "Helsinki")

    body = (
        await gql(
            client,
            HISTORY,
            as_="customer_service",
            users=users,
            purpose="customer_relationship",
            variables={"id": str(person["id"])},
        )
    ).json()
    [change] = [edge["node"] for edge in body["data"]["customer"]["history"]["edges"]]
    assert change["reason"] == "import Osoitepalvelu: osoitteet.csv"
    assert {c["fieldName"]: (c["oldValue"], c["newValue"]) for c in change["changes"]} == {
        "streetAddress": (person["street_address"], "Uusikatu 1 A 2"),
        "postalCode": ("34800", "00100"),
        "postOffice": ("Virrat", "Helsinki"),
    }
    log = await import_log(owner, result.request_id)
    assert log["roles"] == ["address_import"] and log["purpose"] == "customer_relationship"
    assert {o["subject_customer_id"] for o in log["objects"]} == {
        person["id"],
        numbered["id"],
        company["id"],
    }
    assert set(log["objects"][0]["fields_read"]) == {"streetAddress", "postalCode", "postOffice"}
    assert person["personal_identity_code"] not in (log["detail"] or "")


async def test_rows_that_name_nobody_or_several_change_nothing(
    settings: Settings, owner: asyncpg.Connection, tmp_path: Path
) -> None:
    one = await factories.customer(owner)
    other = await factories.customer(owner)
    for _ in range(2):  # two customers share a business ID
        await factories.customer(
            owner,
            **factories.company("Kaksi Oy", "0737546-2"),
        )
    restricted = await factories.customer(owner, processing_restricted_at=datetime.now(UTC))
    gone = await factories.customer(owner, anonymised_at=datetime.now(UTC))
    bad = [
        (f";999999999;{NEW}", "customer_number", "matches no customer"),
        (f"0737546-2;;{NEW}", "identity_code", "matches several customers"),
        (
            f"{one['personal_identity_code']};{other['customer_number']};{NEW}",
            "identity_code",
            "matches several customers",
        ),
        (
            f"{factories.make_hetu(datetime(1999, 9, 9).date(), 777)};;{NEW}",
            "identity_code",
            "matches no customer",
        ),
        (f"{gone['personal_identity_code']};;{NEW}", "identity_code", "matches no customer"),
        (f"{restricted['personal_identity_code']};;{NEW}", "identity_code", "restricted"),
        (f";;{NEW}", "identity_code", "an identity code or a customer number is required"),
        (f"131052-308U;;{NEW}", "identity_code", "not a personal identity code"),
        (f";12a;{NEW}", "customer_number", "not a customer number"),
        (f";{one['customer_number']};;00100;Helsinki", "street_address", "required"),
        (f";{one['customer_number']};Katu 1;001;Helsinki", "postal_code", "five digits"),
        (
            f";{one['customer_number']};Katu\u202e 1;00100;Helsinki",
            "street_address",
            "bidirectional",
        ),
        (";1;2", "line", "expected 5 fields"),
    ]
    path = text_file(tmp_path / "huono.csv", ADDRESS_HEADER, [b[0] for b in bad])
    before = {c["id"]: await address(owner, c["id"]) for c in (one, other, restricted)}
    imported = await run(settings, ADDRESSES, path, accept_partial=True)
    assert [(line, field) for line, field, _ in imported.rejects()] == [
        (n + 2, field) for n, (_, field, _) in enumerate(bad)
    ]
    for (_, _, reason), (_, _, fragment) in zip(imported.rejects(), bad, strict=True):
        assert fragment in reason
    assert {c: await address(owner, c) for c in before} == before
    assert await owner.fetchval("SELECT count(*) FROM change_record") == 0
    assert imported.result.counts == {"customersUpdated": 0, "customersUnchanged": 0}


async def test_a_file_twice_changes_once_and_a_dry_run_not_at_all(
    settings: Settings, owner: asyncpg.Connection, tmp_path: Path
) -> None:
    person = await factories.customer(owner)
    path = text_file(
        tmp_path / "a.csv", ADDRESS_HEADER, [f"{person['personal_identity_code']};;{NEW}"]
    )
    dry = (await run(settings, ADDRESSES, path, dry_run=True)).result
    assert dry.outcome == "dry run" and dry.counts["customersUpdated"] == 1
    assert await address(owner, person["id"]) == (person["street_address"], "34800", "Virrat")
    assert await owner.fetchval("SELECT count(*) FROM change_record") == 0
    for expected in (
        {"customersUpdated": 1, "customersUnchanged": 0},
        {"customersUpdated": 0, "customersUnchanged": 1},
    ):
        assert (await run(settings, ADDRESSES, path)).result.counts == expected
    assert await owner.fetchval("SELECT count(*) FROM change_record") == 1
    assert await owner.fetchval("SELECT count(*) FROM import_source") == 2


async def test_the_access_report_shows_where_the_data_came_from(
    settings: Settings, owner: asyncpg.Connection, tmp_path: Path
) -> None:
    person = await factories.customer(owner, email="aino@example.fi")
    site = await factories.site(owner, customer_id=person["id"])
    files = {
        ImportKind.ADDRESSES: text_file(
            tmp_path / "osoitteet.csv",
            ADDRESS_HEADER,
            [f"{person['personal_identity_code']};;{NEW}"],
        ),
        ImportKind.CONSUMPTION: text_file(
            tmp_path / "kulutus.csv",
            "Mittauspisteen tunnus;Tuotteen tyyppi;Resoluutio;Yksikkötyyppi;Lukeman tyyppi;"
            "Alkuaika;Määrä;Laatu",
            [
                f"{site['metering_point_id']};8716867000030;PT1H;kWh;BN01;2026-01-01T00:00:00Z;1,5;OK"
            ],
        ),
        ImportKind.PROSPECTS: text_file(
            tmp_path / "messut.csv",
            "first_name,last_name,email,phone,postal_code,marketing_consent,contact_consent,"
            "consent_given_at,consent_version",
            [f"Aino,Testinen,aino@example.fi,,,yes,yes,{datetime.now(UTC).date()},v1"],
        ),
    }
    results = {
        kind: (await run(settings, kind, path, source=f"lähde {kind}")).result
        for kind, path in files.items()
    }
    await record_request(owner, person["id"], status="received")
    content, _ = await export_for_oversight(settings, str(person["id"]), "json", "en")
    report = json.loads(content)
    [sources] = [s for s in report["sections"] if s["key"] == "sources"]
    seen = {
        next(f["value"] for f in item["fields"] if f["name"] == "file_sha256"): {
            f["name"]: f["value"] for f in item["fields"]
        }
        for item in sources["items"]
    }
    assert set(seen) == {r.file_sha256 for r in results.values()}
    address_item = seen[results[ImportKind.ADDRESSES].file_sha256]
    assert address_item["file_name"] == "osoitteet.csv"
    assert address_item["source"] == "lähde addresses"
    assert address_item["data"] == "Street address, Postal code, Post office"
    series = seen[results[ImportKind.CONSUMPTION].file_sha256]
    assert (series["resolution"], series["values_added"]) == ("PT1H", 1)
    assert series["first_step"] == "2026-01-01T00:00:00+00:00"
    assert (
        seen[results[ImportKind.PROSPECTS].file_sha256]["import_kind"]
        == "competition or prize draw"
    )
