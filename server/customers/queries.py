"""Root query fields of the customers domain."""

from __future__ import annotations

import strawberry

from server.customers.loaders import customer_table, customers_by_id, filter_conditions
from server.customers.types import Customer, CustomerFilter
from server.graphql.connections import RootPage, root_connection, root_connection_field
from server.graphql.guards import require_readable_for_filter
from server.graphql.ordering import Sortable, SortField
from server.graphql.relay import Connection, SortKey
from server.graphql.shaping import root_object_field

FILTER_COORDINATES = {
    "name": "Customer.lastName",
    "personal_identity_code": "Customer.personalIdentityCode",
    "metering_point_id": "Site.meteringPointId",
    "invoice_status": "Invoice.status",
    "overdue": "Invoice.status",
    "customer_number": "Customer.customerNumber",
}


CUSTOMER_ORDER = Sortable(
    "Customer",
    customer_table,
    {
        "CUSTOMER_NUMBER": SortField(
            "customer_number", "Customer.customerNumber", "Customer number (the default)."
        ),
        "LAST_NAME": SortField("last_name", "Customer.lastName", "Last name of a person."),
        "FIRST_NAME": SortField("first_name", "Customer.firstName", "First name of a person."),
        "ORGANISATION_NAME": SortField(
            "organisation_name", "Customer.organisationName", "Name of an organisation."
        ),
        "POSTAL_CODE": SortField("postal_code", "Customer.postalCode", "Postal code."),
        "POST_OFFICE": SortField("post_office", "Customer.postOffice", "Post office."),
        "CREATED_AT": SortField("created_at", "Customer.createdAt", "When registered."),
        "UPDATED_AT": SortField("updated_at", "Customer.updatedAt", "When last changed."),
    },
    (SortKey("customer_number"),),
)


async def customers_page(asked: RootPage[CustomerFilter]) -> Connection[Customer]:
    """Customers, in customer-number order unless `orderBy` says else."""
    ctx = asked.context
    chosen = asked.filter or CustomerFilter()
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
    return await root_connection(
        asked, Customer, CUSTOMER_ORDER, conditions=conditions, subject="id"
    )


@strawberry.type(description="Customer queries.")
class CustomerQuery:
    customer = root_object_field(Customer, customers_by_id, noun="customer", subject="id")

    customers = root_connection_field(
        Customer,
        CUSTOMER_ORDER,
        customers_page,
        filter=CustomerFilter,
        filter_description="Search filters.",
    )
