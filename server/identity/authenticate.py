"""Who is calling: the principal of a request, from `Authorization: Bearer ...`."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from server.authz.principal import Principal
from server.db.columns import utcnow
from server.identity.apikeys import KEY_MARKER, InvalidApiKey, verify_api_key
from server.identity.events import record_unless_flooding
from server.identity.models import AuthEventKind
from server.identity.sessions import session_for_token, touch_session
from server.settings import Settings

# RFC 6750 b64token: the only characters a bearer credential may have.
BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)


class AuthenticationFailed(Exception):
    """No usable credentials; the message names no secret and is safe to log."""


class MissingCredentials(AuthenticationFailed):
    """No Authorization header at all: refused, but not an authentication event."""


def bearer_credential(request: Request) -> str:
    values = request.headers.getlist("authorization")
    if not values:
        raise MissingCredentials("missing credentials")
    if len(values) > 1:
        raise AuthenticationFailed("more than one Authorization header")
    match = BEARER.fullmatch(values[0].strip())
    if match is None:
        raise AuthenticationFailed("malformed Authorization header")
    return match.group(1)


async def authenticate(request: Request, *, session: AsyncSession, settings: Settings) -> Principal:
    """The principal of a bearer JWT (of a live session) or API key; AuthenticationFailed else.

    Roles are read from the user or key row now, so changes apply to the next request.
    """
    client = request.client.host if request.client else None
    try:
        credential = bearer_credential(request)
    except MissingCredentials:
        raise
    except AuthenticationFailed as exc:
        await _rejected(session, AuthEventKind.TOKEN_REJECTED, client, str(exc))
        raise
    if credential.startswith(KEY_MARKER):
        try:
            return await verify_api_key(session=session, key=credential)
        except InvalidApiKey as exc:
            await _rejected(session, AuthEventKind.API_KEY_REJECTED, client, str(exc))
            raise AuthenticationFailed("invalid API key") from None
    return await _user_principal(session, credential, client, settings)


async def _user_principal(
    session: AsyncSession, token: str, client: str | None, settings: Settings
) -> Principal:
    now = utcnow()
    live = await session_for_token(
        session, token=token, client_address=client, settings=settings, now=now, action="request"
    )
    if live is None:
        raise AuthenticationFailed("invalid token")
    await touch_session(session, live, now)
    return live.principal()


async def _rejected(
    session: AsyncSession,
    event: AuthEventKind,
    client: str | None,
    reason: str,
) -> None:
    await record_unless_flooding(session, event, client_address=client, detail=reason)
