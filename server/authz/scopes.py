"""Named row scopes and filters: the SQL behind the names that the policy grants.

A scope widens (a role sees the union of its scopes' rows); a filter narrows (every filter
granted for the purpose applies). Both are SQL predicates over the type's table, so rows are
filtered in the database, never in Python.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from server.billing.models import CollectionCase, CollectionCaseInvoice, Invoice
from server.contracts.models import Contract, Offer, Product
from server.customers.models import Customer
from server.organisations.models import Assignment
from server.prospects.models import Prospect
from server.sites.models import Site


@dataclass(frozen=True, slots=True)
class ScopeEnv:
    """What a predicate may depend on: the caller's organisation, today's date and the
    purpose of the request.

    Each value is used only inside SQL comparisons, never in Python logic, so a caller may
    pass SQLAlchemy bind parameters instead of values (`bindparam("organisation_id")`, ...)
    and build SQL once that is cached and executed with different values."""

    organisation_id: uuid.UUID | ColumnElement[Any]
    today: date | ColumnElement[Any]
    purpose: str | ColumnElement[Any]


Predicate = Callable[[ScopeEnv], ColumnElement[bool]]


def _col(model: Any, name: str) -> Any:
    return getattr(model, name)


def _assignment_valid(env: ScopeEnv) -> ColumnElement[bool]:
    """An assignment to the caller's organisation, for the purpose of the request (an
    assignment for marketing gives nothing under delivery), valid today and not revoked."""
    return and_(
        _col(Assignment, "organisation_id") == env.organisation_id,
        _col(Assignment, "purpose") == env.purpose,
        _col(Assignment, "valid_from") <= env.today,
        or_(_col(Assignment, "valid_to").is_(None), _col(Assignment, "valid_to") >= env.today),
        _col(Assignment, "revoked_at").is_(None),
    )


def site_assigned(env: ScopeEnv) -> ColumnElement[bool]:
    return exists().where(_col(Assignment, "site_id") == _col(Site, "id"), _assignment_valid(env))


def _site_ids_assigned(env: ScopeEnv) -> Any:
    return select(_col(Assignment, "site_id")).where(
        _col(Assignment, "site_id").is_not(None), _assignment_valid(env)
    )


def customer_has_assigned_site(env: ScopeEnv) -> ColumnElement[bool]:
    return exists().where(
        _col(Site, "customer_id") == _col(Customer, "id"),
        _col(Site, "id").in_(_site_ids_assigned(env)),
    )


def customer_assigned(env: ScopeEnv) -> ColumnElement[bool]:
    return exists().where(
        _col(Assignment, "customer_id") == _col(Customer, "id"), _assignment_valid(env)
    )


def _open_case_of_own_agency(env: ScopeEnv) -> ColumnElement[bool]:
    return and_(
        _col(CollectionCase, "agency_id") == env.organisation_id,
        _col(CollectionCase, "closed_on").is_(None),
    )


def customer_in_own_collection(env: ScopeEnv) -> ColumnElement[bool]:
    return exists().where(
        _col(CollectionCase, "customer_id") == _col(Customer, "id"), _open_case_of_own_agency(env)
    )


def invoice_in_own_collection(env: ScopeEnv) -> ColumnElement[bool]:
    return exists().where(
        _col(CollectionCaseInvoice, "invoice_id") == _col(Invoice, "id"),
        _col(CollectionCaseInvoice, "collection_case_id") == _col(CollectionCase, "id"),
        _open_case_of_own_agency(env),
    )


def case_of_own_agency(env: ScopeEnv) -> ColumnElement[bool]:
    return _open_case_of_own_agency(env)


def contract_on_assigned_site(env: ScopeEnv) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = _col(Contract, "site_id").in_(_site_ids_assigned(env))
    return condition


def everything(env: ScopeEnv) -> ColumnElement[bool]:
    return true()


# Filters on the data subject (the customer); lifted to every type that has a customer_id.
CUSTOMER_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "no_direct_marketing_objection": lambda: _col(Customer, "direct_marketing_objection_at").is_(
        None
    ),
    "no_distance_selling_objection": lambda: _col(Customer, "distance_selling_objection_at").is_(
        None
    ),
    "no_research_objection": lambda: _col(Customer, "research_objection_at").is_(None),
    "not_restricted": lambda: _col(Customer, "processing_restricted_at").is_(None),
    "not_anonymised": lambda: _col(Customer, "anonymised_at").is_(None),
    "current_customer": lambda: _col(Customer, "former_customer_since").is_(None),
}

# GraphQL type name -> the table whose rows it shows (types reachable from a root field).
SCOPED_TABLES: dict[str, Any] = {
    "Customer": Customer,
    "Site": Site,
    "Contract": Contract,
    "Invoice": Invoice,
    "CollectionCase": CollectionCase,
    "Prospect": Prospect,
    "Product": Product,
    "Offer": Offer,
}

ROW_SCOPES: dict[str, dict[str, Predicate]] = {
    "Customer": {
        "all": everything,
        "collection_assigned": customer_in_own_collection,
        "site_assigned": customer_has_assigned_site,
        "assigned": customer_assigned,
    },
    "Site": {"all": everything, "assigned": site_assigned},
    "Contract": {"all": everything, "site_assigned": contract_on_assigned_site},
    "Invoice": {"all": everything, "collection_assigned": invoice_in_own_collection},
    "CollectionCase": {"all": everything, "own_agency": case_of_own_agency},
    "Prospect": {"all": everything},
    "Product": {"all": everything},
    "Offer": {"all": everything},
    # Records about the register rather than of it: whoever may see the type sees all rows.
    "AccessLogEntry": {"all": everything},
    "DataSubjectRequest": {"all": everything},
    "Disclosure": {"all": everything},
}


def prospect_consent_valid(env: ScopeEnv) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = _col(Prospect, "consent_expires_on") >= env.today
    return condition


def _lift_customer_filter(model: Any, name: str) -> Predicate:
    condition = CUSTOMER_FILTERS[name]
    if model is Customer:
        return lambda env: condition()
    return lambda env: exists().where(
        _col(Customer, "id") == _col(model, "customer_id"), condition()
    )


ROW_FILTERS: dict[str, dict[str, Predicate]] = {
    type_name: {name: _lift_customer_filter(model, name) for name in CUSTOMER_FILTERS}
    for type_name, model in SCOPED_TABLES.items()
    if hasattr(model, "customer_id") or model is Customer
}
ROW_FILTERS["Prospect"] = {"consent_valid": prospect_consent_valid}


def _offer_customer_filter(name: str) -> Predicate:
    """An offer to a customer follows the customer's filter; one to a prospect does not."""
    condition = CUSTOMER_FILTERS[name]
    return lambda env: or_(
        _col(Offer, "customer_id").is_(None),
        exists().where(_col(Customer, "id") == _col(Offer, "customer_id"), condition()),
    )


def offer_prospect_consent_valid(env: ScopeEnv) -> ColumnElement[bool]:
    """An offer to a prospect only while the prospect's marketing consent is valid."""
    return or_(
        _col(Offer, "prospect_id").is_(None),
        exists().where(
            _col(Prospect, "id") == _col(Offer, "prospect_id"), prospect_consent_valid(env)
        ),
    )


ROW_FILTERS["Offer"] = {name: _offer_customer_filter(name) for name in CUSTOMER_FILTERS}
ROW_FILTERS["Offer"]["consent_valid"] = offer_prospect_consent_valid


def row_predicate(
    type_name: str, scopes: tuple[str, ...], filters: tuple[str, ...], env: ScopeEnv
) -> ColumnElement[bool]:
    """The WHERE condition for a type: OR of granted scopes, AND of required filters."""
    if not scopes:
        return false()
    if "all" in scopes:
        widened: ColumnElement[bool] = true()
    else:
        widened = or_(*(ROW_SCOPES[type_name][name](env) for name in scopes))
    narrowed = [ROW_FILTERS[type_name][name](env) for name in filters]
    return and_(widened, *narrowed) if narrowed else widened
