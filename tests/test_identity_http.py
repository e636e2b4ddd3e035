"""The /auth routes over HTTP, the `me` query, the command line, demo users and the schema."""

from __future__ import annotations

import argparse
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlmodel import SQLModel
from starlette.applications import Starlette

from server.authz.principal import Principal
from server.identity import cli
from server.identity.demo import create_demo_users
from server.identity.queries import MeQuery
from server.identity.roles import known_roles
from server.identity.routes import routes
from tests import factories
from tests.dbserver import Database
from tests.factories import make_user, new_address

IDENTITY_TABLES = {"app_user", "user_session", "api_key", "login_failure", "auth_event"}


@pytest.fixture
async def http(identity_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=routes())
    app.state.settings = identity_db.settings_with(login_failures_per_hour=3)
    app.state.sessionmaker = identity_db.app
    transport = httpx.ASGITransport(app=app, client=(new_address(), 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://rekisteri.test") as client:
        yield client


async def test_token_route_logs_in_and_refuses_alike(
    identity_db: Database, http: httpx.AsyncClient
) -> None:
    username, password = await make_user(identity_db)
    ok = await http.post("/auth/token", json={"username": username, "password": password})
    assert ok.status_code == 200
    body = ok.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert ok.headers["cache-control"] == "no-store"

    wrong = await http.post("/auth/token", json={"username": username, "password": "x" * 12})
    unknown = await http.post(
        "/auth/token", json={"username": "no." + username, "password": password}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content == b'{"error":"invalid_credentials"}'
    assert dict(wrong.headers) == dict(unknown.headers)


async def test_token_route_throttles_with_retry_after(
    identity_db: Database, http: httpx.AsyncClient
) -> None:
    username, password = await make_user(identity_db)
    for _ in range(3):
        response = await http.post(
            "/auth/token", json={"username": username, "password": "nope-nope-nope"}
        )
        assert response.status_code == 401
    throttled = await http.post("/auth/token", json={"username": username, "password": password})
    assert throttled.status_code == 429
    assert throttled.json() == {"error": "too_many_attempts"}
    assert 0 < int(throttled.headers["retry-after"]) <= 3600


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", b'{"username": "a", "password": "b"}', 415),
        ("application/x-www-form-urlencoded", b"username=a&password=b", 415),
        ("application/json", b"not json", 400),
        ("application/json", b'["a", "b"]', 400),
        ("application/json", b'{"username": "a"}', 400),
        ("application/json", b'{"username": 1, "password": 2}', 400),
        ("application/json", b'{"username": "a", "password": "' + b"x" * 5000 + b'"}', 413),
    ],
)
async def test_token_route_takes_json_only(
    http: httpx.AsyncClient, content_type: str, body: bytes, status: int
) -> None:
    response = await http.post("/auth/token", content=body, headers={"content-type": content_type})
    assert response.status_code == status


async def test_refresh_and_logout_routes(identity_db: Database, http: httpx.AsyncClient) -> None:
    username, password = await make_user(identity_db)
    token = (
        await http.post("/auth/token", json={"username": username, "password": password})
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    renewed = await http.post("/auth/refresh", json={}, headers=auth)
    assert renewed.status_code == 200
    assert renewed.json()["access_token"] != token
    assert (await http.post("/auth/logout", content=b"{}", headers=auth)).status_code == 415
    assert (await http.post("/auth/logout", json={}, headers=auth)).status_code == 200
    for path in ("/auth/logout", "/auth/refresh"):
        again = await http.post(path, json={}, headers=auth)
        assert again.status_code == 401
        assert again.json() == {"error": "invalid_token"}
        assert again.headers["www-authenticate"].startswith("Bearer")
    missing = await http.post("/auth/refresh", json={})
    assert missing.status_code == 401


@dataclass
class _Policy:
    def purposes_for(self, roles: Any) -> frozenset[str]:
        table = {"clerk": {"customer_service", "billing"}, "auditor": {"audit"}}
        return frozenset(p for role in roles for p in table.get(role, set()))


@dataclass
class _Access:
    policy: _Policy


@dataclass
class _Context:
    principal: Principal
    access: _Access


def test_me_reports_the_principal_with_descriptions() -> None:
    schema = strawberry.Schema(query=MeQuery)
    principal = factories.user_principal("liisa.virtanen", "clerk", "auditor")
    result = schema.execute_sync(
        "{ me { username organisation roles purposes kind } }",
        context_value=_Context(principal, _Access(_Policy())),
    )
    assert result.errors is None
    assert result.data == {
        "me": {
            "username": "liisa.virtanen",
            "organisation": "ksat",
            "roles": ["auditor", "clerk"],
            "purposes": ["audit", "billing", "customer_service"],
            "kind": "USER",
        }
    }
    graphql_schema = schema._schema
    for type_name in ("Me", "MeQuery", "PrincipalKind"):
        graphql_type = graphql_schema.type_map[type_name]
        assert graphql_type.description, type_name
        for name, item in getattr(graphql_type, "fields", {}).items():
            assert item.description, f"{type_name}.{name}"
        for name, value in getattr(graphql_type, "values", {}).items():
            assert value.description or name in {"USER", "API_KEY"}


def test_known_roles_come_from_roles_csv(tmp_path: Path) -> None:
    (tmp_path / "roles.csv").write_text(
        "# role, default purpose, organisation kind, description\n"
        "\n"
        "clerk, customer_service, company, Asiakaspalvelu\n"
        '  collector ,collection, subcontractor, "Perintä, alihankkija"\n',
        encoding="utf-8",
    )
    assert known_roles(tmp_path) == {"clerk", "collector"}


async def test_demo_users_can_log_in(identity_db: Database, http: httpx.AsyncClient) -> None:
    pairs = [("clerk", factories.COMPANY), ("collector", factories.SUBCONTRACTOR)]
    for _ in range(2):  # running it again resets the passwords
        async with identity_db.owner() as session, session.begin():
            created = await create_demo_users(session=session, roles_with_orgs=pairs)
    assert [(u, r) for u, r, _ in created] == [
        ("demo-clerk", "clerk"),
        ("demo-collector", "collector"),
    ]
    for username, _, password in created:
        response = await http.post("/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200


def _cli(argv: list[str], settings: Any, stdin: str = "") -> int:
    parser = argparse.ArgumentParser(prog="rekisteri")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        code: int = args.func(args, settings)
    return code


@pytest.fixture
def cli_settings(identity_db: Database, tmp_path: Path) -> Any:
    (tmp_path / "roles.csv").write_text(
        "".join(f"{role}, x, company, test\n" for role in sorted(factories.ROLES)), encoding="utf-8"
    )
    return identity_db.settings_with(policy_dir=tmp_path)


def test_command_line_user_and_key_lifecycle(
    cli_settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    username = factories.new_username("cli")
    password = factories.new_password()
    assert _cli(["user", "add", username, "--role", "clerk"], cli_settings, "") == 1
    assert "standard input" in capsys.readouterr().err
    assert _cli(["user", "add", username, "--role", "nope"], cli_settings, password + "\n") == 1
    assert "Unknown role" in capsys.readouterr().err
    code = _cli(["user", "add", username, "--role", "clerk"], cli_settings, password + "\n")
    assert code == 0
    assert f"user {username} added (ksat: clerk)" in capsys.readouterr().out
    roles = ["--role", "auditor", "--role", "clerk"]
    assert _cli(["user", "roles", username, *roles], cli_settings) == 0
    assert _cli(["user", "set-password", username], cli_settings, "password\n") == 1
    assert _cli(["user", "set-password", username], cli_settings, password + "-2\n") == 0
    assert _cli(["user", "disable", username], cli_settings) == 0
    assert _cli(["user", "disable", "nobody-" + username], cli_settings) == 1
    capsys.readouterr()

    argv = ["apikey", "create", "--org", factories.SUBCONTRACTOR, "--role", "collector"]
    code = _cli([*argv, "--expires", "2099-01-01"], cli_settings)
    assert code == 1  # beyond the longest lifetime
    code = _cli([*argv, "--expires", _in_days(30), "--name", "perintä"], cli_settings)
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    key = out[-1]
    assert key.startswith("rk_")
    key_id = out[0].split()[2]
    assert _cli(["apikey", "revoke", key_id], cli_settings) == 0
    assert "revoked" in capsys.readouterr().out
    assert _cli(["apikey", "revoke", "not-a-uuid"], cli_settings) == 1


def _in_days(days: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


@pytest.mark.filterwarnings("ignore:Did not recognize type 'xid8':sqlalchemy.exc.SAWarning")
async def test_migration_matches_the_models(identity_db: Database) -> None:
    metadata = MetaData()
    for name in sorted(IDENTITY_TABLES | {"organisation"}):
        SQLModel.metadata.tables[name].to_metadata(metadata)

    def diff(sync_conn: Any) -> list[Any]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return [d for d in compare_metadata(context, metadata) if _table_of(d) in IDENTITY_TABLES]

    async with identity_db.owner_engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


def _table_of(difference: Any) -> str:
    item = difference[0] if isinstance(difference, list) else difference
    kind = item[0]
    if kind in ("add_table", "remove_table"):
        return str(item[1].name)
    if kind in ("add_column", "remove_column") or kind.startswith("modify_"):
        return str(item[2])
    return str(item[1].table.name)
