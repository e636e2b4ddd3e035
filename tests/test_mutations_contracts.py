"""Offers and contracts: make an offer, accept it into a contract, terminate it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from tests import factories
from tests.factories import customer_input
from tests.test_mutations_harness import Api, api_fixture, today  # noqa: F401

OFFER = """
mutation($input: CreateOfferInput!) {
  createOffer(input: $input) { offer { id status spotMarginCPerKwh validUntil product { name } } }
}
"""
ACCEPT = """
mutation($input: AcceptOfferInput!) {
  acceptOffer(input: $input) { contract { id status startDate salesChannel } offer { status } }
}
"""
TERMINATE = """
mutation($input: TerminateContractInput!) {
  terminateContract(input: $input) { contract { id status endDate } }
}
"""


async def _customer_site_and_product(api: Api) -> tuple[dict[str, Any], ...]:
    """A new customer, a site of theirs and a product (rows): what an offer is made of."""
    holder = await factories.customer(api.owner)
    place = await factories.site(api.owner, customer_id=holder["id"])
    product = await factories.product(api.owner)
    return holder, place, product


async def _offer(api: Api, customer_id: object, site_id: object, product_id: object) -> str:
    result = await api.mutate(
        OFFER,
        as_="customer_service",
        input={
            "customerId": str(customer_id),
            "siteId": str(site_id),
            "productId": str(product_id),
            "spotMarginCPerKwh": "0.49",
            "basicFeeEurPerMonth": "3.90",
            "validUntil": (today() + timedelta(days=14)).isoformat(),
        },
    )
    offer = result.ok()["createOffer"]["offer"]
    assert offer["status"] == "OPEN"
    assert offer["product"]["name"] == "Pörssisähkö"
    return str(offer["id"])


async def test_offer_accepted_into_a_contract_then_terminated(api: Api) -> None:
    holder, place, product = await _customer_site_and_product(api)
    offer_id = await _offer(api, holder["id"], place["id"], product["id"])
    acceptance = {"offerId": offer_id, "startDate": today().isoformat(), "salesChannel": "PHONE"}
    accepted = await api.mutate(ACCEPT, as_="customer_service", input=acceptance)
    payload = accepted.ok()["acceptOffer"]
    assert payload["contract"]["status"] == "ACTIVE"
    assert payload["offer"]["status"] == "ACCEPTED"
    again = await api.mutate(ACCEPT, as_="customer_service", input=acceptance)
    assert again.error()["reason"] == "not open"
    contract_id = payload["contract"]["id"]
    early = await api.mutate(
        TERMINATE,
        as_="customer_service",
        input={
            "contractId": contract_id,
            "endDate": (today() - timedelta(days=1)).isoformat(),
        },
    )
    assert early.error()["field"] == "input.endDate"
    end = today() + timedelta(days=30)
    ended = await api.mutate(
        TERMINATE,
        as_="customer_service",
        input={"contractId": contract_id, "endDate": end.isoformat(), "reason": "moving"},
    )
    assert ended.ok()["terminateContract"]["contract"] == {
        "id": contract_id,
        "status": "TERMINATED",
        "endDate": end.isoformat(),
    }
    since = await api.owner.fetchval(
        "SELECT former_customer_since FROM customer WHERE id = $1", holder["id"]
    )
    assert since.date() == end + timedelta(days=1)


async def test_offer_prices_must_fit_the_product(api: Api) -> None:
    holder = await factories.customer(api.owner)
    product = await factories.product(api.owner, kind="fixed", code="FIX-12")
    result = await api.mutate(
        OFFER,
        as_="customer_service",
        input=customer_input(
            holder,
            productId=str(product["id"]),
            basicFeeEurPerMonth="3.90",
            validUntil=today().isoformat(),
        ),
    )
    assert result.error()["field"] == "input.energyPriceCPerKwh"
    assert await api.count("offer") == 0


async def test_expired_offer_cannot_be_accepted(api: Api) -> None:
    holder, place, product = await _customer_site_and_product(api)
    offer = await factories.insert(
        api.owner,
        "offer",
        {
            "id": uuid.uuid4(),
            "customer_id": holder["id"],
            "site_id": place["id"],
            "product_id": product["id"],
            "spot_margin_c_per_kwh": Decimal("0.4"),
            "basic_fee_eur_per_month": Decimal("3"),
            "valid_until": today() - timedelta(days=1),
            "status": "open",
        },
    )
    result = await api.mutate(
        ACCEPT,
        as_="customer_service",
        input={
            "offerId": str(offer["id"]),
            "startDate": today().isoformat(),
            "salesChannel": "WEB",
        },
    )
    assert result.error()["reason"] == "expired"
    assert await api.count("contract") == 0


async def test_marketing_may_not_terminate_contracts(api: Api) -> None:
    holder, place, product = await _customer_site_and_product(api)
    deal = await factories.contract(
        api.owner, customer_id=holder["id"], site_id=place["id"], product_id=product["id"]
    )
    result = await api.mutate(
        TERMINATE,
        as_="marketing",
        input={"contractId": str(deal["id"]), "endDate": today().isoformat()},
    )
    assert result.error()["code"] == "FORBIDDEN"
    assert result.error()["coordinate"] == "Contract.endDate"
