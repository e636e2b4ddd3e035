"""What the compiled executor knows of the register: which table shows each GraphQL type, how
relations reach their rows, and in which order. Leaf fields come from the Strawberry types
themselves (`shaping.shape_of`), so a new data field is compiled without a change here; a new
relation or root field is not compiled until it is described here (it then runs on the
resolver executor, which stays the reference).

Every entry mirrors a loader of the resolver path: the same table, the same row scope, the
same order (with the primary key as the tie-breaker in both), the same data subject.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Table, func

from server.billing.models import (
    CollectionCase,
    Invoice,
    InvoiceLine,
    Payment,
    SecurityDeposit,
)
from server.contracts.models import Contract, Offer, Price, Product
from server.customers.models import Customer
from server.db.tables import table_of
from server.graphql.connections import NestedList
from server.graphql.ordering import Sortable
from server.organisations.models import Organisation
from server.sites.models import Consumption, Site


class Subject(Enum):
    """Whose personal data an object is, for the access log."""

    SELF = "self"  # the object is the customer
    COLUMN = "column"  # the row's customer_id
    PARENT = "parent"  # the parent object's data subject (invoice lines, payments)
    NONE = "none"  # not personal data (products, organisations)


class LinkKind(Enum):
    CHILD_FK = "child_fk"  # child.<column> = parent.id (to-many)
    PARENT_FK = "parent_fk"  # child.id = parent.<column> (to-one)
    THROUGH = "through"  # a link table between parent and child (to-many)
    CONSUMPTION = "consumption"  # metered values summed per step over a window (to-many)


@dataclass(frozen=True, slots=True)
class Order:
    column: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Relation:
    """A field with a resolver that reads another type's rows."""

    child: str
    many: bool
    link: LinkKind
    column: str  # CHILD_FK: child's foreign key; PARENT_FK: parent's foreign key
    order: tuple[Order, ...] = ()
    scoped: bool = False  # the child type's row scope applies
    subject: Subject = Subject.COLUMN
    through: tuple[Table, str, str] | None = None  # (link table, parent column, child column)
    # A connection: paged per parent in the resolver path's order, with its filter.
    nested: NestedList | None = None


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """A GraphQL type shown from one table."""

    name: str
    table: Table
    cls_path: str  # module:attribute of the Strawberry class
    relations: dict[str, Relation] = field(default_factory=dict)
    # The `id` the API shows, when it is not the table's id column.
    id_expression: Callable[[Table], ColumnElement[Any]] | None = None
    # The UUID the access log records for the object (the table's id unless given).
    log_id_column: str = "id"
    # The prospect whose data a row is (offers to prospects), for the access log.
    prospect_column: str | None = None


def _line_id(table: Table) -> ColumnElement[Any]:
    expression: ColumnElement[Any] = func.concat(table.c.invoice_id, ":", table.c.line_number)
    return expression


@functools.cache
def types() -> dict[str, TypeSpec]:
    from server.billing.loaders import (
        CASES_OF_CUSTOMER,
        DEPOSITS_OF_CUSTOMER,
        INVOICES_OF_CASE,
        INVOICES_OF_CONTRACT,
        INVOICES_OF_CUSTOMER,
        PAYMENTS_OF_INVOICE,
    )
    from server.contracts.loaders import CONTRACTS_OF_CUSTOMER, CONTRACTS_OF_SITE, PRICES_OF_PRODUCT
    from server.sites.loaders import SITES_OF_CUSTOMER

    def paged(child: str, nested: NestedList, subject: Subject = Subject.COLUMN) -> Relation:
        """A connection (its order, scope and filter are the resolver path's own)."""
        link = LinkKind.THROUGH if nested.link is not None else LinkKind.CHILD_FK
        return Relation(
            child,
            True,
            link,
            nested.parent.name,
            scoped=nested.scope is not None,
            subject=subject,
            nested=nested,
        )

    # The customer a site or an invoice belongs to, logged as the subject of its own data.
    owning_customer = Relation(
        "Customer", False, LinkKind.PARENT_FK, "customer_id", scoped=True, subject=Subject.SELF
    )

    specs = [
        TypeSpec(
            "Customer",
            table_of(Customer),
            "server.customers.types:Customer",
            {
                "sites": paged("Site", SITES_OF_CUSTOMER),
                "contracts": paged("Contract", CONTRACTS_OF_CUSTOMER),
                "invoices": paged("Invoice", INVOICES_OF_CUSTOMER),
                "deposits": paged("SecurityDeposit", DEPOSITS_OF_CUSTOMER),
                "collectionCases": paged("CollectionCase", CASES_OF_CUSTOMER),
            },
        ),
        TypeSpec(
            "Site",
            table_of(Site),
            "server.sites.types:Site",
            {
                "customer": owning_customer,
                "contracts": paged("Contract", CONTRACTS_OF_SITE),
                "consumption": Relation(
                    "ConsumptionPoint",
                    True,
                    LinkKind.CONSUMPTION,
                    "id",
                    (Order("period_start"),),
                    subject=Subject.PARENT,
                ),
            },
        ),
        TypeSpec(
            "ConsumptionPoint",
            table_of(Consumption),
            "server.sites.types:ConsumptionPoint",
            log_id_column="site_id",
        ),
        TypeSpec(
            "Contract",
            table_of(Contract),
            "server.contracts.types:Contract",
            {
                "product": Relation(
                    "Product", False, LinkKind.PARENT_FK, "product_id", subject=Subject.NONE
                ),
                "site": Relation("Site", False, LinkKind.PARENT_FK, "site_id", scoped=True),
                "invoices": paged("Invoice", INVOICES_OF_CONTRACT),
            },
        ),
        TypeSpec(
            "Invoice",
            table_of(Invoice),
            "server.billing.types:Invoice",
            {
                "customer": owning_customer,
                "contract": Relation(
                    "Contract", False, LinkKind.PARENT_FK, "contract_id", scoped=True
                ),
                "lines": Relation(
                    "InvoiceLine",
                    True,
                    LinkKind.CHILD_FK,
                    "invoice_id",
                    (Order("line_number"),),
                    subject=Subject.PARENT,
                ),
                "payments": paged("Payment", PAYMENTS_OF_INVOICE, Subject.PARENT),
            },
        ),
        TypeSpec(
            "InvoiceLine",
            table_of(InvoiceLine),
            "server.billing.types:InvoiceLine",
            id_expression=_line_id,
            log_id_column="invoice_id",
        ),
        TypeSpec("Payment", table_of(Payment), "server.billing.types:Payment"),
        TypeSpec(
            "SecurityDeposit", table_of(SecurityDeposit), "server.billing.types:SecurityDeposit"
        ),
        TypeSpec(
            "CollectionCase",
            table_of(CollectionCase),
            "server.billing.types:CollectionCase",
            {
                "agency": Relation(
                    "Organisation", False, LinkKind.PARENT_FK, "agency_id", subject=Subject.NONE
                ),
                "invoices": paged("Invoice", INVOICES_OF_CASE),
            },
        ),
        TypeSpec(
            "Product",
            table_of(Product),
            "server.contracts.types:Product",
            {"prices": paged("Price", PRICES_OF_PRODUCT, Subject.NONE)},
        ),
        TypeSpec("Price", table_of(Price), "server.contracts.types:Price"),
        TypeSpec(
            "Offer",
            table_of(Offer),
            "server.contracts.types:Offer",
            {
                "product": Relation(
                    "Product", False, LinkKind.PARENT_FK, "product_id", subject=Subject.NONE
                )
            },
            prospect_column="prospect_id",
        ),
        TypeSpec("Organisation", table_of(Organisation), "server.organisations.types:Organisation"),
    ]
    return {spec.name: spec for spec in specs}


def strawberry_class(spec: TypeSpec) -> type[Any]:
    module_name, attribute = spec.cls_path.split(":")
    module = __import__(module_name, fromlist=[attribute])
    cls: type[Any] = getattr(module, attribute)
    return cls


@dataclass(frozen=True, slots=True)
class RootConnection:
    """A root connection: its type and what `orderBy` offers (the resolver path's own)."""

    type_name: str
    sortable: Sortable


def _root_connections() -> dict[str, RootConnection]:
    from server.billing.queries import INVOICE_ORDER
    from server.contracts.queries import CONTRACT_ORDER, OFFER_ORDER, PRODUCT_ORDER
    from server.customers.queries import CUSTOMER_ORDER
    from server.sites.queries import SITE_ORDER

    return {
        "customers": RootConnection("Customer", CUSTOMER_ORDER),
        "sites": RootConnection("Site", SITE_ORDER),
        "contracts": RootConnection("Contract", CONTRACT_ORDER),
        "invoices": RootConnection("Invoice", INVOICE_ORDER),
        "products": RootConnection("Product", PRODUCT_ORDER),
        "offers": RootConnection("Offer", OFFER_ORDER),
    }


ROOT_CONNECTIONS: dict[str, RootConnection] = _root_connections()
ROOT_LOOKUPS: dict[str, str] = {"customer": "Customer", "site": "Site", "invoice": "Invoice"}
