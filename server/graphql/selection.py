"""Which fields a query selects on the objects a resolver returns (fragments resolved)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.execution.values import VariableValues
from graphql.pyutils import Path

CONNECTION_PATH = ("edges", "node")


def included(node: Any, variables: Mapping[str, Any]) -> bool:
    """What `@skip(if:)` and `@include(if:)` say of a selection (as graphql-core decides)."""
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        condition = False
        for argument in directive.arguments:
            if argument.name.value == "if":
                value = argument.value
                if isinstance(value, VariableNode):
                    condition = variables.get(value.name.value) is True
                elif isinstance(value, BooleanValueNode):
                    condition = value.value
        if condition == (name == "skip"):
            return False
    return True


def _fields_of(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    type_names: frozenset[str] | None,
    variables: Mapping[str, Any] | None = None,
) -> Iterable[FieldNode]:
    """Fields in a selection set that the operation includes; fragments apply when their
    condition names one of `type_names` (the type and its interfaces), or always when it is
    None (wrapper types such as connections)."""
    if selection_set is None:
        return
    variables = variables or {}
    for selection in selection_set.selections:
        if not included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is None or type_names is None or condition.name.value in type_names:
                yield from _fields_of(selection.selection_set, fragments, type_names, variables)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and (
                type_names is None or fragment.type_condition.name.value in type_names
            ):
                yield from _fields_of(fragment.selection_set, fragments, type_names, variables)


def selected_field_names(
    info: GraphQLResolveInfo[Any], type_name: str, *, through: tuple[str, ...] = ()
) -> frozenset[str]:
    """Field names selected on `type_name` objects, optionally below a wrapper (edges.node)."""
    nodes: list[FieldNode] = list(info.field_nodes)
    raw: Any = info.variable_values  # Strawberry passes the coerced dict
    variables: Mapping[str, Any] = raw.coerced if isinstance(raw, VariableValues) else raw or {}
    for step in through:
        nodes = [
            f
            for n in nodes
            for f in _fields_of(n.selection_set, info.fragments, None, variables)
            if f.name.value == step
        ]
    graphql_type = info.schema.get_type(type_name)
    interfaces = getattr(graphql_type, "interfaces", ())
    type_names = frozenset({type_name, *(interface.name for interface in interfaces)})
    names = {
        f.name.value
        for n in nodes
        for f in _fields_of(n.selection_set, info.fragments, type_names, variables)
    }
    names.discard("__typename")
    return frozenset(names)


def path_key(info: GraphQLResolveInfo[Any]) -> tuple[str, ...]:
    """The response path without list indices: the same for every item of a list."""
    keys: list[str] = []
    node: Path | None = info.path
    while node is not None:
        if isinstance(node.key, str):
            keys.append(node.key)
        node = node.prev
    return tuple(reversed(keys))


class SelectionCache:
    """Selected fields per (path, type), computed once per request and path."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}

    def get(
        self, info: GraphQLResolveInfo[Any], type_name: str, through: tuple[str, ...] = ()
    ) -> frozenset[str]:
        key = (path_key(info), type_name)
        names = self._cache.get(key)
        if names is None:
            names = selected_field_names(info, type_name, through=through)
            self._cache[key] = names
        return names
