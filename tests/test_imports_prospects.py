"""Prospect imports from competitions and prize draws: only people with a marketing and a
contact consent are stored, never a customer who objected to direct marketing; the
source and the consent's expiry are kept; a file twice stores nobody twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from server.imports.models import ImportKind
from server.prospects.service import DEFAULT_CONSENT_DAYS
from server.settings import Settings
from server.sites.consumption import LOCAL_TIME
from tests import factories
from tests.import_files import PROSPECT_HEADER, import_log, run, text_file

PROSPECTS = ImportKind.PROSPECTS
TODAY = datetime.now(UTC).date()
GIVEN = (TODAY - timedelta(days=10)).isoformat()


def row(
    first: str = "Maija",
    last: str = "Mallikas",
    email: str = "maija.mallikas@example.fi",
    phone: str = "",
    postal: str = "34800",
    marketing: str = "yes",
    contact: str = "yes",
    given: str = GIVEN,
    version: str = "v3",
) -> str:
    return ",".join((first, last, email, phone, postal, marketing, contact, given, version))


async def prospects(owner: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await owner.fetch("SELECT * FROM prospect ORDER BY first_name")]


async def test_consenting_prospects_are_stored_with_their_source(
    settings: Settings, owner: asyncpg.Connection, tmp_path: Path
) -> None:
    path = text_file(
        tmp_path / "messut.csv",
        PROSPECT_HEADER,
        [
            row(),
            row("Matti", "Meikäläinen", "", "040 123 4567", "", "kyllä", "k", "2026-11-02T12:00"),
        ],
    )
    imported = await run(settings, PROSPECTS, path, source="Asuntomessut 2026")
    result = imported.result
    assert result.outcome == "written" and imported.rejects() == []
    assert result.counts == {"prospectsAdded": 2, "prospectsUpdated": 0, "prospectsUnchanged": 0}
    maija, matti = await prospects(owner)
    assert (maija["source"], maija["campaign"]) == ("competition", "Asuntomessut 2026")
    given = datetime.combine(date.fromisoformat(GIVEN), datetime.min.time(), LOCAL_TIME)
    assert maija["marketing_consent_at"] == given
    assert maija["consent_expires_on"] == given.date() + timedelta(days=DEFAULT_CONSENT_DAYS)
    assert "wording version v3" in maija["consent_text"]
    assert matti["phone"] == "+358401234567" and matti["email"] is None
    provenance = await owner.fetch(
        "SELECT prospect_id, object_type, action FROM import_provenance WHERE source_id = $1",
        result.source_id,
    )
    assert {(p["prospect_id"], p["object_type"], p["action"]) for p in provenance} == {
        (maija["id"], "Prospect", "create"),
        (matti["id"], "Prospect", "create"),
    }
    log = await import_log(owner, result.request_id)
    assert log["roles"] == ["prospect_import"] and log["purpose"] == "marketing"
    assert {o["subject_prospect_id"] for o in log["objects"]} == {maija["id"], matti["id"]}
    assert all(o["operation"] == "write" for o in log["objects"])
    assert "email" in log["objects"][0]["fields_read"]


BAD = [
    (row(first=""), "first_name", "required"),
    (row(last="x" * 101), "last_name", "at most 100 characters"),
    (row(email="ei-osoite"), "email", "must contain exactly one @"),
    (row(email="", phone="12"), "phone", ""),
    (row(email=""), "email", "an e-mail address or a phone number is required"),
    (row(postal="348"), "postal_code", "must be five digits"),
    (row(marketing="no"), "marketing_consent", "no consent"),
    (row(contact="ei"), "contact_consent", "no consent"),
    (row(contact="maybe"), "contact_consent", "yes or no"),
    (row(given="eilen"), "consent_given_at", "not a date"),
    (row(given=(TODAY + timedelta(days=2)).isoformat()), "consent_given_at", "in the future"),
    (row(given="2020-01-01"), "consent_given_at", "the consent has expired"),
    (row(version=""), "consent_version", "required"),
    ("Liian,vähän", "line", "expected 9 fields"),
    (row(email="KIELTO@Example.fi"), "email", "objected to direct marketing"),
    (row(email="", phone="+358 40 999 0000"), "phone", "objected to direct marketing"),
]


async def test_every_bad_row_is_refused_and_nobody_is_stored(
    settings: Settings, owner: asyncpg.Connection, tmp_path: Path
) -> None:
    await factories.customer(
        owner,
        email="kielto@example.fi",
        direct_marketing_objection_at=datetime.now(UTC),
        direct_marketing_objection_source="puhelu",
    )
    await factories.customer(
        owner, phone="+358409990000", direct_marketing_objection_at=datetime.now(UTC)
    )
    path = text_file(tmp_path / "huono.csv", PROSPECT_HEADER, [row(), *(b[0] for b in BAD)])
    imported = await run(settings, PROSPECTS, path, source="Arvonta", prospect_source="prize_draw")
    assert imported.result.outcome == "refused"
    rejects = imported.rejects()
    assert [(line, field) for line, field, _ in rejects] == [
        (n + 3, field) for n, (_, field, _) in enumerate(BAD)
    ]
    for (_, _, reason), (_, _, fragment) in zip(rejects, BAD, strict=True):
        assert fragment in reason
    assert await prospects(owner) == []
    assert await owner.fetchval("SELECT count(*) FROM import_source") == 0
    # With --accept-partial the one good row is stored, as a prize-draw prospect.
    imported = await run(
        settings,
        PROSPECTS,
        path,
        source="Arvonta",
        prospect_source="prize_draw",
        accept_partial=True,
    )
    [stored] = await prospects(owner)
    assert (stored["email"], stored["source"]) == ("maija.mallikas@example.fi", "prize_draw")
    assert len(imported.rejects_csv()) == len(BAD) + 1


async def test_a_file_twice_stores_nobody_twice_and_a_newer_consent_wins(
    settings: Settings, owner: asyncpg.Connection, tmp_path: Path
) -> None:
    path = text_file(
        tmp_path / "a.csv", PROSPECT_HEADER, [row(), row("Pekka", phone="0401112223", email="")]
    )
    assert (await run(settings, PROSPECTS, path, source="Kilpailu")).result.counts[
        "prospectsAdded"
    ] == 2
    again = (await run(settings, PROSPECTS, path, source="Kilpailu")).result
    assert again.counts == {"prospectsAdded": 0, "prospectsUpdated": 0, "prospectsUnchanged": 2}
    assert len(await prospects(owner)) == 2
    newer = (TODAY - timedelta(days=1)).isoformat()
    later = text_file(
        tmp_path / "b.csv",
        PROSPECT_HEADER,
        [
            row(email="MAIJA.MALLIKAS@example.fi", given=newer, version="v4"),
            row("Pekka", email="", phone="+358401112223", given=GIVEN),
        ],
    )
    counts = (await run(settings, PROSPECTS, later, source="Kilpailu 2")).result.counts
    assert counts == {"prospectsAdded": 0, "prospectsUpdated": 1, "prospectsUnchanged": 1}
    maija = next(p for p in await prospects(owner) if p["first_name"] == "Maija")
    assert "v4" in maija["consent_text"] and maija["campaign"] == "Kilpailu 2"


async def test_a_header_without_a_required_column_refuses_the_file(
    settings: Settings, tmp_path: Path
) -> None:
    path = text_file(tmp_path / "x.csv", "first_name,last_name,email", ["A,B,c@example.fi"])
    imported = await run(settings, PROSPECTS, path, source="x", accept_partial=True)
    assert imported.result.file_refused
    assert imported.rejects() == [(1, "header", "missing column phone")]
