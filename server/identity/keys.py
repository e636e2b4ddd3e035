"""Keys derived from SECRET_KEY, one per use, and the keyed digests built with them."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from server.settings import Settings

TOKEN_SIGNING = b"rekisteri/access-token/v1"
USERNAME_DIGEST = b"rekisteri/username/v1"


def derive_key(settings: Settings, label: bytes) -> bytes:
    """A 32-byte key for one use, so a leak of one use's output says nothing of another."""
    return hmac.new(settings.secret_key.encode(), label, hashlib.sha256).digest()


def username_digest(settings: Settings, username: str) -> str:
    """HMAC of the lower-cased username: stored for throttling and events, never the name."""
    key = derive_key(settings, USERNAME_DIGEST)
    return hmac.new(key, username.strip().lower().encode(), hashlib.sha256).hexdigest()


def client_key(address: str | None) -> str:
    """The throttling key of a client: the IPv4 address, or the /64 network of an IPv6 one."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
