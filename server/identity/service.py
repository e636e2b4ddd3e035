"""Login, refresh and logout; user and API key administration is re-exported from here."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.authz.principal import PrincipalKind
from server.db.columns import utcnow
from server.identity.apikeys import (
    CreatedApiKey,
    InvalidApiKey,
    create_api_key,
    revoke_api_key,
    verify_api_key,
)
from server.identity.events import record_event, record_unless_flooding
from server.identity.keys import client_key, username_digest
from server.identity.models import AppUser, AuthEventKind
from server.identity.passwords import HashingBusy, hash_password, needs_rehash, verify_password
from server.identity.sessions import (
    LiveSession,
    load_session,
    revoke_sessions,
    start_session,
    touch_session,
)
from server.identity.throttle import check_throttle, record_failure
from server.identity.tokens import InvalidToken, decode_access_token, encode_access_token
from server.identity.users import (
    create_user,
    disable_user,
    set_password,
    set_roles,
    user_by_username,
)
from server.settings import Settings

log = logging.getLogger(__name__)

BUSY_RETRY_AFTER = 5

__all__ = [
    "INVALID_CREDENTIALS",
    "CreatedApiKey",
    "InvalidApiKey",
    "LoginRefusal",
    "TokenGrant",
    "authenticate_password",
    "create_api_key",
    "create_user",
    "disable_user",
    "logout",
    "refresh",
    "revoke_api_key",
    "set_password",
    "set_roles",
    "verify_api_key",
]


@dataclass(frozen=True, slots=True)
class TokenGrant:
    access_token: str
    expires_in: int
    session_id: uuid.UUID
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }


@dataclass(frozen=True, slots=True)
class LoginRefusal:
    """Why a login gave no token: the same value for an unknown user and a wrong password."""

    error: str
    status: int
    retry_after: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"error": self.error}


INVALID_CREDENTIALS = LoginRefusal("invalid_credentials", 401)


def _grant(live_session_id: uuid.UUID, user_id: uuid.UUID, lifetime: int, settings: Settings,
           now: datetime) -> TokenGrant:
    token = encode_access_token(
        user_id=user_id,
        session_id=live_session_id,
        settings=settings,
        now=now,
        lifetime_seconds=lifetime,
    )
    return TokenGrant(access_token=token, expires_in=lifetime, session_id=live_session_id)


async def authenticate_password(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    client_address: str | None,
    settings: Settings,
) -> TokenGrant | LoginRefusal:
    """Log in. Throttled before any hash is computed; failures are recorded in `session`."""
    now = utcnow()
    account = username_digest(settings, username)
    client = client_key(client_address)
    user = await user_by_username(session, username)
    throttled = await check_throttle(
        session,
        account_key=account,
        client_key=client,
        user_id=user.id if user else None,
        client_address=client_address,
        limit=settings.login_failures_per_hour,
        now=now,
    )
    if throttled is not None:
        await record_unless_flooding(
            session,
            AuthEventKind.LOCKED_OUT,
            client_address=client_address,
            username_hmac=account,
            detail=f"limit reached per {throttled.scope}",
        )
        return LoginRefusal("too_many_attempts", 429, throttled.retry_after)
    try:
        matches = await verify_password(user.password_hash if user else None, password)
    except HashingBusy:
        log.warning("login refused: password hashing is saturated")
        return LoginRefusal("temporarily_unavailable", 503, BUSY_RETRY_AFTER)
    if user is None or not matches or not user.active:
        await _failed(session, user, matches, account, client, client_address, now)
        return INVALID_CREDENTIALS
    return await _succeeded(session, user, password, client_address, settings, now)


async def _failed(
    session: AsyncSession,
    user: AppUser | None,
    matches: bool,
    account: str,
    client: str,
    client_address: str | None,
    now: datetime,
) -> None:
    await record_failure(session, account_key=account, client_key=client, now=now)
    reason = "unknown user" if user is None else "wrong password" if not matches else "disabled"
    await record_event(
        session,
        AuthEventKind.LOGIN_FAILED,
        principal_kind=PrincipalKind.USER if user else None,
        principal_id=user.id if user else None,
        username_hmac=account,
        client_address=client_address,
        detail=reason,
        at=now,
    )


async def _succeeded(
    session: AsyncSession,
    user: AppUser,
    password: str,
    client_address: str | None,
    settings: Settings,
    now: datetime,
) -> TokenGrant:
    if needs_rehash(user.password_hash):
        try:
            user.password_hash = await hash_password(password)
        except HashingBusy:
            log.info("password rehash postponed: hashing is saturated")
    user.last_login_at = now
    session.add(user)
    live = await start_session(
        session, user_id=user.id, client_address=client_address, settings=settings, now=now
    )
    await record_event(
        session,
        AuthEventKind.LOGIN_SUCCEEDED,
        principal_kind=PrincipalKind.USER,
        principal_id=user.id,
        client_address=client_address,
        detail=f"session={live.id}",
        at=now,
    )
    return _grant(live.id, user.id, settings.access_token_ttl_seconds, settings, now)


async def _live_session(
    session: AsyncSession, token: str, client_address: str | None, settings: Settings,
    now: datetime, action: str,
) -> LiveSession | None:
    """The live session a valid token names, or None (recorded as token_rejected)."""
    try:
        claims = decode_access_token(token, settings=settings)
    except InvalidToken as exc:
        problem, principal_id = str(exc), None
    else:
        live = await load_session(session, session_id=claims.session_id, user_id=claims.user_id)
        problem = live.problem(settings, now) if live else "unknown session"
        principal_id = claims.user_id
        if problem is None and live is not None:
            return live
    await record_unless_flooding(
        session,
        AuthEventKind.TOKEN_REJECTED,
        client_address=client_address,
        principal_kind=PrincipalKind.USER if principal_id else None,
        principal_id=principal_id,
        detail=f"{action}: {problem}",
    )
    return None


async def refresh(
    *, session: AsyncSession, token: str, client_address: str | None, settings: Settings
) -> TokenGrant | None:
    """A new access token for the session of a valid token, within idle and absolute limits."""
    now = utcnow()
    live = await _live_session(session, token, client_address, settings, now, "refresh")
    if live is None:
        return None
    remaining = int((live.ends_at(settings) - now).total_seconds())
    lifetime = min(settings.access_token_ttl_seconds, remaining)
    if lifetime < 1:
        return None
    await touch_session(session, live, now, force=True)
    return _grant(live.session_id, live.user_id, lifetime, settings, now)


async def logout(
    *, session: AsyncSession, token: str, client_address: str | None, settings: Settings
) -> bool:
    """Revoke the session of a valid token; every token of that session stops working."""
    now = utcnow()
    live = await _live_session(session, token, client_address, settings, now, "logout")
    if live is None:
        return False
    await revoke_sessions(session, session_id=live.session_id, user_id=live.user_id, now=now)
    await record_event(
        session,
        AuthEventKind.LOGOUT,
        principal_kind=PrincipalKind.USER,
        principal_id=live.user_id,
        client_address=client_address,
        detail=f"session={live.session_id}",
        at=now,
    )
    return True
