"""Revision 0016 on a log holding sealed rows that name fields otherwise than by their
GraphQL coordinate: the rows stay as they are and verify, and every reader sees the
coordinates."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.audit.export import export_jsonl
from server.audit.records import ObjectAccess
from server.audit.seal import seal_pending
from server.audit.service import write_access_log
from server.audit.verify import verify
from server.db.engine import create_engine
from server.db.session import session_factory
from server.rights.retention import DELETED
from server.settings import Settings
from tests import log_names
from tests.conftest import database_at, downgrade_to, upgrade_to
from tests.factories import request_record

BEFORE = "0015"
# An object row as the first access report wrote it (layout 1: the owner may still insert;
# the table's trigger stamps the hash).
REPORT_ROW = """
INSERT INTO access_log_object (at, request_id, type_name, object_id, subject_customer_id,
    operation, fields_read)
VALUES (now(), $1, 'Customer', $2::uuid::text, $2::uuid, 'read',
        '{business_id,customer_number,email,former_customer_since,personal_identity_code}')
"""


@pytest.fixture
async def old_log(server_url: str) -> AsyncIterator[tuple[str, Settings, AsyncEngine]]:
    """A database at the revision before 0016. Its log holds the old names on purpose:
    the test checks them itself."""
    async with database_at(server_url, BEFORE, "rk_alias", check_log=False) as database:
        yield database


def _object(type_name: str, customer_id: uuid.UUID, *read: str) -> ObjectAccess:
    found = ObjectAccess(type_name, str(uuid.uuid4()), customer_id, None, "write")
    found.fields_read.update(read)
    return found


async def _write_old_rows(url: str, settings: Settings, customer_id: uuid.UUID) -> uuid.UUID:
    """A report row of the first release, and retention's and a report's subject rows
    as the code before 0016 wrote them; all sealed. Returns the request of the latter."""
    conn = await asyncpg.connect(url)
    try:
        report_request = uuid.uuid4()
        await conn.execute(
            "INSERT INTO access_log_request (at, request_id, event, outcome, duration_ms)"
            " VALUES (now(), $1, 'cli', 'ok', 1)",
            report_request,
        )
        await conn.execute(REPORT_ROW, report_request, customer_id)
    finally:
        await conn.close()
    record = request_record()
    objects = [
        _object("Invoice", customer_id, "deleted"),
        _object("Contract", customer_id, "contract_number", "product_name"),
        _object("Customer", customer_id, "email", "phone"),
    ]
    app = create_engine(url, settings)
    try:
        async with session_factory(app)() as session, session.begin():
            await write_access_log(session, record, objects)
        async with session_factory(app)() as session, session.begin():
            assert await seal_pending(session=session, settings=settings) is not None
    finally:
        await app.dispose()
    return record.request_id


async def _objects(url: str, request_id: uuid.UUID) -> dict[str, list[str]]:
    """What the auditors' reading function returns: type -> fields read."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT type_name, fields_read FROM access_log_objects($1, $2, $3, NULL)",
            [request_id],
            datetime.now(UTC) - timedelta(hours=1),
            datetime.now(UTC) + timedelta(hours=1),
        )
    finally:
        await conn.close()
    return {r["type_name"]: list(r["fields_read"]) for r in rows}


async def _exported(owner: AsyncEngine) -> list[dict[str, Any]]:
    out = io.StringIO()
    now = datetime.now(UTC)
    async with session_factory(owner)() as session, session.begin():
        await export_jsonl(
            session=session, start=now - timedelta(hours=1), end=now + timedelta(hours=1), out=out
        )
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    return [line for line in lines if line["kind"] == "object"]


async def _verified(owner: AsyncEngine, settings: Settings) -> bool:
    async with session_factory(owner)() as session, session.begin():
        report = await verify(session=session, settings=settings)
    return report.ok


async def test_old_field_names_are_read_as_coordinates_and_still_verify(
    old_log: tuple[str, Settings, AsyncEngine],
) -> None:
    url, settings, owner = old_log
    customer_id = uuid.uuid4()
    request_id = await _write_old_rows(url, settings, customer_id)
    stored = await _objects(url, request_id)
    assert stored["Invoice"] == ["deleted"]
    # The suite's own check finds these names: it would fail a test that wrote them.
    unknown, _ = await log_names.unknown_names(url)
    assert {(n.type_name, n.name) for n in unknown} == {
        ("Customer", "business_id"),
        ("Customer", "customer_number"),
        ("Customer", "former_customer_since"),
        ("Customer", "personal_identity_code"),
        ("Invoice", "deleted"),
        ("Contract", "contract_number"),
        ("Contract", "product_name"),
    }

    await upgrade_to(owner)

    assert await _objects(url, request_id) == {
        "Invoice": sorted(DELETED["invoices"].fields),
        "Contract": ["contractNumber", "product"],
        "Customer": ["email", "phone"],  # no old name: shown exactly as stored
    }
    exported = {(o["typeName"], tuple(o["fieldsRead"])) for o in await _exported(owner)}
    customer_fields = ("businessId", "customerNumber", "email", "personalIdentityCode")
    assert ("Customer", customer_fields) in exported
    # The rows were not changed: they verify as sealed, and read as stored they still
    # hold the old names.
    assert await _verified(owner, settings)
    unknown_after, _ = await log_names.unknown_names(url)
    assert unknown_after == unknown
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval(
            "SELECT fields_read FROM access_log_object_stored WHERE type_name = 'Invoice'"
        ) == ["deleted"]
    finally:
        await conn.close()

    await downgrade_to(owner, BEFORE)
    assert (await _objects(url, request_id))["Invoice"] == ["deleted"]
    assert await _verified(owner, settings)


async def test_the_alias_table_is_append_only_and_closed_to_the_app_role(
    fresh_database_url: str,
) -> None:
    conn = await asyncpg.connect(fresh_database_url)
    try:
        assert await conn.fetchval(
            "SELECT field_names FROM access_log_field_alias"
            " WHERE type_name = 'Contract' AND stored_name = 'product_name'"
        ) == ["product"]
        for statement in (
            "UPDATE access_log_field_alias SET field_names = '{}'",
            "DELETE FROM access_log_field_alias",
            "TRUNCATE access_log_field_alias",
        ):
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await conn.execute(statement)
        assert not await conn.fetchval(
            "SELECT has_table_privilege('rekisteri_app', 'access_log_field_alias', 'SELECT')"
            " OR has_table_privilege('rekisteri_app', 'access_log_object_stored', 'SELECT')"
            " OR has_table_privilege('rekisteri_app', 'access_log_object_all', 'SELECT')"
        )
    finally:
        await conn.close()
