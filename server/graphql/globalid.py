"""Global object identification: every object of the register has an opaque, global ID
(the base64 of "Type:key", as Relay's servers make them) and can be fetched again with
`node(id:)`. The access log keeps recording the row's own key (its UUID).

Arguments that name an object (`customer(id:)`, `filter.customerId`, mutation inputs) take
the global ID, and still accept the row's bare UUID (see docs/graphql.md).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import strawberry

from server.graphql.errors import UserInputError


def to_global_id(type_name: str, key: Any) -> str:
    """The global ID of the object of `type_name` whose key is `key`."""
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def from_global_id(value: str) -> tuple[str, str] | None:
    """(type, key) of a global ID; None when `value` is not one."""
    try:
        text = base64.b64decode(value.encode("ascii"), validate=True).decode()
    except (ValueError, binascii.Error, UnicodeError):
        return None
    type_name, separator, key = text.partition(":")
    if not separator or not type_name.isidentifier() or not key:
        return None
    return type_name, key


def decode_id(value: object, type_name: str | None = None) -> uuid.UUID | None:
    """The UUID an ID argument names: a global ID whose key is a UUID (of `type_name`, when
    given), or a bare UUID (the form before global IDs). None when it is neither."""
    text = str(value)
    decoded = from_global_id(text)
    if decoded is not None and type_name is not None and decoded[0] != type_name:
        return None
    key = decoded[1] if decoded is not None else text
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def require_global_id(value: object, *, field: str) -> tuple[str, str]:
    """(type, key) of a global ID argument, else BAD_USER_INPUT naming the argument."""
    decoded = from_global_id(str(value))
    if decoded is None:
        raise UserInputError(f"{field} is not a global ID", field=field, reason="not a global ID")
    return decoded


def own_type_name(obj: object) -> str:
    definition: Any = getattr(type(obj), "__strawberry_definition__", None)
    assert definition is not None, "a Strawberry object"
    name: str = definition.name
    return name


@strawberry.interface(
    description="An object of the register with a global ID: fetch it again with "
    "`node(id:)`, and let client caches normalise by its `id`."
)
class Node:
    id: strawberry.Private[Any]  # the row's key: what relations and the access log use

    @strawberry.field(
        name="id", description="Global, opaque identifier; the same for every caller."
    )
    def global_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(own_type_name(self), self.id))
