"""Login attempts on one account take turns, in arrival order (per process and event loop).

The holder of a turn may keep it past its own end: an attempt cancelled during its delay
(the client went away) leaves the turn taken until the delay is over, so no one shortens
an account's delays by disconnecting.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


class NoTurn(Exception):
    """The account's turn did not come within the time allowed."""


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holders and waiters; the entry is dropped when none is left


@dataclass
class Turn:
    """The turn one attempt holds; `hold_until` (loop time) keeps it taken after exit."""

    hold_until: float | None = None


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Entry]] = (
    weakref.WeakKeyDictionary()
)


def _entries() -> dict[str, _Entry]:
    loop = asyncio.get_running_loop()
    entries = _turns.get(loop)
    if entries is None:
        entries = _turns[loop] = {}
    return entries


def waiting(account: str) -> int:
    """Attempts holding or waiting for the account's turn (for tests and metrics)."""
    entry = _entries().get(account)
    return entry.users if entry else 0


@asynccontextmanager
async def account_turn(account: str, *, wait_seconds: float) -> AsyncIterator[Turn]:
    """Hold the account's turn; NoTurn if it does not come within `wait_seconds`."""
    entries = _entries()
    entry = entries.get(account)
    if entry is None:
        entry = entries[account] = _Entry()
    entry.users += 1

    def leave() -> None:
        entry.users -= 1
        if entry.users == 0 and entries.get(account) is entry:
            del entries[account]

    try:
        async with asyncio.timeout(wait_seconds):
            await entry.lock.acquire()
    except TimeoutError:
        leave()
        raise NoTurn(f"no turn within {wait_seconds:g} s") from None
    except BaseException:
        leave()
        raise
    turn = Turn()
    try:
        yield turn
    finally:
        loop = asyncio.get_running_loop()
        remaining = (turn.hold_until - loop.time()) if turn.hold_until is not None else 0.0

        def release() -> None:
            entry.lock.release()
            leave()

        if remaining > 0:
            loop.call_later(remaining, release)
        else:
            release()
