"""GraphQL types of the data-subject rights: history, requests, disclosures, the report."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from server.customers.relation import customer_field
from server.graphql.connections import related_connection
from server.graphql.context import RequestContext
from server.graphql.fields import data, graphql_enum, personal
from server.graphql.globalid import Node
from server.graphql.payloads import shown_value
from server.graphql.relay import Connection
from server.graphql.shaping import build, relation_allowed
from server.rights.models import (
    ChangeAction,
    ChangedType,
    RecipientKind,
    RequestChannel,
    RequestKind,
    RequestStatus,
)

if TYPE_CHECKING:
    from server.customers.types import Customer

graphql_enum(ChangeAction, description="What kind of change it was.")
graphql_enum(ChangedType, description="The type whose data changed.")
graphql_enum(RequestKind, description="What the data subject asks for (GDPR Art. 15, 16, 18, 21).")
graphql_enum(
    RequestChannel,
    description="How the request came in (the privacy notice asks for written, signed ones).",
)
graphql_enum(RequestStatus, description="Where the request stands.")
graphql_enum(
    RecipientKind, description="An authority or another energy company (notice section 7)."
)


@strawberry.type(
    description="One changed field: its previous and new value as far as your role may see "
    "the field itself (masked when you see it masked, null and withheld when denied)."
)
class FieldChange:
    id: strawberry.ID = strawberry.field(description="Change and field.")
    customer_id: strawberry.Private[uuid.UUID]
    field_name: str | None = data("GraphQL name of the field, on the type in objectType.")
    old_value: str | None = personal("Previous value (null: empty, masked or withheld).")
    new_value: str | None = personal("New value (null: empty, masked or withheld).")
    withheld: bool | None = data("True when the field's policy hides its values from you.")


@strawberry.type(
    description="A change to the data of a customer or one of their sites: who, when, why."
)
class CustomerChange:
    id: strawberry.ID = strawberry.field(description="Stable, opaque identifier.")
    customer_id: strawberry.Private[uuid.UUID]
    pairs: strawberry.Private[list[tuple[str, Any, Any]]]
    changed_type: strawberry.Private[str]
    object_type: ChangedType | None = data("Customer or Site.")
    object_id: strawberry.ID | None = data("Global ID of the customer or site that changed.")
    action: ChangeAction | None = data("Created, updated or anonymised.")
    changed_at: datetime | None = data("When the change was made.")
    changed_by: str | None = data("User (or process) who made the change.")
    organisation: str | None = data("Organisation of who made the change.")
    reason: str | None = data("Why the change was made.")
    request_id: strawberry.ID | None = data(
        "Global ID of the data-subject request the change answers."
    )

    @strawberry.field(description="The fields changed, with previous and new values.")
    async def changes(self, info: Info[RequestContext, Any]) -> list[FieldChange] | None:
        ctx = info.context
        if not relation_allowed(ctx, "CustomerChange", "changes"):
            ctx.collector.denied_coordinates.add("CustomerChange.changes")
            return None
        type_name = self.changed_type
        rows = []
        for name, old, new in self.pairs:
            coordinate = f"{type_name}.{name}"
            old_shown, old_withheld = shown_value(ctx, coordinate, old)
            new_shown, new_withheld = shown_value(ctx, coordinate, new)
            rows.append(
                {
                    "id": f"{self.id}:{name}",
                    "customer_id": self.customer_id,
                    "field_name": name,
                    "old_value": old_shown,
                    "new_value": new_shown,
                    "withheld": old_withheld or new_withheld,
                }
            )
        return build(FieldChange, rows, ctx, info)


@strawberry.type(description="A request from a data subject, tracked to its deadline.")
class DataSubjectRequest(Node):
    customer_id: strawberry.Private[uuid.UUID]
    request_number: int | None = data("Running number of the request.")
    kind: RequestKind | None = data("Access, rectification, objection or restriction.")
    channel: RequestChannel | None = data("How the request came in.")
    received_on: date | None = data("When the request was received.")
    due_on: date | None = data("Answer due: one month from receipt (GDPR Art. 12(3)).")
    extended_due_on: date | None = data(
        "Due date when extended by up to two further months (Art. 12(3)); null if not."
    )
    status: RequestStatus | None = data("Received, in progress, completed or rejected.")
    handler: str | None = data("Who handles the request.")
    reference: str | None = data("Reference of the request (letter, case number).")
    notes: str | None = personal("Notes of the handler.")
    completed_on: date | None = data("When the answer was given.")
    overdue: bool | None = data("True when still open after its (extended) due date.")
    created_at: datetime | None = data("When the request was recorded.")

    customer = customer_field("The customer who made the request.")


@strawberry.type(
    description="A disclosure of customers' data to an authority or another energy company."
)
class Disclosure(Node):
    customer_ids: strawberry.Private[list[uuid.UUID]]
    recipient: str | None = data("Who received the data.")
    recipient_kind: RecipientKind | None = data("Authority or energy company.")
    recipient_country: str | None = data(
        "Where the recipient is (ISO 3166-1 alpha-2, e.g. FI): always inside the EU/EEA."
    )
    legal_basis: str | None = data("The law or decision the disclosure was made under.")
    confidential: bool | None = data(
        "True when the legal basis requires secrecy: the disclosure is left out of the "
        "data subject's access report."
    )
    case_reference: str | None = data("Case or decision number of the recipient.")
    disclosed_on: date | None = data("When the data was disclosed.")
    fields: list[str] | None = data("Coordinates of the fields disclosed (Customer.email...).")
    made_by: str | None = data("Who made the disclosure.")
    created_at: datetime | None = data("When the disclosure was recorded.")

    @strawberry.field(description="The customers whose data was disclosed.")
    async def customers(
        self, info: Info[RequestContext, Any]
    ) -> list[Annotated[Customer, strawberry.lazy("server.customers.types")]] | None:
        from server.customers.loaders import customers_by_id
        from server.customers.types import Customer

        ctx = info.context
        if not relation_allowed(ctx, "Disclosure", "customers"):
            ctx.collector.denied_coordinates.add("Disclosure.customers")
            return None
        rows = await customers_by_id(ctx).load_many(self.customer_ids)
        return build(Customer, [r for r in rows if r is not None], ctx, info, subject="id")


@strawberry.type(
    description="Everything held about one person (privacy notice section 10, GDPR Art. 15)."
)
class DataSubjectReport:
    id: strawberry.ID = strawberry.field(description="ID of the customer the report is about.")
    customer_id: strawberry.Private[uuid.UUID]
    generated_at: datetime | None = data("When the report was produced.")
    language: str | None = data("Language of the labels (fi or en).")
    content: JSON | None = personal(
        "The report: the person's data (notice section 5), objections and consents, "
        "disclosures and the dates and purposes of every access; the same document as "
        "`rekisteri dsar export --format json`."
    )


async def customer_history(
    info: Info[RequestContext, Any], customer_id: Any, *, first: int | None, after: str | None
) -> Connection[CustomerChange] | None:
    """`Customer.history`: allowed or denied as a whole; each value through its own field."""
    from server.rights.history import CHANGES_OF_CUSTOMER, change_rows

    return await related_connection(
        info,
        CHANGES_OF_CUSTOMER,
        CustomerChange,
        customer_id,
        first=first,
        after=after,
        prepare=change_rows,
    )


__all__ = [
    "CustomerChange",
    "DataSubjectReport",
    "DataSubjectRequest",
    "Disclosure",
    "FieldChange",
    "customer_history",
]
