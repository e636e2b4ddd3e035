"""Mutations of the customers domain: create a customer and rectify their data, with history.

The rules are in server/customers/service.py; a resolver reads its input, calls the
service and shapes the row it returns.
"""

from __future__ import annotations

import strawberry

from server.customers import service
from server.customers.models import CustomerKind, Language
from server.customers.types import Customer
from server.graphql.inputs import optional
from server.graphql.mutation import change, change_answer


@strawberry.input(description="A new customer: a person or an organisation.")
class CreateCustomerInput:
    kind: CustomerKind = strawberry.field(description="Person or organisation.")
    street_address: str = strawberry.field(description="Postal street address.")
    postal_code: str = strawberry.field(description="Postal code (5 digits).")
    post_office: str = strawberry.field(description="Post office (town).")
    first_name: str | None = optional("First name(s) of a person.")
    last_name: str | None = optional("Last name of a person (required for a person).")
    organisation_name: str | None = optional("Name of an organisation (required for one).")
    personal_identity_code: str | None = optional("Personal identity code of a person.")
    business_id: str | None = optional("Business ID (Y-tunnus) of an organisation.")
    country: str | None = optional("Country of the address, ISO 3166-1 alpha-2 (default FI).")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number (Finnish national or international form).")
    language: Language | None = optional("Language of service (default fi).")
    reason: str | None = optional("Why the customer is registered (order, contract...).")


@strawberry.input(
    description="Rectification of a customer's data: only the fields given change (null "
    "clears an optional one). A reason or a data-subject request is required."
)
class UpdateCustomerInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer to change.")
    first_name: str | None = optional("First name(s) of a person.")
    last_name: str | None = optional("Last name of a person.")
    organisation_name: str | None = optional("Name of an organisation.")
    personal_identity_code: str | None = optional(
        "Personal identity code; only roles the policy grants it to may change it."
    )
    business_id: str | None = optional("Business ID (Y-tunnus) of an organisation.")
    street_address: str | None = optional("Postal street address.")
    postal_code: str | None = optional("Postal code (5 digits).")
    post_office: str | None = optional("Post office (town).")
    country: str | None = optional("Country of the address, ISO 3166-1 alpha-2.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    language: Language | None = optional("Language of service.")
    reason: str | None = optional("Why the data changes (free text).")
    request_id: strawberry.ID | None = optional("The customer's rectification request it answers.")


@strawberry.type(description="A customer after a change, and the history entry it left.")
class CustomerPayload:
    customer: Customer | None = strawberry.field(
        description="The customer as your role may see it after the change (null if the "
        "change took it out of your scope)."
    )
    change_id: strawberry.ID | None = strawberry.field(
        description="The entry in Customer.history (null when nothing changed)."
    )


CUSTOMER_ANSWER = change_answer(subject="id")


@strawberry.type(description="Customer mutations.")
class CustomerMutation:
    create_customer = change(
        service.create_customer, CreateCustomerInput, CustomerPayload, subject="id"
    )
    update_customer = change(
        service.update_customer, UpdateCustomerInput, CustomerPayload, subject="id"
    )
