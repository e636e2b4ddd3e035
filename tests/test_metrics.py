"""/metrics: who may read it, what it counts, and that no label carries a user or a name."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.app import create_app
from server.audit.seal import seal_pending
from server.observability import metrics
from server.settings import Settings
from tests.conftest import TEST_PASSWORD, Users, gql

PAGE = """
query Page($first: Int) {
  customers(first: $first) { edges { node { id customerNumber } } }
}
"""
TOKEN = "metrics-token-0123456789abcdef"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def client_for(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://rekisteri.test")


@pytest.fixture
async def local(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, "127.0.0.1") as http:
        yield http


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    return samples(response.text)


async def serve(settings: Settings, address: str, **headers: str) -> httpx.Response:
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        client_for(application, address) as http,
    ):
        return await http.get("/metrics", headers=headers)


# -- who may read it -------------------------------------------------------------------


async def test_only_local_addresses_by_default(app: Any, client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")  # from 10.1.2.3
    assert response.status_code == 404
    assert response.text == "Not Found"  # as for any unknown path
    for address in ("127.0.0.1", "::1"):
        async with client_for(app, address) as http:
            answer = await http.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain; version=")
        assert answer.headers["cache-control"] == "no-store"
        assert "rekisteri_graphql_requests_total" in answer.text


async def test_the_token_opens_it_and_a_wrong_one_does_not(settings: Settings) -> None:
    with_token = settings.model_copy(update={"metrics_token": TOKEN})
    ok = await serve(with_token, "10.1.2.3", authorization=f"Bearer {TOKEN}")
    assert ok.status_code == 200
    assert "rekisteri_policy_info" in ok.text
    for wrong in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer", TOKEN):
        refused = await serve(with_token, "10.1.2.3", authorization=wrong)
        assert refused.status_code == 404
    # Without a token set, no bearer value opens it.
    assert (await serve(settings, "10.1.2.3", authorization="Bearer ")).status_code == 404


async def test_the_allowed_addresses_come_from_the_settings(settings: Settings) -> None:
    parsed = Settings(metrics_allowed_addresses="10.0.0.0/8, 192.0.2.7")
    networks = parsed.metrics_allowed_addresses
    assert networks == ("10.0.0.0/8", "192.0.2.7/32")
    custom = settings.model_copy(update={"metrics_allowed_addresses": networks})
    assert (await serve(custom, "10.1.2.3")).status_code == 200
    assert (await serve(custom, "192.0.2.7")).status_code == 200
    assert (await serve(custom, "127.0.0.1")).status_code == 404
    with pytest.raises(ValueError, match="METRICS_ALLOWED_ADDRESSES"):
        Settings(metrics_allowed_addresses="localhost")
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        Settings(metrics_token="short")


async def test_a_forwarded_client_is_judged_by_its_own_address(settings: Settings) -> None:
    """Behind a trusted proxy on the same host, the proxy's address opens nothing."""
    proxied = settings.model_copy(update={"trusted_proxies": ("127.0.0.1/32",)})
    forwarded = await serve(proxied, "127.0.0.1", **{"x-forwarded-for": "203.0.113.9"})
    assert forwarded.status_code == 404
    assert (await serve(proxied, "127.0.0.1")).status_code == 200


# -- what it counts --------------------------------------------------------------------


async def test_requests_are_counted_by_type_outcome_executor_and_purpose(
    app: Any, client: httpx.AsyncClient, local: httpx.AsyncClient, users: Users
) -> None:
    token = await users.token("customer_service")
    before = await scrape(local)
    ok = await gql(client, PAGE, token=token, variables={"first": 2})
    assert ok.status_code == 200, ok.text
    executor = ok.json()["extensions"]["executor"]
    # A document never seen before is not even parsed for a caller without credentials.
    assert (await gql(client, "{ products { name } }")).status_code == 401
    refused = await gql(client, PAGE, token=token, purpose="marketing")
    assert refused.status_code == 403
    after = await scrape(local)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    answered = {
        "operation_type": "query",
        "outcome": "ok",
        "executor": executor,
        "purpose": "customer_relationship",
    }
    assert delta("rekisteri_graphql_requests_total", **answered) == 1
    assert delta("rekisteri_graphql_request_duration_seconds_count", **answered) == 1
    assert delta("rekisteri_graphql_request_duration_seconds_sum", **answered) > 0
    unauthenticated = {
        "operation_type": "unknown",
        "outcome": "unauthenticated",
        "executor": "none",
        "purpose": "none",
    }
    assert delta("rekisteri_graphql_requests_total", **unauthenticated) == 1
    denied = {"operation_type": "query", "outcome": "denied", "executor": "none", "purpose": "none"}
    assert delta("rekisteri_graphql_requests_total", **denied) == 1
    # The refusals' records were written on their own: their time is measured.
    assert delta("rekisteri_access_log_write_seconds_count") >= 2

    version = app.state.policy_store.current.version
    assert value(after, "rekisteri_policy_info", version=version) == 1
    assert value(after, "rekisteri_db_pool_size") >= app.state.settings.pool_size
    assert value(after, "rekisteri_db_pool_connections_in_use") >= 0


async def test_the_pool_gauge_follows_checked_out_connections(
    app: Any, local: httpx.AsyncClient
) -> None:
    before = value(await scrape(local), "rekisteri_db_pool_connections_in_use")
    async with app.state.engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
        during = value(await scrape(local), "rekisteri_db_pool_connections_in_use")
    after = value(await scrape(local), "rekisteri_db_pool_connections_in_use")
    assert during == before + 1
    assert after == before


async def test_a_connection_checked_in_without_being_out_is_not_counted(app: Any) -> None:
    """A checkout cancelled half-way reaches the pool's check-in alone: the gauge must not
    drop below the connections really out."""
    before = metrics.POOL_IN_USE._value.get()
    half_way = SimpleNamespace(info={})  # the pool's record of a connection never handed out
    app.state.engine.sync_engine.pool.dispatch.checkin(None, half_way)
    assert metrics.POOL_IN_USE._value.get() == before


async def test_login_failures_are_counted(
    app: Any, client: httpx.AsyncClient, local: httpx.AsyncClient, users: Users
) -> None:
    await users.token("billing")  # a user exists; a wrong password for a made-up one
    before = await scrape(local)
    wrong = await client.post(
        "/auth/token", json={"username": "nobody-here", "password": TEST_PASSWORD}
    )
    assert wrong.status_code == 401
    after = await scrape(local)
    assert (
        value(after, "rekisteri_login_failures_total")
        - value(before, "rekisteri_login_failures_total")
        == 1
    )


async def test_lockouts_are_counted_from_the_login_answer() -> None:
    statuses = iter([429, 401, 200, 429])

    async def token(request: Request) -> Response:
        return Response(b"{}", status_code=next(statuses), media_type="application/json")

    async def other(request: Request) -> Response:
        return Response(b"", status_code=429)

    inner = Starlette(
        routes=[Route("/auth/token", token, methods=["POST"]), Route("/other", other)]
    )
    wrapped = metrics.LoginMetricsMiddleware(inner)
    failures, lockouts = metrics.LOGIN_FAILURES._value.get(), metrics.LOGIN_LOCKOUTS._value.get()
    async with client_for(wrapped, "10.1.2.3") as http:
        for _ in range(4):
            await http.post("/auth/token", json={})
        assert (await http.get("/other")).status_code == 429  # not a login
    assert metrics.LOGIN_LOCKOUTS._value.get() - lockouts == 2
    assert metrics.LOGIN_FAILURES._value.get() - failures == 1


# -- bounded labels --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation_type", "outcome", "executor", "purpose", "labels"),
    [
        ("query", "ok", "compiled", "billing", ("query", "ok", "compiled", "billing")),
        (
            "MyOperationName",
            "weird",
            "something",
            "made-up purpose of a caller",
            ("unknown", "other", "none", "other"),
        ),
        (None, "error", None, None, ("unknown", "error", "none", "none")),
    ],
)
def test_labels_come_from_bounded_sets(
    operation_type: str | None,
    outcome: str,
    executor: str | None,
    purpose: str | None,
    labels: tuple[str, str, str, str],
) -> None:
    assert (
        metrics.request_labels(
            operation_type=operation_type,
            outcome=outcome,
            executor=executor,
            purpose=purpose,
            known_purposes={"billing", "oversight"},
        )
        == labels
    )


async def test_no_label_names_a_user_an_operation_or_a_document(
    app: Any, client: httpx.AsyncClient, local: httpx.AsyncClient, users: Users
) -> None:
    token = await users.token("customer_service")
    named = PAGE.replace("query Page", "query SecretOperationName")
    assert (await gql(client, named, token=token, variables={"first": 1})).status_code == 200
    response = await local.get("/metrics")
    text = response.text
    assert "SecretOperationName" not in text
    assert token not in text
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert not uuid.search(text)
    purposes = set(app.state.policy_store.current.purposes) | {"none", "other"}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("rekisteri_graphql_"):
            continue
        for sample in family.samples:
            assert sample.labels["operation_type"] in metrics.OPERATION_TYPES | {"unknown"}
            assert sample.labels["outcome"] in metrics.OUTCOMES | {"other"}
            assert sample.labels["executor"] in metrics.EXECUTORS | {"none"}
            assert sample.labels["purpose"] in purposes


def test_a_new_policy_version_replaces_the_old_one() -> None:
    metrics.set_policy_version("old-version-for-test")
    metrics.set_policy_version("new-version-for-test")
    text = metrics.exposition().decode()
    assert 'rekisteri_policy_info{version="new-version-for-test"} 1.0' in text
    assert "old-version-for-test" not in text


# -- the access log's seals ------------------------------------------------------------


async def test_unsealed_rows_and_the_seal_age_come_from_the_database(
    fresh_database_url: str, settings: Settings
) -> None:
    fresh = settings.model_copy(update={"database_url": fresh_database_url})
    application = create_app(fresh)
    async with (
        application.router.lifespan_context(application),
        client_for(application, "127.0.0.1") as local,
        client_for(application, "10.1.2.3") as remote,
    ):
        never = await scrape(local)
        assert value(never, "rekisteri_access_log_last_seal_age_seconds") == math.inf
        before = value(never, "rekisteri_access_log_unsealed_rows")

        for _ in range(3):  # refused requests: one access-log row each
            assert (await remote.post("/graphql", json={"query": "{ a }"})).status_code == 401
        waiting = await scrape(local)
        assert value(waiting, "rekisteri_access_log_unsealed_rows") == before + 3

        async with application.state.sessionmaker() as session, session.begin():
            sealed = await seal_pending(session=session, settings=fresh, wait_seconds=5.0)
        assert sealed is not None
        after = await scrape(local)
        assert value(after, "rekisteri_access_log_unsealed_rows") == 0
        assert 0 <= value(after, "rekisteri_access_log_last_seal_age_seconds") < 30


async def test_the_seal_gauges_are_left_out_when_the_database_does_not_answer() -> None:
    text = metrics.exposition(metrics.seal_families(None)).decode()
    assert "# TYPE rekisteri_access_log_unsealed_rows gauge" in text
    assert not re.search(r"^rekisteri_access_log_unsealed_rows ", text, re.MULTILINE)
    assert not re.search(r"^rekisteri_access_log_last_seal_age_seconds ", text, re.MULTILINE)
