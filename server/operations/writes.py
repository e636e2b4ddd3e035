"""What every write does the same way: declare, check, load in scope, write, record.

A write is declared once as `Writes`: the GraphQL type and the fields it sets, by Python
(snake_case) name. From that one list derive the coordinates `write` is checked on, before
anything is read (one field the principal may not write refuses the whole mutation), and
the GraphQL names the access log records. A target row is loaded through the principal's
row scope, so a row outside the scope behaves as unknown.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import Table, insert, select, update
from strawberry.types.base import StrawberryObjectDefinition

from server.audit.coordinates import UnknownField, graphql_names
from server.authz.principal import Principal
from server.graphql.context import RequestContext
from server.graphql.errors import ForbiddenError, UserInputError
from server.operations.inputs import not_found, parse_uuid


@dataclass(frozen=True, slots=True)
class Writes:
    """The fields one write sets on a GraphQL type; `optional` ones count only once `when`
    says they were given."""

    type_name: str
    fields: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def when(self, **given: bool) -> Writes:
        """The write with the optional fields that were given."""
        unknown = set(given) - set(self.optional)
        if unknown:
            raise ValueError(f"not optional fields of {self.type_name}: {sorted(unknown)}")
        chosen = tuple(name for name in self.optional if given.get(name))
        return Writes(self.type_name, self.fields + chosen)

    @property
    def graphql_names(self) -> tuple[str, ...]:
        return tuple(field_name(self.type_name, name) for name in self.fields)

    @property
    def coordinates(self) -> tuple[str, ...]:
        return tuple(f"{self.type_name}.{name}" for name in self.graphql_names)

    def check(self, ctx: RequestContext) -> None:
        """FORBIDDEN naming the first coordinate the principal may not write, if any."""
        for coordinate in self.coordinates:
            if not ctx.access.can_write(coordinate):
                raise ForbiddenError(
                    f"Not allowed to write {coordinate} for purpose {ctx.purpose}",
                    coordinate=coordinate,
                    purpose=ctx.purpose,
                )

    def record(
        self,
        ctx: RequestContext,
        object_id: Any,
        *,
        customer_id: uuid.UUID | None,
        prospect_id: uuid.UUID | None = None,
    ) -> None:
        """Put the write in the request's access log."""
        record_write(
            ctx,
            self.type_name,
            object_id,
            customer_id=customer_id,
            prospect_id=prospect_id,
            fields=self.fields,
        )

    async def insert(
        self,
        ctx: RequestContext,
        table: Table,
        values: Mapping[str, Any],
        *,
        customer_id: uuid.UUID | None,
        prospect_id: uuid.UUID | None = None,
        row_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A new row with these values (and this ID, or a new one), recorded; its ID."""
        row_id = row_id or uuid.uuid4()
        await ctx.session.execute(insert(table).values(id=row_id, **values))
        self.record(ctx, row_id, customer_id=customer_id, prospect_id=prospect_id)
        return row_id

    async def update(
        self,
        ctx: RequestContext,
        table: Table,
        row_id: uuid.UUID,
        values: Mapping[str, Any],
        *,
        customer_id: uuid.UUID | None,
    ) -> None:
        """Set these values on the row, recorded. Only declared fields (or their `_id`
        columns) may be set."""
        undeclared = {k for k in values if k not in self.fields and k[:-3] not in self.fields}
        if undeclared:
            raise ValueError(f"{self.type_name} writes no {sorted(undeclared)}")
        await ctx.session.execute(update(table).where(table.c.id == row_id).values(**values))
        self.record(ctx, row_id, customer_id=customer_id)


@cache
def _names_of(type_name: str) -> Mapping[str, str]:
    # The schema imports every domain's service, so it is looked up on first use.
    from server.schema import schema

    definition = schema().get_type_by_name(type_name)
    if not isinstance(definition, StrawberryObjectDefinition):
        raise UnknownField(f"{type_name} is no type of the schema")
    return graphql_names(definition.origin)


def field_name(type_name: str, python_name: str) -> str:
    """The GraphQL name of a (Python-named) field of the type, as the schema names it: the
    same rule the access report, retention and the importers log by
    (server/audit/coordinates.py)."""
    names = _names_of(type_name)
    if python_name not in names:
        raise UnknownField(f"{type_name} has no field {python_name}")
    return names[python_name]


def record_write(
    ctx: RequestContext,
    type_name: str,
    object_id: Any,
    *,
    customer_id: uuid.UUID | None,
    fields: Iterable[str],
    prospect_id: uuid.UUID | None = None,
) -> None:
    """Put a write of these (Python-named) fields in the request's access log, by their
    GraphQL names."""
    ctx.collector.touch(
        type_name,
        str(object_id),
        customer_id=customer_id,
        prospect_id=prospect_id,
        read=[field_name(type_name, f) for f in fields],
        operation="write",
    )


def require_rows(ctx: RequestContext, type_name: str, *, field: str) -> None:
    """A root mutation on a type whose rows the principal cannot see finds nothing."""
    if not ctx.access.can_see_rows(type_name):
        raise not_found(field)


async def fetch_one(ctx: RequestContext, statement: Any) -> dict[str, Any] | None:
    """The first row of a statement as a plain dict (None when there is none)."""
    row = (await ctx.session.execute(statement)).mappings().first()
    return dict(row) if row is not None else None


async def load_in_scope(
    ctx: RequestContext,
    table: Table,
    type_name: str,
    value: Any,
    *,
    field: str,
    lock: bool = True,
    where: Any = None,
) -> dict[str, Any]:
    """The row with this ID inside the principal's row scope for `type_name` (or inside
    `where`, for a type in scope through another: a deposit through its customer), locked
    for the update that follows; BAD_USER_INPUT "not found" on `field` otherwise."""
    if where is None:
        require_rows(ctx, type_name, field=field)
        where = ctx.access.rows(type_name)
    row_id = parse_uuid(value, field=field)
    statement = select(table).where(table.c.id == row_id, where)
    if lock:
        statement = statement.with_for_update(of=table)
    row = await fetch_one(ctx, statement)
    if row is None:
        raise not_found(field)
    return row


async def columns_of(ctx: RequestContext, value: Any, *columns: Any, field: str) -> Any:
    """The row this ID names (whatever the principal's scope) as (ID, *columns);
    BAD_USER_INPUT "not found" on `field` when there is none."""
    row_id = parse_uuid(value, field=field)
    table = columns[0].table
    found = (await ctx.session.execute(select(*columns).where(table.c.id == row_id))).first()
    if found is None:
        raise not_found(field)
    return (row_id, *found)


async def refuse_duplicate(
    ctx: RequestContext, column: Any, value: Any, message: str, *, row_id: Any, field: str
) -> None:
    """BAD_USER_INPUT "duplicate" naming `field` when a row other than `row_id` (None: any
    row) already holds this value in `column`."""
    if not value:
        return
    table = column.table
    statement = select(table.c.id).where(column == value)
    if row_id is not None:
        statement = statement.where(table.c.id != row_id)
    if await ctx.session.scalar(statement) is not None:
        raise UserInputError(message, field=field, reason="duplicate")


async def row_of(
    ctx: RequestContext, table: Table, row_id: uuid.UUID, *, scope: str | None = None
) -> dict[str, Any] | None:
    """A row after the write, inside the row scope of type `scope` when one is named."""
    statement = select(table).where(table.c.id == row_id)
    if scope is not None:
        statement = statement.where(ctx.access.rows(scope))
    return await fetch_one(ctx, statement)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, as the history and the registers name them."""

    ref: str
    name: str
    organisation: str | None

    @classmethod
    def of(cls, ctx: RequestContext) -> Actor:
        return cls.of_principal(ctx.principal)

    @classmethod
    def of_principal(cls, principal: Principal) -> Actor:
        return cls(principal.log_ref, principal.name[:150], principal.organisation_code[:40])


def json_value(value: Any) -> Any:
    """A value as the history stores it in JSONB."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return json_value(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return str(value)
