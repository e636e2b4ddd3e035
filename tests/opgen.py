"""Random read operations over the register's GraphQL schema, for the differential tests.

`OpGenerator(pool, seed)` builds query documents from `schema.graphql`: random selections
to depth 4 below the root fields of the read API, connections (edges, node, cursor,
pageInfo), aliases (the same field twice with different arguments among them), named and
inline fragments, variables, `@skip`/`@include` with literal and variable conditions,
`__typename`, filters whose values come from the seeded data (`Pool`), consumption over
small windows, and two-step operations that continue after the cursor of a first page.

Every document is checked with graphql-core's `validate` and the server's query limits
(aliases, directives, tokens); an invalid one is discarded and another drawn. The same
seed and the same pool give the same operations.

Fields the compiled executor need not cover (`FALLBACK_COORDINATES`, `FALLBACK_ROOTS`)
are left out, except in a small share of operations (`Operation.fallback`) that check
that the fallback answers identically too.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Lexer,
    OperationDefinitionNode,
    Source,
    TokenKind,
    build_schema,
    parse,
    validate,
)
from graphql.language import DirectiveNode, FieldNode, Visitor, visit

from server.graphql.globalid import to_global_id
from server.graphql.limits import (
    MAX_ALIASES,
    MAX_COST,
    MAX_DIRECTIVES,
    MAX_TOKENS,
    DocumentMeasure,
    operation_cost,
)
from server.graphql.limits import (
    MAX_DEPTH as SERVER_MAX_DEPTH,
)
from server.graphql.relay import encode_cursor
from server.settings import PROJECT_ROOT

ROOTS = (
    "customer",
    "customers",
    "site",
    "sites",
    "contracts",
    "invoice",
    "invoices",
    "prospects",
    "products",
    "offers",
    "node",
    "nodes",
)
# Not required of the compiled executor, and volatile or large: only in fallback operations.
FALLBACK_COORDINATES = frozenset({"Customer.accessHistory", "Customer.history"})
FALLBACK_ROOTS = ("accessLog", "me", "dataSubjectReport")
# Differ between two requests by nature (the time a report was made, the report itself).
NEVER_SELECTED = frozenset({"DataSubjectReport.generatedAt", "DataSubjectReport.content"})
MAX_DEPTH = 4  # register objects below and including the root field
ID_ROOTS = {"customer": "Customer", "site": "Site", "invoice": "Invoice"}
CONNECTION_ROOTS = (
    "customers",
    "sites",
    "contracts",
    "invoices",
    "prospects",
    "products",
    "offers",
)
# Types `node(id:)` is asked for (the pool holds their row keys under "<Type>.id").
NODE_TYPES = (
    "Customer",
    "Site",
    "Contract",
    "Invoice",
    "InvoiceLine",
    "Payment",
    "SecurityDeposit",
    "CollectionCase",
    "Product",
    "Price",
    "Offer",
    "Organisation",
    "Prospect",
    "Assignment",
)
# Purposes an access-history filter names (the differential register's reads use them).
HISTORY_PURPOSES = ("customer_relationship", "billing", "oversight")
PAGE_INFO = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
RESOLUTION_STEPS = {
    "QUARTER_HOUR": (timedelta(minutes=15), 16),
    "HOUR": (timedelta(hours=1), 30),
    "DAY": (timedelta(days=1), 3),
    "MONTH": (timedelta(days=28), 2),
}
# Keep well inside the server's limits, so that limits never decide an outcome.
ALIAS_BUDGET = MAX_ALIASES - 3
DIRECTIVE_BUDGET = MAX_DIRECTIVES - 5
TOKEN_BUDGET = MAX_TOKENS - 300
COST_BUDGET = MAX_COST * 0.8


@cache
def graphql_schema() -> GraphQLSchema:
    return build_schema((PROJECT_ROOT / "schema.graphql").read_text(encoding="utf-8"))


def named_type(graphql_type: Any) -> GraphQLNamedType:
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    assert isinstance(graphql_type, GraphQLNamedType)
    return graphql_type


@dataclass(frozen=True)
class Pool:
    """Values of the seeded data that filters and IDs are drawn from.

    `values` maps an ID (`Customer.id`, `Site.id`, `Invoice.id`) or an input field
    (`CustomerFilter.name`, `InvoiceFilter.customerId`...) to values in a stable order.
    `consumption_from` is where the metered series start."""

    values: Mapping[str, Sequence[Any]]
    consumption_from: datetime = datetime(2025, 12, 31, 20, tzinfo=UTC)


@dataclass(frozen=True)
class Operation:
    """One document with its variables.

    `after_variable`: a two-step operation; run it first with the variable null, then again
    with the endCursor found at `cursor_path` in the first answer.
    `request_id_variable`: to be set to the ID of a request made earlier (accessLog).
    `until_variable`: to be set to the instant the pair starts; the access history lists
    only what was logged before it (`filter.to`), the same for both executors.
    `fallback`: has fields the compiled executor need not cover.
    `volatile`: reads the access history, which grows with every read: run alone, and
    compare only what was logged before it."""

    document: str
    variables: dict[str, Any]
    fallback: bool = False
    volatile: bool = False
    after_variable: str | None = None
    cursor_path: tuple[str, ...] = ()
    request_id_variable: str | None = None
    until_variable: str | None = None


@dataclass
class _Build:
    """State of one document while it is built."""

    fallback: bool
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fragments: dict[str, str] = field(default_factory=dict)
    counter: int = 0
    aliases: int = 0
    directives: int = 0
    volatile: bool = False
    request_id_variable: str | None = None
    until_variable: str | None = None

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def variable(self, prefix: str, type_name: str, value: Any) -> str:
        name = self.name(prefix)
        self.variables[name] = (type_name, value)
        return f"${name}"


class OpGenerator:
    """Deterministic for a seed: `OpGenerator(pool, seed).operations(n)`."""

    def __init__(self, pool: Pool, seed: int | str, *, fallback_share: float = 0.04) -> None:
        self.pool = pool
        self.rng = random.Random(seed)
        self.schema = graphql_schema()
        self.fallback_share = fallback_share
        self.discarded = 0

    # -- public -----------------------------------------------------------------------------

    def operations(self, count: int) -> list[Operation]:
        return [self.operation() for _ in range(count)]

    def operation(self) -> Operation:
        while True:
            fallback = self.rng.random() < self.fallback_share
            two_step = not fallback and self.rng.random() < 0.12
            op = self._draw(fallback=fallback, two_step=two_step)
            if is_valid(self.schema, op.document, op.variables):
                return op
            self.discarded += 1

    # -- documents --------------------------------------------------------------------------

    def _draw(self, *, fallback: bool, two_step: bool) -> Operation:
        build = _Build(fallback=fallback)
        query_type = self.schema.query_type
        assert query_type is not None
        parts: list[str] = []
        used: list[str] = []
        after_variable: str | None = None
        cursor_path: tuple[str, ...] = ()
        if two_step:
            root = self.rng.choice(CONNECTION_ROOTS)
            key = self._alias_name(build) if self.rng.random() < 0.5 else root
            after_variable = build.name("after")
            build.variables[after_variable] = ("String", None)
            backwards = self.rng.random() < 0.35
            head, selection = self._root_field(
                build, root, after=f"${after_variable}", first_at_most=2, backwards=backwards
            )
            parts.append(f"{key}: {head} {selection}" if key != root else f"{head} {selection}")
            used.append(root)
            cursor_path = (key, "pageInfo", "startCursor" if backwards else "endCursor")
        if fallback:
            parts.append(self._fallback_root(build))
        count = self.rng.choice((1, 1, 1, 2, 2, 3)) - len(parts)
        for _ in range(max(count, 0 if parts else 1)):
            if used and self.rng.random() < 0.5:
                # A root field again under an alias, usually with other arguments.
                root = self.rng.choice(used)
                head, selection = self._root_field(build, root)
                parts.append(f"{self._alias_name(build)}: {head} {selection}")
            else:
                root = self.rng.choice(ROOTS)
                alias = f"{self._alias_name(build)}: " if self.rng.random() < 0.2 else ""
                parts.append(self._maybe_directive(build, alias, *self._root_field(build, root)))
            used.append(root)
        if self.rng.random() < 0.1:
            parts.append("__typename")
        self.rng.shuffle(parts)
        definitions = ", ".join(f"${name}: {t}" for name, (t, _) in build.variables.items())
        name = f"Op{self.rng.randrange(10_000)}" if self.rng.random() < 0.7 else ""
        header = "query"
        if name:
            header += f" {name}"
        if definitions:
            header += f"({definitions})"
        elif not name and self.rng.random() < 0.3:
            header = ""
        body = f"{header} {{ {' '.join(parts)} }}".strip()
        document = "\n".join([body, *build.fragments.values()])
        return Operation(
            document=document,
            variables={name: value for name, (_, value) in build.variables.items()},
            fallback=fallback,
            volatile=build.volatile,
            after_variable=after_variable,
            cursor_path=cursor_path,
            request_id_variable=build.request_id_variable,
            until_variable=build.until_variable,
        )

    def _alias_name(self, build: _Build) -> str:
        build.aliases += 1
        return build.name("a")

    def _fallback_root(self, build: _Build) -> str:
        choice = self.rng.choice(("accessLog", "me", "dataSubjectReport", "history", "history"))
        query_type = self.schema.query_type
        assert query_type is not None
        if choice == "accessLog":
            variable = build.name("rid")
            build.variables[variable] = ("String", None)
            build.request_id_variable = variable
            connection = named_type(query_type.fields["accessLog"].type)
            assert isinstance(connection, GraphQLObjectType)
            return (
                f"accessLog(filter: {{requestId: ${variable}}}) "
                f"{self._connection(build, connection, 1, pageinfo=None)}"
            )
        if choice == "me":
            return "me { username organisation roles purposes kind }"
        if choice == "dataSubjectReport":
            customer = self._id_value(build, "Customer")
            return f"dataSubjectReport(customerId: {customer}) {{ id language }}"
        # A customer with its change history and access history.
        customer_type = self.schema.type_map["Customer"]
        assert isinstance(customer_type, GraphQLObjectType)
        inner = self._object(build, customer_type, 1, require=("history", "accessHistory"))
        if self.rng.random() < 0.5:
            return f"customer(id: {self._id_value(build, 'Customer')}) {inner}"
        return f"customers(first: {self.rng.randint(1, 4)}) {{ edges {{ node {inner} }} }}"

    def _root_field(
        self,
        build: _Build,
        root: str,
        *,
        after: str | None = None,
        first_at_most: int | None = None,
        backwards: bool = False,
    ) -> tuple[str, str]:
        """The field with its arguments, and its selection."""
        query_type = self.schema.query_type
        assert query_type is not None
        root_field = query_type.fields[root]
        if root in ("node", "nodes"):
            return self._node_root(build, root)
        target = named_type(root_field.type)
        assert isinstance(target, GraphQLObjectType)
        if root in ID_ROOTS:
            arguments = f"(id: {self._id_value(build, ID_ROOTS[root])})"
            return f"{root}{arguments}", self._object(build, target, 1)
        args: list[str] = []
        first = self._first(first_at_most)
        backwards = backwards or ("last" in root_field.args and self.rng.random() < 0.15)
        size_argument = "last" if backwards else "first"
        if first is None and backwards:
            first = self.rng.randint(1, 3)
        if first is not None:
            if self.rng.random() < 0.4:
                args.append(f"{size_argument}: {build.variable(size_argument, 'Int', first)}")
            else:
                args.append(f"{size_argument}: {first}")
        if after is not None:
            args.append(f"{'before' if backwards else 'after'}: {after}")
        if "orderBy" in root_field.args and self.rng.random() < 0.35:
            args.append(self._order_by(build, root_field))
        if "filter" in root_field.args and self.rng.random() < (0.3 if after else 0.45):
            filter_type = named_type(root_field.args["filter"].type)
            assert isinstance(filter_type, GraphQLInputObjectType)
            value = self._filter(filter_type)
            if value:
                if self.rng.random() < 0.5:
                    args.append(f"filter: {build.variable('filter', filter_type.name, value)}")
                else:
                    args.append(f"filter: {render(value, filter_type)}")
        self.rng.shuffle(args)
        arguments = f"({', '.join(args)})" if args else ""
        pageinfo = "startCursor" if backwards else "endCursor"
        return f"{root}{arguments}", self._connection(
            build, target, 1, pageinfo=pageinfo if after is not None else None
        )

    def _order_by(self, build: _Build, root_field: GraphQLField) -> str:
        """`orderBy` with one or two keys, in a variable now and then; fields the role may
        not read in full are among them (FORBIDDEN alike)."""
        order_type = named_type(root_field.args["orderBy"].type)
        assert isinstance(order_type, GraphQLInputObjectType)
        fields = named_type(order_type.fields["field"].type)
        assert isinstance(fields, GraphQLEnumType)
        chosen = self.rng.sample(list(fields.values), k=self.rng.choice((1, 1, 2)))
        terms = []
        for name in chosen:
            term: dict[str, Any] = {"field": name}
            if self.rng.random() < 0.6:
                term["direction"] = self.rng.choice(("ASC", "DESC"))
            terms.append(term)
        if self.rng.random() < 0.3:
            return f"orderBy: {build.variable('order', f'[{order_type.name}!]', terms)}"
        return "orderBy: [" + ", ".join(render(t, order_type) for t in terms) + "]"

    def _first(self, at_most: int | None) -> int | None:
        if at_most is not None:
            return self.rng.randint(1, at_most)
        return self.rng.choice((None, 0, 1, 2, 2, 3, 3, 5, 8))

    def _id_value(self, build: _Build, type_name: str) -> str:
        """An ID argument: mostly a known row's global ID, now and then its bare UUID, an
        unknown UUID or another type's row."""
        value = self._id_text(type_name)
        if self.rng.random() < 0.4:
            return build.variable("id", "ID!", value)
        return json.dumps(value)

    def _id_text(self, type_name: str, *, malformed: float = 0.0) -> str:
        roll = self.rng.random()
        known = list(self.pool.values.get(f"{type_name}.id", ()))
        if roll < malformed:
            return self.rng.choice(
                ("x", "Q3VzdG9tZXI6eA==", to_global_id("Nothing", uuid.UUID(int=7)))
            )
        if roll < 0.08 or not known:
            return to_global_id(type_name, uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if roll < 0.12:
            other = self.rng.choice([t for t in NODE_TYPES if self.pool.values.get(f"{t}.id")])
            return to_global_id(other, self.rng.choice(list(self.pool.values[f"{other}.id"])))
        key = str(self.rng.choice(known))
        return key if roll < 0.2 and type_name != "InvoiceLine" else to_global_id(type_name, key)

    def _node_root(self, build: _Build, root: str) -> tuple[str, str]:
        """`node(id:)` or `nodes(ids:)`, with inline fragments on the types asked for."""
        count = 1 if root == "node" else self.rng.randint(1, 4)
        types = [self.rng.choice(NODE_TYPES) for _ in range(count)]
        ids = [self._id_text(t, malformed=0.03) for t in types]
        if root == "node":
            argument = f"(id: {build.variable('id', 'ID!', ids[0]) if self.rng.random() < 0.4 else json.dumps(ids[0])})"
        else:
            argument = f"(ids: {build.variable('ids', '[ID!]!', ids) if self.rng.random() < 0.4 else json.dumps(ids)})"
        parts = ["__typename"] if self.rng.random() < 0.5 else []
        if self.rng.random() < 0.7:
            parts.append("id")
        shown = list(dict.fromkeys([*types, self.rng.choice(NODE_TYPES)]))[:2]
        for type_name in shown:
            object_type = self.schema.type_map[type_name]
            assert isinstance(object_type, GraphQLObjectType)
            inner = self._object(build, object_type, 1)
            parts.append(f"... on {type_name} {inner}")
        if self.rng.random() < 0.2:
            parts.append("... on Node { id }")
        self.rng.shuffle(parts)
        return f"{root}{argument}", "{ " + " ".join(parts) + " }"

    def _filter(self, filter_type: GraphQLInputObjectType) -> dict[str, Any]:
        names = list(filter_type.fields)
        chosen = self.rng.sample(names, k=min(len(names), self.rng.choice((1, 1, 1, 2))))
        value: dict[str, Any] = {}
        for name in chosen:
            input_type = named_type(filter_type.fields[name].type)
            pooled = self.pool.values.get(f"{filter_type.name}.{name}")
            if pooled:
                item = self.rng.choice(list(pooled))
                if isinstance(item, str) and name == "name" and self.rng.random() < 0.3:
                    item = item.upper()
                value[name] = item
            elif isinstance(input_type, GraphQLEnumType):
                value[name] = self.rng.choice(list(input_type.values))
            elif input_type.name == "Boolean":
                value[name] = self.rng.random() < 0.6
        return value

    # -- selections -------------------------------------------------------------------------

    def _connection(
        self, build: _Build, connection: GraphQLObjectType, depth: int, *, pageinfo: str | None
    ) -> str:
        """A connection's selection; `pageinfo`: the cursor a two-step operation follows."""
        edge_type = named_type(connection.fields["edges"].type)
        assert isinstance(edge_type, GraphQLObjectType)
        node_type = named_type(edge_type.fields["node"].type)
        assert isinstance(node_type, GraphQLObjectType)
        parts: list[str] = []
        if pageinfo:
            parts.append(f"pageInfo {{ {pageinfo} hasNextPage hasPreviousPage }}")
        roll = self.rng.random()
        if roll < 0.85 or not parts:
            edge_parts = [f"node {self._object(build, node_type, depth)}"]
            if self.rng.random() < 0.4:
                edge_parts.append("cursor")
            if self.rng.random() < 0.1:
                edge_parts.append("__typename")
            self.rng.shuffle(edge_parts)
            parts.append(
                self._maybe_directive(build, "", "edges", "{ " + " ".join(edge_parts) + " }")
            )
        if not pageinfo and self.rng.random() < 0.35:
            info = self.rng.sample(PAGE_INFO, k=self.rng.randint(1, 3))
            parts.append(f"pageInfo {{ {' '.join(info)} }}")
        if "totalCount" in connection.fields and self.rng.random() < 0.25:
            parts.append("totalCount")
        if self.rng.random() < 0.1:
            parts.append("__typename")
        return "{ " + " ".join(parts) + " }"

    def _fields(self, build: _Build, object_type: GraphQLObjectType) -> list[str]:
        names = []
        for name in object_type.fields:
            coordinate = f"{object_type.name}.{name}"
            if coordinate in NEVER_SELECTED:
                continue
            if coordinate in FALLBACK_COORDINATES and not build.fallback:
                continue
            names.append(name)
        return names

    def _object(
        self,
        build: _Build,
        object_type: GraphQLObjectType,
        depth: int,
        *,
        require: Sequence[str] = (),
    ) -> str:
        names = self._fields(build, object_type)
        leaves = [
            n
            for n in names
            if not isinstance(named_type(object_type.fields[n].type), GraphQLObjectType)
        ]
        relations = [n for n in names if n not in leaves] if depth < MAX_DEPTH else []
        if object_type.name == "AccessHistoryEntry":
            # Its `at` tells which entries were logged before the request being compared.
            build.volatile = True
            return "{ at " + " ".join(self.rng.sample(leaves, k=self.rng.randint(0, 3))) + " }"
        chosen: list[str] = list(require)
        chosen += self.rng.sample(leaves, k=min(len(leaves), self.rng.randint(1, 5)))
        if relations and self.rng.random() < 0.75 - 0.15 * depth:
            chosen += self.rng.sample(relations, k=min(len(relations), self.rng.randint(1, 2)))
        parts: list[str] = []
        for name in dict.fromkeys(chosen):
            parts.append(self._field(build, object_type, name, depth))
            if name == "consumption" and self.rng.random() < 0.35:
                # The same field again under an alias, with another window.
                alias = self._alias_name(build)
                parts.append(f"{alias}: {self._field(build, object_type, name, depth)}")
        if self.rng.random() < 0.15:
            parts.append("__typename")
        if "id" in names and self.rng.random() < 0.3:
            parts.append("id")
        self.rng.shuffle(parts)
        parts = self._group(build, object_type, parts)
        return "{ " + " ".join(parts) + " }"

    def _field(self, build: _Build, object_type: GraphQLObjectType, name: str, depth: int) -> str:
        definition: GraphQLField = object_type.fields[name]
        target = named_type(definition.type)
        head = name + self._field_arguments(build, object_type, name)
        selection = ""
        prefix = ""
        if isinstance(target, GraphQLObjectType) and target.name.endswith("Connection"):
            selection = self._connection(build, target, depth + 1, pageinfo=None)
        elif isinstance(target, GraphQLObjectType):
            selection = self._object(build, target, depth + 1)
        elif self.rng.random() < 0.08:
            prefix = f"{self._alias_name(build)}: "
        return self._maybe_directive(build, prefix, head, selection, chance=0.08)

    def _field_arguments(self, build: _Build, object_type: GraphQLObjectType, name: str) -> str:
        coordinate = f"{object_type.name}.{name}"
        if coordinate == "Site.consumption":
            return self._consumption_arguments(build)
        if coordinate == "AccessLogEntry.objects" and self.rng.random() < 0.5:
            return f"(first: {self.rng.randint(1, 3)})"
        definition = object_type.fields[name]
        if coordinate == "Customer.accessHistory":
            return self._history_arguments(build, definition)
        if "first" in definition.args:
            return self._nested_paging(build, definition)
        return ""

    def _nested_paging(self, build: _Build, definition: GraphQLField) -> str:
        """`first`, now and then `after` (a cursor of a row of the child type, perhaps of
        another parent or unknown) and `filter` of a nested connection."""
        args: list[str] = []
        first = self.rng.choice((None, None, 0, 1, 2, 3, 5))
        if first is not None:
            args.append(f"first: {first}")
        if self.rng.random() < 0.12:
            child = named_type(definition.type).name.removesuffix("Connection")
            known = list(self.pool.values.get(f"{child}.id", ()))
            row = (
                self.rng.choice(known)
                if known and self.rng.random() < 0.8
                else str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            )
            cursor = json.dumps(encode_cursor([row]))
            args.append(
                f"after: {build.variable('after', 'String', json.loads(cursor)) if self.rng.random() < 0.3 else cursor}"
            )
        if "filter" in definition.args and self.rng.random() < 0.3:
            filter_type = named_type(definition.args["filter"].type)
            assert isinstance(filter_type, GraphQLInputObjectType)
            value = self._filter(filter_type)
            if value:
                args.append(f"filter: {render(value, filter_type)}")
        self.rng.shuffle(args)
        return f"({', '.join(args)})" if args else ""

    def _history_arguments(self, build: _Build, definition: GraphQLField) -> str:
        """Paging as for any nested connection, and always `filter.to`: the instant the
        pair starts, so that neither executor lists the other's read."""
        if build.until_variable is None:
            build.until_variable = build.name("until")
            build.variables[build.until_variable] = ("DateTime", None)
        conditions = [f"to: ${build.until_variable}"]
        if self.rng.random() < 0.3:
            conditions.append(f"purpose: {json.dumps(self.rng.choice(HISTORY_PURPOSES))}")
        paging = self._nested_paging(build, definition)
        arguments = [paging[1:-1]] if paging else []
        arguments.append(f"filter: {{{', '.join(conditions)}}}")
        return f"({', '.join(arguments)})"

    def _consumption_arguments(self, build: _Build) -> str:
        resolution = self.rng.choice(list(RESOLUTION_STEPS))
        step, most = RESOLUTION_STEPS[resolution]
        start = self.pool.consumption_from + timedelta(minutes=15 * self.rng.randint(0, 240))
        end = start + step * self.rng.randint(1, most)
        if self.rng.random() < 0.03:
            end = start  # an empty window: refused alike
        values = [start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z")]
        rendered: list[str] = []
        for value in values:
            if self.rng.random() < 0.3:
                rendered.append(build.variable("t", "DateTime!", value))
            else:
                rendered.append(json.dumps(value))
        parts = [f"from: {rendered[0]}", f"to: {rendered[1]}"]
        if resolution != "DAY" or self.rng.random() < 0.5:
            if self.rng.random() < 0.25:
                parts.append(
                    f"resolution: {build.variable('res', 'ConsumptionResolution!', resolution)}"
                )
            else:
                parts.append(f"resolution: {resolution}")
        self.rng.shuffle(parts)
        return f"({', '.join(parts)})"

    def _condition(self, build: _Build) -> str:
        directive = self.rng.choice(("skip", "include"))
        build.directives += 1
        if self.rng.random() < 0.5:
            condition = build.variable("c", "Boolean!", self.rng.random() < 0.5)
        else:
            condition = self.rng.choice(("true", "false"))
        return f"@{directive}(if: {condition})"

    def _maybe_directive(
        self, build: _Build, prefix: str, head: str, selection: str, *, chance: float = 0.1
    ) -> str:
        """Alias prefix and field, then perhaps a directive, then the selection."""
        text = prefix + head
        if build.directives < DIRECTIVE_BUDGET and self.rng.random() < chance:
            text += " " + self._condition(build)
        return f"{text} {selection}" if selection else text

    def _group(self, build: _Build, object_type: GraphQLObjectType, parts: list[str]) -> list[str]:
        """Moves some selections into a named fragment or an inline fragment."""
        if len(parts) < 2 or self.rng.random() > 0.35:
            return parts
        cut = self.rng.randint(1, len(parts) - 1)
        inner, outer = parts[:cut], parts[cut:]
        kind = self.rng.random()
        directive = (
            f" {self._condition(build)}"
            if build.directives < DIRECTIVE_BUDGET and self.rng.random() < 0.3
            else ""
        )
        if kind < 0.5:
            fragment = build.name(f"{object_type.name}Fields")
            build.fragments[fragment] = (
                f"fragment {fragment} on {object_type.name} {{ {' '.join(inner)} }}"
            )
            spread = f"...{fragment}{directive}"
            # Spread twice now and then: the answer has each field once.
            return [spread, *outer, *([spread] if self.rng.random() < 0.1 else [])]
        condition = f" on {object_type.name}" if self.rng.random() < 0.6 else ""
        if not condition and not directive:
            directive = f" {self._condition(build)}"
        return [f"...{condition}{directive} {{ {' '.join(inner)} }}", *outer]


def render(value: Any, input_type: GraphQLInputType | GraphQLNamedType) -> str:
    """A value as a GraphQL literal of the given input type."""
    inner = named_type(input_type)
    if value is None:
        return "null"
    if isinstance(inner, GraphQLInputObjectType):
        assert isinstance(value, dict)
        fields = ", ".join(
            f"{name}: {render(item, inner.fields[name].type)}" for name, item in value.items()
        )
        return "{" + fields + "}"
    if isinstance(inner, GraphQLEnumType):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


class _Counter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0
        self.directives = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.aliases += 1

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.directives += 1


def token_count(document: str) -> int:
    lexer = Lexer(Source(document))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


@dataclass(frozen=True)
class _PageSettings:
    default_page_size: int = 20
    max_page_size: int = 100


PAGE_SETTINGS = _PageSettings()


def is_valid(
    schema: GraphQLSchema, document: str, variables: Mapping[str, Any] | None = None
) -> bool:
    """Valid for the schema and well inside the server's query limits."""
    try:
        parsed: DocumentNode = parse(document)
    except Exception:
        return False
    if validate(schema, parsed):
        return False
    counter = _Counter()
    visit(parsed, counter)
    if not (
        counter.aliases <= ALIAS_BUDGET
        and counter.directives <= DIRECTIVE_BUDGET
        and token_count(document) <= TOKEN_BUDGET
    ):
        return False
    measure = DocumentMeasure(parsed)
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if any(measure.operation(op).depth > SERVER_MAX_DEPTH for op in operations):
        return False
    cost = operation_cost(schema, parsed, None, variables or {}, settings=PAGE_SETTINGS)
    return cost is not None and cost <= COST_BUDGET
