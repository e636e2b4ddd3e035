"""Refresh and logout; login, user and API key administration are re-exported from here."""

from __future__ import annotations

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
from server.identity.events import record_event
from server.identity.login import (
    INVALID_CREDENTIALS,
    LoginRefusal,
    TokenGrant,
    authenticate_password,
    grant_for,
)
from server.identity.models import AuthEventKind
from server.identity.sessions import revoke_sessions, session_for_token, touch_session
from server.identity.users import create_user, disable_user, set_password, set_roles
from server.settings import Settings

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


async def refresh(
    *, session: AsyncSession, token: str, client_address: str | None, settings: Settings
) -> TokenGrant | None:
    """A new access token for the session of a valid token, within idle and absolute limits."""
    now = utcnow()
    live = await session_for_token(
        session,
        token=token,
        client_address=client_address,
        settings=settings,
        now=now,
        action="refresh",
    )
    if live is None:
        return None
    remaining = int((live.ends_at(settings) - now).total_seconds())
    lifetime = min(settings.access_token_ttl_seconds, remaining)
    if lifetime < 1:
        return None
    await touch_session(session, live, now, force=True)
    return grant_for(
        session_id=live.session_id,
        user_id=live.user_id,
        lifetime=lifetime,
        settings=settings,
        now=now,
    )


async def logout(
    *, session: AsyncSession, token: str, client_address: str | None, settings: Settings
) -> bool:
    """Revoke the session of a valid token; every token of that session stops working."""
    now = utcnow()
    live = await session_for_token(
        session,
        token=token,
        client_address=client_address,
        settings=settings,
        now=now,
        action="logout",
    )
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
