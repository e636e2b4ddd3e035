"""The examples of docs/graphql.md run, so the front-end teams' guide cannot rot.

Each example is a ```graphql block after an HTML comment naming the role and purpose it
runs as (`<!-- example: as=ROLE purpose=PURPOSE [expect=CODE] -->`), with its variables in
a ```json block right after it. The register holds the IDs the examples use; each example
runs on both executors, which must agree, and answers without errors (or with the one code
it expects).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from server.settings import PROJECT_ROOT
from tests import factories
from tests.conftest import Users
from tests.scenario import build_scenario
from tests.test_compiled import both

DOC = PROJECT_ROOT / "docs" / "graphql.md"
EXAMPLE = re.compile(
    r"<!-- example: (?P<options>[^>]*?) -->\s*```graphql\n(?P<query>.*?)```"
    r"(?:\s*```json\n(?P<variables>.*?)```)?",
    re.DOTALL,
)
# Rows the examples name by their global IDs.
CUSTOMER = uuid.UUID("11111111-1111-4111-8111-111111111111")
SITE = uuid.UUID("22222222-2222-4222-8222-222222222222")
INVOICE = uuid.UUID("33333333-3333-4333-8333-333333333333")


@dataclass(frozen=True)
class Example:
    name: str
    role: str
    purpose: str
    expect: str | None
    query: str
    variables: dict[str, Any]


def examples() -> list[Example]:
    found: list[Example] = []
    for match in EXAMPLE.finditer(DOC.read_text(encoding="utf-8")):
        options = dict(part.split("=", 1) for part in match["options"].split())
        query = match["query"]
        name = re.search(r"query (\w+)", query)
        found.append(
            Example(
                name=name[1] if name else f"example {len(found) + 1}",
                role=options["as"],
                purpose=options["purpose"],
                expect=options.get("expect"),
                query=query,
                variables=json.loads(match["variables"]) if match["variables"] else {},
            )
        )
    return found


EXAMPLES = examples()


def test_the_guide_has_its_examples() -> None:
    """The pattern finds them all: one per ```graphql block of the guide."""
    blocks = DOC.read_text(encoding="utf-8").count("```graphql")
    assert len(EXAMPLES) == blocks >= 8


@pytest.fixture
async def register(owner: asyncpg.Connection) -> None:
    scenario = await build_scenario(owner)
    await factories.customer(owner, id=CUSTOMER, last_name="Esimerkki")
    await factories.site(owner, id=SITE, customer_id=CUSTOMER)
    for month in range(1, 5):
        issued = date(2026, month, 1)
        bill = await factories.invoice(
            owner,
            id=INVOICE if month == 1 else uuid.uuid4(),
            customer_id=CUSTOMER,
            status="open" if month > 1 else "paid",
            issue_date=issued,
            due_date=issued.replace(day=15),
        )
        if month == 1:
            await factories.payment(owner, invoice_id=bill["id"], amount=bill["total_incl_vat"])
    prospect = await factories.prospect(owner)
    await factories.offer(owner, product_id=scenario.product["id"], prospect_id=prospect["id"])


@pytest.mark.usefixtures("register")
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
async def test_every_example_of_the_guide_runs(
    app: Any, client: httpx.AsyncClient, users: Users, example: Example
) -> None:
    compiled, resolver = await both(
        app,
        client,
        users,
        example.query,
        as_=example.role,
        purpose=example.purpose,
        variables=example.variables,
    )
    assert compiled.get("data") == resolver.get("data")
    codes = {error["extensions"]["code"] for error in resolver.get("errors", [])}
    assert codes == ({example.expect} if example.expect else set()), resolver
    assert codes == {error["extensions"]["code"] for error in compiled.get("errors", [])}
    if example.expect is None:
        assert resolver["data"] and all(value is not None for value in resolver["data"].values())
