"""The /auth routes when the database is gone: a JSON 503 with Retry-After, never a bare 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from server.db.engine import create_engine
from server.db.session import session_factory
from server.identity.routes import routes
from server.identity.tokens import encode_access_token
from server.settings import Settings
from tests import dbserver, factories
from tests.dbserver import Database
from tests.factories import make_user


def _client_for(engine: AsyncEngine, settings: Settings) -> httpx.AsyncClient:
    app = Starlette(routes=routes())
    app.state.settings = settings
    app.state.sessionmaker = session_factory(engine)
    transport = httpx.ASGITransport(app=app, client=(factories.new_address(), 5555))
    return httpx.AsyncClient(transport=transport, base_url="http://rekisteri.test")


def _refusing_url(server: str) -> str:
    """The test server's URL with a port nothing listens on."""
    parts = urlsplit(server)
    netloc = parts.netloc.rsplit("@", 1)
    host = "127.0.0.1:1"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["cache-control"] == "no-store"
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["message"]
    extensions = errors[0]["extensions"]
    assert extensions["code"] == "SERVICE_UNAVAILABLE"
    assert len(extensions["requestId"]) == 36
    # Nothing about the database leaks to the caller.
    assert "5432" not in response.text and "postgres" not in response.text.lower()


@pytest.fixture
async def refusing_engine(identity_db: Database, server_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(_refusing_url(server_url), identity_db.settings)
    yield engine
    await engine.dispose()


async def test_token_route_answers_503_when_the_database_refuses(
    identity_db: Database, refusing_engine: AsyncEngine
) -> None:
    async with _client_for(refusing_engine, identity_db.settings) as http:
        response = await http.post(
            "/auth/token", json={"username": "liisa.virtanen", "password": "x" * 16}
        )
        _assert_unavailable(response)
        # Refresh and logout read the session of a well-signed token from the database too.
        token = encode_access_token(
            user_id=uuid.uuid4(), session_id=uuid.uuid4(), settings=identity_db.settings
        )
        for path in ("/auth/refresh", "/auth/logout"):
            response = await http.post(path, json={}, headers={"Authorization": f"Bearer {token}"})
            _assert_unavailable(response)


async def test_token_route_answers_503_when_the_database_is_dropped_after_startup(
    identity_db: Database, server_url: str
) -> None:
    name = dbserver.unique_name("rk_gone")
    await dbserver.create_database(server_url, name)
    url = dbserver.with_database(server_url, name)
    settings = identity_db.settings_with(database_url=url)
    engine = create_engine(url, settings, as_app_role=False)
    try:
        async with engine.connect() as conn:  # the service started and used its pool
            await conn.execute(text("SELECT 1"))
        await dbserver.drop_database(server_url, name)
        username, password = await make_user(identity_db)
        async with _client_for(engine, settings) as http:
            response = await http.post(
                "/auth/token", json={"username": username, "password": password}
            )
        _assert_unavailable(response)
    finally:
        await engine.dispose()
