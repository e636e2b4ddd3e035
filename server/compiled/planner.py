"""The planner: walks a validated query operation into a tree of plan nodes.

Fragments (named and inline), aliases, `@skip`/`@include`, `__typename` and arguments are
resolved here, with the request's variables, the same way graphql-core resolves them, and
every field gets its decision from the policy (read, masked, denied). Anything the compiler
does not cover raises `NotCompilable`, and so does anything that would make the resolver path
answer with an error other than a denial (a bad cursor, a filter on a field the principal
may not read): the runner then answers with the resolver executor, which stays the
reference, so errors are identical by construction.

The plan's `key` is everything the SQL depends on except parameter values, so one compiled
statement serves every request with the same key.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective
from strawberry.utils.str_converters import to_camel_case

from server.authz.access import AccessView
from server.authz.decision import Access
from server.compiled.catalogue import (
    ROOT_CONNECTIONS,
    ROOT_LOOKUPS,
    LinkKind,
    Relation,
    RootConnection,
    TypeSpec,
    strawberry_class,
    types,
)
from server.customers.queries import FILTER_COORDINATES as CUSTOMER_FILTER_COORDINATES
from server.graphql.errors import ForbiddenError, UserInputError
from server.graphql.globalid import from_global_id
from server.graphql.guards import checked_filter, parse_id, require_readable_for_filter
from server.graphql.limits import unwrap_type
from server.graphql.ordering import order_terms, require_readable_for_order
from server.graphql.relay import PageRequest, SortKey, cursor_uuid, page_request
from server.graphql.shaping import ALWAYS_VISIBLE, shape_of
from server.nodes.loaders import node_kinds
from server.settings import Settings
from server.sites.consumption import check_consumption_window
from server.sites.types import _STEP as CONSUMPTION_STEP
from server.sites.types import MAX_CONSUMPTION_POINTS, _aware


class NotCompilable(Exception):
    """The operation (or this request of it) is answered by the resolver executor."""


@dataclass(frozen=True, slots=True)
class FieldSet:
    """The fields one object had in the answer, as the access log records them."""

    type_name: str
    read: frozenset[str]
    masked: frozenset[str]
    denied: frozenset[str]

    @property
    def denied_coordinates(self) -> list[str]:
        return sorted(f"{self.type_name}.{name}" for name in self.denied)


@dataclass(frozen=True, slots=True)
class Leaf:
    key: str
    column: str
    encoding: str  # ID, String, Int, Boolean, Date, DateTime, Decimal, enum:<Type>
    access: Access
    mask: str | None


@dataclass(frozen=True, slots=True)
class Constant:
    key: str
    json: str  # JSON text: "__typename" values and denied fields (null)


@dataclass(slots=True)
class ObjectNode:
    index: int
    spec: TypeSpec
    relation: Relation | None
    parent: ObjectNode | None
    selections: list[Leaf | Constant | Child] = field(default_factory=list)
    field_set: FieldSet | None = None
    set_no: int = 0
    window: tuple[str, str, str] | None = None  # consumption: start slot, end slot, resolution
    paging: Paging | None = None  # a nested connection


@dataclass(frozen=True, slots=True)
class Child:
    key: str
    node: ObjectNode


@dataclass(frozen=True, slots=True)
class EdgeSelection:
    """What an edge shows: its cursor, its node and __typename, in selection order."""

    parts: tuple[tuple[str, str], ...]  # (response key, "cursor" | "node" | "typename:<T>")


@dataclass(slots=True)
class ConnectionShape:
    """What a connection's selection shows, in selection order."""

    parts: tuple[tuple[str, str], ...] = ()  # (key, "edges"|"pageInfo"|"totalCount"|"typename:T")
    edges: EdgeSelection | None = None
    page_info: tuple[tuple[str, str], ...] = ()  # (key, PageInfo field)


@dataclass(slots=True)
class Paging:
    """A nested connection's page: slots of its size, limit (size + 1) and cursor, its
    filter values (slot names or constants) and what it shows."""

    shape: ConnectionShape
    first: str
    limit: str
    after: str | None
    filters: dict[str, tuple[str, Any]]


@dataclass(slots=True)
class RootField:
    key: str
    kind: str  # "connection", "lookup", "nodes" or "constant"
    node: ObjectNode | None = None
    json: str | None = None  # for "constant"
    connection: RootConnection | None = None
    conditions: dict[str, Any] = field(default_factory=dict)  # filter values
    shape: ConnectionShape | None = None  # connection: what it shows
    keys: tuple[SortKey, ...] = ()  # the order, completed by the tie-breaker
    lookups: list[tuple[ObjectNode, str]] = field(default_factory=list)  # nodes: (type, keys)
    backwards: bool = False  # `last`: fetched in the reverse order, shown in the order


@dataclass(slots=True)
class Plan:
    roots: list[RootField]
    nodes: list[ObjectNode]
    field_sets: list[FieldSet]
    key: tuple[Any, ...]
    parameters: dict[str, Any]  # slot name -> value for this request


@dataclass(slots=True)
class _Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: VariableValues
    access: AccessView
    settings: Settings
    nodes: list[ObjectNode] = field(default_factory=list)
    sets: dict[FieldSet, int] = field(default_factory=dict)
    key: list[Any] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    def slot(self, value: Any) -> str:
        name = f"s{len(self.parameters)}"
        self.parameters[name] = value
        return name


def plan_operation(
    *,
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues,
    access: AccessView,
    settings: Settings,
) -> Plan:
    if operation.operation.value != "query":
        raise NotCompilable("only queries are compiled")
    walk = _Walk(schema, fragments, variables, access, settings)
    query_type = schema.query_type
    assert query_type is not None
    roots: list[RootField] = []
    for key, nodes in _collect(walk, operation.selection_set, query_type).items():
        roots.append(_root_field(walk, query_type, key, nodes))
    field_sets = [s for s, _ in sorted(walk.sets.items(), key=lambda item: item[1])]
    return Plan(roots, walk.nodes, field_sets, tuple(walk.key), walk.parameters)


# ---------------------------------------------------------------------------------------
# Collecting fields (graphql-core's CollectFields, for object types)
# ---------------------------------------------------------------------------------------


def _included(walk: _Walk, node: Any) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, walk.variables)
    if skip is not None and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, walk.variables)
    return not (include is not None and include.get("if") is False)


def _condition_matches(walk: _Walk, type_name: str | None, parent: GraphQLObjectType) -> bool:
    if type_name is None:
        return True
    if type_name == parent.name:
        return True
    condition = walk.schema.get_type(type_name)
    if isinstance(condition, GraphQLInterfaceType):  # Node: the object type is one
        return any(interface.name == type_name for interface in parent.interfaces)
    if not isinstance(condition, GraphQLObjectType):
        raise NotCompilable("abstract type conditions")
    return False


def _collect(
    walk: _Walk, selection_set: SelectionSetNode | None, parent: GraphQLObjectType
) -> dict[str, list[FieldNode]]:
    grouped: dict[str, list[FieldNode]] = {}
    _collect_into(walk, selection_set, parent, grouped, set())
    return grouped


def _collect_into(
    walk: _Walk,
    selection_set: SelectionSetNode | None,
    parent: GraphQLObjectType,
    grouped: dict[str, list[FieldNode]],
    visited: set[str],
) -> None:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if not _included(walk, selection):
            continue
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            grouped.setdefault(key, []).append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            if _condition_matches(walk, condition, parent):
                _collect_into(walk, selection.selection_set, parent, grouped, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visited:
                continue
            visited.add(name)
            fragment = walk.fragments[name]
            if _condition_matches(walk, fragment.type_condition.name.value, parent):
                _collect_into(walk, fragment.selection_set, parent, grouped, visited)


def _subfields(
    walk: _Walk, nodes: list[FieldNode], parent: GraphQLObjectType
) -> dict[str, list[FieldNode]]:
    grouped: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()
    for node in nodes:
        _collect_into(walk, node.selection_set, parent, grouped, visited)
    return grouped


def _json_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------
# Root fields
# ---------------------------------------------------------------------------------------


def _root_field(
    walk: _Walk, query_type: GraphQLObjectType, key: str, nodes: list[FieldNode]
) -> RootField:
    name = nodes[0].name.value
    walk.key.append(("root", key, name))
    if name == "__typename":
        return RootField(key, "constant", json=_json_string(query_type.name))
    field_def = query_type.fields.get(name)
    if field_def is None:
        raise NotCompilable(name)
    try:
        arguments = get_argument_values(field_def, nodes[0], walk.variables)
    except GraphQLError as exc:
        raise NotCompilable("the resolver path reports bad arguments") from exc
    if name in ROOT_LOOKUPS:
        return _lookup(walk, key, nodes, field_def, ROOT_LOOKUPS[name], arguments)
    if name == "node":
        return _node(walk, key, nodes, arguments["id"])
    if name == "nodes":
        return _nodes(walk, key, nodes, arguments["ids"])
    if name in ROOT_CONNECTIONS:
        return _connection(walk, key, nodes, field_def, ROOT_CONNECTIONS[name], arguments)
    raise NotCompilable(name)


def _lookup(
    walk: _Walk,
    key: str,
    nodes: list[FieldNode],
    field_def: GraphQLField,
    type_name: str,
    arguments: dict[str, Any],
) -> RootField:
    object_id = parse_id(arguments["id"], type_name)
    if object_id is None or not walk.access.can_see_rows(type_name):
        walk.key.append("null")
        return RootField(key, "constant", json="null")
    named, _ = unwrap_type(field_def.type)
    node = _object(walk, types()[type_name], None, None, nodes, named)
    walk.key.append("lookup")
    root = RootField(key, "lookup", node=node)
    root.conditions["id"] = walk.slot(object_id)
    return root


def _node_key(value: object) -> tuple[str, Any]:
    """The type and key of a global ID the compiled executor reads; any other ID (malformed,
    of a type it does not read) is the resolver's to answer."""
    decoded = from_global_id(str(value))
    if decoded is None or decoded[0] not in types() or decoded[0] not in node_kinds():
        raise NotCompilable("a global ID the compiler does not read")
    type_name, text = decoded
    try:
        return type_name, node_kinds()[type_name].key(text)
    except ValueError as exc:
        raise NotCompilable("malformed global ID") from exc


def _node_object(walk: _Walk, nodes: list[FieldNode], type_name: str) -> ObjectNode:
    graphql_type = walk.schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    return _object(walk, types()[type_name], None, None, nodes, graphql_type)


def _node(walk: _Walk, key: str, nodes: list[FieldNode], value: object) -> RootField:
    """`node(id:)`: a look-up of the type the ID names (part of the plan key)."""
    type_name, object_key = _node_key(value)
    walk.key.append(("node", type_name))
    root = RootField(key, "lookup", node=_node_object(walk, nodes, type_name))
    root.conditions["id"] = walk.slot(object_key)
    return root


def _nodes(walk: _Walk, key: str, nodes: list[FieldNode], values: list[object]) -> RootField:
    """`nodes(ids:)`: one look-up per type named (their set is part of the plan key), the
    answer in the order of the IDs."""
    if len(values) > walk.settings.max_page_size:
        raise NotCompilable("too many ids")
    parsed = [_node_key(value) for value in values]
    names = sorted({type_name for type_name, _ in parsed})
    walk.key.append(("nodes", tuple(names)))
    root = RootField(key, "nodes")
    for type_name in names:
        keys = [object_key for name, object_key in parsed if name == type_name]
        root.lookups.append((_node_object(walk, nodes, type_name), walk.slot(keys)))
    root.conditions["types"] = walk.slot([type_name for type_name, _ in parsed])
    root.conditions["keys"] = walk.slot([str(object_key) for _, object_key in parsed])
    return root


def _page(walk: _Walk, arguments: dict[str, Any]) -> PageRequest:
    try:
        page = page_request(
            arguments.get("first"),
            arguments.get("after"),
            last=arguments.get("last"),
            before=arguments.get("before"),
            default=walk.settings.default_page_size,
            maximum=walk.settings.max_page_size,
        )
        for name, value, _ in page.cursors:
            cursor_uuid(value, field=name)
    except UserInputError as exc:
        raise NotCompilable("bad paging arguments") from exc
    return page


def _connection(
    walk: _Walk,
    key: str,
    nodes: list[FieldNode],
    field_def: GraphQLField,
    connection: RootConnection,
    arguments: dict[str, Any],
) -> RootField:
    page = _page(walk, arguments)
    named, _ = unwrap_type(field_def.type)
    assert isinstance(named, GraphQLObjectType)
    root = RootField(key, "connection", connection=connection)
    if not walk.access.can_see_rows(connection.type_name):
        walk.key.append("empty")
        root.kind = "constant"
        root.json = _empty_connection(walk, nodes, named)
        return root
    root.conditions = _filters(walk, connection, arguments.get("filter"))
    if root.conditions.pop("_empty", False):
        walk.key.append("empty")
        root.kind = "constant"
        root.json = _empty_connection(walk, nodes, named)
        return root
    terms = order_terms(arguments.get("orderBy"))
    try:
        require_readable_for_order(_CheckContext(walk.access), connection.sortable, terms)
    except ForbiddenError as exc:
        raise NotCompilable("orderBy needs read access") from exc
    root.keys = connection.sortable.keys(terms)
    root.backwards = page.backwards
    walk.key.append(("order", root.keys, root.backwards))
    root.conditions = {"filters": _filter_slots(walk, root.conditions)}
    root.conditions["first"] = walk.slot(page.size)
    root.conditions["limit"] = walk.slot(page.size + 1)
    for name, value, _ in page.cursors:
        root.conditions[name] = walk.slot(uuid.UUID(value))
    walk.key.append(("cursors", tuple(name for name, _, _ in page.cursors)))
    _connection_selection(walk, root, nodes, named)
    return root


def _filter_slots(walk: _Walk, values: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Filter values as plan slots; booleans are constants (the statement differs)."""
    filters: dict[str, tuple[str, Any]] = {}
    for argument, value in values.items():
        if isinstance(value, bool):
            filters[argument] = ("const", value)
            walk.key.append(("filter", argument, value))
        else:
            filters[argument] = ("slot", walk.slot(value))
            walk.key.append(("filter", argument))
    return filters


def _connection_selection(
    walk: _Walk, root: RootField, nodes: list[FieldNode], connection_type: GraphQLObjectType
) -> None:
    assert root.connection is not None
    root.shape, node_fields, node_type = _connection_shape(walk, nodes, connection_type)
    # Without edges or node the rows still decide pageInfo and are logged with no fields,
    # as on the resolver path.
    root.node = _object(
        walk, types()[root.connection.type_name], None, None, node_fields, node_type
    )


def _connection_shape(
    walk: _Walk, nodes: list[FieldNode], connection_type: GraphQLObjectType
) -> tuple[ConnectionShape, list[FieldNode], GraphQLObjectType]:
    """What a connection's selection shows, and the selection of its node."""
    shape = ConnectionShape()
    parts: list[tuple[str, str]] = []
    edge_nodes: list[FieldNode] = []
    edges_keys: list[str] = []
    for key, fields in _subfields(walk, nodes, connection_type).items():
        name = fields[0].name.value
        if name == "__typename":
            parts.append((key, "typename:" + connection_type.name))
        elif name == "edges":
            edges_keys.append(key)
            edge_nodes.extend(fields)
            parts.append((key, "edges"))
        elif name == "pageInfo":
            page_info = connection_type.fields["pageInfo"]
            page_type, _ = unwrap_type(page_info.type)
            shape.page_info = tuple(
                (k, f[0].name.value) for k, f in _subfields(walk, fields, page_type).items()
            )
            parts.append((key, "pageInfo"))
        elif name == "totalCount":
            parts.append((key, "totalCount"))
        else:
            raise NotCompilable(name)
    if len(edges_keys) > 1:
        raise NotCompilable("edges under several keys")
    shape.parts = tuple(parts)
    walk.key.append(("connection", shape.parts, shape.page_info))
    edge_type, _ = unwrap_type(connection_type.fields["edges"].type)
    assert isinstance(edge_type, GraphQLObjectType)
    edge_parts: list[tuple[str, str]] = []
    node_fields: list[FieldNode] = []
    for key, fields in (_subfields(walk, edge_nodes, edge_type) if edge_nodes else {}).items():
        name = fields[0].name.value
        if name == "__typename":
            edge_parts.append((key, "typename:" + edge_type.name))
        elif name == "cursor":
            edge_parts.append((key, "cursor"))
        elif name == "node":
            if node_fields:
                raise NotCompilable("node under several keys")
            node_fields = fields
            edge_parts.append((key, "node"))
    shape.edges = EdgeSelection(tuple(edge_parts))
    walk.key.append(("edges", shape.edges.parts))
    node_type, _ = unwrap_type(edge_type.fields["node"].type)
    assert isinstance(node_type, GraphQLObjectType)
    return shape, node_fields, node_type


EMPTY_PAGE_INFO = {
    "hasNextPage": "false",
    "hasPreviousPage": "false",
    "startCursor": "null",
    "endCursor": "null",
}


def _empty_connection(
    walk: _Walk, nodes: list[FieldNode], connection_type: GraphQLObjectType
) -> str:
    """The JSON of Connection.empty() for the selection (the principal sees no rows)."""
    pieces: list[str] = []
    for key, fields in _subfields(walk, nodes, connection_type).items():
        name = fields[0].name.value
        if name == "__typename":
            value = _json_string(connection_type.name)
        elif name == "edges":
            value = "[]"
        elif name == "totalCount":
            value = "0"
        elif name == "pageInfo":
            page_type, _ = unwrap_type(connection_type.fields["pageInfo"].type)
            inner = []
            for k, f in _subfields(walk, fields, page_type).items():
                shown = EMPTY_PAGE_INFO.get(f[0].name.value)
                inner.append(f"{_json_string(k)}:{shown or _json_string(page_type.name)}")
            value = "{" + ",".join(inner) + "}"
        else:
            raise NotCompilable(name)
        pieces.append(f"{_json_string(key)}:{value}")
    return "{" + ",".join(pieces) + "}"


# Filters of root connections: (argument, readable coordinate, condition name).
FILTER_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    # The customer-service screen's rules, from the resolver path's own table.
    "customers": tuple(
        (to_camel_case(argument), coordinate)
        for argument, coordinate in CUSTOMER_FILTER_COORDINATES.items()
    ),
    "sites": (("meteringPointId", "Site.meteringPointId"),),
    "contracts": (("status", "Contract.status"), ("customerId", "")),
    "invoices": (
        ("status", "Invoice.status"),
        ("overdue", "Invoice.status"),
        ("customerId", ""),
        ("issuedFrom", "Invoice.issueDate"),
        ("issuedTo", "Invoice.issueDate"),
    ),
    "products": (("kind", "Product.kind"),),
    "offers": (("status", "Offer.status"), ("customerId", "")),
}


def _filters(
    walk: _Walk, connection: RootConnection, chosen: dict[str, Any] | None
) -> dict[str, Any]:
    """Filter values (part of the plan key) after the same checks as the resolver path."""
    root_name = next(name for name, c in ROOT_CONNECTIONS.items() if c is connection)
    values: dict[str, Any] = {}
    for argument, coordinate in FILTER_RULES[root_name]:
        value = (chosen or {}).get(argument)
        if value is None:
            continue
        if coordinate:
            try:
                require_readable_for_filter(_CheckContext(walk.access), coordinate, argument)
            except ForbiddenError as exc:
                raise NotCompilable("filter needs read access") from exc
        if isinstance(value, enum.Enum):
            value = value.value
        if argument == "customerId":
            parsed = parse_id(value, "Customer")
            if parsed is None:
                return {"_empty": True}
            value = parsed
        if isinstance(value, str) and value == "" and argument != "status":
            continue  # an empty text filter does not narrow (as on the resolver path)
        values[argument] = value
    return values


@dataclass(frozen=True, slots=True)
class _CheckContext:
    access: AccessView

    @property
    def purpose(self) -> str:
        return self.access.purpose


# ---------------------------------------------------------------------------------------
# Objects
# ---------------------------------------------------------------------------------------

_LEAF_ENCODINGS = {"ID", "String", "Int", "Boolean", "Date", "DateTime", "Decimal", "Float"}


def _object(
    walk: _Walk,
    spec: TypeSpec,
    relation: Relation | None,
    parent: ObjectNode | None,
    nodes: list[FieldNode],
    graphql_type: Any,
) -> ObjectNode:
    assert isinstance(graphql_type, GraphQLObjectType)
    node = ObjectNode(len(walk.nodes), spec, relation, parent)
    walk.nodes.append(node)
    columns = dict(
        (graphql, python) for python, graphql in shape_of(strawberry_class(spec)).data_fields
    )
    read: set[str] = set()
    masked: set[str] = set()
    denied: set[str] = set()
    for key, fields in _subfields(walk, nodes, graphql_type).items():
        name = fields[0].name.value
        if name == "__typename":
            node.selections.append(Constant(key, _json_string(graphql_type.name)))
            walk.key.append(("typename", key))
            continue
        coordinate = f"{spec.name}.{name}"
        access = Access.READ if name in ALWAYS_VISIBLE else walk.access.field(coordinate)
        {Access.READ: read, Access.MASK: masked, Access.DENY: denied}[access].add(name)
        field_def = graphql_type.fields[name]
        if name in spec.relations:
            _relation(walk, node, key, name, fields, field_def, access)
            continue
        if name != "id" and name not in columns:
            raise NotCompilable(coordinate)
        if field_def.args:
            raise NotCompilable(coordinate)
        leaf = _leaf(walk, key, coordinate, columns.get(name, "id"), field_def, access)
        if name == "id" and isinstance(leaf, Leaf) and _is_node(graphql_type):
            leaf = Leaf(key, leaf.column, "node:" + spec.name, leaf.access, None)
        node.selections.append(leaf)
    node.field_set = FieldSet(spec.name, frozenset(read), frozenset(masked), frozenset(denied))
    node.set_no = walk.sets.setdefault(node.field_set, len(walk.sets) + 1)
    walk.key.append(("node", spec.name, node.set_no))
    return node


def _is_node(graphql_type: GraphQLObjectType) -> bool:
    """The type implements Node: its `id` is a global ID."""
    return any(interface.name == "Node" for interface in graphql_type.interfaces)


def _leaf(
    walk: _Walk, key: str, coordinate: str, column: str, field_def: GraphQLField, access: Access
) -> Leaf | Constant:
    named, many = unwrap_type(field_def.type)
    if many:
        raise NotCompilable("list of scalars")
    if isinstance(named, GraphQLEnumType):
        encoding = "enum:" + named.name
    elif isinstance(named, GraphQLScalarType) and named.name in _LEAF_ENCODINGS:
        encoding = named.name
    else:
        raise NotCompilable(named.name)
    mask = walk.access.policy.masks.get(coordinate) if access is Access.MASK else None
    if access is Access.DENY or (access is Access.MASK and mask is None):
        walk.key.append(("null", key))
        return Constant(key, "null")
    walk.key.append(("leaf", key, coordinate, int(access), mask))
    return Leaf(key, column, encoding, access, mask)


def _relation(
    walk: _Walk,
    node: ObjectNode,
    key: str,
    name: str,
    fields: list[FieldNode],
    field_def: GraphQLField,
    access: Access,
) -> None:
    if access is Access.DENY:
        node.selections.append(Constant(key, "null"))
        walk.key.append(("denied-relation", key))
        return
    relation = node.spec.relations[name]
    if relation.nested is not None:
        _nested_connection(walk, node, key, fields, field_def, relation)
        return
    window = None
    if relation.link is LinkKind.CONSUMPTION:
        window = _window(walk, field_def, fields[0])
    elif field_def.args:
        raise NotCompilable(f"{node.spec.name}.{name} has arguments")
    if relation.link is LinkKind.THROUGH and relation.through is None:
        raise NotCompilable(name)
    child_type, many = unwrap_type(field_def.type)
    if many != relation.many:
        raise NotCompilable(name)
    walk.key.append(("relation", key, name))
    child = _object(walk, types()[relation.child], relation, node, fields, child_type)
    child.window = window
    node.selections.append(Child(key, child))


def _nested_connection(
    walk: _Walk,
    node: ObjectNode,
    key: str,
    fields: list[FieldNode],
    field_def: GraphQLField,
    relation: Relation,
) -> None:
    """A to-many relation shown as a connection, after the resolver path's checks of its
    arguments (paging, the filter's read access): any error there is the resolver's."""
    nested = relation.nested
    assert nested is not None
    try:
        arguments = get_argument_values(field_def, fields[0], walk.variables)
        page = page_request(
            arguments.get("first"),
            arguments.get("after"),
            default=walk.settings.default_page_size,
            maximum=walk.settings.max_page_size,
        )
        after = cursor_uuid(page.after) if page.after else None
        values = (
            checked_filter(
                _CheckContext(walk.access), arguments.get("filter"), nested.filter.coordinates
            )
            if nested.filter is not None
            else {}
        )
    except (GraphQLError, UserInputError, ForbiddenError) as exc:
        raise NotCompilable("the resolver path reports the arguments") from exc
    connection_type, _ = unwrap_type(field_def.type)
    assert isinstance(connection_type, GraphQLObjectType)
    walk.key.append(("nested", key, fields[0].name.value, after is not None))
    filters = _filter_slots(walk, values)
    shape, node_fields, node_type = _connection_shape(walk, fields, connection_type)
    paging = Paging(
        shape,
        first=walk.slot(page.size),
        limit=walk.slot(page.size + 1),
        after=walk.slot(after) if after is not None else None,
        filters=filters,
    )
    child = _object(walk, types()[relation.child], relation, node, node_fields, node_type)
    child.paging = paging
    node.selections.append(Child(key, child))


def _window(walk: _Walk, field_def: GraphQLField, node: FieldNode) -> tuple[str, str, str]:
    """Site.consumption's window, checked as the resolver checks it."""
    try:
        arguments = get_argument_values(field_def, node, walk.variables)
        start, end = _aware(arguments["from"]), _aware(arguments["to"])
        resolution = str(getattr(arguments["resolution"], "value", arguments["resolution"]))
        check_consumption_window(start=start, end=end, resolution=resolution)
        if (end - start) / CONSUMPTION_STEP[resolution] > MAX_CONSUMPTION_POINTS:
            raise NotCompilable("too many points")
    except (GraphQLError, KeyError, TypeError) as exc:
        raise NotCompilable("the resolver path reports the window") from exc
    walk.key.append(("window", resolution))
    return walk.slot(start), walk.slot(end), resolution
