"""The compiler: one plan becomes one SQL statement that returns the whole `data` object as
JSON text and writes the request's access-log records in the same statement.

Shape of the statement (every CTE is a plain SELECT except the two INSERTs):

    r0all  rows of a root field (scope, filters, cursors, ORDER BY, LIMIT size + 1; in
           reverse order for `last`)
    r0     the rows shown (row_number <= size); children read their parents from here
    r1 ... rows of every nested selection: the child table restricted to its parents'
           keys (`IN`, a semi-join) and to the child type's row scope; for a nested
           connection r1all holds each parent's page and one more (a LATERAL sub-select
           with its own LIMIT) and r1 the page
    j1 ... each row's JSON object, built bottom-up: a row joins its children's arrays
    a1 ... a node's objects (or edges, with their cursors) grouped by parent key, hash-joined
           by the parent: linear in the number of objects, no correlated scans; h1 the
           parents with a next page, n1 the counts per parent (when asked for)
    objects  (field-set number, object id, customer and prospect) of every row shown
    logged   INSERT of one access_log_subject row per data subject (customer or prospect)
    request  INSERT of the access_log_request row, outcome decided from `objects`

Row selections are SQLAlchemy expressions built with the same row-scope predicates as the
resolver path (`server.authz.scopes`, filled by the domains), compiled once per plan key and renumbered into the
statement's parameters; the scope's organisation, date and purpose are named parameters, so
one statement serves every principal with the same roles and purpose. The JSON layer is SQL
text built here from names of the schema only (never from request values).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from graphql import GraphQLSchema
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    column,
    func,
    null,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.elements import BindParameter

from server.authz.access import AccessView
from server.authz.principal import PrincipalKind
from server.authz.scopes import ScopeEnv
from server.billing.loaders import invoice_filter_conditions
from server.compiled.catalogue import LinkKind, Subject
from server.compiled.encode import NULL, encode, masked, quote_literal
from server.compiled.planner import (
    Child,
    Constant,
    EdgeSelection,
    FieldSet,
    Leaf,
    ObjectNode,
    Plan,
    RootField,
)
from server.contracts.loaders import (
    contract_filter_conditions,
    offer_filter_conditions,
    product_filter_conditions,
)
from server.customers.loaders import filter_conditions
from server.graphql.relay import Visible, cursor_visible, keyset_condition, order_clauses
from server.identity.confirmation import live_predicate
from server.nodes.loaders import node_kinds
from server.sites.loaders import consumption_sql, site_filter_conditions

DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
_PLACEHOLDER = re.compile(r"\$(\d+)")


@dataclass(frozen=True, slots=True)
class Param:
    """Where the value of one `$n` comes from: a plan slot, the scope, the log record, or a
    constant fixed when the statement was compiled."""

    source: str  # "slot", "env", "log", "live" or "const"
    name: str = ""
    value: Any = None


@dataclass(slots=True)
class CompiledStatement:
    sql: str
    params: list[Param]
    field_sets: list[FieldSet]
    has_guard: bool
    # Fixed when compiled, not per request: the request row's field_sets text, and the
    # denied coordinates of each field set that has any (by its number, from 1).
    field_sets_text: str = field(init=False, default="")
    denied_by_set: dict[int, list[str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.field_sets_text = field_sets_json(self.field_sets)
        self.denied_by_set = {
            number: field_set.denied_coordinates
            for number, field_set in enumerate(self.field_sets, start=1)
            if field_set.denied
        }

    def denied_coordinates(self, touched: Iterable[int | None]) -> list[str]:
        """The denied coordinates of the field sets of which an object was returned."""
        if not self.denied_by_set:
            return []
        return sorted(
            {
                coordinate
                for number in touched
                if number is not None
                for coordinate in self.denied_by_set.get(number, ())
            }
        )

    def bind(
        self,
        slots: Mapping[str, Any],
        env: Mapping[str, Any],
        log: Mapping[str, Any],
        live: Mapping[str, Any] | None = None,
    ) -> list[Any]:
        sources = {"slot": slots, "env": env, "log": log, "live": live or {}}
        return [
            param.value if param.source == "const" else sources[param.source][param.name]
            for param in self.params
        ]


def symbolic_env() -> ScopeEnv:
    """A ScopeEnv whose every value is a named parameter (env_<field>)."""
    values: dict[str, Any] = {}
    for env_field in dataclasses.fields(ScopeEnv):
        annotation = str(env_field.type)
        type_: Any = (
            Uuid() if "UUID" in annotation else Date() if "date" in annotation else String()
        )
        values[env_field.name] = bindparam(f"env_{env_field.name}", type_=type_)
    return ScopeEnv(**values)


def concrete_env(access: AccessView) -> dict[str, Any]:
    """The values of the scope parameters for this request."""
    known = {
        "organisation_id": access.principal.organisation_id,
        "today": access.today,
        "purpose": access.purpose,
    }
    return {f.name: known[f.name] for f in dataclasses.fields(ScopeEnv)}


@dataclass(slots=True)
class _Builder:
    schema: GraphQLSchema
    access: AccessView
    env: ScopeEnv
    slots: dict[str, Any]  # the plan's slot values (their types decide bind types)
    params: list[Param] = field(default_factory=list)
    named: dict[tuple[str, str], int] = field(default_factory=dict)
    ctes: list[str] = field(default_factory=list)
    object_rows: list[tuple[int, str]] = field(default_factory=list)  # (field set, rows CTE)
    guards: list[str] = field(default_factory=list)

    def param(self, source: str, name: str, cast: str | None = None) -> str:
        key = (source, name)
        index = self.named.get(key)
        if index is None:
            self.params.append(Param(source, name))
            index = self.named[key] = len(self.params)
        return f"${index}::{cast}" if cast else f"${index}"

    def fragment(self, statement: Any) -> str:
        """SQL of an SQLAlchemy statement with its parameters renumbered into ours."""
        compiled = statement.compile(dialect=DIALECT)
        names: Sequence[str] = compiled.positiontup or ()
        processors = compiled._bind_processors
        local: dict[int, int] = {}
        for position, name in enumerate(names, start=1):
            bind: BindParameter[Any] = compiled.binds[name]
            if name.startswith(("slot_", "env_")):
                source, _, key = name.partition("_")
                local[position] = int(self.param(source, key).lstrip("$"))
                continue
            value = bind.effective_value
            processor = processors.get(name)
            self.params.append(Param("const", value=processor(value) if processor else value))
            local[position] = len(self.params)
        return _PLACEHOLDER.sub(lambda m: f"${local[int(m.group(1))]}", compiled.string)


def compile_plan(
    plan: Plan,
    *,
    schema: GraphQLSchema,
    access: AccessView,
    with_log: bool = True,
    confirm: PrincipalKind | None = None,
) -> CompiledStatement:
    """The plan's statement. `confirm`: the statement also confirms that the principal's
    credential (of that kind) is still live, and answers `live = false` (and `ok = false`),
    writing nothing, when it is not (server/identity/confirmation.py); `ok = false` alone
    means a cursor is outside the scope. `with_log=False` leaves the log
    inserts out: only for the benchmark that measures what the log costs (the service
    always writes it)."""
    builder = _Builder(schema, access, symbolic_env(), plan.parameters)
    roots: list[str] = []
    for root in plan.roots:
        roots.append(
            f"{quote_literal(_key(root.key))} || {_root_json(builder, root, plan.parameters)}"
        )
    live = "true"
    if confirm is not None:
        live = live_predicate(confirm, lambda name, cast: builder.param("live", name, cast))
    data = " || ',' || ".join(roots) if roots else "''"
    objects = " UNION ALL ".join(
        f"SELECT {set_no}::int2 AS s, _log::uuid AS o, _subj::uuid AS c, _prosp::uuid AS p "
        f"FROM {rows}"
        for set_no, rows in builder.object_rows
    ) or ("SELECT NULL::int2 AS s, NULL::uuid AS o, NULL::uuid AS c, NULL::uuid AS p WHERE false")
    builder.ctes.append(f"objects AS ({objects})")
    guard = ""
    if builder.guards or confirm is not None:
        cursors = " AND ".join(builder.guards) or "true"
        builder.ctes.append(
            # OFFSET 0 keeps the credential's check one sub-plan, run once (pulled up, it
            # would be copied into both columns and run twice).
            f"guard AS (SELECT live, live AND {cursors} AS ok "
            f"FROM (SELECT {live} AS live OFFSET 0) l)"
        )
        guard = " AND (SELECT ok FROM guard)"
    if with_log:
        builder.ctes.append(_log_subjects(builder, guard))
        builder.ctes.append(_log_request(builder, plan.field_sets, guard))
    checks = (
        "(SELECT ok FROM guard) AS ok, (SELECT live FROM guard) AS live"
        if guard
        else ("true AS ok, true AS live")
    )
    sql = (
        "WITH " + ",\n".join(builder.ctes) + f"\nSELECT '{{' || {data} || '}}' AS data, "
        f"{_touched(builder.object_rows)} AS touched, {checks}"
    )
    return CompiledStatement(sql, builder.params, plan.field_sets, bool(builder.guards))


def _touched(object_rows: list[tuple[int, str]]) -> str:
    """The field sets of which at least one object was returned (an EXISTS per node: no
    sort or scan of every object)."""
    if not object_rows:
        return "NULL::int2[]"
    checks = ", ".join(
        f"CASE WHEN EXISTS (SELECT 1 FROM {rows}) THEN {set_no}::int2 END"
        for set_no, rows in object_rows
    )
    return f"ARRAY[{checks}]"


def _key(key: str) -> str:
    return orjson.dumps(key).decode() + ":"


# ---------------------------------------------------------------------------------------
# Root fields
# ---------------------------------------------------------------------------------------


def _root_json(builder: _Builder, root: RootField, slots: dict[str, Any]) -> str:
    if root.kind == "constant":
        assert root.json is not None
        return quote_literal(root.json)
    if root.kind == "nodes":
        return _nodes_json(builder, root)
    node = root.node
    assert node is not None
    if root.kind == "lookup":
        statement = _lookup_rows(builder, node, root.conditions["id"], many=False)
        builder.ctes.append(f"r{node.index} AS MATERIALIZED ({builder.fragment(statement)})")
        _node_json(builder, node, f"r{node.index}")
        return f"coalesce((SELECT obj FROM j{node.index}), {NULL})"
    return _connection_json(builder, root, slots)


def _lookup_rows(builder: _Builder, node: ObjectNode, slot: str, *, many: bool) -> Select[Any]:
    """Rows of a look-up by key (`many`: any of a list of keys), visible as `node(id:)`
    sees them (the type's node kind: its scope or its parent's, its data subject)."""
    kind = node_kinds()[node.spec.name]
    t = node.spec.table
    value = builder.slots[slot]
    sample = value[0] if many and value else value
    key_type: Any = Uuid() if isinstance(sample, uuid.UUID) or (many and not value) else String()
    key: Any = bindparam("slot_" + slot, type_=ARRAY(key_type) if many else key_type)
    subject = kind.subject(t) if kind.subject else null()
    condition = kind.id_column() == (any_(key) if many else key)
    return _node_columns(builder, node, t, subject=subject).where(
        condition, kind.visible(lambda type_name: _scope(builder, type_name))
    )


def _nodes_json(builder: _Builder, root: RootField) -> str:
    """`nodes(ids:)`: each type's look-up, then the objects in the order of the IDs (null
    for one not found), by position in the IDs' types and keys."""
    joins: list[str] = []
    cases: list[str] = []
    for node, keys in root.lookups:
        i = node.index
        statement = _lookup_rows(builder, node, keys, many=True)
        builder.ctes.append(f"r{i} AS MATERIALIZED ({builder.fragment(statement)})")
        _node_json(builder, node, f"r{i}")
        name = quote_literal(node.spec.name)
        joins.append(f"LEFT JOIN j{i} ON u.t = {name} AND CAST(j{i}._id AS text) = u.k")
        cases.append(f"WHEN {name} THEN j{i}.obj")
    types = builder.param("slot", root.conditions["types"], "text[]")
    keys_ = builder.param("slot", root.conditions["keys"], "text[]")
    item = f"coalesce(CASE u.t {' '.join(cases)} END, {NULL})" if cases else NULL
    return (
        f"'[' || coalesce((SELECT string_agg({item}, ',' ORDER BY u.n) FROM unnest({types}, "
        f"{keys_}) WITH ORDINALITY AS u(t, k, n) {' '.join(joins)}), '') || ']'"
    )


def _connection_json(builder: _Builder, root: RootField, slots: dict[str, Any]) -> str:
    node = root.node
    connection = root.connection
    assert node is not None and connection is not None
    spec = node.spec
    t = spec.table
    order = order_clauses(t.c, root.keys, reverse=root.backwards)
    filtered = _root_filters(builder, root, slots)
    rows = _node_columns(builder, node, t, row_number=order).where(
        _scope(builder, spec.name), *filtered
    )
    for name, after in (("after", True), ("before", False)):
        if name in root.conditions:
            rows = rows.where(_cursor_condition(builder, root, name, after=after))
    limit = bindparam("slot_" + root.conditions["limit"], type_=Integer())
    rows = rows.order_by(*order).limit(limit)
    i = node.index
    builder.ctes.append(f"r{i}all AS MATERIALIZED ({builder.fragment(rows)})")
    first = builder.param("slot", root.conditions["first"], "integer")
    builder.ctes.append(f"r{i} AS MATERIALIZED (SELECT * FROM r{i}all WHERE _rn <= {first})")
    _node_json(builder, node, f"r{i}", with_rn=True)
    shape = root.shape
    assert shape is not None
    total_count = ""
    if any(part == "totalCount" for _, part in shape.parts):  # its parameters only if asked
        counted = select(func.count()).select_from(t).where(_scope(builder, spec.name), *filtered)
        total_count = f"CAST(({builder.fragment(counted)}) AS text)"
    pieces = ConnectionPieces(
        edges=_edges_array(shape.edges, f"j{i}", root.backwards),
        page_info=_root_page_info(i, first, root.backwards),
        total_count=total_count,
    )
    return _connection_text(shape.parts, shape.page_info, pieces)


@dataclass(frozen=True, slots=True)
class ConnectionPieces:
    """SQL text of each part of a connection object (JSON text, never NULL)."""

    edges: str
    page_info: dict[str, str]  # PageInfo field -> JSON text
    total_count: str


def _typename(part: str) -> str:
    return quote_literal(orjson.dumps(part.removeprefix("typename:")).decode())


def _connection_text(
    parts: tuple[tuple[str, Any], ...],
    page_info: tuple[tuple[str, str], ...],
    pieces: ConnectionPieces,
) -> str:
    """The connection object in selection order: edges, pageInfo, totalCount, __typename."""
    texts: list[str] = []
    for key, part in parts:
        if part == "edges":
            value = pieces.edges
        elif part == "pageInfo":
            value = _object_text(
                [
                    f"{quote_literal(_key(k))} || "
                    + pieces.page_info.get(name, quote_literal('"PageInfo"'))
                    for k, name in page_info
                ]
            )
        elif part == "totalCount":
            value = pieces.total_count
        else:
            value = _typename(part)
        texts.append(f"{quote_literal(_key(key))} || {value}")
    return _object_text(texts)


def _cursor(row: str) -> str:
    """relay.encode_cursor([id]): URL-safe base64 of the JSON array ["<id>"], padded."""
    return (
        "'\"' || translate(encode(convert_to('[\"' || CAST("
        + row
        + "._id AS text) || '\"]', 'UTF8'), 'base64'), '+/', '-_') || '\"'"
    )


def _edge_text(edges: EdgeSelection | None, row: str) -> str:
    """One edge object of the row `row` (a j<i> row: its `obj` and `_id`)."""
    assert edges is not None
    parts: list[str] = []
    for key, part in edges.parts:
        if part == "cursor":
            value = _cursor(row)
        elif part == "node":
            value = f"{row}.obj"
        else:
            value = _typename(part)
        parts.append(f"{quote_literal(_key(key))} || {value}")
    return _object_text(parts)


def _edges_array(edges: EdgeSelection | None, objects: str, backwards: bool) -> str:
    direction = " DESC" if backwards else ""
    return (
        f"'[' || coalesce((SELECT string_agg({_edge_text(edges, 'e')}, ',' ORDER BY "
        f"e._rn{direction}) FROM {objects} e), '') || ']'"
    )


def _root_page_info(i: int, first: str, backwards: bool) -> dict[str, str]:
    """A root page's rows are r<i> (shown, `_rn` in fetch order) and r<i>all (one more)."""
    more = f"CASE WHEN (SELECT count(*) FROM r{i}all) > {first} THEN 'true' ELSE 'false' END"

    def cursor_at(descending: bool) -> str:
        order = " DESC" if descending else ""
        return (
            f"coalesce((SELECT {_cursor('e')} FROM r{i} e ORDER BY e._rn{order} LIMIT 1), {NULL})"
        )

    return {
        "hasNextPage": "'false'" if backwards else more,
        "hasPreviousPage": more if backwards else "'false'",
        "startCursor": cursor_at(descending=backwards),
        "endCursor": cursor_at(descending=not backwards),
    }


def _cursor_condition(
    builder: _Builder, root: RootField, name: str, *, after: bool
) -> ColumnElement[bool]:
    """Rows after (or before) the cursor's row, looked up under the same scope as the page;
    the statement answers only if that row is visible (else the resolver path answers with
    its BAD_USER_INPUT), so the guard gates the log records too."""
    assert root.node is not None and root.connection is not None
    t = root.node.spec.table
    cursor = bindparam("slot_" + root.conditions[name], type_=Uuid())
    scope = _scope(builder, root.connection.type_name)
    builder.guards.append(f"({builder.fragment(select(cursor_visible(t, cursor, scope)))})")
    return keyset_condition(t, root.keys, cursor, scope, after=after)


_FILTER_TYPES: dict[type[Any], Any] = {
    str: String(),
    int: BigInteger(),
    uuid.UUID: Uuid(),
    date: Date(),
}


def _filter_value(kind: str, value: Any, slots: dict[str, Any]) -> Any:
    if kind == "const":
        return value
    return bindparam("slot_" + value, type_=_FILTER_TYPES[type(slots[value])])


def _root_filters(
    builder: _Builder, root: RootField, slots: dict[str, Any]
) -> list[ColumnElement[bool]]:
    """The root connection's filters, built by the domain's own filter builder."""
    assert root.connection is not None
    chosen = {
        argument: _filter_value(kind, value, slots)
        for argument, (kind, value) in root.conditions["filters"].items()
    }
    visible: Visible = lambda type_name: _scope(builder, type_name)  # noqa: E731
    today = builder.env.today
    type_name = root.connection.type_name
    if type_name == "Customer":
        return filter_conditions(
            visible,
            name=chosen.get("name"),
            customer_number=chosen.get("customerNumber"),
            personal_identity_code=chosen.get("personalIdentityCode"),
            metering_point_id=chosen.get("meteringPointId"),
            invoice_status=chosen.get("invoiceStatus"),
            overdue=chosen.get("overdue"),
            today=today,
        )
    if type_name == "Site":
        return site_filter_conditions(visible, metering_point_id=chosen.get("meteringPointId"))
    if type_name == "Contract":
        return contract_filter_conditions(
            visible, status=chosen.get("status"), customer_id=chosen.get("customerId")
        )
    if type_name == "Product":
        return product_filter_conditions(visible, kind=chosen.get("kind"))
    if type_name == "Offer":
        return offer_filter_conditions(
            visible, status=chosen.get("status"), customer_id=chosen.get("customerId")
        )
    return invoice_filter_conditions(
        visible,
        status=chosen.get("status"),
        overdue=chosen.get("overdue"),
        customer_id=chosen.get("customerId"),
        issued_from=chosen.get("issuedFrom"),
        issued_to=chosen.get("issuedTo"),
        today=today,
    )


def _scope(builder: _Builder, type_name: str) -> ColumnElement[bool]:
    return builder.access.rows_with(type_name, builder.env)


# ---------------------------------------------------------------------------------------
# Object nodes
# ---------------------------------------------------------------------------------------


def _subject_column(node: ObjectNode, t: Any) -> Any:
    relation = node.relation
    subject = (
        relation.subject
        if relation
        else (Subject.SELF if node.spec.name == "Customer" else Subject.COLUMN)
    )
    if subject is Subject.SELF:
        return t.c.id
    if subject is Subject.COLUMN:
        return t.c.customer_id if "customer_id" in t.c else null()
    if subject is Subject.NONE:
        return null()
    return None  # PARENT: joined in _child_rows


def _prospect_column(node: ObjectNode, t: Any) -> Any:
    """The prospect whose data the row is (offers to prospects), for the log."""
    column_ = node.spec.prospect_column
    return t.c[column_] if column_ else null()


def _node_columns(
    builder: _Builder, node: ObjectNode, t: Any, *, row_number: Any = None, subject: Any = None
) -> Select[Any]:
    spec = node.spec
    identifier = spec.id_expression(t) if spec.id_expression else t.c.id
    columns: list[Any] = [
        t,
        identifier.label("_id"),
        t.c[spec.log_id_column].label("_log"),
        t.c.id.label("_pk") if "id" in t.c else identifier.label("_pk"),
        (_subject_column(node, t) if subject is None else subject).label("_subj"),
        _prospect_column(node, t).label("_prosp"),
    ]
    if row_number is not None:
        columns.append(func.row_number().over(order_by=row_number).label("_rn"))
    return select(*columns)


def _child_rows(builder: _Builder, node: ObjectNode) -> Select[Any]:
    relation = node.relation
    parent = node.parent
    assert relation is not None and parent is not None
    spec = node.spec
    t = spec.table
    parent_rows = table(f"r{parent.index}", column("_id"), column("_subj"), column(relation.column))
    identifier = spec.id_expression(t) if spec.id_expression else t.c.id
    subject = _subject_column(node, t)
    base: list[Any] = [
        t,
        identifier.label("_id"),
        t.c[spec.log_id_column].label("_log"),
        _prospect_column(node, t).label("_prosp"),
    ]
    if relation.link is LinkKind.CHILD_FK:
        key = t.c[relation.column]
        if subject is None:
            parents = select(parent_rows.c._id, parent_rows.c._subj).distinct().subquery("p")
            statement = select(*base, key.label("_pk"), parents.c._subj.label("_subj")).select_from(
                t.join(parents, key == parents.c._id)
            )
        else:
            statement = select(*base, key.label("_pk"), subject.label("_subj")).where(
                key.in_(select(parent_rows.c._id))
            )
    elif relation.link is LinkKind.PARENT_FK:
        statement = select(*base, t.c.id.label("_pk"), subject.label("_subj")).where(
            t.c.id.in_(select(parent_rows.c[relation.column]))
        )
    else:
        assert relation.through is not None
        link, parent_column, child_column = relation.through
        statement = (
            select(*base, link.c[parent_column].label("_pk"), subject.label("_subj"))
            .select_from(t.join(link, link.c[child_column] == t.c.id))
            .where(link.c[parent_column].in_(select(parent_rows.c._id)))
        )
    if relation.scoped:
        statement = statement.where(_scope(builder, spec.name))
    return statement


CONCAT_ARGUMENTS = 90  # a function takes at most 100 arguments


def _joined(parts: list[str]) -> str:
    """SQL joining non-null text pieces with commas (concat_ws, nested past its limit)."""
    if len(parts) <= CONCAT_ARGUMENTS:
        return "concat_ws(',', " + ", ".join(parts) + ")"
    chunks = [
        _joined(parts[i : i + CONCAT_ARGUMENTS]) for i in range(0, len(parts), CONCAT_ARGUMENTS)
    ]
    return _joined(chunks)


def _object_text(parts: list[str]) -> str:
    """A JSON object from '"key":value' pieces (none of them NULL), in selection order."""
    if not parts:
        return "'{}'"
    return "'{' || " + _joined(parts) + " || '}'"


def _node_json(builder: _Builder, node: ObjectNode, rows: str, *, with_rn: bool = False) -> None:
    """CTEs j<i> (and a<i> for lists) of a node and, first, of all its children."""
    joins: list[str] = []
    parts: list[str] = []
    for selection in node.selections:
        key = quote_literal(_key(selection.key))
        if isinstance(selection, Constant):
            parts.append(quote_literal(_key(selection.key) + selection.json))
        elif isinstance(selection, Leaf):
            column_ = "r._id" if selection.column == "id" else f"r.{selection.column}"
            value = (
                masked(column_, selection.mask)
                if selection.mask
                else encode(column_, selection.encoding, builder.schema)
            )
            parts.append(f"{key} || coalesce({value}, {NULL})")
        else:
            parts.append(f"{key} || {_child_json(builder, selection, joins)}")
    i = node.index
    builder.object_rows.append((node.set_no, rows))
    order = node.relation.order if node.relation else ()
    order_columns = "".join(f", r.{o.column} AS _o{n}" for n, o in enumerate(order))
    rn = ", r._rn" if with_rn else ""
    builder.ctes.append(
        f"j{i} AS (SELECT r._pk, r._id{rn}{order_columns}, {_object_text(parts)} AS obj "
        f"FROM {rows} r {' '.join(joins)})"
    )
    if node.relation is not None and node.relation.many and node.paging is None:
        ordering = "".join(f", _o{n}{' DESC' if o.descending else ''}" for n, o in enumerate(order))
        # One sort of all the node's rows by parent and order, aggregated in that order: an
        # ORDER BY inside string_agg would sort each parent's group on its own (a sort per
        # group costs more than building the objects). PostgreSQL aggregates a sorted
        # subquery's rows in their order when nothing else happens at the outer level.
        builder.ctes.append(
            f"a{i} AS (SELECT _pk, '[' || string_agg(obj, ',') || ']' AS arr "
            f"FROM (SELECT _pk, obj FROM j{i} ORDER BY _pk{ordering}) sorted GROUP BY _pk)"
        )


def _consumption_rows(builder: _Builder, node: ObjectNode) -> str:
    """Site.consumption: the resolver path's aggregation over the parent sites' rows."""
    assert node.window is not None and node.parent is not None
    start_slot, end_slot, resolution = node.window
    parents = f"r{node.parent.index}"
    aggregated = consumption_sql(
        resolution,
        sites=f"IN (SELECT _id FROM {parents})",
        start=builder.param("slot", start_slot, "timestamptz"),
        end=builder.param("slot", end_slot, "timestamptz"),
    )
    period = encode("g.period_start", "DateTime", builder.schema)
    return (
        f"SELECT g.*, CAST(g.site_id AS text) || ':' || substr({period}, 2, "
        f"length({period}) - 2) AS _id, g.site_id AS _log, g.site_id AS _pk, p._subj AS _subj, "
        "NULL::uuid AS _prosp "
        f"FROM ({aggregated}) g JOIN (SELECT DISTINCT _id, _subj FROM {parents}) p "
        "ON p._id = g.site_id"
    )


def _child_json(builder: _Builder, selection: Child, joins: list[str]) -> str:
    child = selection.node
    relation = child.relation
    assert relation is not None
    if child.paging is not None:
        return _paged_json(builder, child, joins)
    rows = (
        _consumption_rows(builder, child)
        if relation.link is LinkKind.CONSUMPTION
        else builder.fragment(_child_rows(builder, child))
    )
    builder.ctes.append(f"r{child.index} AS MATERIALIZED ({rows})")
    _node_json(builder, child, f"r{child.index}")
    i = child.index
    if relation.many:
        joins.append(f"LEFT JOIN a{i} ON a{i}._pk = r._id")
        return f"coalesce(a{i}.arr, '[]')"
    joins.append(f"LEFT JOIN j{i} ON j{i}._pk = r.{relation.column}")
    return f"coalesce(j{i}.obj, {NULL})"


def _parents(node: ObjectNode) -> Any:
    """The parent node's rows as a table (r<i>: its `_id`s and data subjects)."""
    assert node.parent is not None
    return table(f"r{node.parent.index}", column("_id"), column("_subj"))


def _nested_conditions(builder: _Builder, node: ObjectNode, slots: dict[str, Any]) -> list[Any]:
    """The child type's row scope and the relation's filter, from the domain's builder."""
    nested = node.relation.nested if node.relation else None
    assert nested is not None and node.paging is not None
    visible: Visible = lambda type_name: _scope(builder, type_name)  # noqa: E731
    conditions = [nested.scope_predicate(visible)]
    if nested.filter is not None:
        values = {
            argument: _filter_value(kind, value, slots)
            for argument, (kind, value) in node.paging.filters.items()
        }
        conditions += nested.filter.conditions(visible, values, builder.env.today)
    return conditions


def _paged_rows(builder: _Builder, node: ObjectNode, slots: dict[str, Any]) -> Select[Any]:
    """At most size + 1 rows of each parent, in the relation's order: a LATERAL sub-select
    with its own LIMIT per parent (an index on the parent key and the order serves it)."""
    relation, paging = node.relation, node.paging
    assert relation is not None and relation.nested is not None and paging is not None
    nested = relation.nested
    spec = node.spec
    t = spec.table
    parents = _parents(node)
    p = select(parents.c._id, parents.c._subj).distinct().subquery("p")
    identifier = spec.id_expression(t) if spec.id_expression else t.c.id
    subject = _subject_column(node, t)
    order = order_clauses(t.c, nested.keys, reverse=False)
    conditions = _nested_conditions(builder, node, slots)
    if paging.after is not None:
        cursor = bindparam("slot_" + paging.after, type_=Uuid())
        gate = and_(nested.member(select(parents.c._id)), conditions[0])
        builder.guards.append(f"({builder.fragment(select(cursor_visible(t, cursor, gate)))})")
        conditions.append(keyset_condition(t, nested.keys, cursor, gate))
    joined = t if nested.link is None else t.join(*nested.link)
    limit = bindparam("slot_" + paging.limit, type_=Integer())
    page = (
        select(
            t,
            identifier.label("_id"),
            t.c[spec.log_id_column].label("_log"),
            p.c._id.label("_pk"),
            (p.c._subj if subject is None else subject).label("_subj"),
            _prospect_column(node, t).label("_prosp"),
            func.row_number().over(order_by=order).label("_rn"),
        )
        .select_from(joined)
        .where(nested.parent == p.c._id, *conditions)
        .order_by(*order)
        .limit(limit)
        .lateral("c")
    )
    return select(page).select_from(p.join(page, true()))


def _paged_json(builder: _Builder, node: ObjectNode, joins: list[str]) -> str:
    """A nested connection of each parent row: r<i>all (a page and one more per parent),
    r<i> (the page), j<i> (objects), a<i> (edges and cursors per parent), and when asked
    h<i> (parents with more) and n<i> (counts)."""
    paging = node.paging
    assert paging is not None and node.relation is not None and node.relation.nested
    i = node.index
    slots = builder.slots
    builder.ctes.append(
        f"r{i}all AS MATERIALIZED ({builder.fragment(_paged_rows(builder, node, slots))})"
    )
    first = builder.param("slot", paging.first, "integer")
    builder.ctes.append(f"r{i} AS MATERIALIZED (SELECT * FROM r{i}all WHERE _rn <= {first})")
    _node_json(builder, node, f"r{i}", with_rn=True)
    shape = paging.shape
    wanted = {name for _, name in shape.page_info} | {part for _, part in shape.parts}
    cursors = ""
    if wanted & {"startCursor", "endCursor"}:
        cursors = (
            f", (array_agg({_cursor('e')}))[1] AS start_, "
            f"(array_agg({_cursor('e')}))[count(*)] AS end_"
        )
    builder.ctes.append(
        f"a{i} AS (SELECT e._pk, '[' || string_agg({_edge_text(shape.edges, 'e')}, ',') || ']' "
        f"AS arr{cursors} FROM (SELECT * FROM j{i} ORDER BY _pk, _rn) e GROUP BY e._pk)"
    )
    joins.append(f"LEFT JOIN a{i} ON a{i}._pk = r._id")
    page_info = {
        "hasPreviousPage": "'false'",
        "startCursor": f"coalesce(a{i}.start_, {NULL})",
        "endCursor": f"coalesce(a{i}.end_, {NULL})",
    }
    if "hasNextPage" in wanted:
        builder.ctes.append(f"h{i} AS (SELECT DISTINCT _pk FROM r{i}all WHERE _rn > {first})")
        joins.append(f"LEFT JOIN h{i} ON h{i}._pk = r._id")
        page_info["hasNextPage"] = f"CASE WHEN h{i}._pk IS NULL THEN 'false' ELSE 'true' END"
    total_count = ""
    if "totalCount" in wanted:
        builder.ctes.append(f"n{i} AS ({builder.fragment(_nested_counts(builder, node, slots))})")
        joins.append(f"LEFT JOIN n{i} ON n{i}._pk = r._id")
        total_count = f"coalesce(CAST(n{i}.n AS text), '0')"
    pieces = ConnectionPieces(
        edges=f"coalesce(a{i}.arr, '[]')", page_info=page_info, total_count=total_count
    )
    return _connection_text(shape.parts, shape.page_info, pieces)


def _nested_counts(builder: _Builder, node: ObjectNode, slots: dict[str, Any]) -> Select[Any]:
    nested = node.relation.nested if node.relation else None
    assert nested is not None
    t = node.spec.table
    joined = t if nested.link is None else t.join(*nested.link)
    return (
        select(nested.parent.label("_pk"), func.count().label("n"))
        .select_from(joined)
        .where(
            nested.parent.in_(select(_parents(node).c._id)),
            *_nested_conditions(builder, node, slots),
        )
        .group_by(nested.parent)
    )


# ---------------------------------------------------------------------------------------
# The access log, written by the same statement
# ---------------------------------------------------------------------------------------


def _log_subjects(builder: _Builder, guard: str) -> str:
    at = builder.param("log", "at", "timestamptz")
    request_id = builder.param("log", "request_id", "uuid")
    return (
        "logged AS (INSERT INTO access_log_subject (at, request_id, subject_customer_id, "
        "subject_prospect_id, object_ids, object_sets) "
        # Both arrays aggregate the same rows in the same order, so they stay parallel.
        f"SELECT {at}, {request_id}, d.c, d.p, array_agg(d.o), array_agg(d.s) "
        "FROM objects d "
        f"WHERE true{guard} GROUP BY d.c, d.p RETURNING 1)"
    )


REQUEST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("at", "timestamptz"),
    ("request_id", "uuid"),
    ("event", "text"),
    ("principal", "text"),
    ("organisation", "text"),
    ("roles", "text[]"),
    ("purpose", "text"),
    ("client_address", "text"),
    ("operation_name", "text"),
    ("operation_type", "text"),
    ("document_hash", "text"),
    ("policy_version", "text"),
    ("duration_ms", "real"),
    ("detail", "text"),
    ("executor", "text"),
    ("field_sets", "jsonb"),
)


def _log_request(builder: _Builder, field_sets: list[FieldSet], guard: str) -> str:
    values = [builder.param("log", name, cast) for name, cast in REQUEST_COLUMNS]
    denying = [str(n) for n, s in enumerate(field_sets, start=1) if s.denied]
    outcome = (
        f"CASE WHEN EXISTS (SELECT 1 FROM objects WHERE s IN ({', '.join(denying)})) "
        "THEN 'partial' ELSE 'ok' END"
        if denying
        else "'ok'"
    )
    # The statement's own time is added to the time spent before it.
    duration_index = [name for name, _ in REQUEST_COLUMNS].index("duration_ms")
    values[duration_index] = (
        f"({values[duration_index]} + extract(epoch FROM clock_timestamp() - "
        "statement_timestamp()) * 1000)::real"
    )
    columns = ", ".join(name for name, _ in REQUEST_COLUMNS)
    return (
        f"request AS (INSERT INTO access_log_request ({columns}, outcome) "
        f"SELECT {', '.join(values)}, {outcome} WHERE true{guard} RETURNING 1)"
    )


def field_sets_json(field_sets: list[FieldSet], operation: str = "read") -> str:
    """The request row's field_sets: the number of a set is its position (from 1)."""
    return orjson.dumps(
        [
            {
                "type": s.type_name,
                "operation": operation,
                "read": sorted(s.read),
                "masked": sorted(s.masked),
                "denied": sorted(s.denied),
            }
            for s in field_sets
        ]
    ).decode()


__all__ = ["CompiledStatement", "compile_plan", "concrete_env", "field_sets_json"]
