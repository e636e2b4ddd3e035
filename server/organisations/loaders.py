"""Batched reads of organisations and assignments."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from server.db.tables import table_of
from server.graphql.context import RequestContext
from server.graphql.loading import by_id_loader
from server.organisations.models import Assignment, Organisation

organisation_table = table_of(Organisation)
assignment_table = table_of(Assignment)


def organisations_by_id(ctx: RequestContext) -> Any:
    """Organisations are not personal data: whoever may read their fields sees every one."""

    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return select(organisation_table).where(organisation_table.c.id.in_(ids))

    return by_id_loader(ctx, "organisation_by_id", statement)
