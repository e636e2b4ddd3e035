"""Fixtures of the access-log tests: a migrated database of their own per test.

The server is TEST_DATABASE_URL, else the embedded server. One migrated template per session; every test gets a fresh copy,
since these tests revoke rights, disable triggers and tamper with rows.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.audit.records import EventKind, ObjectAccess, Outcome, RequestRecord
from server.audit.signing import generate_private_key_pem
from server.db.engine import create_engine
from server.db.migrate import upgrade
from server.db.session import session_factory
from server.settings import Environment, Settings
from tests import dbserver

SEAL_KEY = "audit-test-seal-key-0123456789abcdef-0123456789"
SECRET = "audit-test-secret-0123456789abcdef-0123456789"
SIGNING_KEY = generate_private_key_pem()  # the service's Ed25519 seal key in these tests


async def audit_server_url() -> str:
    """The test server: TEST_DATABASE_URL, or the embedded PostgreSQL (started in a thread,
    because starting it runs an event loop of its own)."""
    return await asyncio.to_thread(dbserver.server_url)


with_database = dbserver.with_database


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def audit_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": Environment.TEST,
        "database_url": url,
        "secret_key": SECRET,
        "audit_seal_key": SEAL_KEY,
        "audit_signing_key": SIGNING_KEY,
        "pool_size": 25,
        "pool_timeout_seconds": 10.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class AuditDb:
    """A migrated database: its URL, settings, and engines as owner and as the app role."""

    url: str
    settings: Settings
    owner: AsyncEngine
    app: AsyncEngine

    @asynccontextmanager
    async def owner_session(self) -> AsyncIterator[AsyncSession]:
        async with session_factory(self.owner)() as session, session.begin():
            yield session

    @asynccontextmanager
    async def app_session(self) -> AsyncIterator[AsyncSession]:
        async with session_factory(self.app)() as session, session.begin():
            yield session

    async def raw(self) -> asyncpg.Connection:
        """A plain owner (superuser in the tests) connection, for tampering."""
        return await asyncpg.connect(self.url)


@pytest.fixture(scope="session")
async def audit_template() -> AsyncIterator[tuple[str, str]]:
    server = await audit_server_url()
    name = f"rk_audit_tmpl_{os.getpid()}_{secrets.token_hex(3)}"
    await _admin(server, f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    engine = create_engine(url, audit_settings(url), as_app_role=False)
    async with engine.begin() as conn:
        await upgrade(conn)
    await engine.dispose()
    yield server, name
    await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def audit_db(audit_template: tuple[str, str]) -> AsyncIterator[AuditDb]:
    server, template = audit_template
    name = f"rk_audit_{os.getpid()}_{secrets.token_hex(4)}"
    await _admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = with_database(server, name)
    settings = audit_settings(url)
    owner = create_engine(url, settings, as_app_role=False)
    app = create_engine(url, settings)
    try:
        yield AuditDb(url, settings, owner, app)
    finally:
        await owner.dispose()
        await app.dispose()
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def request_record(
    *,
    at: datetime | None = None,
    event: EventKind = EventKind.GRAPHQL,
    outcome: Outcome = Outcome.OK,
    principal: str | None = "user:6f1c1a8e-0000-4000-8000-000000000001",
    purpose: str | None = "customer_relationship",
    operation_name: str | None = "CustomerPage",
    detail: str | None = None,
    request_id: uuid.UUID | None = None,
) -> RequestRecord:
    return RequestRecord(
        request_id=request_id or uuid.uuid4(),
        at=at or datetime.now(UTC),
        event=event,
        principal=principal,
        organisation="ksat",
        roles=("customer_service",),
        purpose=purpose,
        client_address="10.1.2.3",
        operation_name=operation_name,
        operation_type="query",
        document_hash="ab" * 32,
        policy_version="0123456789abcdef",
        outcome=outcome,
        duration_ms=12.5,
        detail=detail,
    )


def customer_objects(count: int, *, invoices_per_customer: int = 0) -> list[ObjectAccess]:
    """Objects as a customer page with nested invoices produces them."""
    objects: list[ObjectAccess] = []
    for _ in range(count):
        customer_id = uuid.uuid4()
        customer = ObjectAccess("Customer", str(customer_id), customer_id, None, "read")
        customer.fields_read.update({"id", "customerNumber", "lastName", "email"})
        customer.fields_masked.add("personalIdentityCode")
        customer.fields_denied.add("collectionCases")
        objects.append(customer)
        for _ in range(invoices_per_customer):
            invoice = ObjectAccess("Invoice", str(uuid.uuid4()), customer_id, None, "read")
            invoice.fields_read.update({"id", "invoiceNumber", "totalInclVat", "status"})
            objects.append(invoice)
    return objects
