"""Which customers a role sees, and the filters on the data subject (the customer) that
every type about a customer shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists

from server.authz.scopes import Predicate, ScopeEnv, register_filters, register_scopes
from server.customers.models import Customer
from server.db.tables import table_of
from server.organisations.scopes import assigned, assigned_site_ids
from server.sites.models import Site

customer = table_of(Customer).c
site = table_of(Site).c

# Filter name -> the customer's column that must be empty (an objection, a restriction, ...).
SUBJECT_FILTERS = {
    "no_direct_marketing_objection": "direct_marketing_objection_at",
    "no_distance_selling_objection": "distance_selling_objection_at",
    "no_research_objection": "research_objection_at",
    "not_restricted": "processing_restricted_at",
    "not_anonymised": "anonymised_at",
    "current_customer": "former_customer_since",
}


def subject_condition(name: str) -> ColumnElement[bool]:
    """The customer passes the data-subject filter `name`."""
    return customer[SUBJECT_FILTERS[name]].is_(None)


def subject_filters(customer_id: Any) -> dict[str, Predicate]:
    """Every data-subject filter for rows of another type whose customer is `customer_id`."""
    return {name: _subject_passes(customer_id, name) for name in SUBJECT_FILTERS}


def _subject_passes(customer_id: Any, name: str) -> Predicate:
    return lambda env: exists().where(customer.id == customer_id, subject_condition(name))


def _own_filter(name: str) -> Predicate:
    return lambda env: subject_condition(name)


def customer_assigned(env: ScopeEnv) -> ColumnElement[bool]:
    return assigned("customer_id", customer.id, env)


def customer_has_assigned_site(env: ScopeEnv) -> ColumnElement[bool]:
    return exists().where(site.customer_id == customer.id, site.id.in_(assigned_site_ids(env)))


def register() -> None:
    """Customer's scopes (a collection agency's, `collection_assigned`, are billing's)."""
    register_scopes(
        "Customer", site_assigned=customer_has_assigned_site, assigned=customer_assigned
    )
    register_filters("Customer", {name: _own_filter(name) for name in SUBJECT_FILTERS})
