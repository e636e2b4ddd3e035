"""Metering data imports: Datahub's CSV and our JSON lines, stored one row per UTC day,
revisions counted, every bad row refused by line, field and reason, all or nothing per
file, dry runs, the access log, and a large file read in bounded memory."""

from __future__ import annotations

import asyncio
import tracemalloc
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.cli import main
from server.db.engine import create_engine
from server.db.session import session_factory
from server.imports.cli import BytesDone, import_file, operator_caller
from server.imports.models import ImportKind
from server.imports.service import ImportOptions, run_import
from server.settings import Settings
from tests import factories
from tests.conftest import Users, gql
from tests.import_files import (
    datahub_file,
    datahub_row,
    hours,
    import_log,
    run,
    text_file,
    utc,
)

CONSUMPTION = ImportKind.CONSUMPTION
START = utc(2025, 12, 31, 22)  # local midnight of 1 January 2026
SITE_CONSUMPTION = """
query ($id: ID!, $resolution: ConsumptionResolution!) {
  site(id: $id) {
    consumption(from: "2025-12-31T22:00:00Z", to: "2026-01-01T22:00:00Z", resolution: $resolution) {
      periodStart energyKwh valuesCount allMeasured anyEstimated
    }
  }
}
"""


@pytest.fixture
async def site(owner: asyncpg.Connection) -> dict[str, Any]:
    customer = await factories.customer(owner)
    return await factories.site(owner, customer_id=customer["id"])


async def values(owner: asyncpg.Connection, site_id: Any) -> list[tuple[Any, ...]]:
    rows = await owner.fetch(
        "SELECT resolution, period_start, energy_kwh, quality FROM consumption_value"
        " WHERE site_id = $1 ORDER BY resolution, period_start",
        site_id,
    )
    return [tuple(r) for r in rows]


async def test_datahub_csv_is_stored_and_read_back(
    settings: Settings,
    owner: asyncpg.Connection,
    site: dict[str, Any],
    client: httpx.AsyncClient,
    users: Users,
    tmp_path: Path,
) -> None:
    gsrn = site["metering_point_id"]
    quarters = [
        datahub_row(gsrn, START, "2,126000", resolution="PT15M"),
        datahub_row(gsrn, START + timedelta(minutes=15), "", "MISSING", resolution="PT15M"),
        datahub_row(gsrn, START + timedelta(minutes=30), "0,5", "ESTIMATED", resolution="PT15M"),
    ]
    path = datahub_file(tmp_path / "kulutus.csv", [*hours(gsrn, START, 24), *quarters])
    imported = await run(settings, CONSUMPTION, path, source="Datahub")
    result = imported.result
    assert result.outcome == "written" and imported.rejects() == []
    assert (result.rows_total, result.rows_rejected) == (27, 0)
    assert result.counts["valuesAdded"] == 26 and result.counts["gaps"] == 1

    stored = await values(owner, site["id"])
    assert len(stored) == 26  # the gap is no value, not a zero
    assert ("PT15M", START, Decimal("2.126"), "measured") in stored
    assert ("PT15M", START + timedelta(minutes=30), Decimal("0.500"), "estimated") in stored
    assert await owner.fetchval("SELECT count(*) FROM consumption") == 3  # two UTC days + PT15M

    body = (
        await gql(
            client,
            SITE_CONSUMPTION,
            as_="billing",
            users=users,
            purpose="billing",
            variables={"id": str(site["id"]), "resolution": "HOUR"},
        )
    ).json()
    points = body["data"]["site"]["consumption"]
    # The first hour has quarter-hours: they replace the hourly value (2.126 + 0.5).
    assert points[0] == {
        "periodStart": "2025-12-31T22:00:00+00:00",
        "energyKwh": "2.626",
        "valuesCount": 2,
        "allMeasured": False,
        "anyEstimated": True,
    }
    assert [p["energyKwh"] for p in points[1:]] == ["1.250"] * 23

    source = await owner.fetchrow("SELECT * FROM import_source WHERE id = $1", result.source_id)
    assert source is not None
    assert (source["kind"], source["source"], source["file_name"]) == (
        "consumption",
        "Datahub",
        "kulutus.csv",
    )
    assert source["file_sha256"] == result.file_sha256 and len(result.file_sha256) == 64
    assert (source["rows_total"], source["rows_accepted"], source["channel"]) == (27, 27, "cli")
    log = await import_log(owner, result.request_id)
    assert (log["event"], log["outcome"], log["operation_type"]) == ("import", "ok", "cli")
    assert log["roles"] == ["metering_import"] and log["purpose"] == "billing"
    assert log["principal"].startswith("cli:")
    [written] = log["objects"]
    assert (written["type_name"], written["object_id"], written["operation"]) == (
        "Site",
        str(site["id"]),
        "write",
    )
    assert written["subject_customer_id"] == site["customer_id"]
    assert written["fields_read"] == ["consumption"]
    provenance = await owner.fetch(
        "SELECT resolution, first_step, last_step, values_added FROM import_provenance"
        " WHERE source_id = $1 ORDER BY resolution",
        result.source_id,
    )
    assert [tuple(p) for p in provenance] == [
        ("PT15M", START, START + timedelta(minutes=30), 2),
        ("PT1H", START, START + timedelta(hours=23), 24),
    ]


NO_SITE = factories.make_gsrn(99_999_999)  # a valid GSRN no test site gets
WRONG = str((int(NO_SITE[-1]) + 1) % 10)
BAD_ROWS = [
    # (row, field, reason fragment) - the file's line is the position + 2 (header, 1-based)
    (f"{NO_SITE};x;PT1H;kWh", "line", "expected 8 fields"),
    (datahub_row("{gsrn}", START, "1,0", product="8716867000047"), "Tuotteen tyyppi", "active"),
    (datahub_row("{gsrn}", START, "1,0", unit="MWh"), "Yksikkötyyppi", "only kWh"),
    (datahub_row("{gsrn}", START, "1,0", "BAD"), "Laatu", "unknown quality code"),
    (datahub_row(NO_SITE[:-1] + "x", START, "1,0"), "Mittauspisteen tunnus", "only digits"),
    (datahub_row(NO_SITE[:-1] + WRONG, START, "1,0"), "Mittauspisteen tunnus", "check digit"),
    (datahub_row(NO_SITE, START, "1,0"), "Mittauspisteen tunnus", "unknown"),
    (datahub_row("{gsrn}", START, "1,0", resolution="PT30M"), "Resoluutio", "PT15M or PT1H"),
    (datahub_row("{gsrn}", "2026-01-01T00:15:00Z", "1,0"), "Alkuaika", "not the start"),
    (datahub_row("{gsrn}", "2026-01-01T02:00:00+02:00", "1,0"), "Alkuaika", "not a UTC time"),
    (datahub_row("{gsrn}", "2026-02-30T00:00:00Z", "1,0"), "Alkuaika", "not a date"),
    (datahub_row("{gsrn}", "2026-03-01T00:00:00Z", "1,0"), "", ""),  # valid
    (datahub_row("{gsrn}", "2026-03-01T00:00:00Z", "1,0"), "Alkuaika", "not after"),
    (datahub_row("{gsrn}", "2026-02-28T00:00:00Z", "1,0"), "Alkuaika", "not after"),
    (datahub_row("{gsrn}", "2026-03-01T01:00:00Z", "-1,0"), "Määrä", "negative"),
    (datahub_row("{gsrn}", "2026-03-01T02:00:00Z", "1,0005"), "Määrä", "more precise"),
    (datahub_row("{gsrn}", "2026-03-01T03:00:00Z", "yksi"), "Määrä", "not a number"),
    (datahub_row("{gsrn}", "2026-03-01T04:00:00Z", ""), "Määrä", "a value is required"),
]


async def test_every_bad_row_is_refused_and_nothing_is_written(
    settings: Settings, owner: asyncpg.Connection, site: dict[str, Any], tmp_path: Path
) -> None:
    gsrn = site["metering_point_id"]
    path = datahub_file(tmp_path / "bad.csv", [row.format(gsrn=gsrn) for row, _, _ in BAD_ROWS])
    imported = await run(settings, CONSUMPTION, path)
    result = imported.result
    expected = [(n + 2, field) for n, (_, field, _) in enumerate(BAD_ROWS) if field]
    assert [(line, field) for line, field, _ in imported.rejects()] == expected
    for (_, _, reason), (_, _, fragment) in zip(
        imported.rejects(), [b for b in BAD_ROWS if b[1]], strict=True
    ):
        assert fragment in reason
    assert gsrn not in " ".join(r for _, _, r in imported.rejects())  # values never echoed
    assert result.outcome == "refused" and not result.written
    assert (result.rows_total, result.rows_rejected) == (len(BAD_ROWS), len(expected))
    assert await owner.fetchval("SELECT count(*) FROM consumption") == 0
    assert await owner.fetchval("SELECT count(*) FROM import_source") == 0
    log = await import_log(owner, result.request_id)
    assert log["outcome"] == "error" and log["objects"] == []
    assert "refused" in log["detail"]
    lines = imported.rejects_csv()
    assert lines[0] == "line,field,reason" and len(lines) == len(expected) + 1
    assert lines[1].startswith("2,line,expected 8 fields")


async def test_accept_partial_stores_the_valid_rows_and_lists_the_rest(
    settings: Settings, owner: asyncpg.Connection, site: dict[str, Any], tmp_path: Path
) -> None:
    gsrn = site["metering_point_id"]
    rows = hours(gsrn, START, 3)
    rows.insert(1, datahub_row(gsrn, START + timedelta(minutes=30), "1,0"))
    path = datahub_file(tmp_path / "osittain.csv", rows)
    imported = await run(settings, CONSUMPTION, path, accept_partial=True)
    assert imported.result.outcome == "written"
    assert imported.rejects() == [(3, "Alkuaika", "not the start of a PT1H step")]
    assert imported.rejects_csv() == [
        "line,field,reason",
        "3,Alkuaika,not the start of a PT1H step",
    ]
    assert len(await values(owner, site["id"])) == 3
    source = await owner.fetchrow("SELECT * FROM import_source")
    assert source is not None
    assert (source["rows_total"], source["rows_accepted"], source["rows_rejected"]) == (4, 3, 1)
    assert source["accept_partial"]


async def test_a_file_twice_changes_nothing_and_a_revision_is_counted(
    settings: Settings, owner: asyncpg.Connection, site: dict[str, Any], tmp_path: Path
) -> None:
    gsrn = site["metering_point_id"]
    first = datahub_file(tmp_path / "a.csv", hours(gsrn, START, 4))
    assert (await run(settings, CONSUMPTION, first)).result.counts["valuesAdded"] == 4
    again = (await run(settings, CONSUMPTION, first)).result
    assert again.outcome == "written" and again.earlier_imports == 1
    assert (again.counts["valuesAdded"], again.counts["valuesUnchanged"]) == (0, 4)
    assert await owner.fetchval("SELECT revisions FROM consumption") == 0

    revised = datahub_file(
        tmp_path / "b.csv",
        [
            datahub_row(gsrn, START, "1,250000"),  # unchanged
            datahub_row(gsrn, START + timedelta(hours=1), "2,000000", "REVISED"),
            datahub_row(gsrn, START + timedelta(hours=2), "1,250000", "ESTIMATED"),
            datahub_row(gsrn, START + timedelta(hours=3), "", "MISSING"),  # keeps 1.250
            datahub_row(gsrn, START + timedelta(hours=4), "0,750000"),  # new
        ],
    )
    counts = (await run(settings, CONSUMPTION, revised)).result.counts
    assert (counts["valuesAdded"], counts["valuesRevised"], counts["valuesUnchanged"]) == (1, 2, 1)
    assert counts["gaps"] == 1
    assert await owner.fetchval("SELECT sum(revisions) FROM consumption") == 2
    assert [(v[2], v[3]) for v in await values(owner, site["id"])] == [
        (Decimal("1.250"), "measured"),
        (Decimal("2.000"), "revised"),
        (Decimal("1.250"), "estimated"),
        (Decimal("1.250"), "measured"),
        (Decimal("0.750"), "measured"),
    ]
    assert await owner.fetchval("SELECT count(*) FROM import_source") == 3


async def test_a_dry_run_counts_and_writes_nothing(
    settings: Settings, owner: asyncpg.Connection, site: dict[str, Any], tmp_path: Path
) -> None:
    path = datahub_file(tmp_path / "kokeilu.csv", hours(site["metering_point_id"], START, 5))
    imported = await run(settings, CONSUMPTION, path, dry_run=True)
    assert imported.result.outcome == "dry run" and imported.result.counts["valuesAdded"] == 5
    for table in ("consumption", "import_source", "import_provenance"):
        assert await owner.fetchval(f"SELECT count(*) FROM {table}") == 0
    log = await import_log(owner, imported.result.request_id)
    assert log["outcome"] == "ok" and log["objects"] == [] and "dry run" in log["detail"]


async def test_json_lines_of_our_own(
    settings: Settings, owner: asyncpg.Connection, site: dict[str, Any], tmp_path: Path
) -> None:
    point = site["metering_point_id"]

    def line(start: str, extra: str) -> str:
        return f'{{"meteringPoint": "{point}", "resolution": "PT15M", "start": "{start}"{extra}}}'

    path = text_file(
        tmp_path / "kulutus.jsonl",
        line("2026-01-01T00:00:00Z", ', "kWh": 0.25, "quality": "measured"'),
        [
            line("2026-01-01T00:15:00+00:00", ', "kWh": 0.5, "quality": "revised"'),
            line("2026-01-01T00:30:00Z", ', "quality": "missing"'),
            line("2026-01-01T00:45:00Z", ', "kWh": "0.25", "quality": "measured"'),
            line("2026-01-01T01:00:00Z", ', "kwh": 0.25, "quality": "measured"'),
            line("2026-01-01T01:15:00Z", ', "kWh": 0.25, "quality": "guessed"'),
            line("2026-01-01T01:30:00Z", ', "kWh": null, "quality": "measured"'),
            "[1, 2]",
            "{not json",
        ],
    )
    imported = await run(settings, CONSUMPTION, path, accept_partial=True)
    assert imported.result.file_format == "json"
    assert imported.rejects() == [
        (4, "kWh", "a number is required"),
        (5, "kwh", "unknown field"),
        (6, "quality", "unknown quality (measured, estimated, revised or missing)"),
        (7, "kWh", "a number is required unless the quality is missing"),
        (8, "line", "not a JSON object"),
        (9, "line", "not a JSON object"),
    ]
    assert [(v[2], v[3]) for v in await values(owner, site["id"])] == [
        (Decimal("0.250"), "measured"),
        (Decimal("0.500"), "revised"),
    ]


async def test_a_file_that_is_not_datahub_csv_is_refused_as_a_whole(
    settings: Settings, owner: asyncpg.Connection, tmp_path: Path
) -> None:
    wrong_header = text_file(tmp_path / "x.csv", "GSRN;Aika;kWh", ["1;2;3"])
    imported = await run(settings, CONSUMPTION, wrong_header, accept_partial=True)
    assert imported.result.outcome == "refused" and imported.result.file_refused
    [(line, field, reason)] = imported.rejects()
    assert (line, field) == (1, "header") and "Datahub" in reason
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("Mittauspisteen tunnus;Määrä\n".encode("latin-1"))
    imported = await run(settings, CONSUMPTION, latin1)
    assert imported.rejects() == [(1, "file", "not UTF-8 text")]
    assert await owner.fetchval("SELECT count(*) FROM import_source") == 0


async def test_a_large_file_is_streamed_in_bounded_memory(
    settings: Settings, owner: asyncpg.Connection, tmp_path: Path
) -> None:
    customer = await factories.customer(owner)
    sites = [await factories.site(owner, customer_id=customer["id"]) for _ in range(40)]
    path = datahub_file(tmp_path / "vuosi.csv", [])
    with path.open("a", encoding="utf-8") as out:
        for s in sites:
            out.writelines(
                datahub_row(s["metering_point_id"], START + timedelta(hours=h), "0,5") + "\n"
                for h in range(8760)
            )
    size = path.stat().st_size
    engine = create_engine(settings.database_url or "", settings)
    try:
        sessionmaker = session_factory(engine)
        caller = await operator_caller(settings, sessionmaker, kind=CONSUMPTION)
        tracemalloc.start()
        try:
            result = await run_import(
                sessionmaker=sessionmaker,
                caller=caller,
                kind=CONSUMPTION,
                path=path,
                file_name=path.name,
                options=ImportOptions(),
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        await engine.dispose()
    assert result.counts["valuesAdded"] == 40 * 8760
    assert size > 25_000_000
    # The file is read a chunk at a time and written a batch at a time.
    assert peak < size / 6, (peak, size)
    assert await owner.fetchval("SELECT count(*) FROM consumption_value") == 40 * 8760


async def test_the_command_prints_the_outcome_and_leaves_the_rejects_beside_the_file(
    database_url: str,
    owner: asyncpg.Connection,
    site: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    gsrn = site["metering_point_id"]
    path = datahub_file(
        tmp_path / "kulutus.csv", [*hours(gsrn, START, 2), datahub_row(gsrn, START, "1,0")]
    )
    refused = await asyncio.to_thread(main, ["import", "consumption", str(path)])
    out = capsys.readouterr().out
    assert refused == 1 and "kulutus.csv: refused" in out and "--accept-partial" in out
    assert (tmp_path / "kulutus.csv.rejects.csv").read_text(encoding="utf-8").splitlines() == [
        "line,field,reason",
        "4,Alkuaika,not after the previous value of this metering point and resolution (line 3)",
    ]
    written = await asyncio.to_thread(
        main, ["import", "consumption", str(path), "--accept-partial", "--source", "Datahub"]
    )
    assert written == 0 and "kulutus.csv: written" in capsys.readouterr().out
    assert await owner.fetchval("SELECT count(*) FROM consumption_value") == 2
    other = await asyncio.to_thread(
        main, ["import", "consumption", str(path), "--purpose", "delivery"]
    )
    assert other == 1 and "lets no role import" in capsys.readouterr().err


async def test_progress_is_reported_as_bytes_read(
    settings: Settings, site: dict[str, Any], tmp_path: Path
) -> None:
    path = datahub_file(tmp_path / "k.csv", hours(site["metering_point_id"], START, 48))
    advances: list[int] = []
    result = await import_file(
        settings,
        kind=CONSUMPTION,
        path=path,
        options=ImportOptions(dry_run=True),
        progress=BytesDone(advances.append),
    )
    assert result.rows_total == 48
    assert advances and all(n >= 0 for n in advances)
    assert sum(advances) == path.stat().st_size
