"""Small helpers shared by the table definitions of every domain."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, func
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def id_field() -> Any:
    """A UUID primary key: not guessable, so IDs cannot be enumerated."""
    return Field(default_factory=new_id, primary_key=True)


def created_at_field() -> Any:
    return Field(
        default_factory=utcnow,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": func.now(), "nullable": False},
    )


def server_timestamp_field() -> Any:
    """A not-null timestamp the database sets (`now()`) when a row is inserted without it."""
    return Field(
        default=None,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": func.now(), "nullable": False},
    )


def timestamp_field(*, nullable: bool = True) -> Any:
    return Field(
        default=None,
        sa_type=DateTime(timezone=True),
        nullable=nullable,
    )


def required_timestamp_field() -> Any:
    """A not-null timestamp the code always gives."""
    return Field(sa_type=DateTime(timezone=True), nullable=False)


def enum_check(column: str, enum: type[StrEnum], *, name: str | None = None) -> CheckConstraint:
    """A CHECK constraint that keeps a text column inside the values of a Python enum."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name or f"{column}_allowed")


def valid_identifier_check(column: str, function: str) -> CheckConstraint:
    """A CHECK constraint that runs one of the fi_valid_* SQL functions."""
    return CheckConstraint(f"{column} IS NULL OR {function}({column})", name=f"{column}_valid")
