"""The Core table behind a SQLModel table class, typed."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, inspect
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """`model.__table__`, which SQLModel does not declare: the one cast for every domain."""
    return cast(Table, inspect(model).local_table)
