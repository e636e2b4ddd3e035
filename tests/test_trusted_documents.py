"""Trusted documents: registered with `rekisteri operations add`, called by their SHA-256
(`documentId` or Apollo's persisted query), required for chosen roles and API keys, and
kept planned."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.app import create_app
from server.authz.decision import Access
from server.cli import build_parser
from server.compiled.cache import PinnableCache
from server.operations import trusted
from server.operations.documents import CACHE_SIZE, DocumentCache
from server.schema import schema
from server.settings import Settings
from tests.conftest import Users, gid, gql, run_cli, started_app
from tests.scenario import Scenario, build_scenario

CUSTOMERS = """query CustomerCard {
  customers(first: 5) {
    edges { node { id customerNumber lastName personalIdentityCode email ...Sites } }
  }
}

fragment Sites on Customer { sites(first: 5) { edges { node { meteringPointId mainFuse } } } }
"""

SITES = "query SiteList { sites(first: 5) { edges { node { id meteringPointId } } } }\n"

REQUIRED_ROLE = "field_service"


def digest(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def document_id(document: str) -> str:
    return "sha256:" + digest(document)


def called_by_id(document: str) -> dict[str, Any]:
    """A request body calling a registered document by its ID."""
    return {"documentId": document_id(document)}


def persisted(document: str) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest(document)}}}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with trusted documents required of one role."""
    return settings.model_copy(
        update={
            "trusted_documents_required_roles": (REQUIRED_ROLE,),
            "trusted_documents_reload_interval_seconds": 0.2,
        }
    )


@pytest.fixture
async def scenario(owner: asyncpg.Connection) -> Scenario:
    return await build_scenario(owner)


async def register(settings: Settings, tmp_path: Path, *documents: str) -> None:
    files = []
    for number, document in enumerate(documents):
        path = tmp_path / f"operation-{number}.graphql"
        path.write_bytes(document.encode())
        files.append(str(path))
    assert await run_cli(settings, "operations", "add", *files) == 0


RegisterAndLoad = Callable[..., Awaitable[None]]


@pytest.fixture
def register_and_load(app: Any, settings: Settings, tmp_path: Path) -> RegisterAndLoad:
    """Registers documents and has the running app load them (as its watcher would)."""

    async def register_and_load(*documents: str) -> None:
        await register(settings, tmp_path, *documents)
        await trusted.refresh(app.state.runner)

    return register_and_load


async def post(
    client: httpx.AsyncClient,
    users: Users,
    body: dict[str, Any],
    *,
    as_: str | tuple[str, str],
    purpose: str | None = None,
    accept: str | None = None,
) -> httpx.Response:
    role, org = (as_, "ksat") if isinstance(as_, str) else as_
    headers = {"Authorization": f"Bearer {await users.token(role, org)}"}
    if purpose is not None:
        headers["X-Purpose"] = purpose
    if accept is not None:
        headers["Accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


async def log_row(owner: asyncpg.Connection, response: httpx.Response) -> asyncpg.Record:
    body = response.json()
    request_id = (
        body.get("extensions", {}).get("requestId") or body["errors"][0]["extensions"]["requestId"]
    )
    row = await owner.fetchrow(
        "SELECT outcome, detail, roles, operation_name FROM access_log_request "
        "WHERE request_id = $1",
        uuid.UUID(request_id),
    )
    assert row is not None
    return row


# -- calling registered documents ----------------------------------------------------------


@pytest.mark.usefixtures("scenario")
async def test_a_registered_document_is_called_by_document_id_and_by_apollo_hash(
    client: httpx.AsyncClient, users: Users, register_and_load: RegisterAndLoad
) -> None:
    await register_and_load(CUSTOMERS)
    ad_hoc = (await gql(client, CUSTOMERS, as_="customer_service", users=users)).json()
    assert len(ad_hoc["data"]["customers"]["edges"]) == 4

    by_id = await post(client, users, called_by_id(CUSTOMERS), as_="customer_service")
    by_hash = await post(client, users, persisted(CUSTOMERS), as_="customer_service")
    for response in (by_id, by_hash):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"] == ad_hoc["data"]
        assert body["extensions"]["executor"] == "compiled"
    # Variables and operationName go with the ID as with a query.
    named = await post(
        client,
        users,
        {"documentId": document_id(CUSTOMERS), "operationName": "CustomerCard", "variables": {}},
        as_="customer_service",
    )
    assert named.json()["data"] == ad_hoc["data"]


async def test_an_unknown_hash_is_persisted_query_not_found(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    by_id = await post(client, users, called_by_id(SITES), as_="customer_service")
    by_hash = await post(client, users, persisted(SITES), as_="customer_service")
    for response, message in (
        (by_id, "No registered document has this documentId."),
        (by_hash, "PersistedQueryNotFound"),  # Apollo's clients look for this message
    ):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-cache, must-revalidate"
        [error] = response.json()["errors"]
        assert (error["extensions"]["code"], error["message"]) == (
            "PERSISTED_QUERY_NOT_FOUND",
            message,
        )
        row = await log_row(owner, response)
        assert (row["outcome"], row["detail"]) == ("error", "unknown document id")
    strict = await post(
        client,
        users,
        called_by_id(SITES),
        as_="customer_service",
        accept="application/graphql-response+json",
    )
    assert strict.status_code == 400 and "data" not in strict.json()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"documentId": "md5:abc"}, "documentId must be"),
        ({"documentId": "sha256:" + "0" * 63}, "documentId must be"),
        ({"documentId": document_id(SITES), "query": SITES}, "not several"),
        (
            {
                "query": SITES,
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
            },
            "does not match the query",
        ),
        (
            {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}},
            "Unsupported persisted query version",
        ),
        ({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "xyz"}}}, "64 hexadecimal"),
    ],
)
async def test_malformed_document_references_are_bad_requests(
    client: httpx.AsyncClient, users: Users, body: dict[str, Any], message: str
) -> None:
    response = await post(client, users, body, as_="customer_service")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert message in error["message"]


@pytest.mark.usefixtures("scenario")
async def test_a_client_cannot_register_a_document_by_sending_it_with_its_hash(
    client: httpx.AsyncClient, users: Users
) -> None:
    # Apollo's automatic registration: the query and its hash. It runs as an ad-hoc
    # document (for a role that may send those) and is not stored.
    body = {"query": SITES, **persisted(SITES)}
    response = await post(client, users, body, as_="customer_service", purpose="delivery")
    assert response.json()["data"]["sites"]["edges"]
    again = await post(client, users, persisted(SITES), as_="customer_service", purpose="delivery")
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    # A role that must use registered documents is refused, registering nothing either.
    refused = await post(client, users, body, as_=REQUIRED_ROLE)
    assert refused.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"


# -- the rule that requires registered documents ----------------------------------------------


async def test_an_ad_hoc_document_of_a_required_role_is_refused_and_logged(
    client: httpx.AsyncClient,
    users: Users,
    owner: asyncpg.Connection,
    scenario: Scenario,
    register_and_load: RegisterAndLoad,
) -> None:
    await register_and_load(SITES)
    field_service = (REQUIRED_ROLE, "kenttapalvelu-a")
    response = await gql(client, SITES + " ", as_=field_service, users=users)
    assert response.status_code == 403
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
    assert f"TRUSTED_DOCUMENTS_REQUIRED_ROLES ({REQUIRED_ROLE})" in error["message"]
    row = await log_row(owner, response)
    assert row["outcome"] == "denied"
    assert (
        row["detail"]
        == f"trusted document required: TRUSTED_DOCUMENTS_REQUIRED_ROLES ({REQUIRED_ROLE})"
    )
    assert list(row["roles"]) == [REQUIRED_ROLE] and row["operation_name"] == "SiteList"

    # The registered document runs, by ID or as its exact text.
    by_id = await post(client, users, called_by_id(SITES), as_=field_service)
    exact = await gql(client, SITES, as_=field_service, users=users)
    for answer in (by_id, exact):
        assert answer.status_code == 200, answer.text
        assert [e["node"]["id"] for e in answer.json()["data"]["sites"]["edges"]] == [
            gid("Site", scenario.assigned_site_a["id"])
        ]


@pytest.mark.usefixtures("scenario")
async def test_other_roles_may_send_ad_hoc_documents(
    client: httpx.AsyncClient, users: Users
) -> None:
    response = await gql(
        client, SITES + " ", as_="customer_service", users=users, purpose="delivery"
    )
    assert response.status_code == 200
    assert len(response.json()["data"]["sites"]["edges"]) == 5


@pytest.mark.usefixtures("scenario")
async def test_api_keys_can_be_required_to_send_registered_documents(
    settings: Settings, owner: asyncpg.Connection, users: Users, tmp_path: Path
) -> None:
    keys_only = settings.model_copy(
        update={
            "trusted_documents_required_roles": (),
            "trusted_documents_required_for_api_keys": True,
        }
    )
    await register(keys_only, tmp_path, SITES)
    expires = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    key = await created_key(keys_only, "kenttapalvelu-a", REQUIRED_ROLE, expires)
    async with started_app(keys_only) as (_, client):
        ad_hoc = await gql(client, SITES + " ", token=key)
        assert ad_hoc.status_code == 403
        assert "TRUSTED_DOCUMENTS_REQUIRED_FOR_API_KEYS" in ad_hoc.json()["errors"][0]["message"]
        by_id = await client.post(
            "/graphql",
            json={"documentId": document_id(SITES)},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert by_id.status_code == 200 and by_id.json()["data"]["sites"]["edges"]
        # A person with the same role is not an API key: the rule does not apply.
        users.client = client
        users.tokens.clear()
        person = await gql(client, SITES + " ", as_=(REQUIRED_ROLE, "kenttapalvelu-a"), users=users)
        assert person.status_code == 200


async def created_key(settings: Settings, org: str, role: str, expires: str) -> str:
    args = build_parser().parse_args(
        ["apikey", "create", "--org", org, "--role", role, "--expires", expires]
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await asyncio.to_thread(args.func, args, settings) == 0
    return out.getvalue().strip().splitlines()[-1]


async def test_a_required_role_the_policy_does_not_define_stops_the_start(
    settings: Settings,
) -> None:
    typo = settings.model_copy(update={"trusted_documents_required_roles": ("field_servise",)})
    application = create_app(typo)
    with pytest.raises(ValueError, match="field_servise"):
        async with application.router.lifespan_context(application):
            pass


def test_the_required_roles_setting_is_a_comma_separated_list(settings: Settings) -> None:
    parsed = Settings.model_validate(
        {**settings.model_dump(), "trusted_documents_required_roles": " field_service, ,billing "}
    )
    assert parsed.trusted_documents_required_roles == ("billing", "field_service")


# -- registration ------------------------------------------------------------------------


async def test_add_reports_denied_and_masked_fields_as_policy_explain_decides(
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "card.graphql"
    path.write_text(CUSTOMERS, encoding="utf-8")
    assert await run_cli(settings, "operations", "add", "--dry-run", "--json", str(path)) == 0
    [document] = json.loads(capsys.readouterr().out)["documents"]
    assert document["documentId"] == document_id(CUSTOMERS)
    assert document["status"] == "not stored"
    [operation] = document["operations"]
    assert operation["name"] == "CustomerCard"
    coordinates = operation["coordinates"]
    # The fragment's fields count; ids and connections are not policed.
    assert {"Customer.personalIdentityCode", "Customer.sites", "Site.meteringPointId"} <= set(
        coordinates
    )
    assert not any(c.endswith(".id") or "Connection" in c for c in coordinates)

    explained = await explain_labels(settings, monkeypatch, capsys, operation)
    checked = 0
    for role, purposes in operation["access"].items():
        for purpose, decisions in purposes.items():
            for coordinate in coordinates:
                label = explained[(role, purpose, coordinate)]
                expected = (
                    "deny"
                    if coordinate in decisions["denied"]
                    else "mask"
                    if coordinate in decisions["masked"]
                    else "read"
                )
                assert label == expected, (role, purpose, coordinate)
                checked += 1
    assert checked == len(coordinates) * sum(len(p) for p in operation["access"].values())
    marketing = operation["access"]["marketing"]["marketing"]
    assert "Customer.personalIdentityCode" in marketing["denied"]
    assert operation["access"]["field_service"]["delivery"]["noRows"] == []
    assert (
        operation["access"]["business_analyst"]["business_development"]["masked"]
        or (operation["access"]["business_analyst"]["business_development"]["denied"])
    )


async def explain_labels(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    operation: dict[str, Any],
) -> dict[tuple[str, str, str], str]:
    """`rekisteri policy explain ROLE COORDINATE` for every role and coordinate, parsed."""
    from server.authz import cli as policy_cli

    policy = policy_cli._load(settings)
    monkeypatch.setattr(policy_cli, "_load", lambda *args, **kwargs: policy)  # load once
    labels: dict[tuple[str, str, str], str] = {}
    for role in operation["access"]:
        for coordinate in operation["coordinates"]:
            assert await run_cli(settings, "policy", "explain", role, coordinate) == 0
            for line in capsys.readouterr().out.splitlines():
                if not line.startswith(" "):
                    head, _, label = line.rpartition(": ")
                    who, purpose, _ = head.split(" / ")
                    labels[(who, purpose, coordinate)] = label
    assert set(labels.values()) <= {a.label for a in Access}
    return labels


async def test_an_invalid_document_is_not_registered(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.graphql", tmp_path / "bad.graphql"
    good.write_text(SITES, encoding="utf-8")
    bad.write_text(
        "query Broken { customers { edges { node { noSuchField } } } }", encoding="utf-8"
    )
    assert await run_cli(settings, "operations", "add", str(good), str(bad)) == 1
    out = capsys.readouterr().out
    assert "invalid: Cannot query field 'noSuchField' on type 'Customer'." in out
    assert await run_cli(settings, "operations", "list") == 0
    assert "0 registered documents" in capsys.readouterr().out


async def test_list_and_remove_with_their_access_log_events(
    app: Any,
    client: httpx.AsyncClient,
    users: Users,
    settings: Settings,
    owner: asyncpg.Connection,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    register_and_load: RegisterAndLoad,
) -> None:
    started = datetime.now(UTC)
    await register_and_load(SITES, CUSTOMERS)
    await register(settings, tmp_path, SITES)  # again: nothing changes
    capsys.readouterr()
    assert await run_cli(settings, "operations", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)["documents"]
    assert {d["documentId"]: d["operations"] for d in listed} == {
        document_id(SITES): ["SiteList"],
        document_id(CUSTOMERS): ["CustomerCard"],
    }
    assert await run_cli(settings, "operations", "remove", document_id(SITES)) == 0
    assert await run_cli(settings, "operations", "remove", document_id(SITES)) == 1
    await trusted.refresh(app.state.runner)
    response = await post(client, users, called_by_id(SITES), as_="customer_service")
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert digest(CUSTOMERS) in app.state.runner.trusted
    assert digest(SITES) not in app.state.runner.trusted

    events = await owner.fetch(
        "SELECT operation_name, detail FROM access_log_request "
        "WHERE event = 'cli' AND at >= $1 ORDER BY seq",
        started,
    )
    assert [(e["operation_name"], e["detail"]) for e in events] == [
        ("operations add", f"{document_id(SITES)} registered, {document_id(CUSTOMERS)} registered"),
        ("operations add", f"{document_id(SITES)} already registered"),
        ("operations remove", f"removed {document_id(SITES)}"),
    ]


# -- plans kept ready --------------------------------------------------------------------


@pytest.mark.usefixtures("scenario")
async def test_registered_documents_are_planned_at_start_and_stay_planned(
    settings: Settings, users: Users, tmp_path: Path
) -> None:
    await register(settings, tmp_path, CUSTOMERS)
    async with started_app(settings) as (application, client):
        runner = application.state.runner
        key = digest(CUSTOMERS)
        assert runner.documents.peek(CUSTOMERS) is not None  # parsed before the first request
        grants = runner.policy().grants
        # One plan per role and purpose, by name and without (the only operation), made
        # in the background right after the start.
        expected = {
            (name, (role,), purpose) for role, purpose in grants for name in ("CustomerCard", None)
        }
        for _ in range(100):
            plans = runner.compiled.pinned_plans(key)
            if len(plans) == len(expected):
                break
            await asyncio.sleep(0.1)
        assert {(k[1], k[3], k[4]) for k in plans} == expected
        users.client = client
        executions = runner.compiled.executions
        response = await post(client, users, called_by_id(CUSTOMERS), as_="customer_service")
        assert response.json()["extensions"]["executor"] == "compiled"
        assert runner.compiled.executions == executions + 1
        assert runner.compiled.pinned_plans(key) == plans  # answered by a plan made at start

        # Ad-hoc documents churn the caches; the registered one stays.
        for number in range(CACHE_SIZE + 10):
            runner.documents.prepare(f"query Q{number} {{ __typename }}")
        assert runner.documents.peek(CUSTOMERS) is not None
        assert runner.compiled.pinned_plans(key) == plans


@pytest.mark.usefixtures("scenario")
async def test_the_watcher_loads_a_new_registration(
    app: Any, client: httpx.AsyncClient, users: Users, settings: Settings, tmp_path: Path
) -> None:
    await register(settings, tmp_path, SITES)
    for _ in range(50):  # the reload interval is 0.2 s here
        response = await post(
            client,
            users,
            called_by_id(SITES),
            as_="customer_service",
            purpose="delivery",
        )
        if "data" in response.json() and response.json()["data"]:
            break
        await asyncio.sleep(0.1)
    assert response.json()["data"]["sites"]["edges"]
    assert app.state.runner.compiled.pinned_plans(digest(SITES))


def test_pinned_entries_are_never_evicted_by_other_documents() -> None:
    cache: PinnableCache[int] = PinnableCache(size=4, pinned_per_document=2)
    cache.put(("registered", 1), 1)
    cache.pin("registered")  # an entry made before the pin moves over
    cache.put(("registered", 2), 2)
    cache.put(("registered", 3), 3)  # over its own bound: an ordinary LRU entry
    for number in range(100):
        cache.put((f"ad-hoc-{number}", number), number)
    assert cache.get(("registered", 1)) == 1 and cache.get(("registered", 2)) == 2
    assert cache.get(("registered", 3)) is None and cache.get(("ad-hoc-99", 99)) == 99
    assert len(cache) == 2 + 4
    cache.unpin("registered")
    assert cache.get(("registered", 1)) is None


def test_document_cache_keeps_pinned_documents() -> None:
    cache = DocumentCache(schema()._schema)
    pinned = cache.pin(SITES)
    for number in range(CACHE_SIZE + 1):
        cache.prepare(f"query Q{number} {{ __typename }}")
    assert cache.prepare(SITES) is pinned
    cache.unpin(SITES)
    assert cache.peek(SITES) is None


def test_a_wildcard_requires_registered_documents_of_everyone() -> None:
    registry = trusted.TrustedDocuments(required_roles=["*"])
    registry.replace({digest(SITES): SITES}, None)
    principal = trusted._planning_principal("customer_service")
    assert registry.refusal(principal, SITES) is None
    refusal = registry.refusal(principal, SITES + " ")
    assert refusal is not None and refusal.status == 403
    assert "TRUSTED_DOCUMENTS_REQUIRED_ROLES (*)" in refusal.message
