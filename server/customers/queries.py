"""Root query fields of the customers domain."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from server.customers.loaders import customer_page, customers_by_id, filter_conditions
from server.customers.types import Customer, CustomerFilter
from server.graphql.context import RequestContext
from server.graphql.guards import (
    open_page,
    parse_id,
    require_readable_for_filter,
    uuid_cursor,
)
from server.graphql.relay import Connection, make_connection
from server.graphql.shaping import build, build_one

FILTER_COORDINATES = {
    "name": "Customer.lastName",
    "personal_identity_code": "Customer.personalIdentityCode",
    "metering_point_id": "Site.meteringPointId",
    "invoice_status": "Invoice.status",
    "overdue": "Invoice.status",
    "customer_number": "Customer.customerNumber",
}


@strawberry.type(description="Customer queries.")
class CustomerQuery:
    @strawberry.field(description="One customer by ID; null when unknown or outside your scope.")
    async def customer(self, info: Info[RequestContext, Any], id: strawberry.ID) -> Customer | None:
        ctx = info.context
        customer_id = parse_id(id)
        if customer_id is None or not ctx.access.can_see_rows("Customer"):
            return None
        row = await customers_by_id(ctx).load(customer_id)
        return build_one(Customer, row, ctx, info, subject="id")

    @strawberry.field(description="Customers in customer-number order, one page at a time.")
    async def customers(
        self,
        info: Info[RequestContext, Any],
        first: Annotated[
            int | None,
            strawberry.argument(
                description="Page size (default 20, at most the configured maximum)."
            ),
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor after which the page starts.")
        ] = None,
        filter: Annotated[
            CustomerFilter | None, strawberry.argument(description="Search filters.")
        ] = None,
    ) -> Connection[Customer]:
        ctx = info.context
        page = open_page(ctx, first, after, cursor=uuid_cursor, type_name="Customer")
        if page is None:
            return Connection.empty()
        chosen = filter or CustomerFilter()
        for argument, coordinate in FILTER_COORDINATES.items():
            if getattr(chosen, argument) is not None:
                require_readable_for_filter(ctx, coordinate, f"filter.{argument}")
        conditions = filter_conditions(
            ctx.access.rows,
            name=chosen.name or None,
            customer_number=chosen.customer_number,
            personal_identity_code=chosen.personal_identity_code or None,
            metering_point_id=chosen.metering_point_id or None,
            invoice_status=chosen.invoice_status.value if chosen.invoice_status else None,
            overdue=chosen.overdue,
            today=ctx.access.today,
        )
        rows = await customer_page(ctx=ctx, conditions=conditions, page=page)
        nodes = build(
            Customer, rows[: page.first], ctx, info, through=("edges", "node"), subject="id"
        )
        return make_connection(nodes, rows, page, key=lambda row: [row["id"]])
