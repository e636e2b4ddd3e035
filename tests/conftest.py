"""The tests' one fixture stack: a real PostgreSQL, one migrated template, and per test
either the shared database emptied (`database_url`, `owner`, `identity_db`) or a copy of
the template of its own (`fresh_database_url`, `audit_db`); the app and role clients."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.requests import Request

from server.app import create_app
from server.audit.signing import generate_private_key_pem
from server.cli import build_parser
from server.db.engine import asyncpg_url, create_engine
from server.db.migrate import downgrade, upgrade
from server.graphql.globalid import from_global_id, to_global_id
from server.rights.cli import export_report
from server.settings import PROJECT_ROOT, Environment, Settings
from tests import dbserver, factories
from tests.dbserver import Database

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"
TEST_PASSWORD = "correct horse battery staple 2026"
# A fresh Ed25519 key per test run: AUDIT_SIGNING_KEY is required outside development.
TEST_SIGNING_KEY = generate_private_key_pem()


@pytest.fixture(scope="session")
def server_url() -> str:
    return dbserver.server_url()


@pytest.fixture(scope="session")
async def template_database(server_url: str) -> AsyncIterator[str]:
    """A migrated database, cloned for every test."""
    name = dbserver.unique_name("rk_tmpl")
    await dbserver.create_database(server_url, name, checked=False)
    url = dbserver.with_database(server_url, name)
    engine = create_async_engine(asyncpg_url(url))
    await upgrade_to(engine)
    await engine.dispose()
    yield name
    await dbserver.drop_database(server_url, name)


@pytest.fixture(scope="module", autouse=True)
async def access_log_names_are_coordinates(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After each module, every field name it wrote into an access log is a field of its
    GraphQL type (tests/log_names.py)."""
    yield
    await dbserver.check_log_names(f"test module {request.module.__name__}")


@pytest.fixture(scope="session")
async def shared_database(server_url: str, template_database: str) -> AsyncIterator[str]:
    """One clone of the template for the whole session; emptied before every test."""
    async with dbserver.new_database(server_url, "rk_test", template=template_database) as url:
        yield url


@pytest.fixture
async def database_url(shared_database: str) -> str:
    """The shared test database with every register and identity table emptied.

    Cloning a database per test costs seconds on a durable disk; emptying the tables costs
    milliseconds. The append-only access log keeps earlier tests' records: tests find their
    own by request or customer ID. Tests that damage the database use `fresh_database_url`.
    """
    await dbserver.empty_tables(shared_database)
    return shared_database


@pytest.fixture
async def fresh_database_url(server_url: str, template_database: str) -> AsyncIterator[str]:
    """A database of the test's own, for tests that revoke rights or tamper with the log."""
    async with dbserver.new_database(server_url, "rk_fresh", template=template_database) as url:
        yield url


@pytest.fixture
async def owner(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the database owner, for factories and direct checks."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


def settings_for(url: str, **overrides: Any) -> Settings:
    """The service's settings on a test database (the same keys for every test)."""
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "database_url": url,
        "secret_key": TEST_SECRET,
        "audit_seal_key": TEST_SECRET + "-seal",
        "audit_signing_key": TEST_SIGNING_KEY,
        "policy_reload_interval_seconds": 0.2,
        # Sealing is tested on its own; a background sealer would add statements to the
        # per-request counts that tests compare.
        "audit_sealer": False,
    }
    return Settings(**(values | overrides))


async def upgrade_to(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database of `engine` up to `revision`, in a transaction of its own."""
    async with engine.begin() as connection:
        await upgrade(connection, revision)


async def downgrade_to(engine: AsyncEngine, revision: str) -> None:
    """Migrate the database of `engine` down to `revision`, in a transaction of its own."""
    async with engine.begin() as connection:
        await downgrade(connection, revision)


@asynccontextmanager
async def database_at(
    server: str, revision: str, prefix: str, *, check_log: bool = True
) -> AsyncIterator[tuple[str, Settings, AsyncEngine]]:
    """A database of its own migrated to `revision` (for migration tests): its URL,
    settings and owner engine. `check_log=False` for one whose log holds wrong field names
    on purpose (tests/log_names.py)."""
    async with dbserver.new_database(server, prefix, check_log=check_log) as url:
        settings = settings_for(url)
        owner = create_engine(url, settings, as_app_role=False)
        try:
            await upgrade_to(owner, revision)
            yield url, settings, owner
        finally:
            await owner.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return settings_for(database_url)


@pytest.fixture
async def identity_db(database_url: str, owner: asyncpg.Connection) -> AsyncIterator[Database]:
    """The shared database with engines, holding the two organisations that users of the
    identity tests belong to (`factories.COMPANY` and `factories.SUBCONTRACTOR`)."""
    await factories.organisation(owner, code=factories.COMPANY, kind="company")
    await factories.organisation(owner, code=factories.SUBCONTRACTOR)
    db = Database.open(database_url, settings_for(database_url))
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def audit_db(fresh_database_url: str) -> AsyncIterator[Database]:
    """A database of the test's own with engines: the access-log tests revoke rights,
    disable triggers and tamper with rows."""
    settings = settings_for(fresh_database_url, pool_size=25, pool_timeout_seconds=10.0)
    db = Database.open(fresh_database_url, settings)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the policy files for the test to edit."""
    target = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", target)
    return target


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def resolver_executor(app: Any) -> None:
    """Every operation of the test runs on the resolver executor (for tests that patch
    resolver internals)."""
    runner = app.state.runner
    runner.settings = runner.settings.model_copy(update={"read_executor": "resolver"})


@asynccontextmanager
async def client_of(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the (started) app, calling from 10.1.2.3."""
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4567))
    async with httpx.AsyncClient(transport=transport, base_url="http://rekisteri.test") as http:
        yield http


@asynccontextmanager
async def started_app(settings: Settings) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """An app of its own with `settings`, started, and an HTTP client of it (`client_of`)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application), client_of(application) as http:
        yield application, http


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as http:
        yield http


_PASSWORD_HASH: list[str] = []


async def shared_password_hash() -> str:
    """One argon2 hash of the test password per session (hashing is slow on purpose)."""
    if not _PASSWORD_HASH:
        from server.identity.passwords import hash_password

        _PASSWORD_HASH.append(await hash_password(TEST_PASSWORD))
    return _PASSWORD_HASH[0]


async def user_with_role(owner: asyncpg.Connection, role: str, org: str = "ksat") -> str:
    """A new active user holding one role, with TEST_PASSWORD; returns the username."""
    kind = "company" if org == "ksat" else "subcontractor"
    organisation = await factories.organisation(owner, code=org, kind=kind)
    username = f"{role}.{org}.{uuid.uuid4().hex[:6]}"
    await factories.insert(
        owner,
        "app_user",
        {
            "id": uuid.uuid4(),
            "username": username,
            "password_hash": await shared_password_hash(),
            "organisation_id": organisation["id"],
            "roles": [role],
            "active": True,
        },
    )
    return username


@dataclass
class Users:
    """Creates one user per (role, organisation) on demand and keeps their tokens."""

    owner: asyncpg.Connection
    client: httpx.AsyncClient
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    async def token(self, role: str, org: str = "ksat") -> str:
        key = (role, org)
        if key not in self.tokens:
            username = await user_with_role(self.owner, role, org)
            response = await self.client.post(
                "/auth/token", json={"username": username, "password": TEST_PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.tokens[key] = response.json()["access_token"]
        return self.tokens[key]


@pytest.fixture
async def users(owner: asyncpg.Connection, client: httpx.AsyncClient) -> Users:
    return Users(owner, client)


def gid(type_name: str, key: Any) -> str:
    """The global ID of a row of the register (as responses show it)."""
    return to_global_id(type_name, key)


def raw_id(global_id: str) -> str:
    """The row key a global ID carries (the access log records it)."""
    decoded = from_global_id(global_id)
    assert decoded is not None, global_id
    return decoded[1]


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes of a connection in a response, in order."""
    return [edge["node"] for edge in connection["edges"]]


async def gql(
    client: httpx.AsyncClient,
    query: str,
    *,
    as_: tuple[str, str] | str | None = None,
    users: Users | None = None,
    variables: dict[str, Any] | None = None,
    purpose: str | None = None,
    token: str | None = None,
) -> httpx.Response:
    """POST a GraphQL query as a role (or an explicit token), optionally for a purpose."""
    headers: dict[str, str] = {}
    if as_ is not None:
        assert users is not None, "pass users= to act as a role"
        role, org = (as_, "ksat") if isinstance(as_, str) else as_
        token = await users.token(role, org)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if purpose is not None:
        headers["X-Purpose"] = purpose
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return await client.post("/graphql", json=body, headers=headers)


async def run_cli(settings: Settings, *argv: str) -> int:
    """`rekisteri ARGV` in this process with `settings` (in a thread, as it blocks); its exit
    status."""
    args = build_parser().parse_args(list(argv))
    code: int = await asyncio.to_thread(args.func, args, settings)
    return code


async def export_for_oversight(
    settings: Settings,
    customer: str,
    output_format: str = "json",
    language: str | None = None,
    **options: Any,
) -> tuple[bytes, str]:
    """A customer's (number or ID) data report as `rekisteri report export` writes it for
    the oversight purpose: its bytes and file name."""
    return await export_report(
        settings,
        customer=customer,
        output_format=output_format,
        language=language,
        purpose="oversight",
        **options,
    )


def request_for(authorization: str | list[str] | None, client: str = "192.0.2.20") -> Request:
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
