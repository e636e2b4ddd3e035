"""Fail-closed over HTTP: without the right to write the log, no data leaves.

These tests revoke the runtime role's rights, so they run on a database of their own.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.conftest import Users, gql
from tests.test_audit_http import PAGE, register

REQUEST_COLUMNS = (
    "at, request_id, event, principal, organisation, roles, purpose, client_address,"
    " operation_name, operation_type, document_hash, policy_version, outcome, duration_ms, detail,"
    " executor, field_sets"
)
SUBJECT_COLUMNS = (
    "at, request_id, subject_customer_id, subject_prospect_id, object_ids, object_sets"
)


@pytest.fixture
def database_url(fresh_database_url: str) -> str:
    return fresh_database_url


async def test_without_the_insert_right_a_query_fails_with_no_data(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    graphs = await register(owner, 2)
    await users.token("customer_service")
    for table, columns in (
        ("access_log_subject", SUBJECT_COLUMNS),
        ("access_log_request", REQUEST_COLUMNS),
    ):
        await owner.execute(f"REVOKE INSERT ON {table} FROM rekisteri_app")
        response = await gql(client, PAGE, as_="customer_service", users=users)
        assert response.status_code == 503, response.text
        body = response.json()
        assert body.get("data") is None
        assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        for graph in graphs:
            assert graph.customer["last_name"] not in response.text
            assert str(graph.customer["id"]) not in response.text
        await owner.execute(f"GRANT INSERT ({columns}) ON {table} TO rekisteri_app")
    graphql = "SELECT count(*) FROM access_log_request WHERE event = 'graphql'"
    assert await owner.fetchval(graphql) == 0
    response = await gql(client, PAGE, as_="customer_service", users=users)
    assert response.status_code == 200
