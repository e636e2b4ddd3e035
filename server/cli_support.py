"""Shared plumbing for CLI commands: settings, the owner's engine and sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.engine import create_engine, resolve_database_url_async
from server.db.session import session_factory
from server.settings import Settings

T = TypeVar("T")


@asynccontextmanager
async def owner_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine connected as the database owner (migrations, seeding, administration)."""
    url = await resolve_database_url_async(settings)
    engine = create_engine(url, settings, as_app_role=False)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def owner_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed on success, rolled back on any error."""
    async with (
        owner_engine(settings) as engine,
        session_factory(engine)() as session,
        session.begin(),
    ):
        yield session


def run(coroutine_fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coroutine_fn()

    return asyncio.run(main())
