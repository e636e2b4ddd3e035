"""Rectification with history: every change to a customer's or a site's data is kept with
its previous values, who made it, when and why; `Customer.history` shows it through the
same field decisions as the fields themselves."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.tables import table_of
from server.graphql.connections import NestedList
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.globalid import to_global_id
from server.graphql.inputs import camel
from server.graphql.loading import Row
from server.graphql.relay import SortKey
from server.operations.inputs import parse_uuid
from server.operations.writes import Actor, json_value, record_write
from server.rights.models import ChangeAction, ChangedType, ChangeRecord, DataSubjectRequest

change_table = table_of(ChangeRecord)
request_table = table_of(DataSubjectRequest)


def differences(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose value changes, as (previous, new) JSON values by GraphQL name."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in new.items():
        was, now = json_value(old.get(name)), json_value(value)
        if was != now:
            before[name] = was
            after[name] = now
    return before, after


def change_row(
    *,
    customer_id: uuid.UUID,
    object_type: ChangedType,
    object_id: uuid.UUID,
    action: ChangeAction,
    old_values: Mapping[str, Any],
    new_values: Mapping[str, Any],
    actor: Actor,
    reason: str | None = None,
    request_id: uuid.UUID | None = None,
    log_request_id: uuid.UUID | None = None,
) -> dict[str, Any] | None:
    """The history row of one change (GraphQL field names -> values); None when nothing
    changed."""
    before, after = differences(old_values, new_values)
    if not after and action is ChangeAction.UPDATE:
        return None
    return {
        "id": uuid.uuid4(),
        "customer_id": customer_id,
        "object_type": object_type.value,
        "object_id": object_id,
        "action": action.value,
        "old_values": before,
        "new_values": after,
        "reason": reason,
        "request_id": request_id,
        "changed_by": actor.ref,
        "changed_by_name": actor.name,
        "organisation": actor.organisation,
        "log_request_id": log_request_id,
    }


async def record_change(*, session: AsyncSession, **change: Any) -> uuid.UUID | None:
    """Store one change (the arguments of `change_row`); None when nothing changed."""
    row = change_row(**change)
    if row is None:
        return None
    await session.execute(insert(change_table).values(**row))
    change_id: uuid.UUID = row["id"]
    return change_id


async def request_of_customer(
    session: AsyncSession, value: Any, customer_id: uuid.UUID, *, field: str
) -> uuid.UUID | None:
    """A data-subject request given as the reason of a change: it must be this customer's."""
    if value is None:
        return None
    request_id = parse_uuid(value, field=field)
    found = await session.scalar(
        select(request_table.c.id).where(
            request_table.c.id == request_id, request_table.c.customer_id == customer_id
        )
    )
    if found is None:
        raise UserInputError(
            f"{field}: no such request of this customer", field=field, reason="not found"
        )
    return request_id


CHANGES_OF_CUSTOMER = NestedList(
    "changes_of_customer",
    change_table,
    change_table.c.customer_id,
    (SortKey("changed_at", descending=True), SortKey("id", descending=True)),
)


def change_rows(rows: list[Row]) -> list[dict[str, Any]]:
    """Rows for `CustomerChange`: the stored record plus the field pairs, still unfiltered."""
    shaped = []
    for row in rows:
        old, new = row["old_values"] or {}, row["new_values"] or {}
        request = row["request_id"]
        names = sorted(set(old) | set(new))
        shaped.append(
            {
                **row,
                # References to other objects are their global IDs, as everywhere.
                "object_id": to_global_id(row["object_type"], row["object_id"]),
                "request_id": request and to_global_id("DataSubjectRequest", request),
                "changed_by": row["changed_by_name"],
                "changed_type": row["object_type"],
                "pairs": [(name, old.get(name), new.get(name)) for name in names],
            }
        )
    return shaped


async def write_with_history(
    ctx: RequestContext,
    *,
    type_name: str,
    object_type: ChangedType,
    customer_id: uuid.UUID,
    object_id: uuid.UUID,
    action: ChangeAction,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    reason: str | None,
    request_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """The history entry and the access-log record of a change already written."""
    change_id = await record_change(
        session=ctx.session,
        customer_id=customer_id,
        object_type=object_type,
        object_id=object_id,
        action=action,
        old_values={camel(k): v for k, v in old.items()},
        new_values={camel(k): v for k, v in new.items()},
        actor=Actor.of(ctx),
        reason=reason,
        request_id=request_id,
        log_request_id=ctx.request_id,
    )
    record_write(ctx, type_name, object_id, customer_id=customer_id, fields=new)
    return change_id


async def update_with_history(
    ctx: RequestContext,
    *,
    table: Any,
    type_name: str,
    object_type: ChangedType,
    current: Row,
    customer_id: uuid.UUID,
    values: Mapping[str, Any],
    reason: str | None,
    request_id: uuid.UUID | None,
) -> uuid.UUID | None:
    """Write the fields that change and keep their previous values in the history."""
    changed = {k: v for k, v in values.items() if current[k] != v}
    if not changed:
        return None
    await ctx.session.execute(
        update(table).where(table.c.id == current["id"]).values(**changed, updated_at=func.now())
    )
    return await write_with_history(
        ctx,
        type_name=type_name,
        object_type=object_type,
        customer_id=customer_id,
        object_id=current["id"],
        action=ChangeAction.UPDATE,
        old={k: current[k] for k in changed},
        new=changed,
        reason=reason,
        request_id=request_id,
    )
