"""Login with a username and password: throttled, constant in timing, cheap to refuse.

The work is split so that no database connection is held while waiting or hashing:
a read (user and throttle counts; a client address over its limit is refused here), then,
in the account's turn, a second read, the account's delay if it is over its limit, the
hash in a bounded slot, and a write. Attempts on one account take turns, so the counts
read in turn include every attempt before, and no one can run guesses in parallel.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.authz.principal import PrincipalKind
from server.db.columns import utcnow
from server.identity.events import record_event, record_unless_flooding
from server.identity.keys import client_key, username_digest
from server.identity.models import AppUser, AuthEventKind
from server.identity.passwords import (
    HashingBusy,
    check_password_in_slot,
    hash_password,
    hashing_slot,
    needs_rehash,
)
from server.identity.sessions import start_session
from server.identity.throttle import (
    Standing,
    Throttled,
    account_delay,
    check_throttle,
    record_failure,
)
from server.identity.tokens import encode_access_token
from server.identity.turns import NoTurn, Turn, account_turn
from server.identity.users import user_by_username
from server.settings import Settings

log = logging.getLogger(__name__)

BUSY_RETRY_AFTER = 5

Sleep = Callable[[float], Awaitable[None]]


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
BUSY = LoginRefusal("temporarily_unavailable", 503, BUSY_RETRY_AFTER)


def grant_for(
    *, session_id: uuid.UUID, user_id: uuid.UUID, lifetime: int, settings: Settings, now: datetime
) -> TokenGrant:
    token = encode_access_token(
        user_id=user_id,
        session_id=session_id,
        settings=settings,
        now=now,
        lifetime_seconds=lifetime,
    )
    return TokenGrant(access_token=token, expires_in=lifetime, session_id=session_id)


@dataclass(frozen=True, slots=True)
class _Attempt:
    account: str  # HMAC of the username
    client: str  # throttling key of the client address
    client_address: str | None
    user_id: uuid.UUID | None
    password_hash: str | None
    active: bool


async def _standing(session: AsyncSession, attempt: _Attempt, settings: Settings) -> Standing:
    standing = await check_throttle(
        session,
        account_key=attempt.account,
        client_key=attempt.client,
        limit=settings.login_failures_per_hour,
        now=utcnow(),
    )
    await session.rollback()  # a read only: give the connection back before waiting
    return standing


async def _record_lockout(session: AsyncSession, attempt: _Attempt, detail: str) -> None:
    await record_unless_flooding(
        session,
        AuthEventKind.LOCKED_OUT,
        client_address=attempt.client_address,
        username_hmac=attempt.account,
        detail=detail,
    )


async def _refused(session: AsyncSession, attempt: _Attempt, throttled: Throttled) -> LoginRefusal:
    await _record_lockout(session, attempt, f"limit reached per {throttled.scope}")
    return LoginRefusal("too_many_attempts", 429, throttled.retry_after)


async def _wait(
    session: AsyncSession, attempt: _Attempt, turn: Turn, delay: float, sleep: Sleep
) -> None:
    """Wait the account's delay; if cancelled, the turn stays taken until it is over."""
    await _record_lockout(
        session, attempt, f"account over its failure limit: attempt delayed {delay:.2f} s"
    )
    deadline = asyncio.get_running_loop().time() + delay
    try:
        await sleep(delay)
    except BaseException:
        turn.hold_until = deadline
        raise


async def authenticate_password(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    client_address: str | None,
    settings: Settings,
    sleep: Sleep = asyncio.sleep,
) -> TokenGrant | LoginRefusal:
    """Log in; refusals are identical for unknown users, wrong passwords and disabled users.

    Attempts on one account take turns. Once the account is over its failure limit, each
    waits `account_delay` (through `sleep`) before its password is checked, so the right
    password still succeeds. A client address over its limit is refused at once.

    Ends and commits its own transactions on `session` (so call it outside
    `session.begin()`): failures are recorded even though no token is returned.
    """
    user = await user_by_username(session, username)
    attempt = _Attempt(
        account=username_digest(settings, username),
        client=client_key(client_address),
        client_address=client_address,
        user_id=user.id if user else None,
        password_hash=user.password_hash if user else None,
        active=bool(user and user.active),
    )
    standing = await _standing(session, attempt, settings)
    if standing.refused is not None:
        return await _refused(session, attempt, standing.refused)
    try:
        async with account_turn(
            attempt.account, wait_seconds=settings.login_queue_timeout_seconds
        ) as turn:
            # Counted again in turn: the attempts before this one have been recorded.
            standing = await _standing(session, attempt, settings)
            if standing.refused is not None:
                return await _refused(session, attempt, standing.refused)
            delay = account_delay(
                standing.account_failures,
                limit=settings.login_failures_per_hour,
                base=settings.login_delay_base_seconds,
                cap=settings.login_delay_max_seconds,
            )
            if delay > 0:
                await _wait(session, attempt, turn, delay, sleep)
            return await _check(session, attempt, password, settings)
    except NoTurn:
        retry_after = max(1, math.ceil(settings.login_delay_max_seconds))
        return await _refused(session, attempt, Throttled("account", retry_after))


async def _check(
    session: AsyncSession, attempt: _Attempt, password: str, settings: Settings
) -> TokenGrant | LoginRefusal:
    try:
        async with hashing_slot():
            matches = await check_password_in_slot(attempt.password_hash, password)
    except HashingBusy:
        log.warning("login refused: password hashing is saturated")
        return BUSY
    now = utcnow()
    if not (matches and attempt.active and attempt.user_id):
        await _failed(session, attempt, matches, now)
        await session.commit()
        return INVALID_CREDENTIALS
    grant = await _succeeded(
        session, attempt.user_id, password, attempt.client_address, settings, now
    )
    if grant is None:  # disabled while the password was being checked
        await _failed(session, attempt, matches, now)
        await session.commit()
        return INVALID_CREDENTIALS
    await session.commit()
    return grant


async def _failed(session: AsyncSession, attempt: _Attempt, matches: bool, now: datetime) -> None:
    await record_failure(session, account_key=attempt.account, client_key=attempt.client, now=now)
    if attempt.user_id is None:
        reason = "unknown user"
    else:
        reason = "user disabled" if matches else "wrong password"
    await record_event(
        session,
        AuthEventKind.LOGIN_FAILED,
        principal_kind=PrincipalKind.USER if attempt.user_id else None,
        principal_id=attempt.user_id,
        username_hmac=attempt.account,
        client_address=attempt.client_address,
        detail=reason,
        at=now,
    )


async def _succeeded(
    session: AsyncSession,
    user_id: uuid.UUID,
    password: str,
    client_address: str | None,
    settings: Settings,
    now: datetime,
) -> TokenGrant | None:
    user = await session.get(AppUser, user_id)
    if user is None or not user.active:
        return None
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
    return grant_for(
        session_id=live.id,
        user_id=user.id,
        lifetime=settings.access_token_ttl_seconds,
        settings=settings,
        now=now,
    )
