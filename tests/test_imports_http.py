"""POST /imports/<kind>: an API key of a role the policy grants `import` loads a file;
every other caller is refused and logged; options, size limit and answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server.cli_support import owner_session
from server.db.columns import utcnow
from server.identity.apikeys import create_api_key
from server.identity.roles import known_roles
from server.settings import Settings
from tests import factories
from tests.conftest import Users, started_app
from tests.import_files import datahub_bytes, datahub_row, hours, utc

START = utc(2026, 1, 1)


async def api_key(settings: Settings, owner: asyncpg.Connection, role: str) -> str:
    await factories.organisation(owner, code="datahub-yhteys", kind="partner")
    async with owner_session(settings) as session:
        created = await create_api_key(
            session=session,
            organisation_code="datahub-yhteys",
            roles=[role],
            known_roles=known_roles(settings.policy_dir),
            expires_at=utcnow() + timedelta(days=30),
            name=f"{role} integration",
        )
    return created.key


@pytest.fixture(name="metering_key")
async def metering_key_fixture(settings: Settings, owner: asyncpg.Connection) -> str:
    """An API key of the role the policy grants the import of metered values."""
    return await api_key(settings, owner, "metering_import")


@pytest.fixture(name="site")
async def site_fixture(owner: asyncpg.Connection) -> dict[str, Any]:
    customer = await factories.customer(owner)
    return await factories.site(owner, customer_id=customer["id"])


def body(site: dict[str, Any], rows: list[str] | None = None) -> bytes:
    """A Datahub file of `rows`, by default three hours of the site's values."""
    return datahub_bytes(rows or hours(site["metering_point_id"], START, 3))


async def post(
    client: httpx.AsyncClient, kind: str, content: Any, token: str | None, **params: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post(f"/imports/{kind}", content=content, headers=headers, params=params)


async def records(owner: asyncpg.Connection, since: int) -> list[dict[str, Any]]:
    rows = await owner.fetch(
        "SELECT request_id, principal, outcome, operation_type, client_address, field_sets"
        " FROM access_log_request WHERE event = 'import' AND seq > $1 ORDER BY seq",
        since,
    )
    return [dict(r) for r in rows]


async def last_seq(owner: asyncpg.Connection) -> int:
    return int(await owner.fetchval("SELECT coalesce(max(seq), 0) FROM access_log_request"))


async def test_an_api_key_of_the_granted_role_imports(
    owner: asyncpg.Connection, client: httpx.AsyncClient, site: dict[str, Any], metering_key: str
) -> None:
    since = await last_seq(owner)
    response = await post(
        client, "consumption", body(site), metering_key, fileName="datahub.csv", source="Datahub"
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["outcome"] == "written" and answer["rows"] == {
        "total": 3,
        "accepted": 3,
        "rejected": 0,
    }
    assert answer["file"]["name"] == "datahub.csv" and answer["counts"]["valuesAdded"] == 3
    assert await owner.fetchval("SELECT count(*) FROM consumption_value") == 3
    source = await owner.fetchrow("SELECT * FROM import_source")
    assert source is not None
    assert (source["channel"], source["purpose"], source["source"]) == (
        "http",
        "billing",
        "Datahub",
    )
    assert source["imported_by"].startswith("api_key:")
    [record] = await records(owner, since)
    assert record["request_id"] == uuid.UUID(answer["requestId"])
    assert record["principal"] == source["imported_by"]
    assert (record["outcome"], record["operation_type"]) == ("ok", "http")
    assert record["client_address"] == "10.1.2.3"
    assert json.loads(record["field_sets"])[0]["type"] == "Site"


async def test_other_callers_are_refused_and_logged(
    settings: Settings,
    owner: asyncpg.Connection,
    client: httpx.AsyncClient,
    users: Users,
    site: dict[str, Any],
) -> None:
    since = await last_seq(owner)
    content = body(site)
    addresses_key = await api_key(settings, owner, "address_import")
    refusals = [
        await post(client, "consumption", content, None),
        await post(client, "consumption", content, "rk_000000000000_" + "x" * 43),
        await post(client, "consumption", content, addresses_key),
        # A person who may change customers' addresses one by one may not load files of them.
        await post(client, "addresses", content, await users.token("customer_service")),
        await post(client, "consumption", content, await users.token("billing")),
    ]
    assert [r.status_code for r in refusals] == [401, 401, 403, 403, 403]
    assert [r.json()["errors"][0]["extensions"]["code"] for r in refusals] == [
        "UNAUTHENTICATED",
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "FORBIDDEN",
        "FORBIDDEN",
    ]
    assert await owner.fetchval("SELECT count(*) FROM consumption") == 0
    assert await owner.fetchval("SELECT count(*) FROM import_source") == 0
    logged = await records(owner, since)
    assert [r["outcome"] for r in logged] == [
        "unauthenticated",
        "unauthenticated",
        "denied",
        "denied",
        "denied",
    ]
    assert logged[2]["principal"].startswith("api_key:")


async def test_dry_run_partial_files_and_refusals(
    owner: asyncpg.Connection, client: httpx.AsyncClient, site: dict[str, Any], metering_key: str
) -> None:
    key = metering_key
    gsrn = site["metering_point_id"]
    rows = [*hours(gsrn, START, 2), datahub_row(gsrn, START + timedelta(hours=5), "-1")]
    content = body(site, rows)
    dry = await post(client, "consumption", content, key, dryRun="true")
    assert dry.status_code == 422 and dry.json()["outcome"] == "refused"
    assert dry.json()["rejects"] == [{"line": 4, "field": "Määrä", "reason": "negative"}]
    dry = await post(client, "consumption", content, key, dryRun="true", acceptPartial="true")
    assert dry.status_code == 200 and dry.json()["outcome"] == "dry run"
    assert await owner.fetchval("SELECT count(*) FROM consumption") == 0
    partial = await post(client, "consumption", content, key, acceptPartial="1")
    assert partial.status_code == 200 and partial.json()["outcome"] == "written"
    assert partial.json()["rejects"] == [{"line": 4, "field": "Määrä", "reason": "negative"}]
    assert await owner.fetchval("SELECT count(*) FROM consumption_value") == 2
    bad = await post(client, "consumption", content, key, dryRun="maybe")
    assert bad.status_code == 400 and "dryRun" in bad.json()["errors"][0]["message"]
    unknown = await post(client, "consumption", content, key, force="true")
    assert unknown.status_code == 400 and "force" in unknown.json()["errors"][0]["message"]


@pytest.fixture
async def small_limit_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with started_app(settings.model_copy(update={"import_max_bytes": 300})) as (_, client):
        yield client


async def test_the_body_is_limited_in_size(
    owner: asyncpg.Connection,
    small_limit_client: httpx.AsyncClient,
    site: dict[str, Any],
    metering_key: str,
) -> None:
    key = metering_key
    content = body(site, hours(site["metering_point_id"], START, 10))
    assert len(content) > 300
    declared = await post(small_limit_client, "consumption", content, key)
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(content), 100):
            yield content[start : start + 100]

    streamed = await post(small_limit_client, "consumption", chunks(), key)
    assert streamed.status_code == 413
    assert "at most 300 bytes" in streamed.json()["errors"][0]["message"]
    assert await owner.fetchval("SELECT count(*) FROM consumption") == 0
