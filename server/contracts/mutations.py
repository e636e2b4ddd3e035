"""Mutations of the contracts domain: make an offer, accept it into a contract, terminate.

The rules are in server/contracts/service.py; a resolver reads its input, calls the
service and shapes the rows it returns.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from server.contracts import service
from server.contracts.models import SalesChannel
from server.contracts.types import Contract, Offer
from server.graphql.inputs import optional
from server.graphql.mutation import mutation, objects_answer


@strawberry.input(description="An offer to a customer (or a prospect) for one product.")
class CreateOfferInput:
    product_id: strawberry.ID = strawberry.field(description="The product offered.")
    basic_fee_eur_per_month: Decimal = strawberry.field(description="Basic fee, EUR/month.")
    valid_until: date = strawberry.field(description="Last day the offer can be accepted.")
    customer_id: strawberry.ID | None = optional("The customer (give this or prospectId).")
    prospect_id: strawberry.ID | None = optional("The prospect (give this or customerId).")
    site_id: strawberry.ID | None = optional("The customer's site the offer is for.")
    energy_price_c_per_kwh: Decimal | None = optional("Energy price, c/kWh (fixed, hybrid).")
    spot_margin_c_per_kwh: Decimal | None = optional("Margin on the spot price, c/kWh (spot).")


@strawberry.input(description="Acceptance of an open offer: it becomes a contract.")
class AcceptOfferInput:
    offer_id: strawberry.ID = strawberry.field(description="The offer accepted.")
    start_date: date = strawberry.field(description="First day of delivery.")
    sales_channel: SalesChannel = strawberry.field(description="Where it was sold.")
    site_id: strawberry.ID | None = optional("The site supplied, if the offer names none.")


@strawberry.input(description="Termination of a contract on an end date.")
class TerminateContractInput:
    contract_id: strawberry.ID = strawberry.field(description="The contract terminated.")
    end_date: date = strawberry.field(description="Last day of delivery.")
    reason: str | None = optional("Why the contract ends (moving, switching supplier...).")


@strawberry.type(description="An offer after it was made.")
class OfferPayload:
    offer: Offer | None = strawberry.field(description="The offer as your role may see it.")


@strawberry.type(description="A contract after it was made or changed.")
class ContractPayload:
    contract: Contract | None = strawberry.field(
        description="The contract as your role may see it."
    )
    offer: Offer | None = strawberry.field(description="The offer it was made from, if any.")


@strawberry.type(description="Offer and contract mutations.")
class ContractMutation:
    create_offer = mutation(service.create_offer, CreateOfferInput, OfferPayload)
    accept_offer = mutation(
        service.accept_offer, AcceptOfferInput, ContractPayload, objects_answer()
    )
    terminate_contract = mutation(
        service.terminate_contract, TerminateContractInput, ContractPayload
    )
