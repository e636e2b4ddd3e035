"""Checks shared by root fields: IDs, and filters that would reveal hidden fields."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from strawberry.utils.str_converters import to_camel_case

from server.authz.access import AccessView
from server.authz.decision import Access
from server.graphql.context import RequestContext
from server.graphql.errors import ForbiddenError, UserInputError
from server.graphql.globalid import decode_id
from server.graphql.relay import PageRequest, cursor_uuid, page_request


def parse_id(value: str, type_name: str | None = None) -> uuid.UUID | None:
    """An ID argument: a global ID (of `type_name`, when given) or a bare UUID; a malformed
    ID, or another type's global ID, behaves as an unknown one (None)."""
    return decode_id(value, type_name)


@dataclass(frozen=True, slots=True)
class FilterId:
    """An ID given to a list filter (`filter: {customerId: ...}`): `key` is None when none
    was given, and when the one given names no object of the type (then nothing matches)."""

    given: bool
    key: uuid.UUID | None

    @property
    def matches_nothing(self) -> bool:
        return self.given and self.key is None


def filter_id(value: str | None, type_name: str) -> FilterId:
    return FilterId(bool(value), parse_id(value, type_name) if value else None)


def require_id(value: str, *, field: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise UserInputError(f"{field} is not a valid ID", field=field, reason="not an ID")
    return parsed


class HasAccess(Protocol):
    """What a check needs of a request: its access view and purpose (a RequestContext, or
    a planner's stand-in)."""

    @property
    def access(self) -> AccessView: ...

    @property
    def purpose(self) -> str: ...


def require_readable_for_filter(ctx: HasAccess, coordinate: str, argument: str) -> None:
    """Filtering on a field reveals it, so it needs full read access to that field."""
    if ctx.access.field(coordinate) is not Access.READ:
        raise ForbiddenError(
            f"Filter {argument} needs read access to {coordinate}",
            coordinate=coordinate,
            purpose=ctx.purpose,
        )


def checked_filter(
    ctx: HasAccess, chosen: object | None, coordinates: Mapping[str, str]
) -> dict[str, Any]:
    """The fields of a filter input that were given (enums as their stored values), after
    the check that the principal may read in full each field one of them tests. `chosen`
    is a Strawberry input or a dict by GraphQL name (the planner's arguments)."""
    values: dict[str, Any] = {}
    for name, coordinate in coordinates.items():
        if isinstance(chosen, Mapping):  # the planner's arguments, by GraphQL name
            value = chosen.get(to_camel_case(name))
        else:
            value = getattr(chosen, name, None)
        if value is None:
            continue
        require_readable_for_filter(ctx, coordinate, f"filter.{to_camel_case(name)}")
        values[name] = getattr(value, "value", value)
    return values


def int_cursor(value: str, *, field: str = "after") -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise UserInputError("Invalid cursor", field=field, reason="not a cursor") from exc


def open_page(
    ctx: RequestContext,
    first: int | None,
    after: str | None,
    *,
    type_name: str,
    last: int | None = None,
    before: str | None = None,
    cursor: Callable[..., object] = cursor_uuid,
) -> PageRequest | None:
    """Checked paging arguments of a root connection whose cursors name rows by UUID (or
    as `cursor` reads them, called as `cursor(value, field=...)`); None when the principal
    may see no rows of `type_name` (the connection is then empty, as if nothing existed)."""
    page = page_request(
        first,
        after,
        last=last,
        before=before,
        default=ctx.settings.default_page_size,
        maximum=ctx.settings.max_page_size,
    )
    for name, value, _ in page.cursors:
        cursor(value, field=name)
    if not ctx.access.can_see_rows(type_name):
        return None
    return page
