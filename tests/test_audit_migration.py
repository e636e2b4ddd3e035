"""Revision 0005 on a log that already holds sealed rows of layout 1."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.audit.seal import SEAL_INSERT, SealHead, merkle_root, ranges_text, seq_ranges
from server.audit.signing import signer_for
from server.audit.verify import verify
from server.db.engine import create_engine
from server.db.migrate import downgrade, upgrade
from server.db.session import session_factory
from server.settings import Settings
from tests.conftest import database_at, downgrade_to, upgrade_to
from tests.factories import customer_objects, request_record
from tests.test_audit import write_access_log

# What the code before revision 0005 sent: the request row and one row per object.
V1_WRITE = """
WITH request AS (
    INSERT INTO access_log_request (at, request_id, event, principal, organisation, roles,
        purpose, client_address, operation_name, operation_type, document_hash,
        policy_version, outcome, duration_ms, detail)
    VALUES ($1, $2, 'graphql', 'user:someone', 'ksat', '{customer_service}', 'billing',
        '10.1.2.3', 'Page', 'query', 'ab', 'v1', 'ok', 3.5, NULL)
)
INSERT INTO access_log_object (at, request_id, type_name, object_id, subject_customer_id,
    subject_prospect_id, operation, fields_read, fields_masked, fields_denied)
SELECT $1, $2, o.type_name, o.object_id, $3, NULL, 'read',
       CASE o.type_name WHEN 'Customer' THEN '{id,lastName}' ELSE '{id,status}' END::text[],
       CASE o.type_name WHEN 'Customer' THEN '{personalIdentityCode}' ELSE '{}' END::text[], '{}'
FROM unnest($4::text[], $5::text[]) AS o(type_name, object_id)
"""


@pytest.fixture
async def v1_database(server_url: str) -> AsyncIterator[tuple[str, Settings, AsyncEngine]]:
    async with database_at(server_url, "0004", "rk_audit_v1") as database:
        yield database


async def _seal_v1(conn: asyncpg.Connection, settings: Settings) -> SealHead:
    """A seal as the sealer of layout 1 made it (there was no digest table yet)."""
    rows = await conn.fetch("SELECT * FROM access_log_leaves(0, 1000000, 100000)")
    signer = signer_for(settings)
    head = SealHead(
        batch_no=1,
        first_seq=1,
        last_seq=rows[-1]["seq"],
        leaf_count=len(rows),
        leaf_ranges=ranges_text(seq_ranges([r["seq"] for r in rows])),
        min_at=min(r["at"] for r in rows),
        max_at=max(r["at"] for r in rows),
        merkle_root=merkle_root([bytes(r["row_hash"]) for r in rows]),
        prev_root=bytes(32),
        sealed_at=datetime.now(UTC),
        key_id=signer.key_id,
        signature="",
    )
    fields = {name: getattr(head, name) for name in SealHead.__slots__}
    fields["signature"] = signer.sign(head.signed_parts())
    return SealHead(**fields)


async def test_upgrade_keeps_sealed_v1_rows_verifiable_and_readable(
    v1_database: tuple[str, Settings, AsyncEngine],
) -> None:
    url, settings, owner = v1_database
    customer_id = uuid.uuid4()
    at = datetime.now(UTC)
    conn = await asyncpg.connect(url)
    try:
        request_id = uuid.uuid4()
        await conn.execute(
            V1_WRITE,
            at,
            request_id,
            customer_id,
            ["Customer", "Invoice", "Invoice"],
            [str(customer_id), str(uuid.uuid4()), str(uuid.uuid4())],
        )
        head = await _seal_v1(conn, settings)
    finally:
        await conn.close()
    async with session_factory(owner)() as session, session.begin():
        fields = {name: getattr(head, name) for name in SealHead.__slots__}
        await session.execute(SEAL_INSERT, fields)

    await upgrade_to(owner)

    # New requests about the same customer go to the subject table.
    app = create_engine(url, settings)
    try:
        objects = customer_objects(1, invoices_per_customer=2)
        for item in objects:
            item.subject_customer_id = customer_id
        async with session_factory(app)() as session, session.begin():
            await write_access_log(session, request_record(purpose="oversight"), objects)
        async with session_factory(app)() as session, session.begin():
            history = (
                await session.execute(
                    text("SELECT * FROM access_history(CAST(:ids AS uuid[]))"),
                    {"ids": [customer_id]},
                )
            ).all()
            found = (
                await session.execute(
                    text(
                        "SELECT * FROM access_log_search(:c, NULL, NULL, NULL, NULL, NULL,"
                        " NULL, NULL, NULL, 10)"
                    ),
                    {"c": customer_id},
                )
            ).all()
            old_objects = (
                await session.execute(
                    text(
                        "SELECT * FROM access_log_objects(CAST(:ids AS uuid[]), :start, :end, NULL)"
                    ),
                    {"ids": [request_id], "start": at, "end": at},
                )
            ).all()
        from server.audit.seal import seal_pending

        async with session_factory(app)() as session, session.begin():
            sealed = await seal_pending(session=session, settings=settings)
        assert sealed is not None and sealed.head.batch_no == 2
    finally:
        await app.dispose()
    assert [(h.purpose, h.data_categories) for h in history] == [
        ("oversight", ["Customer", "Invoice"]),
        ("billing", ["Customer", "Invoice"]),
    ]
    assert [(r.purpose, r.object_count) for r in found] == [("oversight", 3), ("billing", 3)]
    assert [r.type_name for r in old_objects] == ["Customer", "Invoice", "Invoice"]
    assert old_objects[0].fields_masked == ["personalIdentityCode"]

    async with session_factory(owner)() as session, session.begin():
        report = await verify(session=session, settings=settings)
    assert report.ok, report.summary()
    assert (report.batches_checked, report.sealed_rows, report.unsealed_rows) == (2, 6, 0)

    # The old rows are still checked row by row, with the hash of layout 1.
    raw = await asyncpg.connect(url)
    try:
        assert await raw.fetchval(
            "SELECT array_agg(DISTINCT hash_version) FROM access_log_request"
        ) == [1, 3]
        await raw.execute("SET session_replication_role = replica")
        await raw.execute("UPDATE access_log_request SET purpose = 'marketing' WHERE seq = 4")
        await raw.execute("UPDATE access_log_object SET fields_read = '{}' WHERE seq = 2")
    finally:
        await raw.close()
    async with session_factory(owner)() as session, session.begin():
        report = await verify(session=session, settings=settings)
    assert [(p.kind, p.seq, p.table) for p in report.problems] == [
        ("row_hash_mismatch", 2, "access_log_object"),
        ("row_hash_mismatch", 4, "access_log_request"),
    ]


async def test_downgrade_refuses_to_discard_rows_of_layout_2(
    v1_database: tuple[str, Settings, AsyncEngine],
) -> None:
    url, settings, owner = v1_database
    await upgrade_to(owner)
    # Without rows of layout 2, down and up again.
    await downgrade_to(owner, "0004")
    async with owner.begin() as connection:
        assert (
            await connection.execute(text("SELECT to_regclass('access_log_subject')"))
        ).scalar() is None
        await upgrade(connection)
    app = create_engine(url, settings)
    try:
        async with session_factory(app)() as session, session.begin():
            await write_access_log(session, request_record(), customer_objects(2))
    finally:
        await app.dispose()
    with pytest.raises(Exception, match="downgrading would destroy them"):
        await downgrade_to(owner, "0004")
    async with owner.begin() as connection:
        await connection.execute(text("SET LOCAL rekisteri.downgrade_discards_log = 'on'"))
        await downgrade(connection, "0004")
    raw = await asyncpg.connect(url)
    try:
        assert await raw.fetchval("SELECT count(*) FROM access_log_request") == 0
        assert await raw.fetchval("SELECT to_regclass('access_log_subject')") is None
    finally:
        await raw.close()
