"""Authentication events: a row in auth_event and a log line, never a password or token."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from server.authz.principal import PrincipalKind
from server.db.columns import utcnow
from server.identity.models import ApiKey, AppUser, AuthEvent, AuthEventKind

log = logging.getLogger("server.identity.events")

FLOOD_WINDOW = timedelta(minutes=1)
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def _clean(value: str | None, limit: int) -> str | None:
    """Printable ASCII only, so that no value can forge a log line."""
    if value is None:
        return None
    return _UNPRINTABLE.sub("?", value)[:limit]


_ROUTINE = frozenset(
    {
        AuthEventKind.LOGIN_SUCCEEDED,
        AuthEventKind.LOGOUT,
        AuthEventKind.USER_CREATED,
        AuthEventKind.PASSWORD_CHANGED,
        AuthEventKind.ROLES_CHANGED,
        AuthEventKind.API_KEY_CREATED,
        AuthEventKind.API_KEY_REVOKED,
        AuthEventKind.SESSION_REVOKED,
        AuthEventKind.USER_DISABLED,
    }
)


async def record_event(
    session: AsyncSession,
    event: AuthEventKind,
    *,
    principal_kind: PrincipalKind | None = None,
    principal_id: uuid.UUID | None = None,
    username_hmac: str | None = None,
    client_address: str | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    """Add an event to the caller's transaction and log it."""
    row = AuthEvent(
        at=at or utcnow(),
        event=event.value,
        principal_kind=principal_kind.value if principal_kind else None,
        principal_id=principal_id,
        username_hmac=username_hmac,
        client_address=_clean(client_address, 64),
        detail=_clean(detail, 500) or "",
    )
    session.add(row)
    await session.flush()
    level = logging.INFO if event in _ROUTINE else logging.WARNING
    log.log(
        level,
        "auth event=%s principal=%s client=%s account=%s detail=%s",
        event.value,
        f"{row.principal_kind}:{principal_id}" if principal_id else "-",
        row.client_address or "-",
        (username_hmac or "-")[:16],
        row.detail or "-",
    )


async def save_with_event(
    session: AsyncSession,
    row: AppUser | ApiKey,
    event: AuthEventKind,
    *,
    detail: str,
    at: datetime | None = None,
) -> None:
    """Store a user or an API key and record the event that changed it, in the caller's
    transaction."""
    session.add(row)
    await session.flush()
    kind = PrincipalKind.USER if isinstance(row, AppUser) else PrincipalKind.API_KEY
    await record_event(
        session, event, principal_kind=kind, principal_id=row.id, detail=detail, at=at
    )


async def recently_recorded(
    session: AsyncSession, event: AuthEventKind, client_address: str | None, now: datetime
) -> bool:
    statement = select(
        exists().where(
            col(AuthEvent.event) == event.value,
            col(AuthEvent.client_address) == _clean(client_address, 64),
            col(AuthEvent.at) > now - FLOOD_WINDOW,
        )
    )
    return bool(await session.scalar(statement))


async def record_unless_flooding(
    session: AsyncSession,
    event: AuthEventKind,
    *,
    client_address: str | None,
    detail: str,
    principal_kind: PrincipalKind | None = None,
    principal_id: uuid.UUID | None = None,
    username_hmac: str | None = None,
) -> None:
    """Record at most one event of a kind per client address per minute.

    A refused request rolls its transaction back, so the row is written in a transaction
    of its own when the session is bound to an engine. A failure to write is logged and
    swallowed: the request is refused either way.
    """
    now = utcnow()

    async def write(target: AsyncSession) -> None:
        if await recently_recorded(target, event, client_address, now):
            return
        await record_event(
            target,
            event,
            principal_kind=principal_kind,
            principal_id=principal_id,
            username_hmac=username_hmac,
            client_address=client_address,
            detail=detail,
            at=now,
        )

    try:
        bind = session.bind
        if isinstance(bind, AsyncEngine):
            async with AsyncSession(bind, expire_on_commit=False) as own, own.begin():
                await write(own)
        else:
            await write(session)
    except Exception:
        log.exception("could not record the authentication event %s", event.value)
