"""The client address of a request: the socket peer, or what a trusted proxy says it is.

Throttling and the logs use `scope["client"]`, so it must not be something a caller can
choose. This middleware is the only place that reads forwarded headers:

* the peer of the connection is kept as the client, unless it is one of
  `TRUSTED_PROXIES` (addresses or networks; none by default);
* from a trusted peer, `X-Forwarded-For` is read from the right: each trusted proxy's
  entry is skipped and the first untrusted entry is the client. An entry that is not an
  IP address ends the walk at the last trusted hop, which then counts as the client;
* `X-Forwarded-Proto` (http or https) from a trusted peer sets the scheme.

The server in front must not rewrite the client itself. `rekisteri serve` turns
uvicorn's proxy headers off; a bare `uvicorn` run must be started with
`--no-proxy-headers` (or `FORWARDED_ALLOW_IPS=""`). If a uvicorn proxy-headers
middleware that trusts any host wraps the application, startup fails and requests with
forwarded headers are refused, so a forged address never reaches throttling or the logs.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
from collections.abc import Iterable, Sequence
from types import FrameType
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_FORWARDED_ENTRIES = 32
MISCONFIGURED = (
    "uvicorn is rewriting the client address from X-Forwarded-For itself; start it with "
    "--no-proxy-headers (or FORWARDED_ALLOW_IPS='') and name proxies in TRUSTED_PROXIES"
)


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and networks (CIDR) as networks; ValueError names a bad entry."""
    networks: list[Network] = []
    for value in values:
        item = value.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {item!r}") from None
    return tuple(networks)


def _address(value: str) -> Address | None:
    """An address from a forwarded entry: 192.0.2.1, 192.0.2.1:443, [2001:db8::1]:443."""
    item = value.strip()
    if item.startswith("["):
        item = item[1 : item.find("]")] if "]" in item else ""
    elif item.count(":") == 1:
        item = item.split(":", 1)[0]
    try:
        parsed = ipaddress.ip_address(item)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


class ClientAddressMiddleware:
    """Sets `scope["client"]` from the peer and, for trusted proxies, X-Forwarded-For."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str] = ()) -> None:
        self.app = app
        self.trusted = parse_networks(trusted_proxies)

    def is_trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            if _outer_proxy_headers() is not None:
                await _refuse_startup(receive, send)
                return
        elif scope["type"] in ("http", "websocket"):
            headers = scope.get("headers") or []
            forwarded = [v for k, v in headers if k == b"x-forwarded-for"]
            if forwarded and _outer_proxy_headers() is not None:
                log.error("request refused: %s", MISCONFIGURED)
                await _misconfigured(scope, send)
                return
            self._resolve(scope, forwarded, headers)
        await self.app(scope, receive, send)

    def _resolve(self, scope: Scope, forwarded: list[bytes], headers: Iterable[Any]) -> None:
        if not self.trusted:
            return  # no proxy is trusted (the default): the peer is the client
        client = scope.get("client")
        peer = _address(client[0]) if client else None
        if not self.is_trusted(peer):
            return
        assert peer is not None
        if forwarded:
            entries = b",".join(forwarded).decode("latin-1").split(",")
            resolved = peer
            for entry in reversed(entries[-MAX_FORWARDED_ENTRIES:]):
                address = _address(entry)
                if address is None:
                    break  # garbage from beyond the last trusted hop: stop at that hop
                resolved = address
                if not self.is_trusted(address):
                    break
            scope["client"] = (str(resolved), 0)
        for key, value in headers:
            if key == b"x-forwarded-proto" and scope["type"] == "http":
                proto = value.decode("latin-1").strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto


def _outer_proxy_headers() -> Any:
    """A uvicorn ProxyHeadersMiddleware above this one that trusts some host, else None.

    uvicorn applies it before the application runs, so by then `scope["client"]` may
    already be a value from X-Forwarded-For; the awaiting callers are on the stack.
    """
    proxy_headers = sys.modules.get("uvicorn.middleware.proxy_headers")
    if proxy_headers is None:
        return None
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self") if frame.f_code.co_name == "__call__" else None
        if isinstance(owner, proxy_headers.ProxyHeadersMiddleware):
            hosts = owner.trusted_hosts
            literals = {item for item in hosts.trusted_literals if item}
            if hosts.always_trust or hosts.trusted_hosts or hosts.trusted_networks or literals:
                return owner
        frame = frame.f_back
    return None


async def _refuse_startup(receive: Receive, send: Send) -> None:
    message: Message = await receive()
    if message["type"] == "lifespan.startup":
        log.error("startup refused: %s", MISCONFIGURED)
        await send({"type": "lifespan.startup.failed", "message": MISCONFIGURED})


async def _misconfigured(scope: Scope, send: Send) -> None:
    if scope["type"] != "http":
        await send({"type": "websocket.close", "code": 1011})
        return
    body = orjson.dumps(
        {
            "errors": [
                {
                    "message": "The server is misconfigured.",
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                }
            ]
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
