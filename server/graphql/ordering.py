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
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Table

from server.authz.decision import Access
from server.graphql.errors import ForbiddenError
from server.graphql.guards import HasAccess
from server.graphql.relay import ID_KEY, SortKey

K = TypeVar("K")


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


class OrderInput:
    """The `<Type>Order` input `{field, direction}` of one sortable type: a subclass
    (`class CustomerOrder(OrderInput, sortable=CUSTOMER_ORDER): ...`, or `order_input`)
    becomes the Strawberry input, with its `<Type>OrderField` enum. A root connection field
    makes its own (`connections.root_connection_field`)."""

    field: Enum
    direction: OrderDirection

    def __init_subclass__(cls, *, sortable: Sortable, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        noun = sortable.type_name
        cls.__annotations__ = {"field": _field_enum(sortable), "direction": OrderDirection}
        fields = {
            "field": strawberry.field(description="The field to order by."),
            "direction": strawberry.field(
                default=OrderDirection.ASC, description="Ascending (default) or descending."
            ),
        }
        for name, definition in fields.items():
            setattr(cls, name, definition)
        strawberry.input(
            cls,
            name=f"{noun}Order",
            description=f"One key of the order of a {noun} list; the ID breaks ties.",
        )


# The `orderBy` argument of a root connection: `OrderBy[CustomerOrder]`.
OrderBy = Annotated[
    list[K] | None, strawberry.argument(description="The order: keys in priority order.")
]


def _field_enum(sortable: Sortable) -> Any:
    """The `<Type>OrderField` enum, registered for per-role introspection."""
    noun = sortable.type_name
    ORDER_ENUMS[f"{noun}OrderField"] = sortable
    members = {
        name: strawberry.enum_value(name, description=field.description)
        for name, field in sortable.fields.items()
    }
    members_enum: Any = Enum(f"{noun}OrderField", members)  # type: ignore[misc]
    return strawberry.enum(
        members_enum,
        description=f"Fields a list of {noun} objects can be ordered by (each needs read "
        "access to the field).",
    )


def order_input(sortable: Sortable) -> type[OrderInput]:
    """The `<Type>Order` input as a value (a subclass of OrderInput declares it as a type)."""

    class Order(OrderInput, sortable=sortable):
        pass

    return Order


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
