"""Session factory and a statement counter (used by the N+1 tests and benchmarks)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class StatementCounter:
    """Counts SQL statements sent on an engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under a session, for statements sent straight to the driver
    (prepared, no ORM: cheap, and not counted by StatementCounter)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection
