"""Root query fields of the billing domain."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from server.billing.loaders import invoice_filter_conditions, invoice_page, invoices_by_id
from server.billing.types import Invoice, InvoiceStatusEnum
from server.graphql.context import RequestContext
from server.graphql.guards import (
    open_page,
    parse_id,
    require_readable_for_filter,
    uuid_cursor,
)
from server.graphql.relay import Connection, make_connection
from server.graphql.shaping import build, build_one


@strawberry.input(description="Filters for the invoice list.")
class InvoiceFilter:
    status: InvoiceStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only invoices in this state."
    )
    overdue: bool | None = strawberry.field(
        default=None, description="True: overdue (past due and unpaid); false: not overdue."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this customer's invoices."
    )


@strawberry.type(description="Invoice queries.")
class BillingQuery:
    @strawberry.field(description="One invoice by ID; null when unknown or outside your scope.")
    async def invoice(self, info: Info[RequestContext, Any], id: strawberry.ID) -> Invoice | None:
        ctx = info.context
        invoice_id = parse_id(id)
        if invoice_id is None or not ctx.access.can_see_rows("Invoice"):
            return None
        return build_one(Invoice, await invoices_by_id(ctx).load(invoice_id), ctx, info)

    @strawberry.field(description="Invoices, newest invoice number first, one page at a time.")
    async def invoices(
        self,
        info: Info[RequestContext, Any],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Cursor.")] = None,
        filter: Annotated[InvoiceFilter | None, strawberry.argument(description="Filters.")] = None,
    ) -> Connection[Invoice]:
        ctx = info.context
        page = open_page(ctx, first, after, cursor=uuid_cursor, type_name="Invoice")
        if page is None:
            return Connection.empty()
        chosen = filter or InvoiceFilter()
        if chosen.status is not None or chosen.overdue is not None:
            require_readable_for_filter(ctx, "Invoice.status", "filter.status")
        customer_id = parse_id(chosen.customer_id) if chosen.customer_id else None
        if chosen.customer_id and customer_id is None:
            return Connection.empty()
        conditions = invoice_filter_conditions(
            ctx.access.rows,
            status=chosen.status.value if chosen.status else None,
            overdue=chosen.overdue,
            customer_id=customer_id,
            today=ctx.access.today,
        )
        rows = await invoice_page(ctx=ctx, conditions=conditions, page=page)
        nodes = build(Invoice, rows[: page.first], ctx, info, through=("edges", "node"))
        return make_connection(nodes, rows, page, key=lambda row: [row["id"]])
