"""The products of the seed, their price history, VAT and the synthetic market prices.

Prices and spot averages are synthetic: plausible orders of magnitude for Finland, not
market data.
"""

from __future__ import annotations

import functools
import math
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from server.contracts.models import ProductKind
from server.seed.draws import Draws

__all__ = [
    "PRODUCT_SPECS",
    "Price",
    "Product",
    "ProductSpec",
    "fixed_base_price",
    "make_products",
    "spot_average",
    "vat_rate_on",
]

_VAT_PERIODS: Final[tuple[tuple[date, Decimal], ...]] = (
    (date(2010, 7, 1), Decimal("23.00")),
    (date(2013, 1, 1), Decimal("24.00")),
    (date(2022, 12, 1), Decimal("10.00")),  # temporary cut for electricity, 12/2022-4/2023
    (date(2023, 5, 1), Decimal("24.00")),
    (date(2024, 9, 1), Decimal("25.50")),
)


@functools.lru_cache(maxsize=4096)
def vat_rate_on(day: date) -> Decimal:
    """The VAT rate (%) of electricity delivered on ``day``."""
    rate = _VAT_PERIODS[0][1]
    for start, value in _VAT_PERIODS:
        if day >= start:
            rate = value
    return rate


# Fixed energy price (c/kWh, VAT 0) offered in each half-year; synthetic but
# shaped like the Finnish market (the 2022 crisis, the fall after it).
_FIXED_PRICE_BY_HALF: Final[dict[tuple[int, int], str]] = {
    (2019, 1): "4.59", (2019, 2): "4.79", (2020, 1): "4.39", (2020, 2): "4.19",
    (2021, 1): "4.69", (2021, 2): "5.99", (2022, 1): "9.79", (2022, 2): "19.90",
    (2023, 1): "15.49", (2023, 2): "10.90", (2024, 1): "8.89", (2024, 2): "7.89",
    (2025, 1): "7.19", (2025, 2): "6.89", (2026, 1): "6.69", (2026, 2): "6.79",
}  # fmt: skip


def fixed_base_price(day: date) -> Decimal:
    half = 1 if day.month <= 6 else 2
    if (day.year, half) in _FIXED_PRICE_BY_HALF:
        return Decimal(_FIXED_PRICE_BY_HALF[(day.year, half)])
    if day.year < 2019:
        return Decimal("4.49")
    return Decimal("6.79")


@functools.lru_cache(maxsize=1024)
def spot_average(year: int, month: int) -> Decimal:
    """Synthetic monthly average spot price, c/kWh VAT 0 (winter high, summer low)."""
    base = 4.2 + 2.8 * math.cos(2 * math.pi * (month - 1) / 12)
    factor = {2021: 1.5, 2022: 3.2, 2023: 1.4}.get(year, 1.0)
    return Decimal(f"{base * factor:.2f}")


@dataclass(frozen=True, slots=True)
class Price:
    id: uuid.UUID
    energy: Decimal | None
    margin: Decimal | None
    fee: Decimal
    vat: Decimal
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class ProductSpec:
    code: str
    name: str
    kind: str
    term: int | None
    description: str
    fixed_premium: Decimal | None  # added to the fixed base price; None: no fixed part
    margin: Decimal | None
    fee_before_2022: Decimal
    fee: Decimal


PRODUCT_SPECS: Final[tuple[ProductSpec, ...]] = (
    ProductSpec(
        "porssi", "Pörssisähkö", ProductKind.SPOT, None,
        "Tuntihinta (1.10.2025 alkaen vartti) Nord Poolin Suomen hinta-alueelta "
        "+ marginaali; toistaiseksi voimassa, irtisanomisaika 14 vrk.",
        None, Decimal("0.49"), Decimal("2.49"), Decimal("3.49"),
    ),
    ProductSpec(
        "porssi-uusiutuva", "Pörssisähkö Uusiutuva", ProductKind.SPOT, None,
        "Pörssisähkö alkuperätakuilla uusiutuvista lähteistä; toistaiseksi voimassa.",
        None, Decimal("0.69"), Decimal("2.99"), Decimal("4.49"),
    ),
    ProductSpec(
        "kiintea-12", "Kiinteä 12 kk", ProductKind.FIXED, 12,
        "Kiinteä energian hinta 12 kuukauden määräaikaisella sopimuksella.",
        Decimal("0.00"), None, Decimal("2.49"), Decimal("3.99"),
    ),
    ProductSpec(
        "kiintea-24", "Kiinteä 24 kk", ProductKind.FIXED, 24,
        "Kiinteä energian hinta 24 kuukauden määräaikaisella sopimuksella.",
        Decimal("0.30"), None, Decimal("2.49"), Decimal("3.99"),
    ),
    ProductSpec(
        "kiintea-toistaiseksi", "Kiinteä toistaiseksi", ProductKind.FIXED, None,
        "Kiinteä energian hinta toistaiseksi voimassa olevalla sopimuksella; "
        "hinta voi muuttua ilmoituksella.",
        Decimal("0.60"), None, Decimal("2.99"), Decimal("4.49"),
    ),
    ProductSpec(
        "hybridi", "Hybridi 50/50", ProductKind.HYBRID, None,
        "Puolet energiasta kiinteään hintaan, puolet pörssihintaan + marginaali.",
        Decimal("-0.20"), Decimal("0.38"), Decimal("2.49"), Decimal("4.99"),
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Product:
    id: uuid.UUID
    spec: ProductSpec
    prices: tuple[Price, ...]

    def price_on(self, day: date) -> Price:
        current = self.prices[0]
        for price in self.prices:
            if price.valid_from <= day:
                current = price
        return current


def make_products(draws: Draws) -> list[Product]:
    """Every product of `PRODUCT_SPECS` with a price for each half-year and VAT change of
    the last thirteen years."""
    today = draws.today
    history_start = date(today.year - 13, 1, 1)
    boundaries = {history_start}
    for year in range(history_start.year, today.year + 1):
        boundaries.update({date(year, 1, 1), date(year, 7, 1)})
    boundaries.update(start for start, _ in _VAT_PERIODS)
    starts = sorted(d for d in boundaries if history_start <= d <= today)
    return [_product(draws, spec, starts) for spec in PRODUCT_SPECS]


def _product(draws: Draws, spec: ProductSpec, starts: list[date]) -> Product:
    product_id = draws.new_id()
    prices: list[Price] = []
    for i, start in enumerate(starts):
        valid_to = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else None
        energy = None
        if spec.fixed_premium is not None:
            energy = fixed_base_price(start) + spec.fixed_premium
        fee = spec.fee_before_2022 if start.year < 2022 else spec.fee
        prices.append(
            Price(draws.new_id(), energy, spec.margin, fee, vat_rate_on(start), start, valid_to)
        )
    return Product(product_id, spec, tuple(prices))
