"""Who is calling: the principal of a request, from `Authorization: Bearer ...`."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from server.authz.principal import Principal
from server.db.columns import utcnow
from server.identity.apikeys import KEY_MARKER, InvalidApiKey, confirm_api_key
from server.identity.confirmation import Confirmation, session_confirmation
from server.identity.events import record_unless_flooding
from server.identity.models import AuthEventKind
from server.identity.sessions import LAST_SEEN_RESOLUTION, session_for_token, touch_session
from server.identity.tokens import decode_access_token
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


def remembered_credential(request: Request) -> str | None:
    """The bearer credential, if the request carries exactly one well-formed (anything
    else is for the full authentication to refuse and record)."""
    try:
        return bearer_credential(request)
    except AuthenticationFailed:
        return None


async def authenticate(request: Request, *, session: AsyncSession, settings: Settings) -> Principal:
    """The principal of a bearer JWT (of a live session) or API key; AuthenticationFailed else.

    Roles are read from the user or key row now, so changes apply to the next request.
    """
    return (await verify_credential(request, session=session, settings=settings)).principal


async def verify_credential(
    request: Request, *, session: AsyncSession, settings: Settings
) -> Confirmation:
    """`authenticate`, with what lets the next requests of the same credential confirm it
    inside their own transaction (server/identity/confirmation.py)."""
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
            return await confirm_api_key(session=session, key=credential)
        except InvalidApiKey as exc:
            await _rejected(session, AuthEventKind.API_KEY_REJECTED, client, str(exc))
            raise AuthenticationFailed("invalid API key") from None
    return await _user_principal(session, credential, client, settings)


async def _user_principal(
    session: AsyncSession, token: str, client: str | None, settings: Settings
) -> Confirmation:
    now = utcnow()
    live = await session_for_token(
        session, token=token, client_address=client, settings=settings, now=now, action="request"
    )
    if live is None:
        raise AuthenticationFailed("invalid token")
    touched = await touch_session(session, live, now)
    return session_confirmation(
        live.principal(),
        last_seen_at=now if touched else live.last_seen_at,
        touch_every=LAST_SEEN_RESOLUTION,
        idle=timedelta(seconds=settings.session_idle_timeout_seconds),
        lifetime=timedelta(seconds=settings.session_absolute_lifetime_seconds),
        token_expires_at=decode_access_token(token, settings=settings).expires_at,
    )


async def _rejected(
    session: AsyncSession,
    event: AuthEventKind,
    client: str | None,
    reason: str,
) -> None:
    await record_unless_flooding(session, event, client_address=client, detail=reason)
