"""Register objects whose every change is kept in their customer's history (customers and
sites): created with a reason, rectified with a reason or the data-subject request answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert

from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.loading import Row
from server.operations.inputs import require_reason
from server.operations.writes import Writes, load_in_scope, row_of
from server.rights.history import request_of_customer, update_with_history, write_with_history
from server.rights.models import ChangeAction, ChangedType

# Canonical values for the fields sent, given the row as it is (BAD_USER_INPUT otherwise).
Validate = Callable[[RequestContext, Row, Mapping[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Changed:
    """An object after a change (None when the change took it out of the principal's
    scope) and the history entry the change left (None when nothing changed)."""

    row: dict[str, Any] | None
    change_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Kept:
    """A GraphQL type whose rows keep their changes in a customer's history."""

    object_type: ChangedType  # its value is the GraphQL type's name
    table: Table
    customer_key: str  # the column naming the customer ("id": the row is the customer)
    id_field: str  # the input field naming the row to rectify
    validate: Validate

    @property
    def type_name(self) -> str:
        return self.object_type.value

    def customer_of(self, row: Row) -> uuid.UUID:
        customer_id: uuid.UUID = row[self.customer_key]
        return customer_id

    async def result(self, ctx: RequestContext, row_id: uuid.UUID, change_id: Any) -> Changed:
        """The row after the change, through the principal's row scope."""
        return Changed(await row_of(ctx, self.table, row_id, scope=self.type_name), change_id)

    async def create(
        self,
        ctx: RequestContext,
        values: Mapping[str, Any],
        *,
        reason: str,
        customer_id: uuid.UUID | None = None,
    ) -> Changed:
        """A new row and its creation entry in the history."""
        row_id = uuid.uuid4()
        owner = {} if customer_id is None else {self.customer_key: customer_id}
        await ctx.session.execute(insert(self.table).values(id=row_id, **owner, **values))
        change_id = await write_with_history(
            ctx,
            type_name=self.type_name,
            object_type=self.object_type,
            customer_id=customer_id or row_id,
            object_id=row_id,
            action=ChangeAction.CREATE,
            old={},
            new=values,
            reason=reason,
        )
        return await self.result(ctx, row_id, change_id)

    async def update(
        self,
        ctx: RequestContext,
        current: Row,
        values: Mapping[str, Any],
        *,
        reason: str | None,
        request_id: uuid.UUID | None,
    ) -> Changed:
        """Write the fields that change and keep their previous values in the history."""
        change_id = await update_with_history(
            ctx,
            table=self.table,
            type_name=self.type_name,
            object_type=self.object_type,
            current=current,
            customer_id=self.customer_of(current),
            values=values,
            reason=reason,
            request_id=request_id,
        )
        return await self.result(ctx, current["id"], change_id)

    async def rectify(
        self,
        ctx: RequestContext,
        row_id: Any,
        *,
        fields: Mapping[str, Any],
        reason: str | None,
        request_id: Any | None,
    ) -> Changed:
        """A rectification of the fields sent: checked, with a reason or a request of the
        customer, validated against the row as it is."""
        Writes(self.type_name, tuple(fields)).check(ctx)
        if not fields:
            raise UserInputError("Nothing to change", field="input", reason="no fields given")
        require_reason(reason, request_id)
        current = await load_in_scope(ctx, self.table, self.type_name, row_id, field=self.id_field)
        values = await self.validate(ctx, current, fields)
        request = await request_of_customer(
            ctx.session, request_id, self.customer_of(current), field="input.requestId"
        )
        return await self.update(
            ctx,
            current,
            values,
            reason=reason.strip() if reason else None,
            request_id=request,
        )
