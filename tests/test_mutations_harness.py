"""Running GraphQL operations as a role without HTTP, through the same operation runner as
the endpoint: the schema, the policy, the row scopes, the executors and the access log, one
transaction, mutations in a savepoint that is rolled back when the result has any error."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest

from server.authz.policy import CompiledPolicy, load_policy
from server.db.engine import create_driver_pool, create_engine
from server.db.session import session_factory
from server.operations.runner import Operation, OperationRunner
from server.schema import catalogue, schema
from server.settings import PROJECT_ROOT, Settings
from tests import factories


@functools.cache
def policy() -> CompiledPolicy:
    return load_policy(PROJECT_ROOT / "policies", catalogue())


def today() -> date:
    return datetime.now(UTC).date()


@dataclass
class Result:
    data: dict[str, Any] | None
    errors: list[dict[str, Any]]
    denied: set[str]
    request_id: uuid.UUID

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    def error(self) -> dict[str, Any]:
        assert len(self.errors) == 1, self.errors
        extensions: dict[str, Any] = self.errors[0]["extensions"]
        return extensions

    def ok(self) -> dict[str, Any]:
        assert not self.errors, self.errors
        assert self.data is not None
        return self.data


@dataclass
class Api:
    settings: Settings
    engine: Any
    pool: asyncpg.Pool
    owner: asyncpg.Connection
    organisations: dict[str, uuid.UUID] = field(default_factory=dict)

    async def organisation(self, code: str, kind: str | None = None) -> uuid.UUID:
        if code not in self.organisations:
            chosen = kind or ("company" if code == "ksat" else "subcontractor")
            row = await factories.organisation(self.owner, code=code, kind=chosen)
            self.organisations[code] = row["id"]
        return self.organisations[code]

    async def run(
        self,
        query: str,
        *,
        as_: str | tuple[str, str],
        purpose: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> Result:
        role, org = (as_, "ksat") if isinstance(as_, str) else as_
        organisation_id = await self.organisation(org)
        compiled = policy()
        principal = factories.user_principal(
            f"{role}.tester", role, organisation=org, organisation_id=organisation_id
        )
        chosen = purpose or compiled.roles[role].default_purpose
        runner = OperationRunner(
            settings=self.settings,
            schema=schema(),
            sessionmaker=session_factory(self.engine),
            driver_pool=self.pool,
            policy=policy,
        )
        operation = Operation(
            query, principal, chosen, variables=variables, client_address="127.0.0.1"
        )
        answer = (await runner.run(operation)).json()
        errors: list[dict[str, Any]] = answer.get("errors", [])
        unexpected = [e for e in errors if e["extensions"]["code"] == "INTERNAL_SERVER_ERROR"]
        assert not unexpected, f"a resolver failed (see the log): {unexpected}"
        denials = [e for e in errors if e["extensions"]["code"] == "FORBIDDEN" and "path" not in e]
        denied = {e["extensions"]["coordinate"] for e in denials}
        others = [e for e in errors if e not in denials]
        return Result(answer.get("data"), others, denied, operation.request_id)

    async def mutate(
        self,
        mutation: str,
        *,
        as_: str | tuple[str, str],
        purpose: str | None = None,
        input: dict[str, Any],
    ) -> Result:
        """Run a mutation that takes one `input` object (its only variable)."""
        return await self.run(mutation, as_=as_, purpose=purpose, variables={"input": input})

    async def count(self, table: str, where: str = "true", *args: Any) -> int:
        value = await self.owner.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", *args)
        return int(value)

    async def logged(self, request_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.owner.fetch(
            "SELECT type_name, object_id, subject_customer_id, subject_prospect_id, operation,"
            " fields_read FROM access_log_object_all WHERE request_id = $1",
            request_id,
        )
        return [dict(r) for r in rows]


@pytest.fixture(name="api")
async def api_fixture(settings: Settings, owner: asyncpg.Connection) -> AsyncIterator[Api]:
    engine = create_engine(settings.database_url or "", settings)
    pool = await create_driver_pool(settings.database_url or "", settings)
    try:
        yield Api(settings, engine, pool, owner)
    finally:
        await pool.close()
        await engine.dispose()


CUSTOMER_QUERY = """
query($id: ID!) { customer(id: $id) { id email personalIdentityCode } }
"""


async def test_harness_logs_reads_and_runs_as_the_app_role(api: Api) -> None:
    person = await factories.customer(api.owner)
    result = await api.run(
        CUSTOMER_QUERY, as_="customer_service", variables={"id": str(person["id"])}
    )
    customer = result.ok()["customer"]
    assert customer["email"] == person["email"]
    assert customer["personalIdentityCode"].endswith("****")
    logged = await api.logged(result.request_id)
    assert [(r["type_name"], r["operation"]) for r in logged] == [("Customer", "read")]
    async with api.engine.connect() as conn:
        role = (await conn.exec_driver_sql("SELECT current_user")).scalar()
    assert role == "rekisteri_app"  # grants of the runtime role are exercised
