"""`rekisteri audit verify|seal|export|partitions|drop-before`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.audit.cli import retention_limit
from server.audit.records import ObjectAccess
from server.audit.service import write_access_log
from server.settings import Settings
from tests.conftest import run_cli
from tests.dbserver import Database
from tests.factories import customer_objects, request_record

IDENTITY_CODE = re.compile(r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def write(db: Database, objects: list[ObjectAccess], **record: object) -> None:
    async with db.app_session() as session:
        await write_access_log(session, request_record(**record), objects)  # type: ignore[arg-type]


async def cli_events(db: Database) -> list[str]:
    conn = await db.raw()
    try:
        rows = await conn.fetch(
            "SELECT operation_name FROM access_log_request WHERE event = 'cli' ORDER BY seq"
        )
    finally:
        await conn.close()
    return [r["operation_name"] for r in rows]


async def test_seal_prints_a_signed_head_that_verify_accepts(
    audit_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await write(audit_db, customer_objects(3))
    assert await run_cli(audit_db.settings, "audit", "seal", "--wait", "5") == 0
    head_line = capsys.readouterr().out.strip()
    head = json.loads(head_line)
    assert head["batch"] == 1 and head["leafCount"] == 4 and len(head["signature"]) == 128
    assert head["keyId"].startswith("ed25519:")
    heads = tmp_path / "heads.jsonl"
    heads.write_text(head_line + "\n", encoding="utf-8")

    assert await run_cli(audit_db.settings, "audit", "verify", "--head", str(heads)) == 0
    out = capsys.readouterr().out
    assert "access log OK" in out
    assert "not sealed yet: 1 rows" in out  # the verify command's own record

    # The first run checked batch 1 and recorded it: the next reads only what is newer.
    assert await run_cli(audit_db.settings, "audit", "verify", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["head"]["root"] == head["root"]
    # (only the two verify commands' own, unsealed records)
    assert (report["full"], report["verifiedBeforeBatch"], report["rowsChecked"]) == (False, 1, 2)
    assert await cli_events(audit_db) == ["audit verify", "audit verify"]

    conn = await audit_db.raw()
    try:
        recorded = await conn.fetch(
            "SELECT batch_no, full_check, result FROM access_log_verification ORDER BY id"
        )
        assert [tuple(r) for r in recorded] == [(1, True, "ok"), (1, False, "ok")]
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("DELETE FROM access_log_subject WHERE seq = 2")
    finally:
        await conn.close()
    # A deletion in a batch verified before is found by a full run (run one regularly).
    assert await run_cli(audit_db.settings, "audit", "verify") == 0
    capsys.readouterr()
    assert await run_cli(audit_db.settings, "audit", "verify", "--full") == 1
    assert "PROBLEM missing_row: seq 2 was sealed in batch 1" in capsys.readouterr().out


async def test_a_verification_record_forged_with_the_seal_key_makes_verify_skip_nothing(
    audit_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the Ed25519 signing key makes a record an incremental run starts from: a record
    made with the HMAC seal key (which a checker may hold) is not trusted."""
    from server.audit.signing import legacy_key_id, legacy_signature
    from server.audit.verify import VERIFICATION_CONTEXT

    await write(audit_db, customer_objects(3))
    assert await run_cli(audit_db.settings, "audit", "seal", "--wait", "5") == 0
    capsys.readouterr()
    key = audit_db.settings.audit_seal_key
    conn = await audit_db.raw()
    try:
        seal = await conn.fetchrow("SELECT batch_no, last_seq, merkle_root FROM access_log_seal")
        at = datetime.now(UTC)
        from server.audit.seal import micros

        parts = [
            VERIFICATION_CONTEXT,
            seal["batch_no"],
            seal["last_seq"],
            bytes(seal["merkle_root"]).hex(),
            micros(at),
            1,
            4,
            "ok",
            "",
        ]
        await conn.execute(
            "INSERT INTO access_log_verification (at, batch_no, last_seq, merkle_root,"
            " full_check, rows_checked, result, principal, key_id, signature)"
            " VALUES ($1, $2, $3, $4, true, 4, 'ok', NULL, $5, $6)",
            at,
            seal["batch_no"],
            seal["last_seq"],
            seal["merkle_root"],
            legacy_key_id(key),
            legacy_signature(key, parts),
        )
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("DELETE FROM access_log_subject WHERE seq = 2")
    finally:
        await conn.close()
    assert await run_cli(audit_db.settings, "audit", "verify") == 1
    assert "PROBLEM missing_row: seq 2 was sealed in batch 1" in capsys.readouterr().out


async def test_export_writes_json_lines_without_secrets(
    audit_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    objects = customer_objects(2, invoices_per_customer=1)
    await write(
        audit_db,
        objects,
        detail="lookup by 131052-308T failed",
        operation_name="ByCode_131052-308T",
    )
    await write(audit_db, customer_objects(1), at=now - timedelta(days=3))
    target = tmp_path / "export.jsonl"
    start = (now - timedelta(hours=1)).isoformat()
    end = (now + timedelta(hours=1)).isoformat()
    code = await run_cli(
        audit_db.settings, "audit", "export", "--from", start, "--to", end, "--output", str(target)
    )
    assert code == 0
    # 1 request + 4 objects (two subject rows expanded); the export's own record
    # (committed first) is in the period too.
    assert "exported 6 records" in capsys.readouterr().err
    raw = target.read_text(encoding="utf-8")
    # (object and request IDs are UUIDs, which can hold the shape by chance)
    assert not IDENTITY_CODE.search(UUID.sub("", raw))
    lines = [json.loads(line) for line in raw.splitlines()]
    own = lines.pop()
    assert (own["event"], own["operationName"], own["principal"][:3]) == (
        "cli",
        "audit export",
        "os:",
    )
    assert [line["kind"] for line in lines].count("request") == 1
    request = next(line for line in lines if line["kind"] == "request")
    assert request["purpose"] == "customer_relationship"
    assert request["principal"].startswith("user:")
    assert "variables" not in request
    exported = {(line["typeName"], line["objectId"]) for line in lines if line["kind"] == "object"}
    assert exported == {(o.type_name, o.object_id) for o in objects}
    assert all(line["requestId"] == request["requestId"] for line in lines)
    assert [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)
    # The export itself is on record, with its period.
    assert await cli_events(audit_db) == ["audit export"]

    code = await run_cli(audit_db.settings, "audit", "export", "--from", end, "--to", start)
    assert code == 2


async def test_partitions_and_retention(
    audit_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli(audit_db.settings, "audit", "partitions", "--months-ahead", "3") == 0
    out = capsys.readouterr().out
    assert out.count("created ") == 3
    assert out.count("FOR VALUES FROM") == 15

    conn = await audit_db.raw()
    try:
        for table in ("access_log_request", "access_log_object", "access_log_subject"):
            await conn.execute(
                f"CREATE TABLE {table}_y2020m01 PARTITION OF {table}"
                " FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-02-01 00:00:00+00')"
            )
    finally:
        await conn.close()
    await write(audit_db, customer_objects(2), at=datetime(2020, 1, 15, tzinfo=UTC))
    await write(audit_db, customer_objects(2))
    assert await run_cli(audit_db.settings, "audit", "seal") == 0
    capsys.readouterr()

    this_month = datetime.now(UTC).strftime("%Y-%m")
    assert await run_cli(audit_db.settings, "audit", "drop-before", this_month) == 2
    assert "refused" in capsys.readouterr().err

    assert await run_cli(audit_db.settings, "audit", "drop-before", "2020-02", "--dry-run") == 0
    assert capsys.readouterr().out.split("\n")[:3] == [
        "would drop access_log_object_y2020m01",
        "would drop access_log_request_y2020m01",
        "would drop access_log_subject_y2020m01",
    ]
    assert await run_cli(audit_db.settings, "audit", "drop-before", "2020-02") == 0
    assert "dropped access_log_request_y2020m01" in capsys.readouterr().out

    conn = await audit_db.raw()
    try:
        assert await conn.fetchval("SELECT to_regclass('access_log_request_y2020m01')") is None
        retention = await conn.fetchrow("SELECT * FROM access_log_retention")
        assert retention["dropped_before"] == datetime(2020, 2, 1, tzinfo=UTC)
        assert sorted(retention["partitions"]) == [
            "access_log_object_y2020m01",
            "access_log_request_y2020m01",
            "access_log_subject_y2020m01",
        ]
        detail = await conn.fetchval(
            "SELECT detail FROM access_log_request WHERE operation_name = 'audit drop-before'"
        )
        assert "access_log_request_y2020m01" in detail
    finally:
        await conn.close()

    # The batch that held the dropped rows is reported as retired, not as tampered.
    async with audit_db.owner_session() as session:
        from server.audit.verify import verify

        report = await verify(session=session, settings=audit_db.settings)
    assert report.ok, report.summary()
    assert report.batches_retired == 1
    assert report.retained_from == datetime(2020, 2, 1, tzinfo=UTC)


def test_retention_limit_counts_whole_months() -> None:
    settings = Settings(audit_retention_months=24)
    assert retention_limit(settings, datetime(2026, 11, 24).date()).isoformat() == "2024-11-01"
    settings = Settings(audit_retention_months=1)
    assert retention_limit(settings, datetime(2026, 1, 5).date()).isoformat() == "2025-12-01"
