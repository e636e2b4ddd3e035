"""The `customer` field of the types that belong to one customer (a site, an invoice, a
data-subject request), declared once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from server.graphql.context import RequestContext
from server.graphql.shaping import related_one

if TYPE_CHECKING:
    from server.customers.types import Customer


def customer_field(description: str) -> Any:
    """The customer of the row's `customer_id`, through the field policy and the row scope
    (null when outside it). The customer types are imported when the field resolves: they
    import the types that use this field."""

    async def resolve(root: Any, info: Info[RequestContext, Any]) -> Any:
        from server.customers.loaders import customers_by_id
        from server.customers.types import Customer

        return await related_one(info, customers_by_id, Customer, root.customer_id, subject="id")

    resolve.__annotations__ = {
        "root": Any,
        "info": Info[RequestContext, Any],
        "return": Annotated["Customer", strawberry.lazy("server.customers.types")] | None,
    }
    return strawberry.field(resolver=resolve, description=description)
