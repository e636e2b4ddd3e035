"""The seed's sites (accounting points): housing, heating, consumption estimate, main fuse,
GSRN and connection."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from server.customers.models import CustomerKind
from server.seed import names
from server.seed.draws import Draws, money, weighted
from server.seed.names import POSTAL_AREAS, PostalArea
from server.seed.people import People, any_postal_area
from server.seed.records import Customer, Site
from server.sites.models import HeatingType, HousingType, Ownership
from server.validators import make_gsrn, validate_main_fuse

__all__ = ["ELECTRIC_HEATING", "GSRN_PREFIX", "Sites"]

GSRN_PREFIX: Final = "643007127"  # GS1 company prefix used for the accounting points

ELECTRIC_HEATING: Final[frozenset[str]] = frozenset(
    {
        HeatingType.DIRECT_ELECTRIC,
        HeatingType.STORAGE_ELECTRIC,
        HeatingType.GROUND_SOURCE_HEAT_PUMP,
        HeatingType.AIR_TO_WATER_HEAT_PUMP,
        HeatingType.AIR_TO_AIR_HEAT_PUMP,
    }
)
"""Heating types whose site's heating depends on electricity (Datahub's heating flag)."""

_H = HeatingType
_HEATING_BY_HOUSING: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    HousingType.APARTMENT_BLOCK: (
        (_H.DISTRICT_HEAT, 85), (_H.GROUND_SOURCE_HEAT_PUMP, 5), (_H.OIL, 4),
        (_H.DIRECT_ELECTRIC, 6)),
    HousingType.TERRACED_HOUSE: (
        (_H.DISTRICT_HEAT, 40), (_H.DIRECT_ELECTRIC, 30), (_H.GROUND_SOURCE_HEAT_PUMP, 10),
        (_H.AIR_TO_WATER_HEAT_PUMP, 5), (_H.OIL, 15)),
    HousingType.HOLIDAY_HOME: (
        (_H.DIRECT_ELECTRIC, 55), (_H.AIR_TO_AIR_HEAT_PUMP, 20), (_H.WOOD_OR_PELLET, 25)),
    HousingType.BUSINESS_PREMISES: (
        (_H.DISTRICT_HEAT, 40), (_H.GROUND_SOURCE_HEAT_PUMP, 20), (_H.DIRECT_ELECTRIC, 15),
        (_H.OIL, 15), (_H.AIR_TO_WATER_HEAT_PUMP, 10)),
}  # fmt: skip
_HOUSE_HEATING: Final[tuple[tuple[str, float], ...]] = (
    (_H.DIRECT_ELECTRIC, 22), (_H.STORAGE_ELECTRIC, 10), (_H.GROUND_SOURCE_HEAT_PUMP, 18),
    (_H.AIR_TO_WATER_HEAT_PUMP, 10), (_H.AIR_TO_AIR_HEAT_PUMP, 8), (_H.DISTRICT_HEAT, 8),
    (_H.OIL, 10), (_H.WOOD_OR_PELLET, 14),
)  # fmt: skip
"""Heating of detached and semi-detached houses."""

# Annual kWh by housing when heating is not electric, and when it is (heat pumps use less).
_NON_ELECTRIC_ESTIMATE: Final[dict[str, int]] = {
    HousingType.APARTMENT_BLOCK: 2_000,
    HousingType.TERRACED_HOUSE: 3_500,
    HousingType.SEMI_DETACHED_HOUSE: 4_500,
    HousingType.HOLIDAY_HOME: 1_500,
}
_ELECTRIC_ESTIMATE: Final[dict[str, int]] = {
    HousingType.APARTMENT_BLOCK: 6_000,
    HousingType.TERRACED_HOUSE: 11_000,
    HousingType.SEMI_DETACHED_HOUSE: 14_000,
    HousingType.HOLIDAY_HOME: 7_000,
}
_HEAT_PUMP_FACTOR: Final[dict[str, float]] = {
    _H.GROUND_SOURCE_HEAT_PUMP: 0.6,
    _H.AIR_TO_WATER_HEAT_PUMP: 0.65,
    _H.AIR_TO_AIR_HEAT_PUMP: 0.8,
}
# Share of rented sites by housing (others: 8 %).
_RENTED_SHARE: Final[dict[str, float]] = {
    HousingType.APARTMENT_BLOCK: 0.45,
    HousingType.BUSINESS_PREMISES: 0.6,
    HousingType.TERRACED_HOUSE: 0.3,
}


class Sites:
    """Draws sites, numbering their GSRNs and connections in order."""

    def __init__(self, draws: Draws, people: People) -> None:
        self.draws = draws
        self.people = people
        self.gsrn_serial = 0
        self.connection_serial = 0

    def site(self, customer: Customer, primary: bool) -> Site:
        """A site of the customer; the primary one of a person is the customer's home."""
        draws = self.draws
        rng = draws.rng
        site_id = draws.new_id()
        housing, area = self.housing_and_area(customer, primary)
        rented = rng.random() < _RENTED_SHARE.get(housing, 0.08)
        ownership = Ownership.RENTED if rented else Ownership.OWNED
        heating = str(weighted(rng, _HEATING_BY_HOUSING.get(housing, _HOUSE_HEATING)))
        estimate, amplitude = self.estimate(housing, heating)
        fuse = self.fuse(housing, heating, estimate)
        phases, amperes = fuse[:-1].split("x")
        power = money(Decimal(int(phases) * int(amperes) * 230) / 1000)
        if primary and customer.kind != CustomerKind.ORGANISATION:
            street = customer.street = self.people.address(area, housing)
        elif primary:
            street = customer.street
        else:
            street = self.people.address(area, housing)
        self.gsrn_serial += rng.randint(1, 9)
        gsrn = make_gsrn(f"{GSRN_PREFIX}{self.gsrn_serial:08d}")
        self.connection_serial += rng.randint(1, 5)
        connected_on = date(rng.randint(1962, draws.today.year - 2), 1, 1) + timedelta(
            days=rng.randrange(365)
        )
        return Site(
            id=site_id, gsrn=gsrn, street=street, area=area, housing=housing,
            ownership=ownership, heating=heating, estimate=estimate, fuse=fuse,
            connection_id=f"LS-{area.code}-{self.connection_serial:06d}", power=power,
            connected_on=connected_on, amplitude=amplitude,
        )  # fmt: skip

    def housing_and_area(self, customer: Customer, primary: bool) -> tuple[str, PostalArea]:
        """The site's housing type and postal area: an organisation's premises, a person's
        home near them, or a second home (mostly a holiday home)."""
        rng = self.draws.rng
        area = customer.area
        if customer.kind == CustomerKind.ORGANISATION:
            housing = weighted(
                rng,
                ((HousingType.BUSINESS_PREMISES, 75), (HousingType.APARTMENT_BLOCK, 15),
                 (HousingType.DETACHED_HOUSE, 10)),
            )  # fmt: skip
            if not primary and rng.random() < 0.5:
                area = any_postal_area(self.draws)
        elif primary and area.urban:
            housing = weighted(
                rng,
                ((HousingType.APARTMENT_BLOCK, 65), (HousingType.TERRACED_HOUSE, 15),
                 (HousingType.SEMI_DETACHED_HOUSE, 5), (HousingType.DETACHED_HOUSE, 15)),
            )  # fmt: skip
        elif primary:
            housing = weighted(
                rng,
                ((HousingType.APARTMENT_BLOCK, 15), (HousingType.TERRACED_HOUSE, 15),
                 (HousingType.SEMI_DETACHED_HOUSE, 8), (HousingType.DETACHED_HOUSE, 62)),
            )  # fmt: skip
        elif rng.random() < 0.65:
            housing = HousingType.HOLIDAY_HOME
            holiday_code = rng.choice(names.HOLIDAY_AREAS)
            area = next(a for a in POSTAL_AREAS if a.code == holiday_code)
        else:
            housing = weighted(
                rng, ((HousingType.APARTMENT_BLOCK, 60), (HousingType.DETACHED_HOUSE, 40))
            )
            area = any_postal_area(self.draws)
        return housing, area

    def estimate(self, housing: str, heating: str) -> tuple[int, float]:
        """Annual consumption estimate (kWh) and the seasonal amplitude of the load."""
        rng = self.draws.rng
        electric_heating = heating in ELECTRIC_HEATING
        if housing == HousingType.BUSINESS_PREMISES:
            base = rng.choice((15_000, 30_000, 60_000, 120_000))
            amplitude = 0.35 if electric_heating else 0.15
            return int(round(base * rng.uniform(0.8, 1.25), -2)), amplitude
        if not electric_heating:
            base = _NON_ELECTRIC_ESTIMATE.get(housing, 5_000)
            amplitude = 0.2
        else:
            factor = _HEAT_PUMP_FACTOR.get(heating, 1.0)
            base = int(_ELECTRIC_ESTIMATE.get(housing, 18_000) * factor)
            amplitude = 0.65
        return int(round(base * rng.uniform(0.75, 1.3), -2)), amplitude

    def fuse(self, housing: str, heating: str, estimate: int) -> str:
        """The main fuse: by the estimate for business premises, else by housing and heating."""
        rng = self.draws.rng
        if housing == HousingType.BUSINESS_PREMISES:
            amperes = 63 if estimate < 25_000 else 80 if estimate < 50_000 else 100
            amperes = amperes if estimate < 100_000 else 160
            fuse = f"3x{amperes}A"
        elif housing == HousingType.APARTMENT_BLOCK:
            fuse = "1x25A" if rng.random() < 0.3 else "3x25A"
        elif housing == HousingType.HOLIDAY_HOME:
            fuse = "1x25A" if rng.random() < 0.2 else "3x25A"
        elif heating in ELECTRIC_HEATING and housing == HousingType.DETACHED_HOUSE:
            fuse = weighted(rng, (("3x25A", 25), ("3x35A", 60), ("3x50A", 15)))
        else:
            fuse = "3x25A" if rng.random() < 0.9 else "3x35A"
        return validate_main_fuse(fuse)
