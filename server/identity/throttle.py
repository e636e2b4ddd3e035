"""Login throttling: failures per account and per client address in the last hour.

* A client address at its limit is refused (429) before any password is hashed.
* An account at its limit is never refused for that: every attempt on it, right or wrong,
  from anywhere, waits a delay that doubles with each further failure up to a cap of a
  few seconds, and attempts on one account take turns (server/identity/login.py). So an
  attacker gets one guess per delay however many addresses they use, and the owner still
  gets in with the right password after the delay. Unknown usernames are counted and
  delayed exactly like real ones.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from server.identity.models import LoginFailure

WINDOW = timedelta(hours=1)
PRUNE_ONE_IN = 64
MAX_DOUBLINGS = 30


@dataclass(frozen=True, slots=True)
class Throttled:
    scope: str  # "address", or "account" when no turn on the account came in time
    retry_after: int


@dataclass(frozen=True, slots=True)
class Standing:
    """Where one login attempt stands: its account's failures, or a refusal by address."""

    account_failures: int
    refused: Throttled | None = None


def account_delay(failures: int, *, limit: int, base: float, cap: float) -> float:
    """Seconds an attempt on an account with `failures` in the window waits: none below the
    limit, then `base`, doubling with every further failure, never more than `cap`."""
    if failures < limit:
        return 0.0
    doublings = min(failures - limit, MAX_DOUBLINGS)
    return float(min(cap, base * 2**doublings))


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


async def check_throttle(
    session: AsyncSession,
    *,
    account_key: str,
    client_key: str,
    limit: int,
    now: datetime,
) -> Standing:
    """The failures of the attempt's account, and whether its client address is refused."""
    by_account = col(LoginFailure.account_key) == account_key
    by_client = col(LoginFailure.client_address) == client_key
    statement = select(
        func.count().filter(by_account),
        func.count().filter(by_client),
    ).where(col(LoginFailure.at) > now - WINDOW, or_(by_account, by_client))
    account_count, client_count = (await session.execute(statement)).one()
    if client_count >= limit:
        retry_after = await _retry_after(session, by_client, client_count, limit, now)
        return Standing(int(account_count), Throttled("address", retry_after))
    return Standing(int(account_count))


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
