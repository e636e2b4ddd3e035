"""How `node(id:)` finds an object of each Node type: its table, when one of its rows is
visible (its own row scope, or its parent's for objects without one), and whose personal
data it is for the access log. Shared by both read executors."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, exists, func, literal, select, true

from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.loading import Row, by_id_loader
from server.graphql.relay import Visible

ScopeSource = Visible  # type name -> the row predicate of the request (or of a statement)


@dataclass(frozen=True, slots=True)
class NodeKind:
    """One Node type as `node(id:)` reads it.

    `visible(scope)` is the condition on a row of `table` for the principal to see it;
    `subject` and `prospect` are SQL expressions over `table` naming the customer or the
    prospect whose data the row is (None: not personal data); `identity` is the key the
    global ID carries (the `id` column unless given); `statement` reads the columns the
    type shows, `prepare` turns rows into what the type is built from."""

    type_name: str
    cls_path: str
    table: Table
    visible: Callable[[ScopeSource], ColumnElement[bool]]
    subject: Callable[[Table], Any] | None = None
    prospect: Callable[[Table], Any] | None = None
    identity: Callable[[Table], Any] | None = None
    statement: Callable[[RequestContext], Select[Any]] | None = None
    prepare: Callable[[RequestContext, list[Row]], Sequence[Row]] | None = None

    def key(self, text: str) -> Any:
        """The key of a global ID of this type (UUID, or "<invoice>:<line>" for lines)."""
        if self.identity is None:
            return uuid.UUID(text)
        invoice, _, line = text.partition(":")
        return f"{uuid.UUID(invoice)}:{int(line)}"

    def id_column(self) -> Any:
        return self.identity(self.table) if self.identity else self.table.c.id

    def cls(self) -> type[Any]:
        module_name, attribute = self.cls_path.split(":")
        module = __import__(module_name, fromlist=[attribute])
        found: type[Any] = getattr(module, attribute)
        return found


def _own(type_name: str) -> Callable[[ScopeSource], ColumnElement[bool]]:
    """Visible under the type's own row scope."""
    return lambda scope: scope(type_name)


def _through(
    column: str, parent: Table, type_name: str
) -> Callable[[Table], Callable[[ScopeSource], ColumnElement[bool]]]:
    """Visible when its parent row (via `column`) is visible under the parent's scope."""

    def visible(table: Table) -> Callable[[ScopeSource], ColumnElement[bool]]:
        return lambda scope: exists().where(parent.c.id == table.c[column], scope(type_name))

    return visible


def _column(name: str) -> Callable[[Table], Any]:
    return lambda table: table.c[name]


@functools.cache
def node_kinds() -> dict[str, NodeKind]:
    """Every Node type (imported here, once: the tables of every domain)."""
    from server.billing.loaders import (
        case_table,
        deposit_table,
        invoice_table,
        line_table,
        payment_table,
    )
    from server.contracts.loaders import contract_table, offer_table, price_table, product_table
    from server.customers.loaders import customer_table
    from server.organisations.loaders import assignment_table, organisation_table
    from server.prospects.loaders import prospect_table
    from server.rights.queries import (
        disclosure_rows,
        disclosure_select,
        disclosure_table,
        log_disclosure_subjects,
    )
    from server.rights.requests import request_select, request_table
    from server.sites.loaders import site_table

    def invoice_customer(table: Table) -> Any:
        return (
            select(invoice_table.c.customer_id)
            .where(invoice_table.c.id == table.c.invoice_id)
            .scalar_subquery()
        )

    def assignment_customer(table: Table) -> Any:
        site_customer = (
            select(site_table.c.customer_id).where(site_table.c.id == table.c.site_id)
        ).scalar_subquery()
        return func.coalesce(table.c.customer_id, site_customer)

    def assignment_visible(scope: ScopeSource) -> ColumnElement[bool]:
        customer = _through("customer_id", customer_table, "Customer")(assignment_table)
        site = _through("site_id", site_table, "Site")(assignment_table)
        return customer(scope) | site(scope)

    def disclosures(ctx: RequestContext, rows: list[Row]) -> Sequence[Row]:
        shown = disclosure_rows(rows)
        log_disclosure_subjects(ctx, shown)
        return shown

    customer = _column("customer_id")
    kinds = [
        NodeKind(
            "Customer",
            "server.customers.types:Customer",
            customer_table,
            _own("Customer"),
            _column("id"),
        ),
        NodeKind("Site", "server.sites.types:Site", site_table, _own("Site"), customer),
        NodeKind(
            "Contract",
            "server.contracts.types:Contract",
            contract_table,
            _own("Contract"),
            customer,
        ),
        NodeKind(
            "Invoice", "server.billing.types:Invoice", invoice_table, _own("Invoice"), customer
        ),
        NodeKind(
            "InvoiceLine",
            "server.billing.types:InvoiceLine",
            line_table,
            _through("invoice_id", invoice_table, "Invoice")(line_table),
            invoice_customer,
            identity=lambda table: func.concat(
                table.c.invoice_id, literal(":"), table.c.line_number
            ),
        ),
        NodeKind(
            "Payment",
            "server.billing.types:Payment",
            payment_table,
            _through("invoice_id", invoice_table, "Invoice")(payment_table),
            invoice_customer,
        ),
        NodeKind(
            "SecurityDeposit",
            "server.billing.types:SecurityDeposit",
            deposit_table,
            _through("customer_id", customer_table, "Customer")(deposit_table),
            customer,
        ),
        NodeKind(
            "CollectionCase",
            "server.billing.types:CollectionCase",
            case_table,
            _own("CollectionCase"),
            customer,
        ),
        NodeKind("Product", "server.contracts.types:Product", product_table, _own("Product")),
        NodeKind(
            "Price",
            "server.contracts.types:Price",
            price_table,
            _through("product_id", product_table, "Product")(price_table),
        ),
        NodeKind(
            "Offer",
            "server.contracts.types:Offer",
            offer_table,
            _own("Offer"),
            customer,
            _column("prospect_id"),
        ),
        # Organisations are not personal data: whoever may read their fields sees them.
        NodeKind(
            "Organisation",
            "server.organisations.types:Organisation",
            organisation_table,
            lambda scope: true(),
        ),
        NodeKind(
            "Assignment",
            "server.organisations.types:Assignment",
            assignment_table,
            assignment_visible,
            assignment_customer,
        ),
        NodeKind(
            "Prospect",
            "server.prospects.types:Prospect",
            prospect_table,
            _own("Prospect"),
            prospect=_column("id"),
        ),
        NodeKind(
            "DataSubjectRequest",
            "server.rights.types:DataSubjectRequest",
            request_table,
            _own("DataSubjectRequest"),
            customer,
            statement=lambda ctx: request_select(ctx.access.today),
        ),
        NodeKind(
            "Disclosure",
            "server.rights.types:Disclosure",
            disclosure_table,
            _own("Disclosure"),
            statement=lambda ctx: disclosure_select(),
            prepare=disclosures,
        ),
    ]
    return {kind.type_name: kind for kind in kinds}


def node_kind(type_name: str, *, field: str) -> NodeKind:
    kind = node_kinds().get(type_name)
    if kind is None:
        raise UserInputError(
            f"{field} is not a global ID of this API", field=field, reason="unknown type"
        )
    return kind


def node_statement(kind: NodeKind, ctx: RequestContext, keys: Sequence[Any]) -> Select[Any]:
    """The visible rows of `kind` with these keys, with `_subject` and `_prospect`."""
    table = kind.table
    statement = kind.statement(ctx) if kind.statement else select(table)
    extra = [
        kind.subject(table).label("_subject") if kind.subject else literal(None).label("_subject"),
        kind.prospect(table).label("_prospect")
        if kind.prospect
        else literal(None).label("_prospect"),
    ]
    if kind.identity is not None:
        extra.append(kind.id_column().label("id"))
    return statement.add_columns(*extra).where(
        kind.id_column().in_(keys), kind.visible(ctx.access.rows)
    )


def node_loader(ctx: RequestContext, kind: NodeKind) -> Any:
    """The request's loader of `kind`'s visible rows by key (one statement per batch)."""
    return by_id_loader(ctx, f"node:{kind.type_name}", lambda keys: node_statement(kind, ctx, keys))
