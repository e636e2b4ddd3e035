"""GraphQL types of the customers domain."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from server.audit.types import AccessHistoryFilterBy
from server.billing.models import InvoiceStatus
from server.billing.types import InvoiceListFilter
from server.contracts.types import ContractListFilter
from server.customers.models import CustomerKind, Language
from server.graphql.connections import related_connection
from server.graphql.fields import data, graphql_enum, personal
from server.graphql.globalid import Node
from server.graphql.inputs import filter_field
from server.graphql.relay import After, Connection, FilterBy, First

if TYPE_CHECKING:
    from server.audit.types import AccessHistoryEntry
    from server.billing.types import CollectionCase, Invoice, SecurityDeposit
    from server.contracts.types import Contract
    from server.rights.types import CustomerChange
    from server.sites.types import Site

graphql_enum(CustomerKind, description="Person or organisation.")
graphql_enum(Language, description="Language of service.")


@strawberry.type(description="A customer of the company: a person or an organisation.")
class Customer(Node):
    customer_number: int | None = data("Customer number printed on invoices.")
    kind: CustomerKind | None = data("Person or organisation.")
    first_name: str | None = personal("First name(s) of a person.")
    last_name: str | None = personal("Last name of a person.")
    organisation_name: str | None = data("Name of an organisation customer.")
    personal_identity_code: str | None = personal(
        "Finnish personal identity code (henkilötunnus) of a person."
    )
    business_id: str | None = data("Finnish business ID (Y-tunnus) of an organisation.")
    street_address: str | None = personal("Postal street address.")
    postal_code: str | None = personal("Postal code (5 digits).")
    post_office: str | None = personal("Post office (town) of the postal address.")
    country: str | None = data("Country of the postal address (ISO 3166-1 alpha-2).")
    email: str | None = personal("E-mail address.")
    phone: str | None = personal("Phone number in international form.")
    language: Language | None = data("Language of service.")
    direct_marketing_objection_at: datetime | None = data(
        "When the customer forbade direct marketing (null: no objection)."
    )
    direct_marketing_objection_source: str | None = data("How that objection was given.")
    distance_selling_objection_at: datetime | None = data(
        "When the customer forbade distance selling (null: no objection)."
    )
    distance_selling_objection_source: str | None = data("How that objection was given.")
    research_objection_at: datetime | None = data(
        "When the customer forbade market and opinion research (null: no objection)."
    )
    research_objection_source: str | None = data("How that objection was given.")
    processing_restricted_at: datetime | None = data(
        "When processing was restricted (GDPR Art. 18); null when it is not."
    )
    created_at: datetime | None = data("When the customer was registered.")
    updated_at: datetime | None = data("When the customer's data last changed.")

    @strawberry.field(description="Usage sites held by the customer, by metering point ID.")
    async def sites(
        self, info: Info[Any, Any], first: First = None, after: After = None
    ) -> Connection[Annotated[Site, strawberry.lazy("server.sites.types")]] | None:
        from server.sites.loaders import SITES_OF_CUSTOMER
        from server.sites.types import Site

        return await related_connection(
            info, SITES_OF_CUSTOMER, Site, self.id, first=first, after=after
        )

    @strawberry.field(description="Contracts of the customer, newest first.")
    async def contracts(
        self,
        info: Info[Any, Any],
        first: First = None,
        after: After = None,
        filter: FilterBy[ContractListFilter] = None,
    ) -> Connection[Annotated[Contract, strawberry.lazy("server.contracts.types")]] | None:
        from server.contracts.loaders import CONTRACTS_OF_CUSTOMER
        from server.contracts.types import Contract

        return await related_connection(
            info, CONTRACTS_OF_CUSTOMER, Contract, self.id, first=first, after=after, filter=filter
        )

    @strawberry.field(description="Invoices of the customer, newest first.")
    async def invoices(
        self,
        info: Info[Any, Any],
        first: First = None,
        after: After = None,
        filter: FilterBy[InvoiceListFilter] = None,
    ) -> Connection[Annotated[Invoice, strawberry.lazy("server.billing.types")]] | None:
        from server.billing.loaders import INVOICES_OF_CUSTOMER
        from server.billing.types import Invoice

        return await related_connection(
            info, INVOICES_OF_CUSTOMER, Invoice, self.id, first=first, after=after, filter=filter
        )

    @strawberry.field(description="Security deposits of the customer, newest first.")
    async def deposits(
        self, info: Info[Any, Any], first: First = None, after: After = None
    ) -> Connection[Annotated[SecurityDeposit, strawberry.lazy("server.billing.types")]] | None:
        from server.billing.loaders import DEPOSITS_OF_CUSTOMER
        from server.billing.types import SecurityDeposit

        return await related_connection(
            info, DEPOSITS_OF_CUSTOMER, SecurityDeposit, self.id, first=first, after=after
        )

    @strawberry.field(description="Debt collection cases of the customer, newest first.")
    async def collection_cases(
        self, info: Info[Any, Any], first: First = None, after: After = None
    ) -> Connection[Annotated[CollectionCase, strawberry.lazy("server.billing.types")]] | None:
        from server.billing.loaders import CASES_OF_CUSTOMER
        from server.billing.types import CollectionCase

        return await related_connection(
            info, CASES_OF_CUSTOMER, CollectionCase, self.id, first=first, after=after
        )

    @strawberry.field(
        description="Changes to the customer's and their sites' data, newest first: previous "
        "and new values (each shown as its own field's policy allows), who, when and why."
    )
    async def history(
        self, info: Info[Any, Any], first: First = None, after: After = None
    ) -> Connection[Annotated[CustomerChange, strawberry.lazy("server.rights.types")]] | None:
        from server.rights.types import customer_history

        return await customer_history(info, self.id, first=first, after=after)

    @strawberry.field(
        description="When and for which purposes the customer's data was accessed, newest "
        "first, from the access log."
    )
    async def access_history(
        self,
        info: Info[Any, Any],
        first: First = None,
        after: After = None,
        filter: AccessHistoryFilterBy = None,
    ) -> Connection[Annotated[AccessHistoryEntry, strawberry.lazy("server.audit.types")]] | None:
        from server.audit.types import customer_access_history

        return await customer_access_history(self, info, first=first, after=after, filter=filter)


@strawberry.input(description="Search filters of the customer-service screen.")
class CustomerFilter:
    name: str | None = filter_field("Part of the name (case-insensitive).")
    customer_number: int | None = filter_field("Customer number.")
    personal_identity_code: str | None = filter_field(
        "Exact personal identity code (needs read access to it)."
    )
    metering_point_id: str | None = filter_field(
        "18-digit metering point ID (GSRN) of one of the sites."
    )
    invoice_status: InvoiceStatus | None = filter_field("Has an invoice in this status.")
    overdue: bool | None = filter_field("True: has an overdue invoice; false: has none.")
