"""Which contracts, products and offers a role sees."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_

from server.authz.scopes import Predicate, ScopeEnv, register_filters, register_scopes
from server.contracts.models import Contract, Offer
from server.customers.scopes import subject_filters
from server.db.tables import table_of
from server.organisations.scopes import assigned_site_ids
from server.prospects.scopes import prospect, prospect_consent_valid

contract = table_of(Contract).c
offer = table_of(Offer).c


def contract_on_assigned_site(env: ScopeEnv) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = contract.site_id.in_(assigned_site_ids(env))
    return condition


def _offer_subject_filter(customer_passes: Predicate) -> Predicate:
    """An offer to a customer follows the customer's filter; one to a prospect does not."""
    return lambda env: or_(offer.customer_id.is_(None), customer_passes(env))


def offer_prospect_consent_valid(env: ScopeEnv) -> ColumnElement[bool]:
    """An offer to a prospect only while the prospect's marketing consent is valid."""
    return or_(
        offer.prospect_id.is_(None),
        exists().where(prospect.id == offer.prospect_id, prospect_consent_valid(env)),
    )


def register() -> None:
    register_scopes("Contract", site_assigned=contract_on_assigned_site)
    register_filters("Contract", subject_filters(contract.customer_id))
    register_scopes("Product")
    register_scopes("Offer")
    customer_filters = subject_filters(offer.customer_id)
    offer_filters = {name: _offer_subject_filter(p) for name, p in customer_filters.items()}
    register_filters("Offer", {**offer_filters, "consent_valid": offer_prospect_consent_valid})
