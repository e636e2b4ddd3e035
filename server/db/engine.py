"""The async engine: one per process, owned by the app's lifespan."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from server.db.embedded import embedded_database_url
from server.settings import Settings


def asyncpg_url(url: str) -> str:
    """Turn any postgres URL into one SQLAlchemy drives with asyncpg."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def plain_url(url: str) -> str:
    """A libpq/asyncpg style URL (postgresql://...) from any SQLAlchemy URL."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def resolve_database_url(settings: Settings) -> str:
    """The configured server, or the embedded one started on demand (blocking)."""
    if settings.database_url:
        return settings.database_url
    return embedded_database_url(settings.embedded_data_dir)


async def resolve_database_url_async(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return await asyncio.to_thread(embedded_database_url, settings.embedded_data_dir)


def server_settings(settings: Settings, *, as_app_role: bool = True) -> dict[str, str]:
    """What every connection starts with; `as_app_role` switches it to the restricted role."""
    values: dict[str, str] = {
        "statement_timeout": str(settings.statement_timeout_ms),
        "application_name": "rekisteri",
        "timezone": "UTC",
        "datestyle": "ISO, YMD",  # the compiled statements write a date as its text
    }
    if as_app_role and settings.app_db_role:
        values["role"] = settings.app_db_role
    return values


def create_engine(url: str, settings: Settings, *, as_app_role: bool = True) -> AsyncEngine:
    """An asyncpg engine; `as_app_role` switches every connection to the restricted role."""
    connect_args: dict[str, Any] = {
        "server_settings": server_settings(settings, as_app_role=as_app_role)
    }
    return create_async_engine(
        asyncpg_url(url),
        pool_size=settings.pool_size,
        max_overflow=0,
        pool_timeout=settings.pool_timeout_seconds,
        pool_pre_ping=True,
        connect_args=connect_args,
        hide_parameters=not settings.is_development,
    )


async def create_driver_pool(url: str, settings: Settings) -> asyncpg.Pool:
    """Connections for statements sent straight to the driver, each its own transaction (the
    compiled executor's one statement): no ORM, no ping before use (a connection the server
    closed is replaced when it is next taken), and nothing to reset when it is given back."""
    return await asyncpg.create_pool(
        plain_url(url),
        min_size=1,
        max_size=settings.pool_size,
        server_settings=server_settings(settings),
        reset=_nothing_to_reset,
    )


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """Single statements leave no session state behind (asyncpg still rolls back an open
    transaction first)."""
