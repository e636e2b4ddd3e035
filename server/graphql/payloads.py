"""Mutation payloads and stored values as the principal may see them."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition

from server.authz.decision import Access
from server.graphql.context import RequestContext
from server.graphql.inputs import camel
from server.graphql.shaping import build_one
from server.operations.writes import json_value

T = TypeVar("T")


def payload(cls: type[T], ctx: RequestContext, **values: Any) -> T:
    """A payload object with the fields the principal may not read set to null (and named
    in a FORBIDDEN error), like every other policed type."""
    definition: StrawberryObjectDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    shown: dict[str, Any] = {}
    for f in definition.fields:
        name = f.graphql_name or camel(f.python_name)
        value = values.get(f.python_name)
        if value is not None and ctx.access.field(f"{definition.name}.{name}") is Access.DENY:
            ctx.collector.denied_coordinates.add(f"{definition.name}.{name}")
            value = None
        shown[f.python_name] = value
    return cls(**shown)


def payload_of(
    info: Info[RequestContext, Any],
    cls: type[T],
    field: str,
    kind: type[Any],
    row: Any,
    *,
    values: dict[str, Any] | None = None,
    **options: Any,
) -> T:
    """A payload whose `field` is the object of type `kind` built from `row` (through the
    field policy; None when the row is None), with any other `values`."""
    ctx = info.context
    built = build_one(kind, row, ctx, info, through=(camel(field),), **options)
    return payload(cls, ctx, **{field: built}, **(values or {}))


def optional_id(value: uuid.UUID | None) -> strawberry.ID | None:
    """An ID field of a payload that may be empty (no history entry when nothing changed)."""
    return strawberry.ID(str(value)) if value else None


def shown_value(ctx: RequestContext, coordinate: str, value: Any) -> tuple[str | None, bool]:
    """A stored value as the principal may see it through the field's own decision:
    (value or None, withheld). Masked fields are masked; denied ones are withheld."""
    access = ctx.access.field(coordinate)
    if access is Access.DENY:
        return None, True
    if value is None:
        return None, False
    text = value if isinstance(value, str) else str(json_value(value))
    if access is Access.READ:
        return text, False
    mask = ctx.access.mask_for(coordinate)
    return (mask(text) if mask else None), mask is None
