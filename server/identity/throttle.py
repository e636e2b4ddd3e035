"""Login throttling: failures per account and per client address in the last hour.

A client address from which the account logged in successfully within the last 30 days
may still try past the per-account limit (so that an attacker cannot lock a user out),
for a few attempts of its own, but never past the per-address limit.
"""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from server.identity.models import AuthEvent, AuthEventKind, LoginFailure

WINDOW = timedelta(hours=1)
KNOWN_ADDRESS_WINDOW = timedelta(days=30)
KNOWN_ADDRESS_ALLOWANCE = 10
PRUNE_ONE_IN = 64
NO_USER = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class Throttled:
    scope: str  # "account" or "address"
    retry_after: int


async def _retry_after(
    session: AsyncSession, condition: Any, count: int, limit: int, now: datetime
) -> int:
    """Seconds until enough failures age out for the count to fall below the limit."""
    statement = (
        select(col(LoginFailure.at))
        .where(condition, col(LoginFailure.at) > now - WINDOW)
        .order_by(col(LoginFailure.at))
        .offset(max(count - limit, 0))
        .limit(1)
    )
    oldest = await session.scalar(statement)
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + WINDOW - now).total_seconds()))


async def _known_address(
    session: AsyncSession, user_id: uuid.UUID | None, client_address: str | None, now: datetime
) -> bool:
    statement = select(
        exists().where(
            col(AuthEvent.event) == AuthEventKind.LOGIN_SUCCEEDED.value,
            col(AuthEvent.principal_id) == (user_id or NO_USER),
            col(AuthEvent.client_address) == (client_address or ""),
            col(AuthEvent.at) > now - KNOWN_ADDRESS_WINDOW,
        )
    )
    return bool(await session.scalar(statement))


async def check_throttle(
    session: AsyncSession,
    *,
    account_key: str,
    client_key: str,
    user_id: uuid.UUID | None,
    client_address: str | None,
    limit: int,
    now: datetime,
) -> Throttled | None:
    """None if this login attempt may go ahead (and cost a password hash)."""
    by_account = col(LoginFailure.account_key) == account_key
    by_client = col(LoginFailure.client_address) == client_key
    statement = select(
        func.count().filter(by_account),
        func.count().filter(by_client),
        func.count().filter(and_(by_account, by_client)),
    ).where(col(LoginFailure.at) > now - WINDOW, or_(by_account, by_client))
    account_count, client_count, pair_count = (await session.execute(statement)).one()
    if client_count >= limit:
        return Throttled(
            "address", await _retry_after(session, by_client, client_count, limit, now)
        )
    if account_count < limit:
        return None
    # The same query runs for unknown usernames, so that timing tells nothing.
    known = await _known_address(session, user_id, client_address, now)
    if known and pair_count < min(KNOWN_ADDRESS_ALLOWANCE, limit):
        return None
    return Throttled("account", await _retry_after(session, by_account, account_count, limit, now))


async def record_failure(
    session: AsyncSession, *, account_key: str, client_key: str, now: datetime
) -> None:
    session.add(LoginFailure(account_key=account_key, client_address=client_key, at=now))
    await session.flush()
    if secrets.randbelow(PRUNE_ONE_IN) == 0:
        await prune_failures(session, now=now)


async def prune_failures(session: AsyncSession, *, now: datetime) -> int:
    """Delete failures older than the window; they no longer count."""
    result = await session.execute(delete(LoginFailure).where(col(LoginFailure.at) <= now - WINDOW))
    return int(result.rowcount)  # type: ignore[attr-defined]
