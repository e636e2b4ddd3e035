"""Field helpers: every field carries a description; personal data is marked as such."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

PERSONAL_DATA = "personal_data"


def data(description: str) -> Any:
    """A field of register data; the policy decides whether it is read, masked or denied."""
    return strawberry.field(description=description, default=None)


def personal(description: str) -> Any:
    """Personal data: `policy check` requires an explicit rule for every role."""
    return strawberry.field(description=description, default=None, metadata={PERSONAL_DATA: True})


def graphql_enum(enum: type[Enum], description: str, *, name: str | None = None) -> None:
    """Show a Python enum in the schema, with the same members and values.

    Strawberry marks the class itself, so fields are annotated with the enum class
    (`kind: CustomerKind | None`), a type that mypy accepts."""
    strawberry.enum(enum, name=name, description=description)
