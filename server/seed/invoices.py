"""The seed's monthly invoices for the last twelve months: energy by metered consumption
where there is a series, else by the site's estimate; lines by product kind."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from server.billing.models import BillingMethod
from server.contracts.models import ProductKind
from server.seed.draws import ZERO, Draws, add_months, fi_date, money, month_end, season_cos
from server.seed.prices import spot_average, vat_rate_on
from server.seed.records import Contract, Customer, Invoice, InvoiceLine, Site
from server.validators import make_reference

__all__ = ["Invoicing", "number_invoices"]

_KWH = Decimal("0.001")


class Invoicing:
    """Draws the invoices of customers over the twelve months before the current one."""

    def __init__(self, draws: Draws) -> None:
        self.draws = draws
        today = draws.today
        first_of_this_month = today.replace(day=1)
        self.months = [
            (add_months(first_of_this_month, -k), month_end(add_months(first_of_this_month, -k)))
            for k in range(12, 0, -1)
        ]
        # Cumulative seasonal cosine per day over the invoicing window, for estimates.
        first = add_months(first_of_this_month, -13) - timedelta(days=1)
        self.cos_cumulative: dict[date, float] = {}
        running = 0.0
        for offset in range((today - first).days + 1):
            day = first + timedelta(days=offset)
            running += season_cos(day) if offset else 0.0
            self.cos_cumulative[day] = running

    def invoices_for(self, customer: Customer) -> list[Invoice]:
        """An invoice per contract and month of supply, issued on the customer's billing day."""
        draws = self.draws
        today = draws.today
        invoices: list[Invoice] = []
        for site in customer.sites:
            for contract in site.contracts:
                for month_start, month_last in self.months:
                    start = max(month_start, contract.start)
                    end = min(month_last, contract.end or month_last)
                    if start > end or end >= today:
                        continue
                    # Billing runs are spread over the first ten days of the month.
                    issue = end + timedelta(days=1 + customer.billing_day)
                    if issue > today:
                        continue
                    days = 21 if customer.billing_method == BillingMethod.PAPER else 14
                    lines = self.invoice_lines(site, contract, start, end)
                    excl = sum((line.amount for line in lines), ZERO)
                    vat = sum((line.vat for line in lines), ZERO)
                    invoices.append(
                        Invoice(
                            draws.new_id(), customer, contract, issue, issue + timedelta(days=days),
                            start, end, lines, excl, vat, excl + vat,
                        )
                    )  # fmt: skip
        return invoices

    def energy_kwh(self, site: Site, start: date, end: date, noise: float) -> Decimal:
        """Energy used at ``site`` on the days ``start``..``end`` (metered when there is data)."""
        if site.series is None:  # estimated from the annual estimate: whole kWh
            days = (end - start).days + 1
            cosines = self.cos_cumulative[end] - self.cos_cumulative[start - timedelta(days=1)]
            kwh = site.estimate / 365.25 * (days + site.amplitude * cosines) * noise
            return Decimal(int(kwh)).quantize(_KWH)
        milli = 0
        day = start
        daily = site.series.daily
        while day <= end:
            measured = daily.get(day)
            if measured is None:
                expected = site.estimate / 365.25 * (1 + site.amplitude * season_cos(day))
                measured = int(expected * noise * 1000)
            milli += measured
            day += timedelta(days=1)
        return Decimal(milli).scaleb(-3)

    def invoice_lines(
        self, site: Site, contract: Contract, start: date, end: date
    ) -> list[InvoiceLine]:
        """The energy lines of the contract's product kind and the basic fee's line."""
        noise = self.draws.rng.uniform(0.9, 1.1)
        energy = self.energy_kwh(site, start, end, noise)
        period = f"{fi_date(start)}\u2013{fi_date(end)}"  # en dash
        lines = _energy_lines(contract, energy, period, spot_average(start.year, start.month))
        days_in_month = calendar.monthrange(start.year, start.month)[1]
        months = Decimal((end - start).days + 1) / days_in_month
        lines.append((f"Perusmaksu {period}", months.quantize(_KWH), "kk", contract.fee))
        vat = vat_rate_on(start)
        result = []
        for description, quantity, unit, unit_price in lines:
            amount = money(quantity * unit_price)
            result.append(
                InvoiceLine(
                    description, quantity, unit, unit_price, vat, amount, money(amount * vat / 100)
                )
            )
        return result


def _energy_lines(
    contract: Contract, energy: Decimal, period: str, spot: Decimal
) -> list[tuple[str, Decimal, str, Decimal]]:
    """(description, quantity, unit, unit price) of the energy: fixed, spot or half each."""
    kind = contract.product.spec.kind
    if kind == ProductKind.FIXED:
        assert contract.energy is not None
        return [(f"Sähköenergia {period}", energy, "kWh", contract.energy / 100)]
    if kind == ProductKind.SPOT:
        assert contract.margin is not None
        return [
            (f"Pörssisähkö {period} (kk-keskihinta)", energy, "kWh", spot / 100),
            (f"Marginaali {period}", energy, "kWh", contract.margin / 100),
        ]
    assert contract.energy is not None and contract.margin is not None
    fixed_part = (energy / 2).quantize(_KWH, rounding=ROUND_HALF_UP)
    spot_part = energy - fixed_part
    return [
        (f"Kiinteä osuus 50 % {period}", fixed_part, "kWh", contract.energy / 100),
        (f"Pörssiosuus 50 % {period}", spot_part, "kWh", spot / 100),
        (f"Marginaali (pörssiosuus) {period}", spot_part, "kWh", contract.margin / 100),
    ]


def number_invoices(invoices: Sequence[Invoice]) -> None:
    """Invoice numbers in issue order from 70000001, and the reference number of each."""
    for index, invoice in enumerate(invoices):
        invoice.number = 70000001 + index
        invoice.reference = make_reference(invoice.number)
