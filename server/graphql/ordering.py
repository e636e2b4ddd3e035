"""`orderBy` of root connections: per type, an enum of the fields a list can be ordered by
and an input `{field, direction}`; a list of them becomes the keys of the page's order,
completed by the ID as a unique tie-breaker so that cursors stay stable.

Ordering reveals a field's values (their order), so it needs full read access to the field,
as a filter on it does: a masked or denied field is FORBIDDEN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import Table

from server.authz.decision import Access
from server.graphql.errors import ForbiddenError
from server.graphql.guards import HasAccess
from server.graphql.relay import ID_KEY, SortKey


@strawberry.enum(description="Direction of an order; empty values come last either way.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest, earliest or A first.")
    DESC = strawberry.enum_value("DESC", description="Largest, latest or Z first.")


@dataclass(frozen=True, slots=True)
class SortField:
    """A field a list can be ordered by: its column and the coordinate ordering reveals."""

    column: str
    coordinate: str
    description: str


@dataclass(frozen=True, slots=True)
class Sortable:
    """What one type offers to `orderBy`: its table, fields and default order."""

    type_name: str
    table: Table
    fields: Mapping[str, SortField]
    default: tuple[SortKey, ...]

    def complete(self, keys: Iterable[SortKey]) -> tuple[SortKey, ...]:
        """`keys` ending with a unique, not-null key: the ID is added unless one is there."""
        chosen = tuple(keys)
        last = chosen[-1].column if chosen else None
        column = self.table.c[last] if last else None
        if column is None or column.nullable or not (column.unique or column.primary_key):
            chosen += (ID_KEY,)
        return chosen

    def keys(self, terms: Sequence[tuple[str, bool]]) -> tuple[SortKey, ...]:
        """The order of `(field, descending)` terms (the default order when none)."""
        if not terms:
            return self.default
        keys: list[SortKey] = []
        for name, descending in dict(terms).items():  # a field given twice counts once
            column = self.fields[name].column
            keys.append(SortKey(column, descending, bool(self.table.c[column].nullable)))
        return self.complete(keys)

    def coordinates(self, terms: Sequence[tuple[str, bool]]) -> list[str]:
        return [self.fields[name].coordinate for name, _ in terms]


# Every `<Type>OrderField` enum and its sortable (per-role introspection prunes the values).
ORDER_ENUMS: dict[str, Sortable] = {}


def order_input(sortable: Sortable) -> type[Any]:
    """The `<Type>Order` input type, with its `<Type>OrderField` enum."""
    noun = sortable.type_name
    ORDER_ENUMS[f"{noun}OrderField"] = sortable
    members = {
        name: strawberry.enum_value(name, description=field.description)
        for name, field in sortable.fields.items()
    }
    members_enum: Any = Enum(f"{noun}OrderField", members)  # type: ignore[misc]
    field_enum = strawberry.enum(
        members_enum,
        description=f"Fields a list of {noun} objects can be ordered by (each needs read "
        "access to the field).",
    )
    namespace: dict[str, Any] = {
        "__annotations__": {"field": field_enum, "direction": OrderDirection},
        "__module__": __name__,
        "field": strawberry.field(description="The field to order by."),
        "direction": strawberry.field(
            default=OrderDirection.ASC, description="Ascending (default) or descending."
        ),
    }
    return strawberry.input(
        type(f"{noun}Order", (), namespace),
        description=f"One key of the order of a {noun} list; the ID breaks ties.",
    )


def order_terms(order_by: Sequence[Any] | None) -> list[tuple[str, bool]]:
    """`(field, descending)` of each `orderBy` item (Strawberry inputs or plain dicts)."""
    terms: list[tuple[str, bool]] = []
    for item in order_by or ():
        field = item["field"] if isinstance(item, Mapping) else item.field
        direction = item.get("direction") if isinstance(item, Mapping) else item.direction
        terms.append((str(field.value), direction is OrderDirection.DESC))
    return terms


def require_readable_for_order(
    ctx: HasAccess, sortable: Sortable, terms: Sequence[tuple[str, bool]]
) -> None:
    """Ordering reveals the order of a field's values: it needs full read access."""
    for coordinate in sortable.coordinates(terms):
        if ctx.access.field(coordinate) is not Access.READ:
            raise ForbiddenError(
                f"orderBy needs read access to {coordinate}",
                coordinate=coordinate,
                purpose=ctx.purpose,
            )
