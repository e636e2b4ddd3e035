"""What became of the seed's invoices: paid (on time or late), credited, overdue or with a
collection agency; and the security deposits some customers paid."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from server.billing.models import BillingMethod, CollectionStage, DepositStatus, InvoiceStatus
from server.seed.draws import CENT, ZERO, Draws, sample_share, weighted
from server.seed.records import CollectionCase, Customer, Invoice
from server.seed.results import Row

__all__ = ["AGENCIES", "security_deposits", "settle"]

AGENCIES: Final = ("perinta-a", "perinta-b")
"""The collection agencies' organisation codes; cases go to them in turn."""

_DEPOSIT_REASONS: Final = (
    "Maksuhäiriömerkintä luottotiedoissa",
    "Aiempia maksamattomia sähkölaskuja",
    "Ei luottotietoja (uusi asiakas)",
)
_STAGES: Final = (
    (CollectionStage.PAYMENT_DEMAND, 25), (CollectionStage.COLLECTION_AGENCY, 50),
    (CollectionStage.DISCONNECTION_WARNING, 15), (CollectionStage.LEGAL, 10),
)  # fmt: skip


def settle(
    draws: Draws,
    customers: Sequence[Customer],
    invoices: Sequence[Invoice],
    agency_ids: dict[str, uuid.UUID],
) -> list[CollectionCase]:
    """Decide each invoice's status and payment; open collection cases.

    About 2 % of the customers have debts with a collection agency and 8 % have overdue
    invoices (so about 1 % and 3 % of the invoices); 0.5 % had a case that is closed.
    """
    rng, today = draws.rng, draws.today
    collection_due = today - timedelta(days=35)  # disconnection/collection no sooner
    by_customer: dict[uuid.UUID, list[Invoice]] = {}
    for invoice in invoices:
        by_customer.setdefault(invoice.customer.id, []).append(invoice)

    def having(condition: Callable[[Invoice], bool], taken: set[uuid.UUID]) -> list[Customer]:
        return [
            c
            for c in customers
            if c.id not in taken and any(condition(i) for i in by_customer.get(c.id, ()))
        ]

    n = len(customers)
    collection = sample_share(rng, having(lambda i: i.due < collection_due, set()), 0.02, n)
    taken = {c.id for c in collection}
    late = sample_share(rng, having(lambda i: i.due < today, taken), 0.08, n)
    taken |= {c.id for c in late}
    closed = sample_share(rng, having(lambda i: i.due < collection_due, taken), 0.005, n)

    for invoice in invoices:
        _pay(draws, invoice)
    for customer in late:
        _leave_unpaid(draws, by_customer[customer.id])
    agencies = [agency_ids[AGENCIES[index % 2]] for index in range(len(collection) + len(closed))]
    cases = [
        _open_case(draws, customer, by_customer[customer.id], agency)
        for customer, agency in zip(collection, agencies, strict=False)
    ]
    cases += [
        _closed_case(draws, customer, by_customer[customer.id], agency)
        for customer, agency in zip(closed, agencies[len(collection) :], strict=True)
    ]
    return cases


def _pay(draws: Draws, invoice: Invoice) -> None:
    """Paid by direct payment on the due date, else by bank around it; a few credited."""
    rng, today = draws.rng, draws.today
    direct = invoice.customer.billing_method == BillingMethod.DIRECT_PAYMENT
    if invoice.due >= today:
        if not direct and rng.random() < 0.3 and invoice.issue < today:
            invoice.status = InvoiceStatus.PAID
            invoice.paid_on = invoice.issue + timedelta(
                days=rng.randrange((today - invoice.issue).days)
            )
        return
    if rng.random() < 0.004:
        invoice.status = InvoiceStatus.CREDITED
        return
    invoice.status = InvoiceStatus.PAID
    if direct:
        invoice.paid_on = invoice.due
    else:
        offset = rng.randint(-10, 3) if rng.random() < 0.9 else rng.randint(4, 25)
        paid = invoice.due + timedelta(days=offset)
        invoice.paid_on = min(max(paid, invoice.issue), today - timedelta(days=1))


def _leave_unpaid(draws: Draws, invoices: list[Invoice]) -> None:
    """Unpaid since some day in the last six months (reminders sent, no agency yet)."""
    today = draws.today
    past_due = [i for i in invoices if i.due < today]
    since = today - timedelta(days=draws.rng.randint(1, 180))
    for invoice in [i for i in past_due if i.due >= since] or past_due[-1:]:
        invoice.status, invoice.paid_on = InvoiceStatus.OVERDUE, None


def _open_case(
    draws: Draws, customer: Customer, invoices: list[Invoice], agency_id: uuid.UUID
) -> CollectionCase:
    """Unpaid since some day 3-10 months ago: the older invoices went to the agency."""
    rng, today = draws.rng, draws.today
    collection_due = today - timedelta(days=35)
    past_due = [i for i in invoices if i.due < today]
    old = [i for i in past_due if i.due < collection_due]
    since = today - timedelta(days=rng.randint(90, 300))
    unpaid_old = [i for i in old if i.due >= since] or old[-1:]
    for invoice in unpaid_old:
        invoice.status, invoice.paid_on = InvoiceStatus.IN_COLLECTION, None
    for invoice in past_due:
        if invoice.due >= collection_due:
            invoice.status, invoice.paid_on = InvoiceStatus.OVERDUE, None
    stage = weighted(rng, _STAGES)
    opened = min(today, unpaid_old[0].due + timedelta(days=35 + rng.randint(0, 10)))
    return CollectionCase(
        draws.new_id(), customer, agency_id, str(stage), opened, None,
        sum((i.incl for i in unpaid_old), ZERO), unpaid_old,
    )  # fmt: skip


def _closed_case(
    draws: Draws, customer: Customer, invoices: list[Invoice], agency_id: uuid.UUID
) -> CollectionCase:
    """An invoice that went to the agency and was paid there within two months."""
    today = draws.today
    collection_due = today - timedelta(days=35)
    invoice = next(i for i in invoices if i.due < collection_due)
    opened = invoice.due + timedelta(days=35)
    latest = (today - timedelta(days=1) - opened).days
    paid = opened + timedelta(days=draws.rng.randint(0, min(60, latest)))
    invoice.status, invoice.paid_on = InvoiceStatus.PAID, paid
    return CollectionCase(
        draws.new_id(), customer, agency_id, CollectionStage.CLOSED.value, opened, paid,
        invoice.incl, [invoice],
    )  # fmt: skip


def security_deposits(draws: Draws, customers: Sequence[Customer]) -> list[Row]:
    """Deposits of 2 % of the customers, received before their first contract began."""
    rng, today = draws.rng, draws.today
    rows: list[Row] = []
    for customer in sample_share(rng, customers, 0.02, len(customers)):
        first = min((c for s in customer.sites for c in s.contracts), key=lambda c: c.start)
        received = first.start - timedelta(days=rng.randint(0, 14))
        status = weighted(
            rng,
            ((DepositStatus.HELD, 70), (DepositStatus.RETURNED, 20), (DepositStatus.APPLIED, 10)),
        )
        returned: date | None = None
        if status == DepositStatus.RETURNED:
            if received > today - timedelta(days=400):
                status = DepositStatus.HELD
            else:
                returned = received + timedelta(days=rng.randint(365, (today - received).days))
        amount = Decimal(rng.choice((150, 200, 250, 300, 400, 500))).quantize(CENT)
        rows.append(
            (draws.new_id(), customer.id, first.id, amount, received, returned, str(status),
             rng.choice(_DEPOSIT_REASONS))
        )  # fmt: skip
    return rows
