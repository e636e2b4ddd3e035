"""The two read executors answer alike: "compiled" (one SQL statement per operation) and
"resolver" (Strawberry resolvers with data loaders).

Two apps on the same database differ only in `read_executor`. Random operations from
`tests/opgen.py` run through both, for every shipped role and every purpose the compiled
policy lets that role use, and each pair must have:

- the same `data`, compared as serialised JSON, so that the order of keys counts too;
- the same errors, as a set of (code, coordinate, path);
- the same access-log objects: per (type, object ID, operation) the union of the fields
  read, masked and denied, and the data subject.

Operations that need the fallback (access history, change history, access log, `me`,
the data-subject report) are among them. The access history grows with every read: those
operations run alone, and only what was logged before the pair is compared.

A second test checks the authorisation oracle on the compiled app's answers: every non-null
field is allowed (read or masked) by the policy for the role and purpose.

Run:
    TEST_DATABASE_URL=postgresql://... python -m pytest -q tests/test_differential.py

Knobs (environment): DIFFERENTIAL_OPS (operations of the main test, default 2000),
DIFFERENTIAL_SEED (default 20261201), DIFFERENTIAL_CONCURRENCY (pairs in flight, default 6),
DIFFERENTIAL_ORACLE_OPS (operations of the oracle test, default 200), and
DIFFERENTIAL_REPORT_FILE (write every mismatch there, not only the first five), and
DIFFERENTIAL_SECOND_EXECUTOR=resolver (compare the resolver with itself).

The Hypothesis variant draws seeds, roles and purposes; it is deselected by default:
    python -m pytest -q tests/test_differential.py -m differential_hypothesis
with DIFFERENTIAL_EXAMPLES (default 200) examples of DIFFERENTIAL_EXAMPLE_OPS (default 25)
operations each.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    parse,
)
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from server.app import create_app
from server.authz.decision import Access
from server.authz.policy import CompiledPolicy, load_policy
from server.graphql.globalid import to_global_id
from server.schema import catalogue, is_policed
from server.settings import PROJECT_ROOT, Settings
from tests import factories
from tests.conftest import Users
from tests.opgen import Operation, OpGenerator, Pool, graphql_schema, named_type
from tests.scenario import Scenario, build_scenario

SEED = int(os.environ.get("DIFFERENTIAL_SEED", "20261201"))
OPERATIONS = int(os.environ.get("DIFFERENTIAL_OPS", "2000"))
CONCURRENCY = int(os.environ.get("DIFFERENTIAL_CONCURRENCY", "6"))
ORACLE_OPERATIONS = int(os.environ.get("DIFFERENTIAL_ORACLE_OPS", "200"))
EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "200"))
EXAMPLE_OPERATIONS = int(os.environ.get("DIFFERENTIAL_EXAMPLE_OPS", "25"))
EXECUTORS = ("resolver", "compiled")
SUBCONTRACTORS = ("perinta-a", "perinta-b", "kenttapalvelu-a", "kenttapalvelu-b")
REPORTED_MISMATCHES = 5


def compiled_policy() -> CompiledPolicy:
    return load_policy(PROJECT_ROOT / "policies", catalogue())


def role_purposes(policy: CompiledPolicy) -> list[tuple[str, str]]:
    """Every shipped role with every purpose the policy lets it use."""
    return [
        (role, purpose)
        for role in sorted(policy.roles)
        for purpose in sorted(policy.role_purposes[role])
    ]


COMBINATIONS = role_purposes(compiled_policy())


# -- the register ---------------------------------------------------------------------------


async def build_register(conn: asyncpg.Connection) -> Scenario:
    """`build_scenario`, plus organisation customers, a restricted customer, objections of
    every kind, invoices in every state, deposits, change history, expired prospects and
    consumption at 15-minute and hourly resolution."""
    scenario = await build_scenario(conn)
    product = scenario.product
    fixed = await factories.product(
        conn, kind="fixed", fixed_term_months=24, name="Kiinteä 24 kk", description="Kiinteä"
    )
    await factories.insert(
        conn,
        "price",
        {
            "id": uuid.uuid4(),
            "product_id": fixed["id"],
            "energy_price_c_per_kwh": Decimal("8.9900"),
            "basic_fee_eur_per_month": Decimal("4.90"),
            "vat_rate": Decimal("25.50"),
            "valid_from": date(2025, 1, 1),
            "valid_to": date(2025, 12, 31),
        },
    )
    for n in range(2):
        company = await factories.customer_graph(
            conn,
            product_id=fixed["id"],
            sites=1 + n,
            invoices_per_contract=1,
            **factories.company(f"Virtain Saha {n} Oy", factories.make_business_id(1_234_560 + n)),
            language="sv" if n else "fi",
        )
        await factories.past_due_invoice(
            conn,
            customer_id=company.customer["id"],
            contract_id=company.contracts[0]["id"],
            status="open",
            billing_method="paper",
            period_start=date(2025, 12, 1),
            period_end=date(2025, 12, 31),
        )
    now = datetime.now(UTC)
    await factories.customer_graph(
        conn,
        product_id=product["id"],
        sites=1,
        processing_restricted_at=now - timedelta(days=10),
    )
    await factories.customer_graph(
        conn,
        product_id=product["id"],
        sites=1,
        distance_selling_objection_at=now - timedelta(days=5),
        distance_selling_objection_source="puhelu",
        research_objection_at=now - timedelta(days=4),
        research_objection_source="sähköposti",
        language="en",
    )
    plain = scenario.plain
    await factories.contract(
        conn,
        customer_id=plain.customer["id"],
        site_id=plain.sites[1]["id"],
        product_id=fixed["id"],
        energy_price_c_per_kwh=Decimal("8.9900"),
        spot_margin_c_per_kwh=None,
        start_date=date(2022, 1, 1),
        end_date=date(2023, 12, 31),
        status="ended",
        sales_channel="phone",
    )
    await factories.invoice(
        conn,
        customer_id=plain.customer["id"],
        status="credited",
        billing_method="email",
        total_excl_vat=Decimal("-10.00"),
        vat_amount=Decimal("-2.55"),
        total_incl_vat=Decimal("-12.55"),
    )
    await factories.payment(
        conn, invoice_id=scenario.in_collection_a.invoices[-1]["id"], amount=Decimal("20.00")
    )
    await factories.insert(
        conn,
        "security_deposit",
        {
            "id": uuid.uuid4(),
            "customer_id": scenario.in_collection_b.customer["id"],
            "amount": Decimal("150.00"),
            "received_on": date(2024, 3, 1),
            "returned_on": date(2025, 3, 1),
            "status": "returned",
            "reason": "maksuhäiriö",
        },
    )
    await factories.insert(
        conn,
        "change_record",
        {
            "id": uuid.uuid4(),
            "customer_id": plain.customer["id"],
            "object_type": "Customer",
            "object_id": plain.customer["id"],
            "action": "update",
            "old_values": json.dumps({"email": "vanha@example.fi"}),
            "new_values": json.dumps({"email": plain.customer["email"]}),
            "reason": "asiakkaan ilmoitus",
            "changed_by": "user:test",
            "changed_by_name": "Testi Käyttäjä",
            "organisation": "ksat",
        },
    )
    today = now.date()
    willing = await factories.prospect(conn, phone="+358401234567", source="event")
    lapsed = await factories.prospect(
        conn, consent_expires_on=today - timedelta(days=1), source="competition"
    )
    # Offers to customers (one who objected to direct marketing) and to prospects (one whose
    # consent lapsed), in every state.
    for n, (to, status) in enumerate(
        [
            ({"customer_id": plain.customer["id"]}, "open"),
            ({"customer_id": scenario.objector.customer["id"]}, "open"),
            ({"customer_id": scenario.in_collection_a.customer["id"]}, "expired"),
            ({"prospect_id": willing["id"]}, "open"),
            ({"prospect_id": lapsed["id"]}, "withdrawn"),
            ({"customer_id": plain.customer["id"]}, "accepted"),
        ]
    ):
        await factories.offer(
            conn,
            product_id=fixed["id"] if n % 2 else product["id"],
            status=status,
            valid_until=today + timedelta(days=n - 2),
            energy_price_c_per_kwh=Decimal("7.5000") if n % 2 else None,
            **to,
        )
    quarter = datetime(2026, 1, 1, tzinfo=UTC)
    await factories.consumption(
        conn,
        site_id=plain.sites[1]["id"],
        resolution="PT15M",
        values=[
            (
                quarter + timedelta(minutes=15 * step),
                Decimal("0.250") + Decimal(step % 7) / 100,
                "estimated" if step % 11 == 0 else "measured",
            )
            for step in range(96)
        ],
    )
    for site in (scenario.site_b, scenario.in_collection_a.sites[0]):
        await factories.consumption(
            conn,
            site_id=site["id"],
            resolution="PT1H",
            values=[
                (
                    datetime(2025, 12, 31, 20, tzinfo=UTC) + timedelta(hours=hour),
                    Decimal("2.125") + Decimal(hour % 5) / 10,
                    "revised" if hour % 9 == 0 else "measured",
                )
                for hour in range(36)
            ],
        )
    return scenario


# Rows that nested connections' cursors and `node(id:)` name, by type.
NESTED_ROWS = {
    "Contract": "contract",
    "Payment": "payment",
    "Price": "price",
    "SecurityDeposit": "security_deposit",
    "CollectionCase": "collection_case",
    "CustomerChange": "change_record",
    "Product": "product",
    "Offer": "offer",
    "Organisation": "organisation",
    "Prospect": "prospect",
    "Assignment": "assignment",
}


async def register_pool(conn: asyncpg.Connection) -> Pool:
    """IDs and filter values of the register, in a stable order."""

    async def column(sql: str) -> list[Any]:
        return [row[0] for row in await conn.fetch(sql)]

    customers = await column("SELECT id::text FROM customer ORDER BY customer_number")
    issued = await column("SELECT DISTINCT issue_date::text FROM invoice ORDER BY 1")
    # Filters take global IDs, and still bare UUIDs.
    customer_ids = [to_global_id("Customer", c) for c in customers] + customers[:2]
    return Pool(
        {
            "Customer.id": customers,
            "Site.id": await column("SELECT id::text FROM site ORDER BY metering_point_id"),
            "Invoice.id": await column("SELECT id::text FROM invoice ORDER BY invoice_number"),
            "CustomerFilter.name": await column(
                "SELECT coalesce(last_name, organisation_name) FROM customer"
                " ORDER BY customer_number"
            ),
            "CustomerFilter.customerNumber": await column(
                "SELECT customer_number::int FROM customer ORDER BY customer_number"
            ),
            "CustomerFilter.personalIdentityCode": await column(
                "SELECT personal_identity_code FROM customer"
                " WHERE personal_identity_code IS NOT NULL ORDER BY customer_number"
            ),
            "CustomerFilter.meteringPointId": await column(
                "SELECT metering_point_id FROM site ORDER BY metering_point_id"
            ),
            "SiteFilter.meteringPointId": await column(
                "SELECT metering_point_id FROM site ORDER BY metering_point_id"
            ),
            "ContractFilter.customerId": customer_ids,
            "InvoiceFilter.customerId": customer_ids,
            "OfferFilter.customerId": customer_ids,
            "InvoiceFilter.issuedFrom": issued,
            "InvoiceFilter.issuedTo": issued,
            "InvoiceListFilter.issuedFrom": issued,
            "InvoiceListFilter.issuedTo": issued,
            **{
                f"{type_name}.id": await column(f"SELECT id::text FROM {table} ORDER BY id")
                for type_name, table in NESTED_ROWS.items()
            },
            "InvoiceLine.id": await column(
                "SELECT invoice_id::text || ':' || line_number FROM invoice_line ORDER BY 1"
            ),
        },
        consumption_from=datetime(2025, 12, 31, 20, tzinfo=UTC),
    )


# -- comparing answers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    request_id: str | None
    executor: str | None

    @property
    def data(self) -> Any:
        return self.body.get("data")

    def errors(self) -> set[tuple[Any, ...]]:
        found: set[tuple[Any, ...]] = set()
        for error in self.body.get("errors") or []:
            extensions = error.get("extensions") or {}
            path = error.get("path")
            found.add(
                (
                    extensions.get("code"),
                    extensions.get("coordinate"),
                    tuple(path) if path is not None else None,
                )
            )
        return found


LogObjects = dict[tuple[str, str, str], tuple[Any, ...]]


@dataclass
class Pair:
    op: Operation
    variables: dict[str, Any]
    role: str
    organisation: str
    purpose: str
    answers: dict[str, Answer] = field(default_factory=dict)
    started: datetime | None = None  # volatile pairs: when the first request was sent


@dataclass
class Mismatch:
    pair: Pair
    what: str
    detail: str

    def describe(self) -> str:
        pair = self.pair
        return "\n".join(
            [
                f"--- {self.what} mismatch: role={pair.role} organisation={pair.organisation} "
                f"purpose={pair.purpose}",
                "document:",
                pair.op.document,
                f"variables: {json.dumps(pair.variables, ensure_ascii=False)}",
                f"request ids: { {k: a.request_id for k, a in pair.answers.items()} }",
                self.detail,
            ]
        )


def readable_diff(left: Any, right: Any, names: Sequence[str] = EXECUTORS) -> str:
    def lines(value: Any) -> list[str]:
        return json.dumps(value, indent=1, ensure_ascii=False, default=str).splitlines()

    diff = difflib.unified_diff(
        lines(left), lines(right), fromfile=names[0], tofile=names[1], lineterm="", n=2
    )
    text = "\n".join(diff)
    if not text:  # same values, different key order
        text = (
            f"{names[0]}: {orjson.dumps(left).decode()}\n{names[1]}: {orjson.dumps(right).decode()}"
        )
    return text[:6000]


def strip_recent_history(value: Any, since: datetime) -> Any:
    """Drops access-history entries logged at or after `since` (the pair's own reads)."""
    if isinstance(value, list):
        return [
            strip_recent_history(item, since)
            for item in value
            if not (
                isinstance(item, dict)
                and isinstance(item.get("at"), str)
                and datetime.fromisoformat(item["at"]) >= since
            )
        ]
    if isinstance(value, dict):
        return {key: strip_recent_history(item, since) for key, item in value.items()}
    return value


async def log_objects(
    conn: asyncpg.Connection, request_ids: Sequence[str], since: datetime
) -> dict[str, LogObjects]:
    """Access-log objects per request, normalised: per (type, ID, operation) the union of the
    fields read, masked and denied and the subject IDs; position and time left out."""
    rows = await conn.fetch(
        "SELECT * FROM access_log_objects($1::uuid[], $2, $3, NULL)",
        [uuid.UUID(r) for r in request_ids],
        since - timedelta(minutes=5),
        datetime.now(UTC) + timedelta(minutes=5),
    )
    merged: dict[str, dict[tuple[str, str, str], list[set[str]]]] = {}
    for row in rows:
        key = (row["type_name"], row["object_id"], row["operation"])
        entry = merged.setdefault(str(row["request_id"]), {}).setdefault(
            key, [set(), set(), set(), set(), set()]
        )
        entry[0].update(row["fields_read"])
        entry[1].update(row["fields_masked"])
        entry[2].update(row["fields_denied"])
        entry[3].add(str(row["subject_customer_id"]))
        entry[4].add(str(row["subject_prospect_id"]))
    return {
        request_id: {key: tuple(sorted(part) for part in entry) for key, entry in objects.items()}
        for request_id, objects in merged.items()
    }


# -- the authorisation oracle ---------------------------------------------------------------


def _fragments(document: Any) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _fields_by_key(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> dict[str, list[FieldNode]]:
    found: dict[str, list[FieldNode]] = {}
    if selection_set is None:
        return found
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            found.setdefault(key, []).append(selection)
        else:
            if isinstance(selection, InlineFragmentNode):
                inner = selection.selection_set
            else:
                assert isinstance(selection, FragmentSpreadNode)
                inner = fragments[selection.name.value].selection_set
            for key, nodes in _fields_by_key(inner, fragments).items():
                found.setdefault(key, []).extend(nodes)
    return found


def oracle_violations(
    policy: CompiledPolicy, role: str, purpose: str, document: str, data: Any
) -> list[str]:
    """Non-null fields of policed types that the policy does not let the role read or see
    masked for the purpose (`id` and `__typename` are structural)."""
    if data is None:
        return []
    schema = graphql_schema()
    parsed = parse(document)
    fragments = _fragments(parsed)
    query_type = schema.query_type
    assert query_type is not None
    problems: list[str] = []

    def walk(value: Any, parent: GraphQLObjectType, nodes: list[FieldNode], path: str) -> None:
        if value is None:
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, parent, nodes, f"{path}[{index}]")
            return
        merged = SelectionSetNode(
            selections=tuple(
                s for n in nodes if n.selection_set for s in n.selection_set.selections
            )
        )
        visit_object(value, parent, merged, path)

    def visit_object(
        value: dict[str, Any],
        object_type: GraphQLObjectType,
        selections: SelectionSetNode,
        path: str,
    ) -> None:
        for key, nodes in _fields_by_key(selections, fragments).items():
            if key not in value:
                continue  # skipped by a directive
            name = nodes[0].name.value
            if name == "__typename":
                continue
            item = value[key]
            coordinate = f"{object_type.name}.{name}"
            if item is not None and name != "id" and is_policed(object_type.name):
                access = policy.field_access((role,), purpose, coordinate)
                if access is Access.DENY:
                    problems.append(f"{path}.{key} ({coordinate}) is not null but denied")
            target = named_type(object_type.fields[name].type)
            if isinstance(target, GraphQLObjectType):
                walk(item, target, nodes, f"{path}.{key}")

    for definition in parsed.definitions:
        if not isinstance(definition, FragmentDefinitionNode):
            selection_set = definition.selection_set  # type: ignore[attr-defined]
            visit_object(data, query_type, selection_set, "data")
    return problems


# -- running pairs --------------------------------------------------------------------------


@dataclass
class Differ:
    """Runs operations through both apps and collects every difference."""

    clients: Mapping[str, httpx.AsyncClient]
    users: Users
    owner: asyncpg.Connection
    policy: CompiledPolicy
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    mismatches: list[Mismatch] = field(default_factory=list)
    compared: int = 0
    executors: dict[str, int] = field(default_factory=dict)
    last_request_id: str | None = None
    check_oracle: bool = True
    followed_cursors: int = 0
    fallback_pairs: int = 0
    volatile_pairs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # error codes of the answers

    def organisation(self, role: str, index: int) -> str:
        """A subcontractor role acts for each subcontractor in turn; staff for the company."""
        if self.policy.roles[role].organisation_kind == "subcontractor":
            return SUBCONTRACTORS[index % len(SUBCONTRACTORS)]
        return "ksat"

    async def post(
        self, executor: str, op: Operation, variables: Mapping[str, Any], token: str, purpose: str
    ) -> Answer:
        response = await self.clients[executor].post(
            "/graphql",
            json={"query": op.document, "variables": dict(variables)},
            headers={"Authorization": f"Bearer {token}", "X-Purpose": purpose},
        )
        body = orjson.loads(response.content)
        extensions = body.get("extensions") or {}
        answered = extensions.get("executor")
        self.executors[f"{executor}->{answered}"] = (
            self.executors.get(f"{executor}->{answered}", 0) + 1
        )
        return Answer(response.status_code, body, extensions.get("requestId"), answered)

    async def run_pair(self, pair: Pair, token: str) -> None:
        if pair.op.volatile:
            # Alone and one after the other: the second sees the first in the history.
            pair.started = datetime.now(UTC)
            for executor in EXECUTORS:
                pair.answers[executor] = await self.post(
                    executor, pair.op, pair.variables, token, pair.purpose
                )
        else:
            answers = await asyncio.gather(
                *(self.post(e, pair.op, pair.variables, token, pair.purpose) for e in EXECUTORS)
            )
            pair.answers = dict(zip(EXECUTORS, answers, strict=True))
        request_id = pair.answers["resolver"].request_id
        if request_id is not None:
            self.last_request_id = request_id

    def prepare(self, op: Operation, role: str, organisation: str, purpose: str) -> Pair:
        variables = dict(op.variables)
        if op.request_id_variable is not None:
            variables[op.request_id_variable] = self.last_request_id or str(uuid.uuid4())
        if op.until_variable is not None:
            variables[op.until_variable] = datetime.now(UTC).isoformat()
        return Pair(op, variables, role, organisation, purpose)

    async def run(self, work: Sequence[tuple[Operation, str, str, str]]) -> None:
        """Runs (operation, role, organisation, purpose) items, a few pairs at a time."""
        pending: list[Pair] = []
        for op, role, organisation, purpose in work:
            if op.volatile:
                await self._flush(pending)
                pending = []
                await self._flush([self.prepare(op, role, organisation, purpose)])
                continue
            pending.append(self.prepare(op, role, organisation, purpose))
            if len(pending) >= CONCURRENCY:
                await self._flush(pending)
                pending = []
        await self._flush(pending)

    async def _flush(self, pairs: list[Pair]) -> None:
        if not pairs:
            return
        tokens = [await self.users.token(p.role, p.organisation) for p in pairs]  # one by one
        await asyncio.gather(*(self.run_pair(p, t) for p, t in zip(pairs, tokens, strict=True)))
        follow_ups: list[Pair] = []
        for pair in pairs:
            if pair.op.after_variable is None or pair.variables.get(pair.op.after_variable):
                continue
            cursor = _dig(pair.answers["resolver"].data, pair.op.cursor_path)
            if isinstance(cursor, str):
                variables = {**pair.variables, pair.op.after_variable: cursor}
                follow_ups.append(
                    Pair(pair.op, variables, pair.role, pair.organisation, pair.purpose)
                )
        await self._compare(pairs)
        if follow_ups:
            self.followed_cursors += len(follow_ups)
            await self._flush(follow_ups)

    async def _compare(self, pairs: list[Pair]) -> None:
        request_ids = [a.request_id for p in pairs for a in p.answers.values() if a.request_id]
        logged = await log_objects(self.owner, request_ids, self.started)
        seqs: dict[str, int] = {}
        volatile_ids = [
            p.answers["resolver"].request_id
            for p in pairs
            if p.op.volatile and p.answers["resolver"].request_id
        ]
        if volatile_ids:
            rows = await self.owner.fetch(
                "SELECT request_id::text, seq FROM access_log_request"
                " WHERE request_id = ANY($1::uuid[])",
                [uuid.UUID(r) for r in volatile_ids],
            )
            seqs = {row[0]: row[1] for row in rows}
        for pair in pairs:
            self.compared += 1
            self.fallback_pairs += pair.op.fallback
            self.volatile_pairs += pair.op.volatile
            codes = sorted({code for code, _, _ in pair.answers["resolver"].errors()}) or ["ok"]
            outcome = "+".join(str(code) for code in codes)
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            self._compare_pair(pair, logged, seqs)

    def _compare_pair(
        self, pair: Pair, logged: Mapping[str, LogObjects], seqs: Mapping[str, int]
    ) -> None:
        resolver, compiled = pair.answers["resolver"], pair.answers["compiled"]
        if resolver.executor not in (None, "resolver"):
            self._mismatch(pair, "executor", f"the resolver app answered with {resolver.executor}")
        if compiled.executor not in (None, *EXECUTORS):
            self._mismatch(pair, "executor", f"unknown executor {compiled.executor!r}")
        if resolver.status != compiled.status:
            self._mismatch(pair, "status", f"{resolver.status} != {compiled.status}")
        left, right = resolver.data, compiled.data
        if pair.op.volatile and pair.started is not None:
            left = strip_recent_history(left, pair.started)
            right = strip_recent_history(right, pair.started)
        if orjson.dumps(left) != orjson.dumps(right):
            self._mismatch(pair, "data", readable_diff(left, right))
        if resolver.errors() != compiled.errors():
            only_resolver = sorted(resolver.errors() - compiled.errors(), key=repr)
            only_compiled = sorted(compiled.errors() - resolver.errors(), key=repr)
            self._mismatch(
                pair,
                "errors",
                f"only resolver: {only_resolver}\nonly compiled: {only_compiled}",
            )
        left_log = dict(logged.get(resolver.request_id or "", {}))
        right_log = dict(logged.get(compiled.request_id or "", {}))
        before = seqs.get(resolver.request_id or "")
        if before is not None:  # the compiled request may see the resolver's in the history
            right_log = {
                key: value
                for key, value in right_log.items()
                if not (key[0] == "AccessHistoryEntry" and log_position(key[1]) >= before)
            }
        if left_log != right_log:
            self._mismatch(pair, "access log", _log_diff(left_log, right_log))
        if self.check_oracle:
            for problem in oracle_violations(
                self.policy, pair.role, pair.purpose, pair.op.document, compiled.data
            ):
                self._mismatch(pair, "oracle", problem)

    def _mismatch(self, pair: Pair, what: str, detail: str) -> None:
        self.mismatches.append(Mismatch(pair, what, detail))

    def report(self) -> str:
        kinds: dict[str, int] = {}
        for mismatch in self.mismatches:
            kinds[mismatch.what] = kinds.get(mismatch.what, 0) + 1
        target = os.environ.get("DIFFERENTIAL_REPORT_FILE")
        if target:
            with open(target, "w", encoding="utf-8") as out:
                out.write("\n\n".join(m.describe() for m in self.mismatches))
        shown = [m.describe() for m in self.mismatches[:REPORTED_MISMATCHES]]
        return "\n\n".join(
            [
                f"{len(self.mismatches)} mismatches in {self.compared} pairs: {kinds}",
                *shown,
            ]
        )


def log_position(object_id: str) -> int:
    """The log position an access-history object stands for (logged as a number or as the
    UUID whose value is that number)."""
    return int(object_id) if object_id.isdigit() else uuid.UUID(object_id).int


def _dig(value: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _log_diff(left: LogObjects, right: LogObjects) -> str:
    lines = []
    for key in sorted(set(left) | set(right)):
        if left.get(key) != right.get(key):
            lines.append(f"{key}:\n  resolver: {left.get(key)}\n  compiled: {right.get(key)}")
    return "\n".join(lines[:20])


def work_for(
    differ: Differ, pool: Pool, seed: int | str, combinations: Sequence[tuple[str, str]], per: int
) -> Iterator[tuple[Operation, str, str, str]]:
    for role, purpose in combinations:
        generator = OpGenerator(pool, f"{seed}:{role}:{purpose}")
        for index, op in enumerate(generator.operations(per)):
            yield op, role, differ.organisation(role, index), purpose


# -- fixtures -------------------------------------------------------------------------------


def executor_settings(settings: Settings, executor: str) -> Settings:
    values: dict[str, Any] = {**settings.model_dump(), "read_executor": executor}
    return Settings(**values)


@pytest.fixture
async def differ(settings: Settings, owner: asyncpg.Connection) -> AsyncIterator[Differ]:
    """The register, two apps on it that differ only in read_executor, and a Differ."""
    await build_register(owner)
    # DIFFERENTIAL_SECOND_EXECUTOR=resolver compares the resolver with itself (a check of
    # the test: what differs then is not the compiled executor's doing).
    second = os.environ.get("DIFFERENTIAL_SECOND_EXECUTOR", "compiled")
    chosen = {"resolver": "resolver", "compiled": second}
    apps = {name: create_app(executor_settings(settings, chosen[name])) for name in EXECUTORS}
    clients: dict[str, httpx.AsyncClient] = {}
    contexts = [app.router.lifespan_context(app) for app in apps.values()]
    for context in contexts:
        await context.__aenter__()
    try:
        for executor, app in apps.items():
            transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4567))
            clients[executor] = httpx.AsyncClient(
                transport=transport, base_url="http://rekisteri.test", timeout=60
            )
        users = Users(owner, clients["resolver"])
        yield Differ(clients, users, owner, compiled_policy())
    finally:
        for client in clients.values():
            await client.aclose()
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)


# -- tests ----------------------------------------------------------------------------------


async def test_both_executors_answer_every_role_and_purpose_alike(
    differ: Differ, owner: asyncpg.Connection
) -> None:
    pool = await register_pool(owner)
    per = -(-OPERATIONS // len(COMBINATIONS))
    started = time.perf_counter()
    await differ.run(list(work_for(differ, pool, SEED, COMBINATIONS, per)))
    elapsed = time.perf_counter() - started
    print(
        f"differential: {differ.compared} pairs in {elapsed:.1f}s over "
        f"{len(COMBINATIONS)} role/purpose combinations ({differ.followed_cursors} after a "
        f"cursor, {differ.fallback_pairs} with fallback fields, {differ.volatile_pairs} reading "
        f"the access history); answered by {differ.executors}; outcomes {differ.outcomes}"
    )
    assert not differ.mismatches, differ.report()
    assert differ.compared >= OPERATIONS
    assert differ.followed_cursors and differ.fallback_pairs and differ.volatile_pairs


async def test_compiled_answers_hold_the_authorisation_oracle(
    differ: Differ, owner: asyncpg.Connection
) -> None:
    """Every non-null field in a compiled answer is read or masked for the role and purpose."""
    pool = await register_pool(owner)
    per = -(-ORACLE_OPERATIONS // len(COMBINATIONS))
    checked = 0
    for op, role, organisation, purpose in work_for(differ, pool, SEED + 1, COMBINATIONS, per):
        token = await differ.users.token(role, organisation)
        variables = differ.prepare(op, role, organisation, purpose).variables
        answer = await differ.post("compiled", op, variables, token, purpose)
        problems = oracle_violations(differ.policy, role, purpose, op.document, answer.data)
        assert not problems, (role, purpose, op.document, variables, problems)
        checked += 1
    assert checked >= ORACLE_OPERATIONS


def test_the_oracle_catches_a_denied_value() -> None:
    """The oracle itself: a value of a field the role may not read is reported."""
    policy = compiled_policy()
    denied = next(
        (role, purpose, coordinate)
        for role, purpose in COMBINATIONS
        for coordinate in ("Customer.personalIdentityCode", "Customer.email")
        if policy.field_access((role,), purpose, coordinate) is Access.DENY
    )
    role, purpose, coordinate = denied
    field_name = coordinate.split(".")[1]
    document = (
        f"{{ customers {{ edges {{ node {{ id ... on Customer {{ x: {field_name} }} }} }} }} }}"
    )

    def answer(value: str | None) -> dict[str, Any]:
        return {"customers": {"edges": [{"node": {"id": "1", "x": value}}]}}

    assert oracle_violations(policy, role, purpose, document, answer("leaked"))
    assert not oracle_violations(policy, role, purpose, document, answer(None))


def test_operations_are_deterministic_and_valid() -> None:
    pool = Pool({"Customer.id": [str(uuid.UUID(int=1))], "Site.id": [str(uuid.UUID(int=2))]})
    first = [op.document for op in OpGenerator(pool, 7).operations(100)]
    again = [op.document for op in OpGenerator(pool, 7).operations(100)]
    assert first == again
    assert first != [op.document for op in OpGenerator(pool, 8).operations(100)]
    ops = OpGenerator(pool, 7).operations(300)
    assert any(op.fallback for op in ops)
    assert any(op.after_variable for op in ops)
    assert any("@skip" in op.document or "@include" in op.document for op in ops)
    assert any("fragment " in op.document for op in ops)


@pytest.mark.differential_hypothesis
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1), combination=st.sampled_from(COMBINATIONS)
)
async def test_hypothesis_both_executors_answer_alike(
    differ: Differ, owner: asyncpg.Connection, seed: int, combination: tuple[str, str]
) -> None:
    pool = await register_pool(owner)
    differ.mismatches.clear()
    await differ.run(list(work_for(differ, pool, seed, [combination], EXAMPLE_OPERATIONS)))
    assert not differ.mismatches, differ.report()


def test_the_comparison_sees_key_order_errors_and_the_log() -> None:
    """The differ itself: key order, an extra error and a logged field each count."""
    op = Operation("{ customers { edges { node { id email } } } }", {})
    differ = Differ({}, None, None, compiled_policy(), check_oracle=False)  # type: ignore[arg-type]

    def pair(data: Any, errors: list[dict[str, Any]]) -> Pair:
        same = Answer(
            200,
            {"data": {"customers": {"edges": [{"node": {"id": "1", "email": "a"}}]}}},
            "r",
            None,
        )
        other = Answer(200, {"data": data, "errors": errors}, "c", "compiled")
        return Pair(
            op, {}, "administrator", "ksat", "billing", {"resolver": same, "compiled": other}
        )

    key = ("Customer", "1", "read")
    logged: dict[str, LogObjects] = {"r": {key: (["email", "id"],)}, "c": {key: (["email", "id"],)}}
    reordered = {"customers": {"edges": [{"node": {"email": "a", "id": "1"}}]}}
    differ._compare_pair(pair(reordered, []), logged, {})
    assert [m.what for m in differ.mismatches] == ["data"]
    differ.mismatches.clear()
    same = {"customers": {"edges": [{"node": {"id": "1", "email": "a"}}]}}
    error = {"message": "x", "extensions": {"code": "FORBIDDEN", "coordinate": "Customer.email"}}
    differ._compare_pair(pair(same, [error]), logged, {})
    assert [m.what for m in differ.mismatches] == ["errors"]
    differ.mismatches.clear()
    differ._compare_pair(pair(same, []), {**logged, "c": {key: (["id"],)}}, {})
    assert [m.what for m in differ.mismatches] == ["access log"]
    differ.mismatches.clear()
    differ._compare_pair(pair(same, []), logged, {})
    assert not differ.mismatches
