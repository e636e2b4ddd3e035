"""Fixtures of the identity tests: one migrated database on a real PostgreSQL.

The server is TEST_DATABASE_URL, else
the embedded server the other tests use. Tests share the database and keep apart by
using their own usernames and client addresses.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from server.audit.signing import generate_private_key_pem
from server.db.engine import create_engine
from server.db.migrate import upgrade
from server.db.session import session_factory
from server.identity.service import create_user
from server.settings import Environment, Settings
from tests import dbserver

SECRET = "identity-test-secret-0123456789abcdef-0123456789"
# Role names the tests invent; real ones come from the policy files.
ROLES = frozenset({"clerk", "collector", "auditor"})
# Migrated only as far as the tables these tests read: identity, and the organisation
# table as its model now is (0007 added the organisation's country).
REVISION = os.environ.get("IDENTITY_TEST_REVISION", "0007")
COMPANY = "ksat"
SUBCONTRACTOR = "perinta-a"


async def server_url() -> str:
    """The test server: TEST_DATABASE_URL, or the embedded PostgreSQL (started in a thread,
    because starting it runs an event loop of its own)."""
    return await asyncio.to_thread(dbserver.server_url)


_with_database = dbserver.with_database


@dataclass
class IdentityDb:
    url: str
    settings: Settings
    owner_engine: AsyncEngine
    app_engine: AsyncEngine

    @property
    def app(self) -> async_sessionmaker[AsyncSession]:
        """Sessions as the restricted runtime role, as the service runs."""
        return session_factory(self.app_engine)

    @property
    def owner(self) -> async_sessionmaker[AsyncSession]:
        """Sessions as the database owner, as the command line runs."""
        return session_factory(self.owner_engine)

    def settings_with(self, **changes: Any) -> Settings:
        return self.settings.model_copy(update=changes)

    async def sql(self, statement: str, *args: Any) -> list[asyncpg.Record]:
        """Run SQL as the owner (to age rows or read them back)."""
        conn = await asyncpg.connect(self.url)
        try:
            return list(await conn.fetch(statement, *args))
        finally:
            await conn.close()


@pytest.fixture(scope="session")
async def identity_db() -> AsyncIterator[IdentityDb]:
    server = await server_url()
    name = f"rk_identity_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(server, name)
    settings = Settings(
        environment=Environment.TEST,
        database_url=url,
        secret_key=SECRET,
        audit_seal_key=SECRET + "-seal",
        audit_signing_key=generate_private_key_pem(),
    )
    owner_engine = create_engine(url, settings, as_app_role=False)
    app_engine = create_engine(url, settings, as_app_role=True)
    try:
        async with owner_engine.begin() as conn:
            await upgrade(conn, REVISION)
        db = IdentityDb(url, settings, owner_engine, app_engine)
        await db.sql(
            "INSERT INTO organisation (id, code, name, kind, description) VALUES "
            "($1, $2, 'Koillis-Satakunnan Sähkö Oy', 'company', ''), "
            "($3, $4, 'Satakunnan Perintäpalvelu Oy', 'subcontractor', '')",
            uuid.uuid4(),
            COMPANY,
            uuid.uuid4(),
            SUBCONTRACTOR,
        )
        yield db
    finally:
        await app_engine.dispose()
        await owner_engine.dispose()
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def new_password() -> str:
    return "pw-" + secrets.token_urlsafe(15)


def new_username(stem: str = "user") -> str:
    return f"{stem}.{secrets.token_hex(4)}"


def new_address() -> str:
    """A fresh client address in its own /64 of the documentation range (only stored)."""
    return f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::1"


async def make_user(
    db: IdentityDb,
    *,
    roles: tuple[str, ...] = ("clerk",),
    organisation: str = COMPANY,
    stem: str = "user",
) -> tuple[str, str]:
    """A new active user (created as the owner, like the command line); (username, password)."""
    username, password = new_username(stem), new_password()
    async with db.owner() as session, session.begin():
        await create_user(
            session=session,
            username=username,
            password=password,
            organisation_code=organisation,
            roles=roles,
            known_roles=set(ROLES),
        )
    return username, password


def request_for(
    authorization: str | list[str] | None,
    client: str = "192.0.2.20",
) -> Request:
    """A Starlette request to /graphql with the given Authorization header(s)."""
    values = [authorization] if isinstance(authorization, str) else authorization or []
    headers = [(b"authorization", value.encode()) for value in values]
    headers.append((b"content-type", b"application/json"))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": headers,
        "client": (client, 40000),
        "server": ("rekisteri.test", 443),
        "scheme": "https",
        "http_version": "1.1",
        "root_path": "",
    }
    return Request(scope)
