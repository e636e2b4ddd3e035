"""A credential used a moment ago is confirmed inside the next request's own transaction,
not in one of its own: fewer round trips, and every change to the session, the user or the
key still applies to the very next request, on both executors."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories
from tests.conftest import Users, gql

COMPILED = "{ customers(first: 1) { edges { node { id } } } }"  # one compiled statement
RESOLVER = "{ me { username roles } }"  # the resolver executor

# What an administrator (or the user) does between two requests, and whether the same
# token still works afterwards.
SESSION_CHANGES = [
    ("logged out", "UPDATE user_session SET revoked_at = now() WHERE id = $1", False),
    (
        "disabled",
        "UPDATE app_user SET active = false WHERE id = (SELECT user_id FROM user_session "
        "WHERE id = $1)",
        False,
    ),
    (
        "idle too long",
        "UPDATE user_session SET last_seen_at = now() - interval '2 hours' WHERE id = $1",
        False,
    ),
    (
        "expired",
        "UPDATE user_session SET expires_at = now() - interval '1 second' WHERE id = $1",
        False,
    ),
    (
        "given other roles",
        "UPDATE app_user SET roles = '{billing}' WHERE id = (SELECT user_id FROM user_session "
        "WHERE id = $1)",
        True,
    ),
]


async def _session_of(owner: asyncpg.Connection, token: str) -> uuid.UUID:
    """The session a token of the test users belongs to (the newest of its user)."""
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})
    return uuid.UUID(claims["sid"])


async def _request_records(owner: asyncpg.Connection, request_id: str) -> list[dict[str, Any]]:
    rows = await owner.fetch(
        "SELECT outcome, roles, executor FROM access_log_request WHERE request_id = $1",
        uuid.UUID(request_id),
    )
    return [dict(r) for r in rows]


def _request_id(response: httpx.Response) -> str:
    body = response.json()
    if "extensions" in body:
        return str(body["extensions"]["requestId"])
    return str(body["errors"][0]["extensions"]["requestId"])


@pytest.mark.parametrize("query", [COMPILED, RESOLVER], ids=["compiled", "resolver"])
@pytest.mark.parametrize(
    ("change", "statement", "still_works"), SESSION_CHANGES, ids=[c[0] for c in SESSION_CHANGES]
)
async def test_a_change_to_the_session_applies_to_the_next_request(
    client: httpx.AsyncClient,
    users: Users,
    owner: asyncpg.Connection,
    query: str,
    change: str,
    statement: str,
    still_works: bool,
) -> None:
    token = await users.token("customer_service")
    first = await gql(client, query, token=token)
    assert first.status_code == 200, first.text  # now remembered by the service
    await owner.execute(statement, await _session_of(owner, token))

    second = await gql(client, query, token=token)

    records = await _request_records(owner, _request_id(second))
    assert len(records) == 1
    if still_works:
        assert second.status_code == 200, second.text
        assert records[0]["roles"] == ["billing"]  # answered under the roles it has now
        assert records[0]["outcome"] == "ok"
    else:
        assert second.status_code == 401, second.text
        assert "data" not in second.json()
        assert records[0]["outcome"] == "unauthenticated"
        assert (
            await owner.fetchval(
                "SELECT count(*) FROM access_log_subject WHERE request_id = $1",
                uuid.UUID(_request_id(second)),
            )
            == 0
        )
        rejected = await owner.fetchval(
            "SELECT count(*) FROM auth_event WHERE event = 'token_rejected' AND at > $1",
            datetime.now(UTC) - timedelta(minutes=1),
        )
        assert rejected >= 1  # the full authentication recorded why


async def test_a_remembered_credential_reads_in_one_statement(
    app: Any, client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    await factories.customer(owner)
    token = await users.token("customer_service")
    assert (await gql(client, COMPILED, token=token)).status_code == 200
    compiled = app.state.runner.compiled
    executions, statements = compiled.executions, app.state.statements.count

    response = await gql(client, COMPILED, token=token)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["customers"]["edges"]
    assert compiled.executions - executions == 1  # page, confirmation and log together
    assert app.state.statements.count - statements == 0  # no transaction of its own


async def _api_key(owner: asyncpg.Connection, role: str, org: str) -> tuple[str, uuid.UUID]:
    organisation = await factories.organisation(owner, code=org, kind="subcontractor")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key_id = uuid.uuid4()
    await factories.insert(
        owner,
        "api_key",
        {
            "id": key_id,
            "organisation_id": organisation["id"],
            "name": "perintäjärjestelmä",
            "prefix": prefix,
            "secret_sha256": hashlib.sha256(secret.encode()).hexdigest(),
            "roles": [role],
            "expires_at": datetime.now(UTC) + timedelta(days=30),
        },
    )
    return f"rk_{prefix}_{secret}", key_id


KEY_CHANGES = [
    ("revoked", "UPDATE api_key SET revoked_at = now() WHERE id = $1"),
    ("expired", "UPDATE api_key SET expires_at = now() - interval '1 second' WHERE id = $1"),
    (
        "organisation moved outside the EU/EEA",
        "UPDATE organisation SET country = 'US' WHERE id = "
        "(SELECT organisation_id FROM api_key WHERE id = $1)",
    ),
]


@pytest.mark.parametrize("query", [COMPILED, RESOLVER], ids=["compiled", "resolver"])
@pytest.mark.parametrize(("change", "statement"), KEY_CHANGES, ids=[c[0] for c in KEY_CHANGES])
async def test_a_change_to_an_api_key_applies_to_the_next_request(
    client: httpx.AsyncClient, owner: asyncpg.Connection, query: str, change: str, statement: str
) -> None:
    key, key_id = await _api_key(owner, "field_service", "kenttä")
    first = await gql(client, query, token=key)
    assert first.status_code == 200, first.text
    await owner.execute(statement, key_id)

    second = await gql(client, query, token=key)

    assert second.status_code == 401, second.text
    assert (
        await owner.fetchval(
            "SELECT count(*) FROM access_log_subject WHERE request_id = $1",
            uuid.UUID(_request_id(second)),
        )
        == 0
    )


@pytest.mark.parametrize("query", [COMPILED, RESOLVER], ids=["compiled", "resolver"])
async def test_a_session_that_ends_between_login_check_and_read_is_refused(
    client: httpx.AsyncClient,
    users: Users,
    owner: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
) -> None:
    """The request's own transaction confirms even a credential it has just authenticated."""
    import server.graphql.endpoint as endpoint
    from server.identity.authenticate import verify_credential as verify

    token = await users.token("customer_service")

    async def then_logged_out(*args: Any, **kwargs: Any) -> Any:
        confirmation = await verify(*args, **kwargs)
        await owner.execute(
            "UPDATE user_session SET revoked_at = now() WHERE id = $1",
            await _session_of(owner, token),
        )
        return confirmation

    monkeypatch.setattr(endpoint, "verify_credential", then_logged_out)

    response = await gql(client, query, token=token)

    assert response.status_code == 401, response.text
    records = await _request_records(owner, _request_id(response))
    assert [r["outcome"] for r in records] == ["unauthenticated"]
    assert (
        await owner.fetchval(
            "SELECT count(*) FROM access_log_subject WHERE request_id = $1",
            uuid.UUID(_request_id(response)),
        )
        == 0
    )
