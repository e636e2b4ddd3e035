"""Reading mutation inputs: optional fields, the fields that were sent, GraphQL names."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from enum import Enum
from typing import Any

import strawberry
from strawberry.types.base import StrawberryObjectDefinition, StrawberryOptional
from strawberry.utils.str_converters import to_camel_case


def camel(name: str) -> str:
    """The GraphQL name of a Python (snake_case) field name."""
    return to_camel_case(name)


def optional(description: str) -> Any:
    """An optional input field: left out, it is UNSET (not null)."""
    return strawberry.field(default=strawberry.UNSET, description=description)


def filter_field(description: str, *, name: str | None = None) -> Any:
    """A field of a list filter: left out or null, it does not filter."""
    return strawberry.field(default=None, description=description, name=name)


def given(value: Any) -> bool:
    """True when an optional input field was sent (null counts as sent: it clears)."""
    return value is not strawberry.UNSET


def value_of(value: Any) -> Any:
    """An optional input field's value; None when it was not sent."""
    return None if value is strawberry.UNSET else value


def given_fields(input_object: Any, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The input fields that were sent, by Python name, without the control fields."""
    skipped = set(exclude)
    return {
        f.name: getattr(input_object, f.name)
        for f in dataclasses.fields(input_object)
        if f.name not in skipped and given(getattr(input_object, f.name))
    }


def input_values(input_object: Any, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every field of an input by Python name, as a service takes it: None when not sent,
    an enum as its stored value."""
    skipped = set(exclude)
    return {
        f.name: _plain(value_of(getattr(input_object, f.name)))
        for f in dataclasses.fields(input_object)
        if f.name not in skipped
    }


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def change_arguments(input_object: Any) -> dict[str, Any]:
    """How a change reads its input: the IDs (the rows it names) and the reason by name
    (None when not sent), and the other fields that were sent as `fields` (null counts as
    sent: it clears)."""
    control = [name for name, kind in field_types(input_object) if kind is strawberry.ID]
    control += ["reason"] if hasattr(input_object, "reason") else []
    sent = given_fields(input_object, exclude=control)
    return {
        "fields": {name: _plain(value) for name, value in sent.items()},
        **{name: value_of(getattr(input_object, name)) for name in control},
    }


def field_types(strawberry_type: Any) -> list[tuple[str, Any]]:
    """The fields of a Strawberry input or type (a class or an instance), by Python name,
    with their types stripped of optionality."""
    definition: StrawberryObjectDefinition = strawberry_type.__strawberry_definition__
    return [
        (f.python_name, f.type.of_type if isinstance(f.type, StrawberryOptional) else f.type)
        for f in definition.fields
    ]
