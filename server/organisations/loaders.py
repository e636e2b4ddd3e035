"""Batched reads of organisations and assignments."""

from __future__ import annotations

from server.db.tables import table_of
from server.graphql.context import RequestContext
from server.graphql.loading import RowLoader, rows_by_id
from server.organisations.models import Assignment, Organisation

organisation_table = table_of(Organisation)
assignment_table = table_of(Assignment)


def organisations_by_id(ctx: RequestContext) -> RowLoader:
    """Organisations are not personal data: whoever may read their fields sees every one."""
    return rows_by_id(ctx, organisation_table, None)
