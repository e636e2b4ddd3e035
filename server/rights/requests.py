"""The requests register: access, rectification, objection and restriction requests with
their deadline (one month, GDPR Art. 12(3), extendable by two further months)."""

from __future__ import annotations

import calendar
import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.tables import table_of
from server.graphql.relay import FilterValue, Visible, columns_equal, flag_condition
from server.rights.models import OPEN_REQUEST_STATUSES, DataSubjectRequest

request_table = table_of(DataSubjectRequest)
ANSWER_MONTHS = 1
MAX_EXTENSION_MONTHS = 2


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(received_on: date) -> date:
    return add_months(received_on, ANSWER_MONTHS)


def latest_extension(received_on: date) -> date:
    return add_months(received_on, ANSWER_MONTHS + MAX_EXTENSION_MONTHS)


def overdue_condition(today: date | ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(
        request_table.c.status.in_(OPEN_REQUEST_STATUSES),
        func.coalesce(request_table.c.extended_due_on, request_table.c.due_on) < today,
    )


def request_select(today: date | ColumnElement[Any]) -> Select[Any]:
    """Request rows with their `overdue` flag computed for `today`."""
    return select(request_table, overdue_condition(today).label("overdue"))


def request_filter_conditions(
    visible: Visible,
    *,
    overdue: FilterValue[bool] = None,
    status: FilterValue[str] = None,
    kind: FilterValue[str] = None,
    customer_id: FilterValue[uuid.UUID] = None,
    today: date | ColumnElement[Any],
) -> list[ColumnElement[bool]]:
    """SQL conditions for the requests-register filters (values or bind parameters; None:
    not given); they test only the request's own columns."""
    conditions = columns_equal(request_table, status=status, kind=kind, customer_id=customer_id)
    if overdue is not None:
        conditions.append(flag_condition(overdue_condition(today), overdue))
    return conditions


async def record_request(
    *,
    session: AsyncSession,
    customer_id: uuid.UUID,
    kind: str,
    channel: str,
    received_on: date,
    created_by: str,
    handler: str | None,
    reference: str = "",
    notes: str = "",
) -> uuid.UUID:
    request_id = uuid.uuid4()
    await session.execute(
        insert(request_table).values(
            id=request_id,
            customer_id=customer_id,
            kind=kind,
            channel=channel,
            received_on=received_on,
            due_on=due_date(received_on),
            status="received",
            handler=handler,
            reference=reference,
            notes=notes,
            created_by=created_by,
        )
    )
    return request_id
