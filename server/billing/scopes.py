"""Which invoices and collection cases a role sees, and the customers a collection agency
sees through its open cases."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists

from server.authz.scopes import ScopeEnv, register_filters, register_scopes
from server.billing.models import CollectionCase, CollectionCaseInvoice, Invoice
from server.customers.scopes import customer, subject_filters
from server.db.tables import table_of

invoice = table_of(Invoice).c
case = table_of(CollectionCase).c
case_invoice = table_of(CollectionCaseInvoice).c


def case_of_own_agency(env: ScopeEnv) -> ColumnElement[bool]:
    """An open collection case given to the caller's organisation (a collection agency)."""
    return and_(case.agency_id == env.organisation_id, case.closed_on.is_(None))


def customer_in_own_collection(env: ScopeEnv) -> ColumnElement[bool]:
    return exists().where(case.customer_id == customer.id, case_of_own_agency(env))


def invoice_in_own_collection(env: ScopeEnv) -> ColumnElement[bool]:
    return exists().where(
        case_invoice.invoice_id == invoice.id,
        case_invoice.collection_case_id == case.id,
        case_of_own_agency(env),
    )


def register() -> None:
    register_scopes("Customer", collection_assigned=customer_in_own_collection)
    register_scopes("Invoice", collection_assigned=invoice_in_own_collection)
    register_filters("Invoice", subject_filters(invoice.customer_id))
    register_scopes("CollectionCase", own_agency=case_of_own_agency)
    register_filters("CollectionCase", subject_filters(case.customer_id))
