"""Server-side login sessions: what makes logout, disabling and role changes immediate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from server.authz.principal import Principal, PrincipalKind
from server.identity.events import record_unless_flooding
from server.identity.models import AuthEventKind, UserSession
from server.identity.tokens import InvalidToken, decode_access_token
from server.settings import Settings

LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session row with its user and organisation, as read in one statement."""

    session_id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    user_id: uuid.UUID
    username: str
    active: bool
    roles: tuple[str, ...]
    organisation_id: uuid.UUID
    organisation_code: str

    def ends_at(self, settings: Settings) -> datetime:
        """The absolute end: the stored expiry, or sooner if the setting was shortened."""
        lifetime = timedelta(seconds=settings.session_absolute_lifetime_seconds)
        return min(self.expires_at, self.created_at + lifetime)

    def problem(self, settings: Settings, now: datetime) -> str | None:
        """Why this session may not be used now, or None."""
        if self.revoked_at is not None:
            return "session revoked"
        if not self.active:
            return "user disabled"
        if now >= self.ends_at(settings):
            return "session expired"
        if now - self.last_seen_at > timedelta(seconds=settings.session_idle_timeout_seconds):
            return "session idle"
        return None

    def principal(self) -> Principal:
        return Principal(
            kind=PrincipalKind.USER,
            id=self.user_id,
            name=self.username,
            organisation_id=self.organisation_id,
            organisation_code=self.organisation_code,
            roles=self.roles,
            session_id=self.session_id,
        )


# The one statement every authenticated request runs: sent straight to the driver as a
# prepared statement (the same SQL through the ORM costs about as much as the query itself).
LOAD_SESSION = """
    SELECT s.id, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at,
           u.id, u.username, u.active, u.roles, o.id, o.code
    FROM user_session s
    JOIN app_user u ON u.id = s.user_id
    JOIN organisation o ON o.id = u.organisation_id
    WHERE s.id = $1 AND s.user_id = $2
"""


async def load_session(
    session: AsyncSession, *, session_id: uuid.UUID, user_id: uuid.UUID
) -> LiveSession | None:
    """Session, user (with the roles it has now) and organisation in one SQL statement."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    row = await driver.fetchrow(LOAD_SESSION, session_id, user_id)
    if row is None:
        return None
    return LiveSession(
        session_id=row[0],
        created_at=row[1],
        last_seen_at=row[2],
        expires_at=row[3],
        revoked_at=row[4],
        user_id=row[5],
        username=row[6],
        active=row[7],
        roles=tuple(row[8] or ()),
        organisation_id=row[9],
        organisation_code=row[10],
    )


async def touch_session(
    session: AsyncSession, live: LiveSession, now: datetime, *, force: bool = False
) -> bool:
    """Move last_seen_at forward, at most once a minute unless forced; True if it moved."""
    if not force and now - live.last_seen_at < LAST_SEEN_RESOLUTION:
        return False
    await session.execute(
        update(UserSession).where(col(UserSession.id) == live.session_id).values(last_seen_at=now)
    )
    return True


async def start_session(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    client_address: str | None,
    settings: Settings,
    now: datetime,
) -> UserSession:
    row = UserSession(
        user_id=user_id,
        client_address=client_address,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.session_absolute_lifetime_seconds),
    )
    session.add(row)
    await session.flush()
    return row


async def revoke_sessions(
    session: AsyncSession,
    *,
    now: datetime,
    user_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
) -> int:
    """Revoke one session or every live session of a user; returns how many were live."""
    if user_id is None and session_id is None:
        raise ValueError("name a user or a session")
    statement = update(UserSession).where(col(UserSession.revoked_at).is_(None))
    if user_id is not None:
        statement = statement.where(col(UserSession.user_id) == user_id)
    if session_id is not None:
        statement = statement.where(col(UserSession.id) == session_id)
    result = await session.execute(statement.values(revoked_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def session_for_token(
    session: AsyncSession,
    *,
    token: str,
    client_address: str | None,
    settings: Settings,
    now: datetime,
    action: str,
) -> LiveSession | None:
    """The live session a valid access token names, or None (recorded as token_rejected)."""
    user_id: uuid.UUID | None = None
    try:
        claims = decode_access_token(token, settings=settings)
    except InvalidToken as exc:
        problem = str(exc)
    else:
        user_id = claims.user_id
        live = await load_session(session, session_id=claims.session_id, user_id=claims.user_id)
        if live is None:
            problem = "unknown session"
        else:
            found = live.problem(settings, now)
            if found is None:
                return live
            problem = found
    await record_unless_flooding(
        session,
        AuthEventKind.TOKEN_REJECTED,
        client_address=client_address,
        principal_kind=PrincipalKind.USER if user_id else None,
        principal_id=user_id,
        detail=f"{action}: {problem}",
    )
    return None
