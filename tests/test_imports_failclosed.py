"""An import whose access-log records cannot be written fails and leaves nothing of its
file; these tests revoke the runtime role's rights, so they run on a database of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.exc import DBAPIError

from server.imports.models import ImportKind
from server.settings import Settings
from tests.import_files import datahub_file, hours, run, utc
from tests.test_imports_http import metering_key_fixture, post, site_fixture  # noqa: F401


@pytest.fixture
def database_url(fresh_database_url: str) -> str:
    return fresh_database_url


async def test_without_the_log_no_value_is_stored(
    settings: Settings,
    owner: asyncpg.Connection,
    client: httpx.AsyncClient,
    site: dict[str, Any],
    tmp_path: Path,
    metering_key: str,
) -> None:
    path = datahub_file(tmp_path / "k.csv", hours(site["metering_point_id"], utc(2026, 1, 1), 30))
    await owner.execute("REVOKE INSERT ON access_log_subject FROM rekisteri_app")
    with pytest.raises(DBAPIError):
        await run(settings, ImportKind.CONSUMPTION, path)
    response = await post(client, "consumption", path.read_bytes(), metering_key)
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    for table in ("consumption", "import_source", "import_provenance"):
        assert await owner.fetchval(f"SELECT count(*) FROM {table}") == 0
