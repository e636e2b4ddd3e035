"""Named row scopes and filters: the SQL behind the names that the policy grants.

A scope widens (a role sees the union of its scopes' rows); a filter narrows (every filter
granted for the purpose applies). Both are SQL predicates over the type's table, so rows are
filtered in the database, never in Python. Each domain registers the scopes and filters of
its own types (`server/<domain>/scopes.py`); the root schema registers every domain before a
policy is loaded, and a policy that names an unregistered one is rejected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true


@dataclass(frozen=True, slots=True)
class ScopeEnv:
    """What a predicate may depend on: the caller's organisation, today's date and the
    purpose of the request.

    Each value is used only inside SQL comparisons, never in Python logic, so a caller may
    pass SQLAlchemy bind parameters instead of values (`bindparam("organisation_id")`, ...)
    and build SQL once that is cached and executed with different values."""

    organisation_id: uuid.UUID | ColumnElement[Any]
    today: date | ColumnElement[Any]
    purpose: str | ColumnElement[Any]


Predicate = Callable[[ScopeEnv], ColumnElement[bool]]

# GraphQL type name -> scope or filter name -> predicate, in the order registered.
ROW_SCOPES: dict[str, dict[str, Predicate]] = {}
ROW_FILTERS: dict[str, dict[str, Predicate]] = {}


def everything(env: ScopeEnv) -> ColumnElement[bool]:
    return true()


def register_scopes(type_name: str, **scopes: Predicate) -> None:
    """Row scopes of a type the policy may grant with `rows:<name>`; `all` comes with it."""
    ROW_SCOPES.setdefault(type_name, {"all": everything}).update(scopes)


def register_filters(type_name: str, filters: dict[str, Predicate]) -> None:
    """Row filters of a type the policy may require with `filter:<name>`."""
    ROW_FILTERS.setdefault(type_name, {}).update(filters)


def row_predicate(
    type_name: str, scopes: tuple[str, ...], filters: tuple[str, ...], env: ScopeEnv
) -> ColumnElement[bool]:
    """The WHERE condition for a type: OR of granted scopes, AND of required filters."""
    if not scopes:
        return false()
    if "all" in scopes:
        widened: ColumnElement[bool] = true()
    else:
        widened = or_(*(ROW_SCOPES[type_name][name](env) for name in scopes))
    narrowed = [ROW_FILTERS[type_name][name](env) for name in filters]
    return and_(widened, *narrowed) if narrowed else widened
