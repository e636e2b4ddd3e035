"""Who is using the console: the service's own login kept in a cookie, and CSRF tokens.

* The session cookie holds an access token of the service (the same JWT `/auth/token`
  gives), tied to a server-side session: logout, disabling a user and role changes apply
  at once. It is `__Host-` prefixed, Secure, HttpOnly and SameSite=Strict, so no other
  site's page can send it and no script can read it. It is renewed once it is half spent.
* Every POST form carries a CSRF token: an HMAC of the session (or, on the login page, of
  a random nonce kept in a cookie of its own) under a key derived from SECRET_KEY; a
  request whose Origin or Sec-Fetch-Site says it comes from another site is refused too.
* The console opens only for a principal one of whose roles the policy grants `use` of
  `console` under some purpose; the console then acts under that purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from server.authz.policy import CompiledPolicy
from server.authz.principal import Principal
from server.identity.keys import derive_key
from server.identity.login import TokenGrant, grant_for
from server.identity.sessions import LiveSession, session_for_token, touch_session
from server.identity.tokens import InvalidToken, decode_access_token
from server.settings import Settings

TOOL = "console"
SESSION_COOKIE = "__Host-rekisteri-console"
LOGIN_COOKIE = "__Host-rekisteri-console-login"
CSRF_KEY = b"rekisteri/console-csrf/v1"
MAX_FORM_BYTES = 4096
LOGIN_NONCE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """A logged-in principal the policy lets open the console, and what its pages need."""

    principal: Principal
    purpose: str
    csrf: str
    renewed: TokenGrant | None = None  # a fresh token for the cookie, when the old is half spent

    @property
    def username(self) -> str:
        return self.principal.name


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def csrf_token(settings: Settings, binding: str) -> str:
    key = derive_key(settings, CSRF_KEY)
    return hmac.new(key, binding.encode(), hashlib.sha256).hexdigest()


def csrf_valid(settings: Settings, binding: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(csrf_token(settings, binding), submitted)


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin == own


async def read_form(request: Request) -> dict[str, str] | None:
    """A small urlencoded form (the first value of each field), or None if it is not one."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return None
    return {name: values[0] for name, values in parsed.items() if values}


def console_purpose(policy: CompiledPolicy, principal: Principal) -> str | None:
    """The purpose the console acts under: a role's default purpose if the policy grants
    the console under it, else the first purpose that does; None if none does."""
    granted = policy.tool_purposes(principal.roles, TOOL)
    for role in principal.roles:
        info = policy.roles.get(role)
        if info is not None and info.default_purpose in granted:
            return info.default_purpose
    return granted[0] if granted else None


def new_login_nonce() -> str:
    return secrets.token_urlsafe(32)


def login_binding(nonce: str) -> str:
    return f"login:{nonce}"


def session_binding(session_id: object) -> str:
    return f"session:{session_id}"


async def live_session(
    request: Request, session: AsyncSession, settings: Settings, now: datetime
) -> tuple[LiveSession, TokenGrant | None] | None:
    """The session of the cookie's token (None: no cookie, or not valid now), and a fresh
    token when the cookie's is past half its life."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    live = await session_for_token(
        session,
        token=token,
        client_address=client_address(request),
        settings=settings,
        now=now,
        action="console",
    )
    if live is None:
        return None
    await touch_session(session, live, now)
    return live, renewal(token, live, settings, now)


def renewal(token: str, live: LiveSession, settings: Settings, now: datetime) -> TokenGrant | None:
    try:
        expires_at = decode_access_token(token, settings=settings).expires_at
    except InvalidToken:
        return None
    lifetime = settings.access_token_ttl_seconds
    if expires_at - now > timedelta(seconds=lifetime / 2):
        return None
    remaining = int((live.ends_at(settings) - now).total_seconds())
    if remaining < 60:
        return None
    return grant_for(
        session_id=live.session_id,
        user_id=live.user_id,
        lifetime=min(lifetime, remaining),
        settings=settings,
        now=now,
    )


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    """A cookie sent back only over HTTPS, to this site's own pages, and hidden from scripts."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )


def _clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


def set_session_cookie(response: Response, grant: TokenGrant) -> None:
    _set_cookie(response, SESSION_COOKIE, grant.access_token, grant.expires_in)


def clear_session_cookie(response: Response) -> None:
    _clear_cookie(response, SESSION_COOKIE)


def set_login_cookie(response: Response, nonce: str) -> None:
    _set_cookie(response, LOGIN_COOKIE, nonce, LOGIN_NONCE_SECONDS)


def clear_login_cookie(response: Response) -> None:
    _clear_cookie(response, LOGIN_COOKIE)
