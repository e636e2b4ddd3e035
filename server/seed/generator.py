"""Deterministic generation of the register's seed rows; no database access.

`generate` turns ``(customers, seed, today)`` into the rows of every table, in the
order the foreign keys need. The same arguments always give the same rows: every
random choice comes from one ``random.Random(seed)`` (drawn in a fixed order, see
`server.seed.draws`), ids are ``uuid.UUID(int=rng.getrandbits(128), version=4)`` and
every date is derived from ``today`` (no clock is read).

The steps, in the order they draw: organisations and customers (`people`), sites
(`sites`), contracts and offers (`contracts`), consumption (`consumption`), invoices
(`invoices`), payments, collection and deposits (`payments`), assignments
(`assignments`), prospects and marketing offers (`marketing`), and last the rows
(`rows`). Identifiers (identity codes, business IDs, GSRNs, reference numbers) are made
by `server.validators`, so an invalid one fails generation rather than the COPY.
"""

from __future__ import annotations

import gc
import random
import uuid
from datetime import date, datetime, time, timedelta
from typing import Final

from server.cli_progress import NO_PROGRESS, Progress, counted
from server.contracts.models import ContractStatus
from server.seed.assignments import assignments
from server.seed.consumption import Series, Timeline, make_series, make_timeline
from server.seed.contracts import Contracts
from server.seed.draws import HELSINKI, Draws, add_months, office_moment, weighted
from server.seed.invoices import Invoicing, number_invoices
from server.seed.marketing import marketing_offers, prospects
from server.seed.payments import security_deposits, settle
from server.seed.people import People
from server.seed.prices import make_products
from server.seed.records import Contract, Customer, Invoice, Site
from server.seed.results import SeedData, SeedSummary, TableRows
from server.seed.rows import Generated, assemble
from server.seed.sites import Sites

__all__ = ["SeedData", "SeedSummary", "TableRows", "generate"]

_OBJECTIONS: Final = (("direct_marketing", 0.06), ("distance_selling", 0.03), ("research", 0.03))
"""Objections a customer may have made, and the share of customers who did."""
_OBJECTION_CHANNELS: Final = ("kirje", "puhelu", "sähköposti", "asiakaspalvelu", "verkkopalvelu")


def generate(
    *,
    customers: int,
    seed: int,
    today: date,
    consumption_share: float = 0.05,
    existing_organisations: dict[str, uuid.UUID] | None = None,
    progress: Progress = NO_PROGRESS,
) -> SeedData:
    """All seed rows for ``customers`` customers, deterministic in (arguments).

    ``existing_organisations`` maps organisation codes already in the database to
    their ids: those rows are not generated again, and references use the ids.
    ``progress`` follows the customers made (the rest takes a fraction of their time).
    ``consumption_share`` is the share of sites with a year of metered consumption.
    """
    if customers < 0:
        raise ValueError("customers must not be negative")
    if not 0.0 <= consumption_share <= 1.0:
        raise ValueError("consumption_share must be between 0 and 1")
    run = _Run(Draws(random.Random(seed), today), consumption_share, progress)
    # Millions of small objects and no reference cycles: the cyclic collector would
    # only rescan them over and over.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return run.generate(customers, dict(existing_organisations or {}))
    finally:
        if was_enabled:
            gc.enable()


class _Run:
    """One seed run: the steps of `generate`, in the order they draw."""

    def __init__(self, draws: Draws, consumption_share: float, progress: Progress) -> None:
        self.draws = draws
        self.consumption_share = consumption_share
        self.progress = progress
        self.people = People(draws)
        self.sites = Sites(draws, self.people)

    def generate(self, count: int, existing_organisations: dict[str, uuid.UUID]) -> SeedData:
        draws = self.draws
        org_rows, org_ids = self.people.organisations()
        org_ids.update(existing_organisations)
        org_rows = [row for row in org_rows if row[1] not in existing_organisations]
        contracts = Contracts(draws, make_products(draws))
        customers = self.customers(count, contracts)
        sites = [site for customer in customers for site in customer.sites]
        all_contracts = _numbered_contracts(sites)
        timeline = make_timeline(draws.today)
        series = self.consumption(sites, timeline)
        owner_of = {k.id: (c, s) for c in customers for s in c.sites for k in s.contracts}
        offer_rows = contracts.accepted_offers(all_contracts, owner_of)
        invoices = self.invoices(customers)
        cases = settle(draws, customers, invoices, org_ids)
        deposit_rows = security_deposits(draws, customers)
        assignment_rows = assignments(draws, sites, cases, org_ids)
        prospect_list = prospects(draws, self.people, count // 20)
        offer_rows += marketing_offers(draws, contracts, prospect_list, customers)
        generated = Generated(
            organisation_rows=org_rows,
            products=list(contracts.products),
            customers=customers,
            sites=sites,
            contracts=all_contracts,
            series=series,
            timeline=timeline,
            offer_rows=offer_rows,
            invoices=invoices,
            cases=cases,
            deposit_rows=deposit_rows,
            assignment_rows=assignment_rows,
            prospect_rows=[p.row for p in prospect_list],
        )
        return assemble(draws, generated)

    def customers(self, count: int, contracts: Contracts) -> list[Customer]:
        """`count` customers with their sites and contracts, numbered from 100001 in the
        order they became customers."""
        with self.progress.stage("generating customers", total=count, unit="customers") as step:
            customers = [
                self.customer_with_sites(contracts)
                for _ in counted(range(count), step, every=1_000)
            ]
        customers.sort(key=lambda c: (c.created_at, c.id))
        for index, customer in enumerate(customers):
            customer.number = 100001 + index
            customer.billing_day = customer.number % 10
        return customers

    def customer_with_sites(self, contracts: Contracts) -> Customer:
        """One customer with its sites, contracts and objections."""
        draws = self.draws
        rng, today = draws.rng, draws.today
        customer = self.people.customer()
        since = today - timedelta(days=20 + int(rng.random() ** 1.6 * 365 * 12))
        if customer.birth is not None:  # a customer since coming of age
            adult = add_months(customer.birth, 18 * 12) + timedelta(days=14)
            since = min(today - timedelta(days=20), max(since, adult))
        self.objections(customer, since)
        site_count = weighted(rng, ((1, 50), (2, 40), (3, 10)))
        for index in range(site_count):
            site = self.sites.site(customer, primary=index == 0)
            start = since
            if index > 0:
                start = since + timedelta(days=rng.randrange(max(1, (today - since).days - 10)))
            contracts.contracts_for(customer, site, start)
            customer.sites.append(site)
        customer.created_at = office_moment(since - timedelta(days=14), rng)
        if all(s.contracts[-1].status == ContractStatus.TERMINATED for s in customer.sites):
            last_end = max(e for s in customer.sites if (e := s.contracts[-1].end) is not None)
            customer.former_since = datetime.combine(
                last_end + timedelta(days=1), time(0), HELSINKI
            )
        return customer

    def objections(self, customer: Customer, since: date) -> None:
        """Objections the customer made some day since becoming one, and how."""
        rng, today = self.draws.rng, self.draws.today
        for objection, share in _OBJECTIONS:
            if rng.random() < share:
                day = since + timedelta(days=rng.randrange(max(1, (today - since).days)))
                channel = rng.choice(_OBJECTION_CHANNELS)
                at = office_moment(day, rng)
                customer.objections[objection] = (at, f"{channel} {day.isoformat()}")

    def consumption(self, sites: list[Site], timeline: Timeline) -> list[Series]:
        """Consumption series for a share of the sites (with a full year of supply when
        there are enough such sites); one in 25 also has quarter hours."""
        rng = self.draws.rng
        if not sites or self.consumption_share <= 0:
            return []
        wanted = max(1, round(len(sites) * self.consumption_share))
        window_start = timeline.days[0]
        full_year = [
            s
            for s in sites
            if s.contracts[0].start <= window_start
            and all(c.status != ContractStatus.TERMINATED for c in s.contracts)
        ]
        pool = full_year if len(full_year) >= wanted else sites
        chosen = rng.sample(pool, min(wanted, len(pool)))
        quarter_sites = max(1, len(chosen) // 25)
        seeds = [rng.getrandbits(64) for _ in chosen]
        series: list[Series] = []
        for index, (site, site_seed) in enumerate(zip(chosen, seeds, strict=True)):
            site.series = make_series(site, timeline, site_seed, index < quarter_sites)
            series.append(site.series)
        return series

    def invoices(self, customers: list[Customer]) -> list[Invoice]:
        """Every customer's invoices, numbered in issue order."""
        invoicing = Invoicing(self.draws)
        invoices = [invoice for c in customers for invoice in invoicing.invoices_for(c)]
        invoices.sort(key=lambda i: (i.issue, i.customer.number, i.contract.number, i.period_start))
        number_invoices(invoices)
        return invoices


def _numbered_contracts(sites: list[Site]) -> list[Contract]:
    """Every contract of the sites, numbered from 5000001 in start order."""
    contracts = sorted((c for s in sites for c in s.contracts), key=lambda c: (c.start, c.id))
    for index, contract in enumerate(contracts):
        contract.number = 5000001 + index
    return contracts
