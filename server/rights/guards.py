"""What every mutation does the same way: write checks, row scope, history values, payloads.

A mutation checks `write` for the coordinate of every input field it was given before it
reads anything; one field it may not write refuses the whole mutation. Its target row is
loaded through the principal's row scope, so a row outside the scope behaves as unknown.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import strawberry
from sqlalchemy import Table, select
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.utils.str_converters import to_camel_case

from server.authz.decision import Access
from server.authz.principal import Principal
from server.graphql.context import RequestContext
from server.graphql.errors import ForbiddenError, UserInputError
from server.graphql.globalid import decode_id
from server.validators import find_identity_codes

T = TypeVar("T")


def camel(name: str) -> str:
    return to_camel_case(name)


def given(value: Any) -> bool:
    """True when an optional input field was sent (null counts as sent: it clears)."""
    return value is not strawberry.UNSET


def given_fields(input_object: Any, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The input fields that were sent, by Python name, without the control fields."""
    skipped = set(exclude)
    return {
        f.name: getattr(input_object, f.name)
        for f in dataclasses.fields(input_object)
        if f.name not in skipped and given(getattr(input_object, f.name))
    }


def require_write(ctx: RequestContext, type_name: str, python_names: Iterable[str]) -> None:
    """FORBIDDEN naming the first coordinate the principal may not write, if any."""
    for name in python_names:
        coordinate = f"{type_name}.{camel(name)}"
        if not ctx.access.can_write(coordinate):
            raise ForbiddenError(
                f"Not allowed to write {coordinate} for purpose {ctx.purpose}",
                coordinate=coordinate,
                purpose=ctx.purpose,
            )


def require_rows(ctx: RequestContext, type_name: str, *, field: str) -> None:
    """A root mutation on a type whose rows the principal cannot see finds nothing."""
    if not ctx.access.can_see_rows(type_name):
        raise not_found(field)


def not_found(field: str) -> UserInputError:
    return UserInputError(f"{field}: not found", field=field, reason="not found")


def parse_uuid(value: Any, *, field: str) -> uuid.UUID:
    """The row an ID input names (a global ID or a bare UUID); "not found" otherwise."""
    parsed = decode_id(value)
    if parsed is None:
        raise not_found(field)
    return parsed


async def fetch_one(ctx: RequestContext, statement: Any) -> dict[str, Any] | None:
    """The first row of a statement as a plain dict (None when there is none)."""
    row = (await ctx.session.execute(statement)).mappings().first()
    return dict(row) if row is not None else None


def enum_value(value: Any) -> str:
    """The stored text of a GraphQL enum input."""
    return str(getattr(value, "value", value))


async def load_in_scope(
    ctx: RequestContext, table: Table, type_name: str, value: Any, *, field: str, lock: bool = True
) -> dict[str, Any]:
    """The row with this ID inside the principal's row scope for `type_name`, locked for the
    update that follows; BAD_USER_INPUT "not found" on `field` otherwise."""
    require_rows(ctx, type_name, field=field)
    row_id = parse_uuid(value, field=field)
    statement = select(table).where(table.c.id == row_id, ctx.access.rows(type_name))
    if lock:
        statement = statement.with_for_update(of=table)
    row = await fetch_one(ctx, statement)
    if row is None:
        raise not_found(field)
    return row


def require_reason(reason: str | None, request_id: Any, *, field: str = "input.reason") -> None:
    """A change keeps why it was made: a free-text reason or a data-subject request."""
    if (reason is None or not reason.strip()) and not request_id:
        raise UserInputError(
            "Give a reason for the change or the data-subject request it answers",
            field=field,
            reason="reason or request required",
        )
    if reason is not None and len(reason) > 1000:
        raise UserInputError(
            "The reason is too long", field=field, reason="at most 1000 characters"
        )
    if reason is not None:
        refuse_identity_codes(reason, field=field)


def refuse_identity_codes(value: str, *, field: str) -> None:
    """Free text written to the register never holds a personal identity code: it would be
    shown in full to roles that see the code itself only masked or not at all. The error
    names the field, never the code."""
    if find_identity_codes(value):
        raise UserInputError(
            f"{field} contains a personal identity code; free text must not hold one (the "
            "code is kept only in its own field, shown by its own access rules)",
            field=field,
            reason="contains a personal identity code",
        )


def text_input(
    value: str | None, *, field: str, max_length: int, required: bool = False
) -> str | None:
    """Trimmed text within its column length; empty text is null (or refused if required).
    Text holding a personal identity code is refused: every free-text input of the
    mutations comes through here (reasons also through `require_reason`)."""
    if value is None:
        if required:
            raise UserInputError(f"{field} is required", field=field, reason="required")
        return None
    stripped = value.strip()
    if not stripped:
        if required:
            raise UserInputError(f"{field} must not be empty", field=field, reason="required")
        return None
    if len(stripped) > max_length:
        raise UserInputError(
            f"{field} is too long", field=field, reason=f"at most {max_length} characters"
        )
    refuse_identity_codes(stripped, field=field)
    return stripped


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


def record_write(
    ctx: RequestContext,
    type_name: str,
    object_id: Any,
    *,
    customer_id: uuid.UUID | None,
    fields: Iterable[str],
    prospect_id: uuid.UUID | None = None,
) -> None:
    """Put a write in the request's access log (GraphQL field names)."""
    ctx.collector.touch(
        type_name,
        str(object_id),
        customer_id=customer_id,
        prospect_id=prospect_id,
        read=[camel(f) for f in fields],
        operation="write",
    )


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


def as_mapping(row: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {**dict(row), **extra}
