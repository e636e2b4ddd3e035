"""Root query fields of the contracts domain."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from server.contracts.loaders import contract_filter_conditions, contract_page
from server.contracts.types import Contract, ContractStatusEnum
from server.graphql.context import RequestContext
from server.graphql.guards import (
    open_page,
    parse_id,
    require_readable_for_filter,
    uuid_cursor,
)
from server.graphql.relay import Connection, make_connection
from server.graphql.shaping import build


@strawberry.input(description="Filters for the contract list.")
class ContractFilter:
    status: ContractStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only contracts in this state."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this customer's contracts."
    )


@strawberry.type(description="Contract queries.")
class ContractQuery:
    @strawberry.field(description="Contracts in contract-number order, one page at a time.")
    async def contracts(
        self,
        info: Info[RequestContext, Any],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Cursor.")] = None,
        filter: Annotated[
            ContractFilter | None, strawberry.argument(description="Filters.")
        ] = None,
    ) -> Connection[Contract]:
        ctx = info.context
        page = open_page(ctx, first, after, cursor=uuid_cursor, type_name="Contract")
        if page is None:
            return Connection.empty()
        status = filter.status.value if filter and filter.status else None
        if status:
            require_readable_for_filter(ctx, "Contract.status", "filter.status")
        customer_id = parse_id(filter.customer_id) if filter and filter.customer_id else None
        if filter and filter.customer_id and customer_id is None:
            return Connection.empty()
        conditions = contract_filter_conditions(
            ctx.access.rows, status=status, customer_id=customer_id
        )
        rows = await contract_page(ctx=ctx, conditions=conditions, page=page)
        nodes = build(Contract, rows[: page.first], ctx, info, through=("edges", "node"))
        return make_connection(nodes, rows, page, key=lambda row: [row["id"]])
