"""Per-role introspection: a principal sees only the part of the schema it may use.

Introspection is answered against a pruned copy of the schema, built once per (roles,
purpose, policy version) and cached, not by filtering the response by its keys (which an
alias or a fragment would get around). The pruned schema leaves out:

- fields of policed types that the policy denies (`id` always stays), and types with
  nothing left but `id`; then every field, argument and input field that leads to a
  removed type, and wrapper types (connections, edges, payloads) left with no fields;
- input fields the principal may not use: filters on fields it may not read in full
  (`CustomerFilter.personalIdentityCode`), fields of `Create…Input`/`Update…Input` it
  may not write; an input type that loses a required field goes, with the fields that
  require it;
- mutations that change no type the principal may write, and the mutation type itself
  when nothing is writable under the purpose;
- types no longer reachable from the roots.

API (the operation runner calls these):

- `introspection_schema(access) -> GraphQLSchema`: the pruned schema (cached);
- `execute_introspection(access, document, operation_name, variables) -> dict | None`:
  runs the root `__schema`/`__type` selections of the operation (aliases, fragments and
  variables included) against it and returns their data by response key;
- `filter_introspection(data, access, *, document, operation_name, variables=None)`:
  replaces those keys in the result of the normal execution (the rest of `data` is left
  as it is) and returns `data`;
- `is_introspection(query)`: a cheap test for documents that ask for `__schema`/`__type`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    SelectionSetNode,
    TypeNode,
    UnionTypeDefinitionNode,
    VariableNode,
    build_ast_schema,
    execute_sync,
    get_operation_ast,
    parse,
    print_schema,
    validate,
    visit,
)
from graphql.language import Visitor

from server.authz.access import AccessView
from server.authz.decision import Access
from server.graphql.ordering import ORDER_ENUMS
from server.schema import is_policed, schema

_INTROSPECTION = re.compile(r"__schema\b|__type\b")
_ROOT_FIELDS = frozenset({"__schema", "__type"})
_WRITE_INPUT = re.compile(r"(?:Create|Update)(\w+)Input")
_CACHE_SIZE = 128

TypeDefinition = (
    ObjectTypeDefinitionNode
    | InputObjectTypeDefinitionNode
    | InterfaceTypeDefinitionNode
    | UnionTypeDefinitionNode
    | EnumTypeDefinitionNode
    | ScalarTypeDefinitionNode
)


def is_introspection(query: str) -> bool:
    """True for documents asking for `__schema` or `__type` (not `__typename`)."""
    return _INTROSPECTION.search(query) is not None


# --------------------------------------------------------------------------------------
# The pruned schema
# --------------------------------------------------------------------------------------


def _named(type_node: TypeNode) -> str:
    while isinstance(type_node, NonNullTypeNode | ListTypeNode):
        type_node = type_node.type
    assert isinstance(type_node, NamedTypeNode)
    return type_node.name.value


def _required(node: InputValueDefinitionNode) -> bool:
    return isinstance(node.type, NonNullTypeNode) and node.default_value is None


def _replace(node: Any, **changes: Any) -> Any:
    """A copy of an AST node (they are frozen) with some attributes changed."""
    return dataclasses.replace(node, **changes)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@functools.cache
def _filter_coordinates() -> Mapping[tuple[str, str], str]:
    """Filter fields whose coordinate is not simply `Type.field` (the customer search)."""
    from server.audit.queries import FILTER_COORDINATES as LOG_FILTER_COORDINATES
    from server.audit.types import HISTORY_FILTER_COORDINATES
    from server.billing.loaders import INVOICE_LIST_FILTER
    from server.contracts.loaders import CONTRACT_LIST_FILTER
    from server.customers.queries import FILTER_COORDINATES

    tables = {
        "CustomerFilter": FILTER_COORDINATES,
        "AccessLogFilter": LOG_FILTER_COORDINATES,
        "AccessHistoryFilter": HISTORY_FILTER_COORDINATES,
        "InvoiceListFilter": INVOICE_LIST_FILTER.coordinates,
        "ContractListFilter": CONTRACT_LIST_FILTER.coordinates,
        "InvoiceFilter": {"issued_from": "Invoice.issueDate", "issued_to": "Invoice.issueDate"},
    }
    return {
        (input_name, _camel(name)): coordinate
        for input_name, coordinates in tables.items()
        for name, coordinate in coordinates.items()
    }


@functools.cache
def _sdl(graphql_schema: GraphQLSchema) -> DocumentNode:
    return parse(print_schema(graphql_schema))


class _Pruner:
    def __init__(self, access: AccessView) -> None:
        self.access = access
        self.catalogue = access.policy.catalogue
        self.writes: frozenset[str] = frozenset(
            coordinate
            for role in access.principal.roles
            if (grant := access.policy.grants.get((role, access.purpose))) is not None
            for coordinate in grant.writes
        )
        self.written_types = frozenset(c.split(".", 1)[0] for c in self.writes)

    def field_visible(self, type_name: str, field_name: str) -> bool:
        if not is_policed(type_name) or field_name == "id":
            return True
        return self.access.field(f"{type_name}.{field_name}") is not Access.DENY

    def input_field_usable(self, input_name: str, field_name: str) -> bool:
        write = _WRITE_INPUT.fullmatch(input_name)
        if write is not None:
            target = write.group(1)
            if field_name in self.catalogue.fields.get(target, ()):
                return f"{target}.{field_name}" in self.writes
            return True  # control fields: the object's ID, a reason, a request
        if input_name.endswith("Filter"):
            coordinate = _filter_coordinates().get((input_name, field_name))
            target = input_name.removesuffix("Filter")
            if coordinate is None and field_name in self.catalogue.fields.get(target, ()):
                coordinate = f"{target}.{field_name}"
            if coordinate is not None:
                return self.access.field(coordinate) is Access.READ
        return True

    def mutation_allowed(self, field: FieldDefinitionNode, types: Mapping[str, Any]) -> bool:
        """A mutation stays when it changes a type the principal may write (the policed
        types its payload returns), or when its payload names no policed type."""
        payload = types.get(_named(field.type))
        if not isinstance(payload, ObjectTypeDefinitionNode):
            return True
        targets = {_named(f.type) for f in payload.fields or () if is_policed(_named(f.type))} - {
            "Mutation"
        }
        return not targets or bool(targets & self.written_types)

    def prune(self, document: DocumentNode) -> DocumentNode:
        types: dict[str, Any] = {
            d.name.value: d for d in document.definitions if isinstance(d, TypeDefinition)
        }
        hidden: set[str] = set()
        fields: dict[str, list[FieldDefinitionNode]] = {}
        for name, definition in types.items():
            if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
                kept = [
                    f for f in definition.fields or () if self.field_visible(name, f.name.value)
                ]
                fields[name] = kept
                if is_policed(name) and not any(f.name.value != "id" for f in kept):
                    hidden.add(name)
        inputs: dict[str, list[InputValueDefinitionNode]] = {}
        for name, definition in types.items():
            if isinstance(definition, InputObjectTypeDefinitionNode):
                fields_of = definition.fields or ()
                kept_inputs = [f for f in fields_of if self.input_field_usable(name, f.name.value)]
                if any(_required(f) and f not in kept_inputs for f in fields_of):
                    hidden.add(name)
                inputs[name] = kept_inputs
        enums: dict[str, list[Any]] = {}
        for name, sortable in ORDER_ENUMS.items():  # orderBy: only fields read in full
            definition = types.get(name)
            if isinstance(definition, EnumTypeDefinitionNode):
                enums[name] = [
                    value
                    for value in definition.values or ()
                    if self.access.field(sortable.fields[value.name.value].coordinate)
                    is Access.READ
                ]
                if not enums[name]:
                    hidden.add(name)
        if not self.writes:
            hidden.add("Mutation")

        changed = True
        while changed:  # wrappers of removed types go too, until nothing changes
            changed = False
            for name, kept_inputs in inputs.items():
                if name in hidden:
                    continue
                usable = [f for f in kept_inputs if _named(f.type) not in hidden]
                if not usable or any(_required(f) for f in kept_inputs if f not in usable):
                    hidden.add(name)
                    changed = True
                inputs[name] = usable
            for name, kept in fields.items():
                if name in hidden:
                    continue
                usable_fields = [f for f in kept if self._field_usable(name, f, hidden, types)]
                if len(usable_fields) != len(kept):
                    fields[name] = usable_fields
                    changed = True
                if not usable_fields:
                    hidden.add(name)
                    changed = True

        definitions: list[Any] = []
        for original in document.definitions:
            node: Any = original
            if isinstance(node, TypeDefinition):
                name = node.name.value
                if name in hidden:
                    continue
                if name in fields:
                    node = _replace(
                        node,
                        fields=tuple(self._with_arguments(f, hidden) for f in fields[name]),
                    )
                elif name in inputs:
                    node = _replace(node, fields=tuple(inputs[name]))
                elif name in enums:
                    node = _replace(node, values=tuple(enums[name]))
                definitions.append(node)
            elif isinstance(node, SchemaDefinitionNode):
                node = _replace(
                    node,
                    operation_types=tuple(
                        t for t in node.operation_types if _named(t.type) not in hidden
                    ),
                )
                definitions.append(node)
            elif isinstance(node, DirectiveDefinitionNode):
                definitions.append(node)
        return DocumentNode(definitions=tuple(_reachable(definitions)))

    def _field_usable(
        self,
        type_name: str,
        field: FieldDefinitionNode,
        hidden: set[str],
        types: Mapping[str, Any],
    ) -> bool:
        if _named(field.type) in hidden:
            return False
        if any(_required(a) and _named(a.type) in hidden for a in field.arguments or ()):
            return False
        return type_name != "Mutation" or self.mutation_allowed(field, types)

    @staticmethod
    def _with_arguments(field: FieldDefinitionNode, hidden: set[str]) -> FieldDefinitionNode:
        arguments = tuple(a for a in field.arguments or () if _named(a.type) not in hidden)
        if len(arguments) == len(field.arguments or ()):
            return field
        pruned: FieldDefinitionNode = _replace(field, arguments=arguments)
        return pruned


def _references(definition: Any) -> Iterable[str]:
    for field in getattr(definition, "fields", None) or ():
        yield _named(field.type)
        for argument in getattr(field, "arguments", None) or ():
            yield _named(argument.type)
    for interface in getattr(definition, "interfaces", None) or ():
        yield interface.name.value
    for member in getattr(definition, "types", None) or ():
        if isinstance(member, NamedTypeNode):
            yield member.name.value
    if isinstance(definition, DirectiveDefinitionNode):
        for argument in definition.arguments or ():
            yield _named(argument.type)


def _reachable(definitions: list[Any]) -> list[Any]:
    """The definitions reachable from the root types (and directives), in their order."""
    by_name = {d.name.value: d for d in definitions if isinstance(d, TypeDefinition)}
    roots: list[str] = [n for n in ("Query", "Mutation", "Subscription") if n in by_name]
    for definition in definitions:
        if isinstance(definition, SchemaDefinitionNode):
            roots.extend(_named(t.type) for t in definition.operation_types)
    seen: set[str] = set()
    pending = list(roots)
    for definition in definitions:
        if isinstance(definition, DirectiveDefinitionNode):
            pending.extend(_references(definition))
    while pending:
        name = pending.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        pending.extend(_references(by_name[name]))
    return [d for d in definitions if not isinstance(d, TypeDefinition) or d.name.value in seen]


_cache: dict[tuple[tuple[str, ...], str, str], GraphQLSchema] = {}
_lock = threading.Lock()


def introspection_schema(access: AccessView) -> GraphQLSchema:
    """The schema as this principal may see it under its purpose (built once, cached per
    roles, purpose and policy version)."""
    key = (tuple(sorted(access.principal.roles)), access.purpose, access.policy.version)
    found = _cache.get(key)
    if found is not None:
        return found
    pruned = build_ast_schema(_Pruner(access).prune(_sdl(schema()._schema)))
    with _lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[key] = pruned
    return pruned


# --------------------------------------------------------------------------------------
# Answering introspection against it
# --------------------------------------------------------------------------------------


def _root_introspection_fields(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    """`__schema` and `__type` fields of the root selection, through fragments."""
    found: list[FieldNode] = []
    visited: set[str] = set()
    pending: list[SelectionSetNode] = [selection_set]
    while pending:
        current = pending.pop()
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in _ROOT_FIELDS:
                    found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in visited and name in fragments:
                    visited.add(name)
                    pending.append(fragments[name].selection_set)
    return found


class _Uses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.fragments: set[str] = set()
        self.variables: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.fragments.add(node.name.value)

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.variables.add(node.name.value)


def _introspection_document(
    document: DocumentNode, operation_name: str | None
) -> DocumentNode | None:
    """A query of only the operation's root introspection fields, with the fragments and
    variables they use."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fields = _root_introspection_fields(operation.selection_set, fragments)
    if not fields:
        return None
    uses = _Uses()
    for field in fields:
        visit(field, uses)
    needed: list[FragmentDefinitionNode] = []
    done: set[str] = set()
    pending = list(uses.fragments)
    while pending:
        name = pending.pop()
        if name in done or name not in fragments:
            continue
        done.add(name)
        needed.append(fragments[name])
        inner = _Uses()
        visit(fragments[name], inner)
        pending.extend(inner.fragments)
        uses.variables |= inner.variables
    variables = tuple(
        v for v in operation.variable_definitions or () if v.variable.name.value in uses.variables
    )
    query = OperationDefinitionNode(
        operation=OperationType.QUERY,
        variable_definitions=variables,
        directives=(),
        selection_set=SelectionSetNode(selections=tuple(fields)),
    )
    return DocumentNode(definitions=(query, *needed))


def execute_introspection(
    access: AccessView,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The root introspection fields of the operation, answered against the principal's
    pruned schema, by response key (None when the operation asks for none, or when they
    cannot be answered: the caller then drops them)."""
    introspection = _introspection_document(document, operation_name)
    if introspection is None:
        return None
    pruned = introspection_schema(access)
    if validate(pruned, introspection):
        return {}
    result = execute_sync(pruned, introspection, variable_values=dict(variables or {}))
    return dict(result.data or {})


def filter_introspection(
    data: dict[str, Any],
    access: AccessView,
    *,
    document: DocumentNode | str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`data` with its root `__schema`/`__type` entries answered for this principal."""
    parsed = parse(document) if isinstance(document, str) else document
    answered = execute_introspection(access, parsed, operation_name, variables)
    if answered is None:
        return data
    for key in list(data):
        if key in answered:
            data[key] = answered[key]
    operation = get_operation_ast(parsed, operation_name)
    if operation is not None:
        fragments = {
            d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for field in _root_introspection_fields(operation.selection_set, fragments):
            key = (field.alias or field.name).value
            if key in data and key not in answered:
                data[key] = None  # could not be answered for this principal: nothing shown
    return data
