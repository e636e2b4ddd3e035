"""Retention (privacy notice section 10, facts sheet section 5).

For former customers whose last claim is settled, what is no longer needed goes: contact
data and the identity code, consumption series, open offers, objection notes and the
handlers' notes; the change history loses those values too. The customer is marked
anonymised, which hides them from every purpose but billing. Accounting records stay for
the Kirjanpitolaki 2:10 period: vouchers (invoices, payments, deposits, collection) six
years from the end of the calendar year in which the financial year ended. When the last
of them has gone, the name and addresses go as well.

Prospects are erased when their consent expires or after a configured period.

`plan_retention` only reads; `apply_retention` changes the rows of a plan. The command
records the real run in `retention_run` and in the access log.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.coordinates import LoggedFields, logged, stored_fields
from server.billing import types as billing_types
from server.cli_progress import NO_PROGRESS, Advance, Progress
from server.customers import types as customer_types
from server.prospects import types as prospect_types
from server.rights.requests import add_months
from server.rights.tables import (
    case_invoice_t,
    case_t,
    change_t,
    consumption_t,
    contract_t,
    customer_t,
    deposit_t,
    invoice_t,
    line_t,
    offer_t,
    payment_t,
    prospect_t,
    provenance_t,
    request_t,
    run_t,
    site_t,
)
from server.sites import types as site_types
from server.sites.models import stored_values

VOUCHER_YEARS = 6  # Kirjanpitolaki 2:10: vouchers six years from the end of the FY's year
FISCAL_YEAR_END_MONTH = 12  # the company's financial year is the calendar year
SETTLE_GRACE_DAYS = 42  # Datahub keeps the supplier's post-contract rights for six weeks
PROSPECT_MONTHS = 24
UNSETTLED_INVOICES = ("open", "overdue", "in_collection")
IN_FORCE = ("pending", "active")

# Customer columns emptied when the claims are settled...
CONTACT_COLUMNS = (
    "email",
    "phone",
    "personal_identity_code",
    "direct_marketing_objection_source",
    "distance_selling_objection_source",
    "research_objection_source",
)
# ...and when the accounting records are gone too, with what they are set to.
IDENTITY_COLUMNS = {
    "first_name": None,
    "last_name": None,
    "organisation_name": None,
    "business_id": None,
    "street_address": "",
    "postal_code": "00000",
    "post_office": "",
}
# The same as the access log and the change history name them.
CONTACT = logged(customer_types.Customer, *CONTACT_COLUMNS)
IDENTITY = logged(customer_types.Customer, *IDENTITY_COLUMNS)
CONSUMPTION = logged(site_types.Site, "consumption")
CONSENT = logged(prospect_types.Prospect, "marketing_consent_at")
# Deleting an object writes every field stored in its row.
DELETED = {
    "invoices": stored_fields(billing_types.Invoice),
    "deposits": stored_fields(billing_types.SecurityDeposit),
    "cases": stored_fields(billing_types.CollectionCase),
}


class WrittenObject(NamedTuple):
    """An object retention changed, for the access log: its GraphQL type and the fields
    written, named as the log names them."""

    type_name: str
    object_id: str
    customer_id: uuid.UUID | None
    prospect_id: uuid.UUID | None
    fields: tuple[str, ...]

    @classmethod
    def of(
        cls,
        written: LoggedFields,
        object_id: Any,
        *,
        customer_id: uuid.UUID | None = None,
        prospect_id: uuid.UUID | None = None,
    ) -> WrittenObject:
        return cls(written.type_name, str(object_id), customer_id, prospect_id, written.fields)


@dataclass(frozen=True)
class RetentionRules:
    today: date
    settle_grace_days: int = SETTLE_GRACE_DAYS
    prospect_months: int = PROSPECT_MONTHS
    voucher_years: int = VOUCHER_YEARS
    fiscal_year_end_month: int = FISCAL_YEAR_END_MONTH


def voucher_kept_until(day: date, rules: RetentionRules) -> date:
    """Last day a voucher dated `day` is kept: the end of the calendar year in which its
    financial year ended, plus the statutory years."""
    fy_end_year = day.year if day.month <= rules.fiscal_year_end_month else day.year + 1
    return date(fy_end_year + rules.voucher_years, 12, 31)


def _expired(day: date | None, rules: RetentionRules) -> bool:
    return day is not None and voucher_kept_until(day, rules) < rules.today


@dataclass
class CustomerAction:
    customer_id: uuid.UUID
    customer_number: int
    consumption_rows: int = 0
    offers: int = 0


@dataclass
class RetentionPlan:
    rules: RetentionRules
    anonymise: list[CustomerAction] = field(default_factory=list)
    invoices: list[uuid.UUID] = field(default_factory=list)
    deposits: list[uuid.UUID] = field(default_factory=list)
    cases: list[uuid.UUID] = field(default_factory=list)
    finalise: list[CustomerAction] = field(default_factory=list)
    prospects: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    voucher_customers: dict[uuid.UUID, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (
            self.anonymise
            or self.invoices
            or self.deposits
            or self.cases
            or self.finalise
            or self.prospects
        )

    def summary(self) -> dict[str, Any]:
        return {
            "asOf": self.rules.today.isoformat(),
            "anonymisedCustomers": [a.customer_number for a in self.anonymise],
            "consumptionRowsDeleted": sum(a.consumption_rows for a in self.anonymise),
            "offersDeleted": sum(a.offers for a in self.anonymise),
            "invoicesDeleted": len(self.invoices),
            "depositsDeleted": len(self.deposits),
            "collectionCasesDeleted": len(self.cases),
            "identityErasedCustomers": [a.customer_number for a in self.finalise],
            "prospectsErased": [str(p) for p, _ in self.prospects],
            "rules": {k: str(v) for k, v in asdict(self.rules).items()},
        }

    def lines(self) -> list[str]:
        out = [f"retention as of {self.rules.today.isoformat()}"]
        for action in self.anonymise:
            out.append(
                f"anonymise customer {action.customer_number}: contact data and identity code, "
                f"{action.consumption_rows} consumption values, {action.offers} open offers"
            )
        for customer_number in sorted(set(self.voucher_customers.values())):
            out.append(f"delete accounting records past retention of customer {customer_number}")
        if self.invoices or self.deposits or self.cases:
            out.append(
                f"  {len(self.invoices)} invoices (with lines and payments), "
                f"{len(self.deposits)} deposits, {len(self.cases)} collection cases"
            )
        for action in self.finalise:
            out.append(f"erase name and addresses of customer {action.customer_number}")
        for prospect_id, why in self.prospects:
            out.append(f"erase prospect {prospect_id} ({why})")
        if self.empty:
            out.append("nothing to do")
        return out


async def _scalar_rows(session: AsyncSession, statement: Any) -> list[Any]:
    return list((await session.execute(statement)).mappings().all())


async def plan_retention(*, session: AsyncSession, rules: RetentionRules) -> RetentionPlan:
    """What a run would change today; reads only."""
    plan = RetentionPlan(rules)
    plan.anonymise = await _settled_customers(session, rules)
    # Accounting records of customers anonymised now or before
    numbers = await _anonymised_customers(session)
    numbers.update({a.customer_id: a.customer_number for a in plan.anonymise})
    subjects = set(numbers)
    if subjects:
        await _plan_vouchers(session, plan, subjects, numbers)
    plan.finalise = await _identities_to_erase(session, subjects, plan)
    plan.prospects = await _expired_prospects(session, rules)
    return plan


def _settled(rules: RetentionRules) -> Any:
    """Former customers past the grace period, not anonymised, with nothing unsettled: no
    open invoice, open collection case, held deposit or contract in force."""
    c = customer_t.c
    cutoff = datetime.combine(
        rules.today - timedelta(days=rules.settle_grace_days), datetime.min.time(), tzinfo=UTC
    )
    open_claims = (
        select(invoice_t.c.id).where(
            invoice_t.c.customer_id == c.id, invoice_t.c.status.in_(UNSETTLED_INVOICES)
        ),
        select(case_t.c.id).where(case_t.c.customer_id == c.id, case_t.c.closed_on.is_(None)),
        select(deposit_t.c.id).where(deposit_t.c.customer_id == c.id, deposit_t.c.status == "held"),
        select(contract_t.c.id).where(
            contract_t.c.customer_id == c.id,
            contract_t.c.status.in_(IN_FORCE),
            or_(contract_t.c.end_date.is_(None), contract_t.c.end_date >= rules.today),
        ),
    )
    return (
        select(c.id, c.customer_number)
        .where(
            c.former_customer_since.is_not(None),
            c.former_customer_since <= cutoff,
            c.anonymised_at.is_(None),
            *(~claim.exists() for claim in open_claims),
        )
        .order_by(c.customer_number)
    )


async def _settled_customers(session: AsyncSession, rules: RetentionRules) -> list[CustomerAction]:
    """The customers to anonymise, with the consumption values and open offers that go."""
    settled = await _scalar_rows(session, _settled(rules))
    ids = [row["id"] for row in settled]
    consumption: dict[uuid.UUID, int] = {}
    offers: dict[uuid.UUID, int] = {}
    if ids:
        consumption = await _counts(
            session,
            select(site_t.c.customer_id, stored_values(consumption_t).label("n"))
            .join(consumption_t, consumption_t.c.site_id == site_t.c.id)
            .where(site_t.c.customer_id.in_(ids))
            .group_by(site_t.c.customer_id),
        )
        offers = await _counts(
            session,
            select(offer_t.c.customer_id, func.count().label("n"))
            .where(_deletable_offers_of(ids))
            .group_by(offer_t.c.customer_id),
        )
    return [
        CustomerAction(
            row["id"],
            row["customer_number"],
            consumption.get(row["id"], 0),
            offers.get(row["id"], 0),
        )
        for row in settled
    ]


async def _counts(session: AsyncSession, statement: Any) -> dict[uuid.UUID, int]:
    """customer_id -> n of a grouped count."""
    return {r["customer_id"]: r["n"] for r in await _scalar_rows(session, statement)}


async def _anonymised_customers(session: AsyncSession) -> dict[uuid.UUID, int]:
    """Customers anonymised by earlier runs: ID -> customer number."""
    c = customer_t.c
    rows = await _scalar_rows(
        session, select(c.id, c.customer_number).where(c.anonymised_at.is_not(None))
    )
    return {r["id"]: r["customer_number"] for r in rows}


async def _identities_to_erase(
    session: AsyncSession, subjects: set[uuid.UUID], plan: RetentionPlan
) -> list[CustomerAction]:
    """Anonymised customers whose name or address is still there and whose last
    accounting record goes in this run (or went before)."""
    if not subjects:
        return []
    remaining_vouchers = await _customers_with_vouchers(session, subjects, plan)
    c = customer_t.c
    rows = await _scalar_rows(
        session,
        select(c.id, c.customer_number).where(
            c.id.in_(subjects),
            or_(
                c.last_name.is_not(None),
                c.organisation_name.is_not(None),
                c.street_address != "",
            ),
        ),
    )
    return [
        CustomerAction(row["id"], row["customer_number"])
        for row in rows
        if row["id"] not in remaining_vouchers
    ]


async def _expired_prospects(
    session: AsyncSession, rules: RetentionRules
) -> list[tuple[uuid.UUID, str]]:
    """Prospects past their consent or the configured period, with the reason."""
    p = prospect_t.c
    created_before = datetime.combine(
        add_months(rules.today, -rules.prospect_months), datetime.min.time(), tzinfo=UTC
    )
    rows = await _scalar_rows(
        session,
        select(p.id, p.consent_expires_on, p.created_at)
        .where(or_(p.consent_expires_on < rules.today, p.created_at < created_before))
        .order_by(p.id),
    )
    return [
        (
            row["id"],
            "consent expired"
            if row["consent_expires_on"] < rules.today
            else f"stored over {rules.prospect_months} months",
        )
        for row in rows
    ]


def _deletable_offers(customer_id: uuid.UUID) -> Any:
    return _deletable_offers_of([customer_id])


def _deletable_offers_of(customer_ids: list[uuid.UUID]) -> Any:
    """Offers of these customers that no contract was made from."""
    return (
        (offer_t.c.customer_id.in_(customer_ids))
        & (offer_t.c.status != "accepted")
        & (
            ~offer_t.c.id.in_(
                select(contract_t.c.offer_id).where(contract_t.c.offer_id.is_not(None))
            )
        )
    )


Expired = list[tuple[uuid.UUID, uuid.UUID]]  # (voucher, customer) past retention


async def _plan_vouchers(
    session: AsyncSession,
    plan: RetentionPlan,
    subjects: set[uuid.UUID],
    numbers: dict[uuid.UUID, int],
) -> None:
    """The accounting records of these customers past their retention period."""
    invoices = await _expired_invoices(session, subjects, plan.rules)
    deposits = await _expired_deposits(session, subjects, plan.rules)
    doomed = {invoice_id for invoice_id, _ in invoices}
    cases = await _expired_cases(session, subjects, plan.rules, doomed)
    for chosen, expired in (
        (plan.invoices, invoices),
        (plan.deposits, deposits),
        (plan.cases, cases),
    ):
        for voucher_id, customer_id in expired:
            chosen.append(voucher_id)
            plan.voucher_customers[voucher_id] = numbers[customer_id]


async def _expired_invoices(
    session: AsyncSession, subjects: set[uuid.UUID], rules: RetentionRules
) -> Expired:
    """Invoices whose period has ended."""
    last_payment = (
        select(func.max(payment_t.c.paid_on))
        .where(payment_t.c.invoice_id == invoice_t.c.id)
        .scalar_subquery()
    )
    i = invoice_t.c
    rows = await _scalar_rows(
        session,
        select(
            i.id, i.customer_id, i.issue_date, i.due_date, last_payment.label("last_payment")
        ).where(i.customer_id.in_(subjects)),
    )
    return [(row["id"], row["customer_id"]) for row in rows if _expired(_last_day(row), rules)]


def _last_day(invoice: Any) -> date:
    """The invoice's latest date: issued, due or last paid."""
    dates: list[date] = [invoice["issue_date"], invoice["due_date"], invoice["last_payment"]]
    return max(d for d in dates if d)


async def _expired_deposits(
    session: AsyncSession, subjects: set[uuid.UUID], rules: RetentionRules
) -> Expired:
    """Deposits no longer held, returned (or received) before their period ended."""
    d = deposit_t.c
    rows = await _scalar_rows(
        session,
        select(d.id, d.customer_id, d.received_on, d.returned_on).where(
            d.customer_id.in_(subjects), d.status != "held"
        ),
    )
    return [
        (row["id"], row["customer_id"])
        for row in rows
        if _expired(row["returned_on"] or row["received_on"], rules)
    ]


async def _expired_cases(
    session: AsyncSession, subjects: set[uuid.UUID], rules: RetentionRules, doomed: set[uuid.UUID]
) -> Expired:
    """Closed collection cases past their period whose invoices all go in this run."""
    links: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    subject_cases = select(case_t.c.id).where(case_t.c.customer_id.in_(subjects))
    for link in await _scalar_rows(
        session,
        select(case_invoice_t).where(case_invoice_t.c.collection_case_id.in_(subject_cases)),
    ):
        links[link["collection_case_id"]].add(link["invoice_id"])
    rows = await _scalar_rows(
        session,
        select(case_t.c.id, case_t.c.customer_id, case_t.c.closed_on).where(
            case_t.c.customer_id.in_(subjects), case_t.c.closed_on.is_not(None)
        ),
    )
    return [
        (row["id"], row["customer_id"])
        for row in rows
        if _expired(row["closed_on"], rules) and links[row["id"]] <= doomed
    ]


async def _customers_with_vouchers(
    session: AsyncSession, subjects: set[uuid.UUID], plan: RetentionPlan
) -> set[uuid.UUID]:
    if not subjects:
        return set()
    left: set[uuid.UUID] = set()
    for table, doomed in (
        (invoice_t, set(plan.invoices)),
        (deposit_t, set(plan.deposits)),
        (case_t, set(plan.cases)),
    ):
        rows = await _scalar_rows(
            session,
            select(table.c.id, table.c.customer_id).where(table.c.customer_id.in_(subjects)),
        )
        left |= {r["customer_id"] for r in rows if r["id"] not in doomed}
    return left


async def _redact_history(
    session: AsyncSession, customer_id: uuid.UUID, names: set[str] | None
) -> None:
    """Null the stored values of `names` (None: of every field) in the customer's history."""
    rows = await _scalar_rows(
        session,
        select(change_t.c.id, change_t.c.old_values, change_t.c.new_values).where(
            change_t.c.customer_id == customer_id
        ),
    )
    for row in rows:
        old, new = dict(row["old_values"] or {}), dict(row["new_values"] or {})
        keys = (set(old) | set(new)) if names is None else (set(old) | set(new)) & names
        if not keys:
            continue
        for key in keys:
            if key in old:
                old[key] = None
            if key in new:
                new[key] = None
        await session.execute(
            update(change_t)
            .where(change_t.c.id == row["id"])
            .values(old_values=old, new_values=new)
        )


async def _history(
    session: AsyncSession, customer_id: uuid.UUID, fields: list[str], actor: str, reason: str
) -> None:
    await session.execute(
        insert(change_t).values(
            id=uuid.uuid4(),
            customer_id=customer_id,
            object_type="Customer",
            object_id=customer_id,
            action="anonymise",
            old_values={},
            new_values=dict.fromkeys(fields),
            reason=reason,
            changed_by=actor,
            changed_by_name=actor,
            organisation=None,
        )
    )


async def apply_retention(
    *, session: AsyncSession, plan: RetentionPlan, actor: str, progress: Progress = NO_PROGRESS
) -> list[WrittenObject]:
    """Carry out a plan in the caller's transaction; returns the objects written, for the
    access log. `progress` counts the customers, the vouchers (as one step) and the
    prospects."""
    steps = len(plan.anonymise) + len(plan.finalise) + len(plan.prospects) + 1
    with progress.stage("applying retention", total=steps, unit="steps") as advance:
        return await _apply(session, plan, actor, advance)


async def _apply(
    session: AsyncSession, plan: RetentionPlan, actor: str, advance: Advance
) -> list[WrittenObject]:
    written: list[WrittenObject] = []
    now = datetime.now(UTC)
    for action in plan.anonymise:
        written.extend(await _anonymise(session, action.customer_id, actor, now))
        advance(1)
    written.extend(await _delete_vouchers(session, plan))
    advance(1)
    for action in plan.finalise:
        written.append(await _erase_identity(session, action.customer_id, actor, now))
        advance(1)
    for prospect_id, _ in plan.prospects:
        await session.execute(delete(offer_t).where(offer_t.c.prospect_id == prospect_id))
        await session.execute(delete(prospect_t).where(prospect_t.c.id == prospect_id))
        written.append(WrittenObject.of(CONSENT, prospect_id, prospect_id=prospect_id))
        advance(1)
    await session.execute(
        insert(run_t).values(
            id=uuid.uuid4(), ran_by=actor[:150], as_of=plan.rules.today, summary=plan.summary()
        )
    )
    return written


async def _anonymise(
    session: AsyncSession, cid: uuid.UUID, actor: str, now: datetime
) -> list[WrittenObject]:
    """Claims settled: contact data, identity code, consumption, open offers, objection
    notes and handlers' notes go, from the history too."""
    sites = select(site_t.c.id).where(site_t.c.customer_id == cid)
    await session.execute(delete(consumption_t).where(consumption_t.c.site_id.in_(sites)))
    # Which imported file gave what about the person goes with the data.
    await session.execute(delete(provenance_t).where(provenance_t.c.customer_id == cid))
    await session.execute(delete(offer_t).where(_deletable_offers(cid)))
    await session.execute(
        update(customer_t)
        .where(customer_t.c.id == cid)
        .values(
            **dict.fromkeys(CONTACT_COLUMNS),
            anonymised_at=now,
            processing_restricted_at=func.coalesce(customer_t.c.processing_restricted_at, now),
            updated_at=now,
        )
    )
    await session.execute(update(request_t).where(request_t.c.customer_id == cid).values(notes=""))
    await _redact_history(session, cid, set(CONTACT.fields))
    await _history(session, cid, list(CONTACT.fields), actor, "retention: claims settled")
    return [
        WrittenObject.of(CONTACT, cid, customer_id=cid),
        WrittenObject.of(CONSUMPTION, f"{cid}:consumption", customer_id=cid),
    ]


async def _delete_vouchers(session: AsyncSession, plan: RetentionPlan) -> list[WrittenObject]:
    """Accounting records past their period: invoices with their lines and payments,
    deposits, collection cases."""
    if plan.invoices:
        await session.execute(
            delete(case_invoice_t).where(case_invoice_t.c.invoice_id.in_(plan.invoices))
        )
        await session.execute(delete(payment_t).where(payment_t.c.invoice_id.in_(plan.invoices)))
        await session.execute(delete(line_t).where(line_t.c.invoice_id.in_(plan.invoices)))
    if plan.cases:
        await session.execute(
            delete(case_invoice_t).where(case_invoice_t.c.collection_case_id.in_(plan.cases))
        )
        await session.execute(delete(case_t).where(case_t.c.id.in_(plan.cases)))
    if plan.invoices:
        await session.execute(delete(invoice_t).where(invoice_t.c.id.in_(plan.invoices)))
    if plan.deposits:
        await session.execute(delete(deposit_t).where(deposit_t.c.id.in_(plan.deposits)))
    return [
        WrittenObject.of(DELETED[kind], object_id)
        for kind, ids in (
            ("invoices", plan.invoices),
            ("deposits", plan.deposits),
            ("cases", plan.cases),
        )
        for object_id in ids
    ]


async def _erase_identity(
    session: AsyncSession, cid: uuid.UUID, actor: str, now: datetime
) -> WrittenObject:
    """The accounting records are gone: the name and the addresses go too."""
    await session.execute(
        update(customer_t).where(customer_t.c.id == cid).values(**IDENTITY_COLUMNS, updated_at=now)
    )
    await session.execute(
        update(site_t).where(site_t.c.customer_id == cid).values(street_address="")
    )
    await _redact_history(session, cid, None)
    await _history(session, cid, list(IDENTITY.fields), actor, "retention: accounting period ended")
    return WrittenObject.of(IDENTITY, cid, customer_id=cid)


__all__ = [
    "RetentionPlan",
    "RetentionRules",
    "WrittenObject",
    "apply_retention",
    "plan_retention",
    "voucher_kept_until",
]
