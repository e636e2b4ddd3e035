"""How the access log names fields: by their GraphQL coordinate, whoever read them.

A field is logged under its GraphQL type and its name in the schema:
`Customer.personalIdentityCode` is type `Customer`, field `personalIdentityCode`, whether a
GraphQL query selected it, the access report showed it, retention emptied it or an import
wrote it. GraphQL reads take the names from the query; code that works on model columns
declares its columns here and gets the names from the Strawberry type of the object. An
unknown column raises `UnknownField` while the module declaring it is imported, so a
misspelt or stale name never reaches the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.private import is_private
from strawberry.utils.str_converters import to_camel_case


class UnknownField(LookupError):
    """A name that is no field of the GraphQL type it was declared for."""


@dataclass(frozen=True, slots=True)
class LoggedFields:
    """Fields of one GraphQL type, named as the access log names them."""

    type_name: str
    fields: tuple[str, ...]

    @property
    def coordinates(self) -> tuple[str, ...]:
        """Type.field of each field, as the policy names them."""
        return tuple(f"{self.type_name}.{name}" for name in self.fields)


def _definition(strawberry_type: type[Any]) -> StrawberryObjectDefinition:
    definition = getattr(strawberry_type, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryObjectDefinition):
        raise TypeError(f"{strawberry_type!r} is not a Strawberry type")
    return definition


_NAMES: dict[type[Any], Mapping[str, str]] = {}


def graphql_names(strawberry_type: type[Any]) -> Mapping[str, str]:
    """Python name (the model column it shows) -> GraphQL name, for every field of the type."""
    names = _NAMES.get(strawberry_type)
    if names is None:
        names = _NAMES[strawberry_type] = {
            f.python_name: f.graphql_name or to_camel_case(f.python_name)
            for f in _definition(strawberry_type).fields
            if f.type_annotation is None or not is_private(f.type_annotation.annotation)
        }
    return names


def _field_of(
    strawberry_type: type[Any], column: str, shown_as: Mapping[str, str | None]
) -> str | None:
    names = graphql_names(strawberry_type)
    type_name = _definition(strawberry_type).name
    if column in shown_as:
        chosen = shown_as[column]
        if chosen is not None and chosen not in names.values():
            raise UnknownField(f"{type_name}.{chosen} (for {column}) is no field of the schema")
        return chosen
    if column not in names:
        raise UnknownField(f"{type_name} has no field for the column {column}")
    return names[column]


def logged(
    strawberry_type: type[Any],
    *columns: str,
    shown_as: Mapping[str, str | None] | None = None,
) -> LoggedFields:
    """The fields of the type that show these columns of its rows, in their order.

    A column is the Python name of a field of the type (the model column it shows), or a
    key of `shown_as`, which names the GraphQL field of the type that shows it (None: no
    field of this type shows it, so it is not logged under the type)."""
    fields: list[str] = []
    for column in columns:
        name = _field_of(strawberry_type, column, shown_as or {})
        if name is not None and name not in fields:
            fields.append(name)
    return LoggedFields(_definition(strawberry_type).name, tuple(fields))


def stored_columns(strawberry_type: type[Any]) -> tuple[str, ...]:
    """The columns of every field of the type stored in its row (not `id`, no resolver),
    in the type's order."""
    names = graphql_names(strawberry_type)
    return tuple(
        f.python_name
        for f in _definition(strawberry_type).fields
        if f.python_name in names and f.base_resolver is None and f.python_name != "id"
    )


def stored_fields(strawberry_type: type[Any]) -> LoggedFields:
    """Every field of the type stored in its row: what deleting an object writes."""
    return logged(strawberry_type, *stored_columns(strawberry_type))
