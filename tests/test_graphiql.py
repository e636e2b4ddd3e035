"""GraphiQL in development works without the internet: the page and every file it loads
come from the service, pinned, under a policy that allows no other origin. Validation
errors carry graphql-core's message in development only."""

from __future__ import annotations

import hashlib
from base64 import b64encode
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from server.app import create_app
from server.graphql import ide
from server.graphql.errors import GENERIC_VALIDATION_MESSAGE
from server.settings import Environment, Settings
from tests.conftest import Users, gql

TYPO = "{ customr { id } }"


class References(HTMLParser):
    """Every URL a page loads (script src, link href, img src) with its integrity."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            url = values.get(name)
            if url is not None:
                self.urls.append((url, values.get("integrity")))


async def client_in(
    settings: Settings, environment: Environment
) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings.model_copy(update={"environment": environment}))
    transport = httpx.ASGITransport(app=application, client=("10.1.2.3", 4567))
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://rekisteri.test") as http,
    ):
        yield http


@pytest.fixture
async def development(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for http in client_in(settings, Environment.DEVELOPMENT):
        yield http


@pytest.fixture
async def production(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for http in client_in(settings, Environment.PRODUCTION):
        yield http


def sources(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


async def test_the_page_and_everything_it_loads_come_from_the_service(
    development: httpx.AsyncClient,
) -> None:
    page = await development.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Authorization" in page.text and "X-Purpose" in page.text
    assert "/auth/token" in page.text
    parser = References()
    parser.feed(page.text)
    loaded = [url for url, _ in parser.urls]
    assert any(url.endswith("graphiql.min.js") for url in loaded)
    assert any(url.endswith("react-dom.production.min.js") for url in loaded)
    for url, integrity in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        asset = await development.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(("text/javascript", "text/css"))
        digest = "sha256-" + b64encode(hashlib.sha256(asset.content).digest()).decode()
        assert integrity == digest, url
    assert "<script>" not in page.text  # no inline script: the policy allows none


async def test_the_policy_allows_no_other_origin(development: httpx.AsyncClient) -> None:
    page = await development.get("/graphql")
    directives = sources(page.headers["content-security-policy"])
    assert directives["default-src"] == ["'none'"]
    allowed = {"'self'", "'none'", "data:"}
    for name, values in directives.items():
        assert set(values) <= allowed, (name, values)
    for needed in ("script-src", "style-src", "connect-src", "frame-ancestors"):
        assert needed in directives


async def test_outside_development_there_is_no_page_and_no_files(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/graphql")).status_code == 405
    assert (await client.get("/graphiql/graphiql.min.js")).status_code == 404


async def test_only_the_named_files_are_served(development: httpx.AsyncClient) -> None:
    for name in ("views.py", "..%2F..%2Fsettings.py", "graphql-ws.min.js"):
        assert (await development.get(f"/graphiql/{name}")).status_code == 404


def test_a_file_that_is_not_the_pinned_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ide.ASSET_FILES["graphiql.min.js"]
    changed = ide.AssetFile(spec.package, spec.path, spec.media_type, "sha256-AAAA")
    monkeypatch.setitem(ide.ASSET_FILES, "graphiql.min.js", changed)
    ide.asset.cache_clear()
    try:
        with pytest.raises(ide.AssetMismatch, match=r"graphiql\.min\.js"):
            ide.asset("graphiql.min.js")
    finally:
        ide.asset.cache_clear()


# -- validation errors -----------------------------------------------------------------


async def test_validation_errors_carry_graphql_cores_message_in_development(
    development: httpx.AsyncClient, users: Users
) -> None:
    token = await users.token("customer_service")
    errors = (await gql(development, TYPO, token=token)).json()["errors"]
    assert errors[0]["message"].startswith("Cannot query field 'customr' on type 'Query'.")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert errors[0]["locations"] == [{"line": 1, "column": 3}]


async def test_validation_errors_are_collapsed_in_production(
    production: httpx.AsyncClient, users: Users
) -> None:
    token = await users.token("customer_service")
    body: dict[str, Any] = (await gql(production, TYPO, token=token)).json()
    assert [e["message"] for e in body["errors"]] == [GENERIC_VALIDATION_MESSAGE]
    assert "customr" not in str(body) and "Query" not in str(body)
