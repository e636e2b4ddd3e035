"""The seed's contracts, each site's chain of them, and the offers that led to them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from server.contracts.models import ContractStatus, OfferStatus, SalesChannel
from server.seed.draws import Draws, add_months, office_moment, weighted
from server.seed.prices import Product
from server.seed.records import Contract, Customer, Site
from server.seed.results import Row

__all__ = ["Contracts"]

_OFFER_CHANNELS = frozenset({SalesChannel.FIELD, SalesChannel.PHONE, SalesChannel.EMAIL})


class Contracts:
    """Draws contract chains and offers over the products."""

    def __init__(self, draws: Draws, products: Sequence[Product]) -> None:
        self.draws = draws
        self.products = products

    def channel(self, customer: Customer, first: bool) -> str:
        """How the contract was sold; never by phone to a customer who objected to it."""
        options: list[tuple[str, float]] = [
            (SalesChannel.WEB, 35 if first else 45),
            (SalesChannel.PHONE, 15 if first else 10),
            (SalesChannel.FIELD, 10 if first else 2),
            (SalesChannel.EMAIL, 10),
            (SalesChannel.CUSTOMER_SERVICE, 30),
        ]
        if "distance_selling" in customer.objections:
            options = [o for o in options if o[0] != SalesChannel.PHONE]
        return str(weighted(self.draws.rng, options))

    def choose_product(self, renewal: bool) -> Product:
        weights = (30, 8, 15, 15, 20, 12) if not renewal else (40, 10, 10, 10, 25, 5)
        return weighted(self.draws.rng, list(zip(self.products, weights, strict=True)))

    def contracts_for(self, customer: Customer, site: Site, start: date) -> None:
        """The site's contracts from `start`: ended ones renewed until one is active, then
        perhaps a move-out or a product switch; each at its product's price on its start."""
        chain = self._chain_until_active(customer, start)
        current = chain[-1]
        if current.start > self.draws.today:
            current.status = ContractStatus.PENDING
        chain.extend(self._last_change(customer, current))
        for contract in chain:
            price = contract.product.price_on(contract.start)
            contract.energy, contract.margin, contract.fee = price.energy, price.margin, price.fee
        site.contracts = chain

    def _chain_until_active(self, customer: Customer, start: date) -> list[Contract]:
        draws = self.draws
        rng, today = draws.rng, draws.today
        chain: list[Contract] = []
        day = start
        while True:
            product = self.choose_product(renewal=bool(chain))
            if len(chain) >= 3 and product.spec.term is not None:
                product = self.products[0]
            term = product.spec.term
            end: date | None = None
            if term is not None:
                end = add_months(day, term) - timedelta(days=1)
            elif (today - day).days > 90 and rng.random() < 0.12:
                end = day + timedelta(days=rng.randint(60, (today - day).days - 1))
            status = ContractStatus.ACTIVE
            if end is not None and end < today:
                status = ContractStatus.ENDED
            contract = Contract(
                draws.new_id(), product, day, end, status, self.channel(customer, not chain)
            )
            chain.append(contract)
            if status == ContractStatus.ACTIVE:
                return chain
            assert end is not None
            day = end + timedelta(days=1)

    def _last_change(self, customer: Customer, current: Contract) -> list[Contract]:
        """A move-out during the last year (4 %: `current` terminated), or a product switch
        agreed for the coming weeks (2 %: the new, pending contract)."""
        draws = self.draws
        rng, today = draws.rng, draws.today
        roll = rng.random()
        if roll < 0.04 and current.start < today - timedelta(days=20):
            earliest = max(current.start, today - timedelta(days=330))
            current.end = earliest + timedelta(days=rng.randrange(max(1, (today - earliest).days)))
            current.status = ContractStatus.TERMINATED
        elif roll < 0.06 and current.end is None:
            switch = today + timedelta(days=rng.randint(1, 30))
            current.end = switch - timedelta(days=1)
            product = self.choose_product(renewal=True)
            end: date | None = None
            if product.spec.term is not None:
                end = add_months(switch, product.spec.term) - timedelta(days=1)
            return [
                Contract(
                    draws.new_id(), product, switch, end, ContractStatus.PENDING,
                    self.channel(customer, first=False),
                )
            ]  # fmt: skip
        return []

    def accepted_offers(
        self, contracts: Sequence[Contract], owner_of: dict[uuid.UUID, tuple[Customer, Site]]
    ) -> list[Row]:
        """Offers accepted into half of the field, phone and e-mail sales of the last two
        years (`owner_of` maps a contract id to its customer and site)."""
        draws = self.draws
        rng, today = draws.rng, draws.today
        rows: list[Row] = []
        for contract in contracts:
            recent = contract.start >= today - timedelta(days=730)
            if not recent or contract.channel not in _OFFER_CHANNELS:
                continue
            if rng.random() >= 0.5:
                continue
            customer, site = owner_of[contract.id]
            valid_until = min(contract.start, today) - timedelta(days=rng.randint(0, 10))
            contract.offer_id = draws.new_id()
            rows.append(
                (contract.offer_id, customer.id, None, site.id, contract.product.id,
                 contract.energy, contract.margin, contract.fee, valid_until,
                 OfferStatus.ACCEPTED.value,
                 office_moment(valid_until - timedelta(days=14), rng))
            )  # fmt: skip
        return rows

    def marketing_offer(
        self, customer_id: uuid.UUID | None, prospect_id: uuid.UUID | None,
        site_id: uuid.UUID | None, not_before: date,
    ) -> Row:  # fmt: skip
        """An offer sent to a customer or prospect some day after `not_before`."""
        draws = self.draws
        rng, today = draws.rng, draws.today
        product = self.choose_product(renewal=False)
        created = max(not_before, today - timedelta(days=rng.randint(0, 240)))
        valid_until = created + timedelta(days=rng.choice((14, 30)))
        if valid_until >= today:
            status = OfferStatus.WITHDRAWN if rng.random() < 0.05 else OfferStatus.OPEN
        else:
            status = OfferStatus.EXPIRED
        price = product.price_on(created)
        margin = price.margin
        if margin is not None and rng.random() < 0.5:
            margin = max(Decimal("0.38"), margin - Decimal("0.10"))
        return (
            draws.new_id(), customer_id, prospect_id, site_id, product.id, price.energy, margin,
            price.fee, valid_until, status.value, office_moment(created, rng),
        )  # fmt: skip
