"""Assignments as row scopes: the rows an organisation was assigned, for the purpose of the
request, valid today and not revoked. The domains of the assigned rows register the scopes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select

from server.authz.scopes import ScopeEnv
from server.db.tables import table_of
from server.organisations.models import Assignment

assignment = table_of(Assignment).c


def assignment_valid(env: ScopeEnv) -> ColumnElement[bool]:
    """An assignment to the caller's organisation, for the purpose of the request (an
    assignment for marketing gives nothing under delivery), valid today and not revoked."""
    return and_(
        assignment.organisation_id == env.organisation_id,
        assignment.purpose == env.purpose,
        assignment.valid_from <= env.today,
        or_(assignment.valid_to.is_(None), assignment.valid_to >= env.today),
        assignment.revoked_at.is_(None),
    )


def assigned(key: str, row_id: Any, env: ScopeEnv) -> ColumnElement[bool]:
    """The row whose ID is `row_id` is assigned through the assignment's column `key`."""
    return exists().where(assignment[key] == row_id, assignment_valid(env))


def assigned_site_ids(env: ScopeEnv) -> Select[Any]:
    return select(assignment.site_id).where(assignment.site_id.is_not(None), assignment_valid(env))
