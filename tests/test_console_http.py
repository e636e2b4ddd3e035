"""The security console over HTTP (httpx against the app): login and its cookie, the
policy's grant, CSRF, escaping, and the access-log search recorded in the access log."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.app import create_app
from server.audit.seal import seal_pending
from server.audit.verify import verify
from server.console import auth
from server.db.columns import utcnow
from server.db.engine import create_engine
from server.db.session import session_factory
from server.identity.sessions import load_session
from server.identity.tokens import decode_access_token
from server.observability import metrics
from server.settings import Settings
from tests import factories
from tests.conftest import TEST_PASSWORD, Users, gql, user_with_role

ORIGIN = "https://rekisteri.test"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
RECORDED = re.compile(r"recorded in the access log as requests? (.*?)\.</p>", re.S)
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Console:
    """A browser-like client of /console: keeps cookies, sends forms from our origin."""

    http: httpx.AsyncClient

    async def login(self, username: str, password: str = TEST_PASSWORD) -> httpx.Response:
        page = await self.http.get("/console/login")
        return await self.post(
            "/console/login",
            {"csrf": csrf_of(page), "username": username, "password": password},
        )

    async def post(self, path: str, form: dict[str, str], **headers: str) -> httpx.Response:
        return await self.http.post(path, data=form, headers={"Origin": ORIGIN, **headers})

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.http.get(path, params=params)


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


def recorded_requests(page: httpx.Response) -> list[str]:
    found = RECORDED.search(page.text)
    assert found is not None, page.text
    return UUID_TEXT.findall(found.group(1))


@contextlib.asynccontextmanager
async def console_of(app: Any) -> AsyncIterator[Console]:
    # https: the session cookie is Secure (and __Host-), so a client sends it only there.
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4567))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as http:
        yield Console(http)


@contextlib.asynccontextmanager
async def app_with(settings: Settings, **changes: Any) -> AsyncIterator[tuple[Any, Console]]:
    """An app of its own with changed settings, and a console client of it."""
    app = create_app(settings.model_copy(update=changes))
    async with app.router.lifespan_context(app), console_of(app) as console:
        yield app, console


@pytest.fixture
async def console(app: Any) -> AsyncIterator[Console]:
    async with console_of(app) as client:
        yield client


@pytest.fixture
async def auditor(owner: asyncpg.Connection) -> str:
    return await user_with_role(owner, "auditor")


async def logged_in(console: Console, username: str) -> Console:
    response = await console.login(username)
    assert response.status_code == 303, response.text
    return console


# -- login, cookie, grant ----------------------------------------------------------------


async def test_the_auditor_logs_in_and_gets_a_strict_cookie(console: Console, auditor: str) -> None:
    first = await console.get("/console/")
    assert first.status_code == 303
    assert first.headers["location"] == "/console/login?next=%2Fconsole%2F"

    response = await console.login(auditor)
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(auth.SESSION_COOKIE)
    )
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)

    status = await console.get("/console/")
    assert status.status_code == 200
    assert "Access-log seals" in status.text and auditor in status.text
    assert "purpose <b>oversight</b>" in status.text
    headers = status.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert '<script src="/console/static/console.js?v=' in status.text
    assert "<script>" not in status.text and "style=" not in status.text  # CSP: no inline


async def test_a_role_the_policy_does_not_grant_is_refused_and_logged(
    console: Console, owner: asyncpg.Connection, settings: Settings
) -> None:
    clerk = await user_with_role(owner, "customer_service")
    response = await console.login(clerk)
    assert response.status_code == 403
    assert "does not grant the security console to customer_service" in response.text
    assert not any(
        c.startswith(auth.SESSION_COOKIE) for c in response.headers.get_list("set-cookie")
    )
    assert (await console.get("/console/")).status_code == 303  # still not logged in
    # The login it made is ended at once, and the refusal is in the access log.
    user_id = await owner.fetchval("SELECT id FROM app_user WHERE username = $1", clerk)
    live = await owner.fetchval(
        "SELECT count(*) FROM user_session WHERE user_id = $1 AND revoked_at IS NULL", user_id
    )
    assert live == 0
    refusal = await owner.fetchrow(
        "SELECT event, outcome, purpose, detail FROM access_log_request"
        " WHERE principal = $1 ORDER BY seq DESC LIMIT 1",
        f"user:{user_id}",
    )
    assert refusal is not None
    assert (refusal["event"], refusal["outcome"]) == ("console", "denied")
    assert "not granted" in refusal["detail"]


async def test_losing_the_role_closes_the_console_at_the_next_page(
    console: Console, owner: asyncpg.Connection, auditor: str
) -> None:
    await logged_in(console, auditor)
    assert (await console.get("/console/matrix")).status_code == 200
    await owner.execute("UPDATE app_user SET roles = '{billing}' WHERE username = $1", auditor)
    refused = await console.get("/console/matrix")
    assert refused.status_code == 403
    assert "billing" in refused.text


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    console: Console, auditor: str
) -> None:
    failures = metrics.LOGIN_FAILURES._value.get()
    wrong = await console.login(auditor, "not the password at all")
    unknown = await console.login("nobody-" + uuid.uuid4().hex[:6])
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.text and "Wrong username" in unknown.text
    assert metrics.LOGIN_FAILURES._value.get() - failures == 2  # counted as the API's are


# -- CSRF ------------------------------------------------------------------------------


async def test_the_login_form_needs_its_own_csrf_token(console: Console, auditor: str) -> None:
    page = await console.get("/console/login")
    token = csrf_of(page)
    form = {"csrf": token, "username": auditor, "password": TEST_PASSWORD}
    assert (await console.post("/console/login", {**form, "csrf": "0" * 64})).status_code == 403
    assert (await console.post("/console/login", {**form, "csrf": ""})).status_code == 403
    other = await console.post("/console/login", form, Origin="https://evil.example")
    assert other.status_code == 403
    cross = await console.post("/console/login", form, **{"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    as_json = await console.http.post("/console/login", json=form, headers={"Origin": ORIGIN})
    assert as_json.status_code == 403
    # A token of another login page does not fit this page's cookie.
    console.http.cookies.set(auth.LOGIN_COOKIE, "another-nonce", domain="rekisteri.test")
    assert (await console.post("/console/login", form)).status_code == 403


async def test_logout_needs_the_sessions_csrf_token_and_ends_the_session(
    console: Console, auditor: str, settings: Settings
) -> None:
    await logged_in(console, auditor)
    token = console.http.cookies[auth.SESSION_COOKIE]
    page = await console.get("/console/")
    refused = await console.post("/console/logout", {"csrf": "0" * 64})
    assert refused.status_code == 403
    assert (await console.get("/console/")).status_code == 200  # still logged in

    done = await console.post("/console/logout", {"csrf": csrf_of(page)})
    assert done.status_code == 303 and done.headers["location"] == "/console/login"
    assert (await console.get("/console/")).status_code == 303
    # The token of that session no longer works anywhere, the API included.
    console.http.cookies.set(auth.SESSION_COOKIE, token, domain="rekisteri.test")
    assert (await console.get("/console/")).status_code == 303
    api = await console.http.post(
        "/graphql",
        json={"query": "{ me { username } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 401


async def test_a_half_spent_cookie_is_renewed(
    console: Console, auditor: str, settings: Settings
) -> None:
    await logged_in(console, auditor)
    token = console.http.cookies[auth.SESSION_COOKIE]
    claims = decode_access_token(token, settings=settings)
    engine = create_engine(settings.database_url or "", settings)
    try:
        async with session_factory(engine)() as session:
            live = await load_session(session, session_id=claims.session_id, user_id=claims.user_id)
    finally:
        await engine.dispose()
    assert live is not None
    now = utcnow()
    assert auth.renewal(token, live, settings, now) is None
    later = now + timedelta(seconds=settings.access_token_ttl_seconds * 0.6)
    renewed = auth.renewal(token, live, settings, later)
    assert renewed is not None and renewed.session_id == claims.session_id


# -- the pages -------------------------------------------------------------------------


async def test_the_matrix_shows_decisions_that_explain_names(
    console: Console, auditor: str
) -> None:
    await logged_in(console, auditor)
    page = await console.get(
        "/console/matrix", role="customer_service", field="Customer.personalIdentityCode"
    )
    assert page.status_code == 200
    masked = (
        '<td class="mask first"><a href="explain?c=Customer.personalIdentityCode&amp;'
        'r=customer_service&amp;p=customer_relationship">M</a></td>'
    )
    assert masked in page.text
    assert 'data-role="auditor"' not in page.text  # the role filter keeps one role's columns
    assert 'data-role="customer_service"' in page.text
    explained = await console.get(
        "/console/explain",
        c="Customer.personalIdentityCode",
        r="customer_service",
        p="customer_relationship",
    )
    assert 'mask: <span class="verdict allowed">allowed</span>' in explained.text
    assert "p, customer_service, Customer.personalIdentityCode, read, *, deny" in explained.text


async def test_the_diff_shows_what_an_edit_on_disk_would_change(
    owner: asyncpg.Connection, settings: Settings, policy_dir: Path
) -> None:
    quiet = {"policy_dir": policy_dir, "policy_reload_interval_seconds": 3600}
    async with app_with(settings, **quiet) as (_, console):
        await logged_in(console, await user_with_role(owner, "auditor"))
        same = await console.get("/console/diff")
        assert "No change in any role's access." in same.text
        policy = policy_dir / "policy.csv"
        policy.write_text(
            policy.read_text().replace(
                "p, marketing, Customer.phone, read, marketing, allow",
                "p, marketing, Customer.phone, read, marketing, deny",
            )
            + "p, marketing, Invoice.totalInclVat, read, marketing, allow\n"
        )
        edited = await console.get("/console/diff", against="disk")
        assert '<li class="loss"><code>- marketing/marketing: Customer.phone read -&gt; deny' in (
            edited.text
        )
        assert '<li class="gain"><code>+ marketing/marketing: Invoice.totalInclVat' in (edited.text)
        hostile = await console.get("/console/diff", against="git", revision="--output=x")
        assert "not a revision name" in hostile.text


async def test_data_from_the_log_and_the_policy_files_is_escaped(
    console: Console,
    client: httpx.AsyncClient,
    owner: asyncpg.Connection,
    auditor: str,
    settings: Settings,
    users: Any,
) -> None:
    # An operation name is whatever the client sends; the log keeps it as sent.
    script = "<script>alert(1)</script>"
    token = await users.token("customer_service")
    refused = await client.post(
        "/graphql",
        json={"query": "{ __typename }", "operationName": script},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 200
    clerk = decode_access_token(token, settings=settings).user_id
    await logged_in(console, auditor)
    page = await console.get("/console/log", principal=f"user:{clerk}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert script not in page.text
    reflected = await console.get("/console/matrix", field='"><img src=x onerror=alert(1)>')
    assert "<img src=x" not in reflected.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in reflected.text


async def test_a_rejected_edit_shows_with_its_problems_escaped(
    owner: asyncpg.Connection, settings: Settings, policy_dir: Path
) -> None:
    async with app_with(settings, policy_dir=policy_dir) as (app, console):
        await logged_in(console, await user_with_role(owner, "auditor"))
        running = app.state.policy_store.current.version
        with (policy_dir / "policy.csv").open("a") as policy:
            policy.write("p, <img src=x onerror=alert(1)>, Customer.email, read, *, allow\n")
        for _ in range(100):
            if app.state.policy_store.last_failure is not None:
                break
            await asyncio.sleep(0.05)
        status = await console.get("/console/")
    failure = app.state.policy_store.last_failure
    assert failure is not None
    assert running in status.text and failure.version in status.text
    assert "unknown role &#39;&lt;img src=x onerror=alert(1)&gt;&#39;" in status.text
    assert "<img src=x" not in status.text


async def test_the_seal_status_shows_the_last_seal_and_verification(
    console: Console, auditor: str, settings: Settings, owner: asyncpg.Connection
) -> None:
    await logged_in(console, auditor)
    engine = create_engine(settings.database_url or "", settings, as_app_role=False)
    try:
        async with session_factory(engine)() as session, session.begin():
            await seal_pending(session=session, settings=settings, block=True)
        async with session_factory(engine)() as session, session.begin():
            report = await verify(session=session, settings=settings, full=False, record=True)
    finally:
        await engine.dispose()
    assert report.ok and report.head is not None
    page = await console.get("/console/")
    assert f"batch {report.head.batch_no}, up to position {report.head.last_seq}" in page.text
    assert '<b class="good">ok</b>' in page.text
    assert 'record signature <span class="good">valid</span>' in page.text


# -- the search ------------------------------------------------------------------------


async def test_a_search_finds_the_request_and_is_itself_logged(
    console: Console,
    client: httpx.AsyncClient,
    owner: asyncpg.Connection,
    auditor: str,
    users: Any,
) -> None:
    customer = await factories.customer(owner)
    read = await gql(
        client,
        '{ customer(id: "' + str(customer["id"]) + '") { customerNumber lastName } }',
        as_="customer_service",
        users=users,
    )
    request_id = read.json()["extensions"]["requestId"]
    await logged_in(console, auditor)
    page = await console.get("/console/log", customer=str(customer["customer_number"]))
    assert page.status_code == 200
    assert request_id in page.text
    assert str(customer["id"]) in page.text
    assert "lastName" not in page.text  # objects are read when a request is opened
    opened = await console.get("/console/log/objects", request=request_id, hit=str(customer["id"]))
    assert '<tr class="hit"><td>Customer</td>' in opened.text
    assert "customerNumber, lastName" in opened.text  # the fields the request read
    assert len(recorded_requests(opened)) == 1  # opening it is a search of its own

    ours = recorded_requests(page) + recorded_requests(opened)
    assert len(ours) == 3  # the customer-number look-up, the search, the opened request
    auditor_id = await owner.fetchval("SELECT id FROM app_user WHERE username = $1", auditor)
    rows = await owner.fetch(
        "SELECT request_id::text, event, principal, purpose, outcome, operation_name,"
        " field_sets::text AS sets FROM access_log_request WHERE request_id = ANY($1::uuid[])",
        ours,
    )
    assert len(rows) == 3
    by_name = {row["operation_name"]: row for row in rows}
    assert set(by_name) == {"ConsoleCustomerNumber", "ConsoleAccessLogSearch"}
    for row in rows:
        assert row["event"] == "console" and row["principal"] == f"user:{auditor_id}"
        assert row["purpose"] == "oversight" and row["outcome"] == "ok"
    sets = [row["sets"] for row in rows if row["operation_name"] == "ConsoleAccessLogSearch"]
    assert all("AccessLogEntry" in found for found in sets)
    assert sum("AccessLogObject" in found for found in sets) == 1  # only the opened one
    assert "Customer" in by_name["ConsoleCustomerNumber"]["sets"]


async def test_the_console_searches_where_clients_must_send_registered_documents(
    owner: asyncpg.Connection, settings: Settings, users: Any
) -> None:
    async with app_with(settings, trusted_documents_required_roles=("*",)) as (_, console):
        auditor = await user_with_role(owner, "auditor")
        await logged_in(console, auditor)
        page = await console.get("/console/log", principal=auditor)
        assert page.status_code == 200
        assert "Only registered documents" not in page.text
        assert len(recorded_requests(page)) == 1
        # The same search sent by a client as an ad-hoc document is refused.
        token = await Users(owner, console.http).token("auditor")
        ad_hoc = await console.http.post(
            "/graphql",
            json={"query": "{ accessLog(first: 1) { edges { node { id } } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert ad_hoc.status_code == 403


async def test_search_input_errors_name_the_field(console: Console, auditor: str) -> None:
    await logged_in(console, auditor)
    page = await console.get("/console/log", customer="12ab", to="yesterday", purpose="fun")
    assert "a customer number has 1 to 9 digits" in page.text
    assert "a time as 2026-12-03T14:05 (UTC)" in page.text
    assert "not a purpose of the policy" in page.text
    assert "recorded in the access log" not in page.text  # nothing ran
    unknown = await console.get("/console/log", principal="nobody-" + uuid.uuid4().hex[:6])
    assert "no user of that name" in unknown.text


async def test_static_files_are_versioned_and_nothing_else_is_served(
    console: Console,
) -> None:
    login = await console.get("/console/login")
    path = re.search(r'href="(/console/static/console.css\?v=[0-9a-f]+)"', login.text)
    assert path is not None
    css = await console.http.get(path.group(1))
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    assert (await console.get("/console/static/..%2Fauth.py")).status_code == 404
    assert (await console.get("/console/static/app.py")).status_code == 404
