"""What a document would return to each role and purpose, from the compiled policy: the
report `rekisteri operations add` prints before it registers a document.

For each operation: the policed coordinates it selects (fragments followed, a field of an
interface or union counted on each object type it may be), and per (role, purpose) the
policy grants, the coordinates that would be denied or masked (the decisions
`rekisteri policy explain` shows) and the types whose rows the role would not see at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    is_abstract_type,
    visit,
)

from server.authz.decision import Access
from server.authz.policy import CompiledPolicy
from server.authz.scopes import ROW_SCOPES
from server.operations.documents import PreparedDocument


@dataclass(frozen=True, slots=True)
class GrantReport:
    """One role under one purpose: what of the operation it would not get in full."""

    role: str
    purpose: str
    denied: tuple[str, ...]
    masked: tuple[str, ...]
    no_rows: tuple[str, ...]  # types with row scopes of which the role sees no row

    @property
    def everything(self) -> bool:
        return not (self.denied or self.masked or self.no_rows)

    def as_json(self) -> dict[str, list[str]]:
        return {
            "denied": list(self.denied),
            "masked": list(self.masked),
            "noRows": list(self.no_rows),
        }


@dataclass(frozen=True, slots=True)
class OperationReport:
    name: str | None
    kind: str
    coordinates: tuple[str, ...]
    grants: tuple[GrantReport, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        access: dict[str, dict[str, object]] = {}
        for grant in self.grants:
            access.setdefault(grant.role, {})[grant.purpose] = grant.as_json()
        return {
            "name": self.name,
            "type": self.kind,
            "coordinates": list(self.coordinates),
            "access": access,
        }


def vet(
    schema: GraphQLSchema, policy: CompiledPolicy, prepared: PreparedDocument
) -> list[OperationReport]:
    """The report of every operation of a valid document."""
    reports = []
    for operation in prepared.operations:
        coordinates = selected_coordinates(schema, policy, prepared, operation)
        reports.append(
            OperationReport(
                name=operation.name.value if operation.name else None,
                kind=operation.operation.value,
                coordinates=coordinates,
                grants=tuple(_grant_reports(policy, coordinates)),
            )
        )
    return reports


def _grant_reports(policy: CompiledPolicy, coordinates: tuple[str, ...]) -> Iterator[GrantReport]:
    types = sorted({c.partition(".")[0] for c in coordinates} & ROW_SCOPES.keys())
    for role, purpose in sorted(policy.grants):
        decisions = {c: policy.field_access([role], purpose, c) for c in coordinates}
        scopes = policy.grants[(role, purpose)].scopes
        yield GrantReport(
            role=role,
            purpose=purpose,
            denied=tuple(c for c, a in decisions.items() if a is Access.DENY),
            masked=tuple(c for c, a in decisions.items() if a is Access.MASK),
            no_rows=tuple(t for t in types if not scopes.get(t)),
        )


def selected_coordinates(
    schema: GraphQLSchema,
    policy: CompiledPolicy,
    prepared: PreparedDocument,
    operation: OperationDefinitionNode,
) -> tuple[str, ...]:
    """The policed `Type.field` coordinates the operation selects, sorted."""
    policed = policy.catalogue.fields
    found: set[str] = set()
    for node in _operation_and_fragments(prepared, operation):
        type_info = TypeInfo(schema)
        collector = _FieldCollector(schema, type_info, found)
        visit(node, TypeInfoVisitor(type_info, collector))
    return tuple(
        sorted(c for c in found if c.partition(".")[2] in policed.get(c.partition(".")[0], ()))
    )


def _operation_and_fragments(
    prepared: PreparedDocument, operation: OperationDefinitionNode
) -> list[OperationDefinitionNode | FragmentDefinitionNode]:
    """The operation and every fragment it spreads, directly or through other fragments."""
    nodes: list[OperationDefinitionNode | FragmentDefinitionNode] = [operation]
    seen: set[str] = set()
    pending = list(nodes)
    while pending:
        spreads = _SpreadCollector()
        visit(pending.pop(), spreads)
        for name in spreads.names - seen:
            seen.add(name)
            fragment = prepared.fragments.get(name)
            if fragment is not None:
                nodes.append(fragment)
                pending.append(fragment)
    return nodes


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


class _FieldCollector(Visitor):
    def __init__(self, schema: GraphQLSchema, type_info: TypeInfo, found: set[str]) -> None:
        super().__init__()
        self.schema = schema
        self.type_info = type_info
        self.found = found

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        if parent is None:
            return
        for type_name in self._object_types(get_named_type(parent)):
            self.found.add(f"{type_name}.{node.name.value}")

    def _object_types(self, named: GraphQLNamedType) -> list[str]:
        if is_abstract_type(named):
            return [t.name for t in self.schema.get_possible_types(named)]
        return [named.name]
