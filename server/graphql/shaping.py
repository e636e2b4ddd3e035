"""Turn database rows into GraphQL objects with the policy applied once per object.

Each field of a policed type is read, masked or nulled here, while the object is built;
resolvers stay plain attribute reads, so no hook runs per field. The same step records
the object, with the fields the query selected on it, for the access log.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.private import is_private
from strawberry.utils.str_converters import to_camel_case

from server.authz.access import FieldRule
from server.authz.decision import Access
from server.graphql.context import RequestContext
from server.graphql.guards import parse_id
from server.graphql.loading import RowLoader
from server.graphql.selection import SelectionCache

T = TypeVar("T")
ALWAYS_VISIBLE = frozenset({"id"})


@dataclass(frozen=True, slots=True)
class TypeShape:
    type_name: str
    data_fields: tuple[tuple[str, str], ...]  # (python name, GraphQL name), policy applies
    relation_fields: tuple[str, ...]  # GraphQL names of fields with resolvers
    copied: tuple[str, ...]  # id and private attributes, copied as they are


def _definition(cls: type[Any]) -> StrawberryObjectDefinition:
    definition = getattr(cls, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryObjectDefinition):
        raise TypeError(f"{cls!r} is not a Strawberry type")
    return definition


_SHAPES: dict[type[Any], TypeShape] = {}


def shape_of(cls: type[Any]) -> TypeShape:
    """The fields of a Strawberry type, split by how the policy applies (cached per type)."""
    shape = _SHAPES.get(cls)
    if shape is None:
        shape = _SHAPES[cls] = _shape_of(cls)
    return shape


def _shape_of(cls: type[Any]) -> TypeShape:
    definition = _definition(cls)
    data: list[tuple[str, str]] = []
    relations: list[str] = []
    graphql_names: set[str] = set()
    for f in definition.fields:
        if f.type_annotation is not None and is_private(f.type_annotation.annotation):
            continue
        name = f.graphql_name or to_camel_case(f.python_name)
        if f.base_resolver is not None:
            relations.append(name)
        elif f.python_name not in ALWAYS_VISIBLE:
            data.append((f.python_name, name))
        graphql_names.add(f.python_name)
    copied = tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.name in ALWAYS_VISIBLE or f.name not in graphql_names
    )
    return TypeShape(definition.name, tuple(data), tuple(relations), copied)


def field_rules(ctx: RequestContext, cls: type[Any]) -> list[FieldRule]:
    """The per-request rule list for a type, built once per request."""
    shape = shape_of(cls)
    key = f"rules:{shape.type_name}"
    rules: list[FieldRule] | None = ctx.loaders.get(key)
    if rules is None:
        rules = []
        for python_name, graphql_name in shape.data_fields:
            coordinate = f"{shape.type_name}.{graphql_name}"
            access = ctx.access.field(coordinate)
            mask = ctx.access.mask_for(coordinate) if access is Access.MASK else None
            rules.append(FieldRule(python_name, graphql_name, access, mask))
        ctx.loaders[key] = rules
    return rules


def _selection(ctx: RequestContext) -> SelectionCache:
    if ctx.selections is None:
        ctx.selections = SelectionCache()
    return ctx.selections


def audit_fields(
    ctx: RequestContext, info: Info[Any, Any], type_name: str, through: tuple[str, ...]
) -> tuple[set[str], set[str], set[str]]:
    """Split the fields selected at this path into read, masked and denied."""
    selected = _selection(ctx).get(info._raw_info, type_name, through)
    read: set[str] = set()
    masked: set[str] = set()
    denied: set[str] = set()
    for name in selected:
        if name in ALWAYS_VISIBLE:
            read.add(name)
            continue
        coordinate = f"{type_name}.{name}"
        access = ctx.access.field(coordinate)
        if access is Access.READ:
            read.add(name)
        elif access is Access.MASK:
            masked.add(name)
        else:
            denied.add(name)
            ctx.collector.denied_coordinates.add(coordinate)
    return read, masked, denied


def build(
    cls: type[T],
    rows: Sequence[Mapping[str, Any]],
    ctx: RequestContext,
    info: Info[Any, Any],
    *,
    through: tuple[str, ...] = (),
    subject: str | None = "customer_id",
    prospect: str | None = None,
) -> list[T]:
    """GraphQL objects for `rows`, with reads, masks and denials applied and logged."""
    if not rows:
        return []
    shape = shape_of(cls)
    rules = field_rules(ctx, cls)
    read, masked, denied = audit_fields(ctx, info, shape.type_name, through)
    objects: list[T] = []
    for row in rows:
        values: dict[str, Any] = {name: row[name] for name in shape.copied}
        for rule in rules:
            if rule.access is Access.READ:
                values[rule.python_name] = row[rule.python_name]
            elif rule.access is Access.MASK and rule.mask is not None:
                raw = row[rule.python_name]
                values[rule.python_name] = None if raw is None else rule.mask(str(raw))
            else:
                values[rule.python_name] = None
        objects.append(cls(**values))
        subject_id: uuid.UUID | None = row[subject] if subject else None
        prospect_id: uuid.UUID | None = row[prospect] if prospect else None
        ctx.collector.touch(
            shape.type_name,
            str(row["id"]),
            customer_id=subject_id,
            prospect_id=prospect_id,
            read=read,
            masked=masked,
            denied=denied,
        )
    return objects


def build_one(
    cls: type[T],
    row: Mapping[str, Any] | None,
    ctx: RequestContext,
    info: Info[Any, Any],
    **options: Any,
) -> T | None:
    if row is None:
        return None
    return build(cls, [row], ctx, info, **options)[0]


async def root_object(
    info: Info[RequestContext, Any],
    type_name: str,
    id: str,
    load: Callable[[RequestContext], RowLoader],
    cls: type[T],
    **options: Any,
) -> T | None:
    """A root look-up by global ID (`site(id:)`): null when the ID is not one of the type,
    the principal may see no rows of it, or the row is unknown or outside the scope."""
    ctx = info.context
    key = parse_id(id, type_name)
    if key is None or not ctx.access.can_see_rows(type_name):
        return None
    return build_one(cls, await load(ctx).load(key), ctx, info, **options)


def root_object_field(
    cls: type[Any], load: Callable[[RequestContext], RowLoader], *, noun: str, **options: Any
) -> Any:
    """The root look-up field `(id: ID!)` of `cls` (see `root_object`; `options` as
    `build_one` takes them), described as one `noun` by ID."""
    type_name = cls.__strawberry_definition__.name

    async def resolve(info: Info[RequestContext, Any], id: str) -> Any:
        return await root_object(info, type_name, id, load, cls, **options)

    resolve.__annotations__ = {
        "info": Info[RequestContext, Any],
        "id": strawberry.ID,
        "return": cls | None,
    }
    return strawberry.field(
        resolver=resolve,
        description=f"One {noun} by ID; null when unknown or outside your scope.",
    )


def relation_allowed(ctx: RequestContext, type_name: str, field_name: str) -> bool:
    """A relation field (with a resolver) follows the same read decision as a data field."""
    return ctx.access.field(f"{type_name}.{field_name}") is not Access.DENY


async def related_list(
    info: Info[Any, Any],
    owner: str,
    field_name: str,
    load: Any,
    cls: type[T],
    key: Any,
    **options: Any,
) -> list[T] | None:
    """A list relation: denied as a whole by policy, else batch-loaded and shaped."""
    ctx: RequestContext = info.context
    if not relation_allowed(ctx, owner, field_name):
        ctx.collector.denied_coordinates.add(f"{owner}.{field_name}")
        return None
    rows = await load(ctx).load(key)
    return build(cls, rows, ctx, info, **options)


def relation_denied(info: Info[Any, Any]) -> bool:
    """Whether policy denies the relation field being resolved (`Invoice.customer`, named by
    the schema: its parent type and field); a denial is recorded in the access log."""
    ctx: RequestContext = info.context
    coordinate = f"{info.path.typename}.{info.field_name}"
    if ctx.access.field(coordinate) is not Access.DENY:
        return False
    ctx.collector.denied_coordinates.add(coordinate)
    return True


async def related_one(
    info: Info[Any, Any], load: Any, cls: type[T], key: Any, **options: Any
) -> T | None:
    """A single-object relation; an object outside the row scope is simply absent."""
    ctx: RequestContext = info.context
    if relation_denied(info):
        return None
    if key is None:
        return None
    row = await load(ctx).load(key)
    return build_one(cls, row, ctx, info, **options)
