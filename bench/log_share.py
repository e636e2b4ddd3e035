"""What the access log costs inside the compiled statement: the reference page (Q3) and
the small query (Q1) run as their compiled statements with and without the two log
inserts, alternately, in transactions that are rolled back, on the same connection.

    .venv/bin/python bench/log_share.py --database postgresql://postgres@127.0.0.1:5432/rk_bench

The service always writes the log; the statement without it exists only here. Also prints
the size on disk of the log rows one request writes (the pages of the log tables grow by
about that much per request; see bench/side_by_side.py for the measured growth).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import asyncpg
from graphql import OperationDefinitionNode, parse
from graphql.execution.values import VariableValues, get_variable_values

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.audit.records import EventKind
from server.audit.service import request_parameters
from server.authz.access import AccessView
from server.authz.principal import Principal, PrincipalKind
from server.authz.store import PolicyStore
from server.compiled.planner import plan_operation
from server.compiled.sqlgen import compile_plan, concrete_env
from server.operations.runner import event_record
from server.schema import catalogue, schema
from server.settings import Settings

Q3 = (Path(__file__).resolve().parent / "q3.py").read_text().split('Q3 = """')[1].split('"""')[0]
Q1 = (
    "query Q1($id: ID!) { customer(id: $id) { id customerNumber firstName lastName email "
    "sites(first: 10) { edges { node { id meteringPointId streetAddress } } } } }"
)


async def measure(database: str, rounds: int) -> None:
    settings = Settings(database_url=database)
    policy = PolicyStore(settings.policy_dir, catalogue()).current
    conn = await asyncpg.connect(database)
    organisation = await conn.fetchval("SELECT id FROM organisation WHERE kind = 'company' LIMIT 1")
    customer = await conn.fetchval(
        "SELECT customer_id FROM site GROUP BY customer_id HAVING count(*) >= 2 LIMIT 1"
    )
    principal = Principal(
        PrincipalKind.USER, uuid.uuid4(), "bench", organisation, "ksat", ("customer_service",)
    )
    access = AccessView(policy, principal, "billing", date.today())
    graphql_schema = schema()._schema
    for name, query, variables in (("Q3", Q3, {}), ("Q1", Q1, {"id": str(customer)})):
        document = parse(query)
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        coerced = get_variable_values(
            graphql_schema, operation.variable_definitions or (), variables
        )
        assert isinstance(coerced, VariableValues)
        plan = plan_operation(
            schema=graphql_schema,
            operation=operation,
            fragments={},
            variables=coerced,
            access=access,
            settings=settings,
        )
        statements = {
            logged: compile_plan(plan, schema=graphql_schema, access=access, with_log=logged)
            for logged in (True, False)
        }
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(rounds):
            for logged, statement in statements.items():
                record = event_record(
                    EventKind.GRAPHQL,
                    principal="user:bench",
                    organisation="ksat",
                    roles=principal.roles,
                    purpose="billing",
                    operation_name=name,
                    operation_type="query",
                    policy_version=policy.version,
                )
                log = request_parameters(record)
                log["executor"] = "compiled"
                log["field_sets"] = statement.field_sets_text
                values = statement.bind(plan.parameters, concrete_env(access), log)
                transaction = conn.transaction()
                await transaction.start()
                started = time.perf_counter()
                await conn.fetchrow(statement.sql, *values)
                times[logged].append((time.perf_counter() - started) * 1000)
                await transaction.rollback()
        with_log = statistics.median(times[True][3:])
        without = statistics.median(times[False][3:])
        print(
            f"{name}: statement with the log {with_log:.2f} ms, without {without:.2f} ms "
            f"(median of {rounds - 3}); the log's share {100 * (with_log - without) / with_log:.0f} %"
        )
    await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/rk_bench")
    parser.add_argument("--rounds", type=int, default=40)
    arguments = parser.parse_args()
    asyncio.run(measure(arguments.database, arguments.rounds))


if __name__ == "__main__":
    main()
