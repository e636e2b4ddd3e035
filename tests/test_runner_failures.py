"""How the runner ends a request when something fails: a COMMIT is never cancelled, a
retried mutation is answered once, an unusable database is one JSON 503, and /readyz
says when the access log cannot be written."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories
from tests.conftest import Users, gql
from tests.test_graphql_hardening import CUSTOMER_CURSORS, customers_fail_with

CREATE = (
    "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) "
    "{ customer { id lastName } } }"
)


async def _create(
    client: httpx.AsyncClient, users: Users, key: str | None, last_name: str = "Mehiläinen"
) -> httpx.Response:
    token = await users.token("customer_service")
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"query": CREATE, "variables": {"input": factories.person_input(lastName=last_name)}}
    return await client.post("/graphql", json=body, headers=headers)


async def _customers(owner: asyncpg.Connection, last_name: str) -> int:
    count: int = await owner.fetchval(
        "SELECT count(*) FROM customer WHERE last_name = $1", last_name
    )
    return count


async def test_a_retried_mutation_with_the_same_key_is_answered_once(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    first = await _create(client, users, "create-1", "Kerran")
    again = await _create(client, users, "create-1", "Kerran")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await _customers(owner, "Kerran") == 1
    other = await _create(client, users, "create-2", "Kerran")
    assert (
        other.json()["data"]["createCustomer"]["customer"]["id"]
        != (first.json()["data"]["createCustomer"]["customer"]["id"])
    )
    assert await _customers(owner, "Kerran") == 2


async def test_a_key_reused_for_another_request_is_refused(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    await _create(client, users, "create-3", "Eka")
    reused = await _create(client, users, "create-3", "Toka")
    assert reused.status_code == 422
    error = reused.json()["errors"][0]
    assert error["extensions"]["field"] == "Idempotency-Key"
    assert await _customers(owner, "Toka") == 0


async def test_concurrent_retries_take_turns(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    await users.token("customer_service")
    answers = await asyncio.gather(
        *(_create(client, users, "create-4", "Rinnan") for _ in range(4))
    )
    assert len({a.content for a in answers}) == 1
    assert await _customers(owner, "Rinnan") == 1


async def test_a_bad_key_is_a_request_error(client: httpx.AsyncClient, users: Users) -> None:
    response = await _create(client, users, "x" * 201)
    assert response.status_code == 400


async def test_a_commit_slower_than_the_time_limit_ends_with_its_real_outcome(
    app: Any,
    client: httpx.AsyncClient,
    users: Users,
    owner: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_commit = AsyncSession.commit

    async def slow_commit(self: AsyncSession) -> None:
        await asyncio.sleep(0.6)
        await real_commit(self)

    await users.token("customer_service")
    runner = app.state.runner
    runner.settings = runner.settings.model_copy(update={"request_timeout_seconds": 0.3})
    monkeypatch.setattr(AsyncSession, "commit", slow_commit)
    response = await _create(client, users, None, "Hidas")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["createCustomer"]["customer"]["id"]
    assert await _customers(owner, "Hidas") == 1
    request_id = response.json()["extensions"]["requestId"]
    records = await owner.fetchval(
        "SELECT count(*) FROM access_log_request WHERE request_id = $1", request_id
    )
    assert records == 1


@pytest.mark.usefixtures("resolver_executor")
async def test_a_lost_database_connection_in_a_resolver_is_one_json_503(
    client: httpx.AsyncClient, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers_fail_with(monkeypatch, ConnectionResetError("connection lost"))
    response = await gql(client, CUSTOMER_CURSORS, as_="customer_service", users=users)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["errors"][0]["extensions"]["requestId"]


async def test_a_database_error_while_authenticating_is_one_json_503(
    client: httpx.AsyncClient, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await users.token("customer_service")
    import server.graphql.endpoint as endpoint

    async def down(*_: object, **__: object) -> None:
        raise ConnectionRefusedError("database down")

    monkeypatch.setattr(endpoint, "verify_credential", down)
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["retry-after"]
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_readyz_reports_an_access_log_that_cannot_be_written(
    fresh_database_url: str, settings: Any
) -> None:
    from server.app import create_app

    conn = await asyncpg.connect(fresh_database_url)
    try:
        application = create_app(settings.model_copy(update={"database_url": fresh_database_url}))
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://r.test") as http:
                assert (await http.get("/readyz")).json()["accessLog"] == "writable"
                await conn.execute("REVOKE INSERT ON access_log_subject FROM rekisteri_app")
                await conn.execute("REVOKE INSERT ON access_log_request FROM rekisteri_app")
                response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["accessLog"].startswith("not writable")
    finally:
        await conn.close()


async def test_an_unknown_operation_name_is_a_user_error(
    client: httpx.AsyncClient, users: Users
) -> None:
    token = await users.token("customer_service")
    response = await client.post(
        "/graphql",
        json={"query": "query A { __typename } query B { __typename }", "operationName": "C"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "operationName"
    unnamed = await client.post(
        "/graphql",
        json={"query": "query A { __typename } query B { __typename }"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/graphql-response+json"},
    )
    assert unnamed.status_code == 400
    assert unnamed.json()["errors"][0]["extensions"]["field"] == "operationName"
