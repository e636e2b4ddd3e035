"""The client address: the socket peer, or X-Forwarded-For only from TRUSTED_PROXIES.

However the service is started (`rekisteri serve`, the container, a bare uvicorn), a
client must not choose the address that throttling counts and the logs record.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from server import cli
from server.app import create_app
from server.identity.client_address import ClientAddressMiddleware
from server.settings import PROJECT_ROOT, Settings

PEER = "127.0.0.1"


async def _echo(request: Request) -> Response:
    client = request.client
    return JSONResponse({"host": client.host if client else None, "scheme": request.url.scheme})


def _echo_app(trusted: tuple[str, ...] = ()) -> Any:
    app = Starlette(routes=[Route("/", _echo)])
    app.add_middleware(ClientAddressMiddleware, trusted_proxies=trusted)
    return app


async def _seen(app: Any, peer: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://rekisteri.test") as http:
        response = await http.get("/", headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("peer", ["127.0.0.1", "203.0.113.7", "::1"])
async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(peer: str) -> None:
    headers = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    assert await _seen(_echo_app(), peer, headers) == {"host": peer, "scheme": "http"}
    # Trusting another network does not make this peer trusted.
    assert (await _seen(_echo_app(("10.0.0.0/8",)), peer, headers))["host"] == peer


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("198.51.100.9", "198.51.100.9"),
        # Entries left of the first untrusted one were written by the client: ignored.
        ("192.0.2.66, 198.51.100.9", "198.51.100.9"),
        ("192.0.2.66, 198.51.100.9, 10.2.2.2", "198.51.100.9"),
        ("198.51.100.9:4711", "198.51.100.9"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        # Not an address beyond the last trusted hop: that hop counts as the client.
        ("not-an-address, 10.2.2.2", "10.2.2.2"),
        ("unknown", "10.1.1.1"),
        # Every hop trusted: the leftmost.
        ("10.3.3.3, 10.2.2.2", "10.3.3.3"),
    ],
)
async def test_a_trusted_proxy_names_the_client(forwarded: str, client: str) -> None:
    app = _echo_app(("10.0.0.0/8",))
    headers = {"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"}
    assert await _seen(app, "10.1.1.1", headers) == {"host": client, "scheme": "https"}
    assert (await _seen(app, "10.1.1.1"))["host"] == "10.1.1.1"  # no header: the proxy


async def test_repeated_forwarded_for_headers_are_read_as_one_list() -> None:
    app = _echo_app(("10.0.0.0/8",))
    transport = httpx.ASGITransport(app=app, client=("10.1.1.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://rekisteri.test") as http:
        response = await http.get(
            "/", headers=[("X-Forwarded-For", "198.51.100.9"), ("X-Forwarded-For", "10.2.2.2")]
        )
    assert response.json()["host"] == "198.51.100.9"


def test_trusted_proxies_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().trusted_proxies == ()
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1 ,::1")
    assert Settings().trusted_proxies == ("10.0.0.0/8", "192.0.2.1/32", "::1/128")
    monkeypatch.setenv("TRUSTED_PROXIES", "*")
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings()


# ---------------------------------------------------------------------------------------
# The whole application: throttling and the logs see the resolved address
# ---------------------------------------------------------------------------------------


@pytest.fixture
def throttled_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_failures_per_hour": 3})


@pytest.fixture
async def started(throttled_settings: Settings) -> AsyncIterator[Any]:
    application = create_app(throttled_settings)
    async with application.router.lifespan_context(application):
        yield application


async def _spray(app: Any, peer: str, attempts: int) -> list[int]:
    """Failed logins for new usernames, each claiming another address."""
    statuses = []
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://rekisteri.test") as http:
        for n in range(attempts):
            response = await http.post(
                "/auth/token",
                json={"username": f"spray.{uuid.uuid4().hex[:8]}", "password": "x" * 16},
                headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
            )
            statuses.append(response.status_code)
    return statuses


async def test_a_client_cannot_escape_the_address_limit_with_forwarded_for(
    started: Any, owner: asyncpg.Connection
) -> None:
    since = await owner.fetchval("SELECT clock_timestamp()")
    assert await _spray(started, PEER, 4) == [401, 401, 401, 429]
    addresses = await owner.fetch(
        "SELECT DISTINCT client_address FROM auth_event WHERE at >= $1", since
    )
    assert [r["client_address"] for r in addresses] == [PEER]


async def test_uvicorn_defaults_cannot_override_the_client_address(
    started: Any, throttled_settings: Settings, owner: asyncpg.Connection
) -> None:
    """A bare `uvicorn` trusts X-Forwarded-For from 127.0.0.1 unless told otherwise."""
    wrapped = _as_uvicorn_loads(started)
    assert isinstance(wrapped, ProxyHeadersMiddleware)  # uvicorn's default
    # A request it rewrote is never served with the forged address ...
    since = await owner.fetchval("SELECT clock_timestamp()")
    assert await _spray(wrapped, PEER, 4) == [500] * 4
    assert await owner.fetchval("SELECT count(*) FROM auth_event WHERE at >= $1", since) == 0
    # ... and the service refuses to start behind it.
    fresh = _as_uvicorn_loads(create_app(throttled_settings))
    assert await _lifespan_startup(fresh) == "lifespan.startup.failed"

    # Told not to, uvicorn leaves the address to the service.
    for options in ({"proxy_headers": False}, {"forwarded_allow_ips": ""}):
        fresh = _as_uvicorn_loads(create_app(throttled_settings), **options)
        assert await _lifespan_startup(fresh) == "lifespan.startup.complete"
    assert await _spray(_as_uvicorn_loads(started, forwarded_allow_ips=""), PEER, 4) == [
        401,
        401,
        401,
        429,
    ]


def _as_uvicorn_loads(app: Any, **options: Any) -> Any:
    """The application as uvicorn runs it, with its defaults unless `options` say else."""
    config = uvicorn.Config(app, lifespan="on", log_config=None, **options)
    config.load()
    return config.loaded_app


async def _lifespan_startup(app: Any) -> str:
    """Run the ASGI lifespan protocol up to startup; the answer's type (then shut down)."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    answer = await asyncio.wait_for(outbox.get(), 30)
    if answer["type"] == "lifespan.startup.complete":
        await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(task, 30)
    return str(answer["type"])


# ---------------------------------------------------------------------------------------
# How the service is started
# ---------------------------------------------------------------------------------------


def test_serve_turns_uvicorns_proxy_headers_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from server import serving

    calls: list[dict[str, Any]] = []

    def run_one(app: Any, **options: Any) -> int:
        calls.append(options)
        return 0

    monkeypatch.setattr(serving, "run_one", run_one)
    args = argparse.Namespace(host="0.0.0.0", port=8000)  # noqa: S104
    settings = Settings(trusted_proxies=("10.0.0.0/8",))
    assert cli.cmd_serve(args, settings) == 0
    (options,) = calls
    assert options["proxy_headers"] is False
    assert options["forwarded_allow_ips"] == ""
    config = uvicorn.Config(_echo_app(), **options)
    config.load()
    assert not isinstance(config.loaded_app, ProxyHeadersMiddleware)


def test_the_container_trusts_no_proxy_by_default() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert 'FORWARDED_ALLOW_IPS=""' in runtime
    assert 'TRUSTED_PROXIES=""' in runtime
    commands = [line for line in runtime.splitlines() if line.startswith(("CMD", "ENTRYPOINT"))]
    assert commands and all("rekisteri serve" in line for line in commands)
    assert not any("proxy-headers" in line or "forwarded-allow" in line for line in commands)
    compose = Path(PROJECT_ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "FORWARDED_ALLOW_IPS" not in compose or 'FORWARDED_ALLOW_IPS: ""' in compose
