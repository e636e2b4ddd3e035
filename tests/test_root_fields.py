"""Any number of root fields work in one operation: every pair of root fields of the query
type, on both executors (the resolver executor runs them one after the other on the
request's session; before, two of them failing together gave `data: null`)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx
import pytest
from graphql import GraphQLNonNull, GraphQLObjectType

from server.schema import schema
from tests.conftest import Users, gid, gql


def _selection(name: str) -> str:
    field = schema()._schema.query_type.fields[name]  # type: ignore[union-attr]
    arguments = ", ".join(
        f'{argument}: "{gid("Customer", uuid.UUID(int=7))}"'
        for argument, definition in field.args.items()
        if isinstance(definition.type, GraphQLNonNull)
    )
    call = f"{name}({arguments})" if arguments else name
    result = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if isinstance(result, GraphQLObjectType) and "edges" in result.fields:
        return f"{call} {{ edges {{ node {{ id }} }} }}"
    return f"{call} {{ __typename }}"


ROOT_FIELDS = sorted(schema()._schema.query_type.fields)  # type: ignore[union-attr]
PAIRS = list(itertools.combinations_with_replacement(ROOT_FIELDS, 2))


@pytest.mark.parametrize("executor", ["compiled", "resolver"])
async def test_every_pair_of_root_fields_answers_together(
    app: Any, client: httpx.AsyncClient, users: Users, executor: str
) -> None:
    runner = app.state.runner
    runner.settings = runner.settings.model_copy(update={"read_executor": executor})
    failures: list[tuple[str, str, Any]] = []
    for first, second in PAIRS:
        query = f"{{ a: {_selection(first)} b: {_selection(second)} }}"
        body = (
            await gql(client, query, as_="administrator", users=users, purpose="oversight")
        ).json()
        codes = {e["extensions"]["code"] for e in body.get("errors", [])}
        if body.get("data") is None or "INTERNAL_SERVER_ERROR" in codes:
            failures.append((first, second, body.get("errors")))
    assert not failures, failures[:3]
    assert len(PAIRS) > 50
