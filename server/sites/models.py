"""Usage sites (käyttöpaikka) and their metered consumption."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Column,
    ColumnElement,
    Index,
    Numeric,
    PrimaryKeyConstraint,
    func,
    null,
)
from sqlmodel import Field, SQLModel

from server.db.columns import (
    enum_check,
    id_field,
    server_timestamp_field,
    valid_identifier_check,
)


class HousingType(StrEnum):
    APARTMENT_BLOCK = "apartment_block"
    TERRACED_HOUSE = "terraced_house"
    SEMI_DETACHED_HOUSE = "semi_detached_house"
    DETACHED_HOUSE = "detached_house"
    HOLIDAY_HOME = "holiday_home"
    BUSINESS_PREMISES = "business_premises"


class Ownership(StrEnum):
    OWNED = "owned"
    RENTED = "rented"


class HeatingType(StrEnum):
    DIRECT_ELECTRIC = "direct_electric"
    STORAGE_ELECTRIC = "storage_electric"
    GROUND_SOURCE_HEAT_PUMP = "ground_source_heat_pump"
    AIR_TO_WATER_HEAT_PUMP = "air_to_water_heat_pump"
    AIR_TO_AIR_HEAT_PUMP = "air_to_air_heat_pump"
    DISTRICT_HEAT = "district_heat"
    OIL = "oil"
    WOOD_OR_PELLET = "wood_or_pellet"


class Resolution(StrEnum):
    """Time step of a consumption series, as Datahub names them."""

    PT15M = "PT15M"
    PT1H = "PT1H"


class Quality(StrEnum):
    MEASURED = "measured"
    ESTIMATED = "estimated"
    REVISED = "revised"


class Site(SQLModel, table=True):
    __tablename__ = "site"
    __table_args__ = (
        enum_check("housing_type", HousingType),
        enum_check("ownership", Ownership),
        enum_check("heating_type", HeatingType),
        valid_identifier_check("metering_point_id", "fi_valid_gsrn"),
        CheckConstraint("main_fuse ~ '^[13]x[0-9]{2,3}A$'", name="main_fuse_format"),
        CheckConstraint("postal_code ~ '^[0-9]{5}$'", name="postal_code_format"),
        CheckConstraint(
            "annual_consumption_estimate_kwh IS NULL OR annual_consumption_estimate_kwh >= 0",
            name="estimate_not_negative",
        ),
        Index("site_customer_meter_idx", "customer_id", "metering_point_id"),
    )

    id: uuid.UUID = id_field()
    customer_id: uuid.UUID = Field(foreign_key="customer.id", index=True)
    metering_point_id: str = Field(max_length=18, unique=True)
    street_address: str = Field(max_length=200)
    postal_code: str = Field(max_length=5)
    post_office: str = Field(max_length=100)
    housing_type: str = Field(max_length=30)
    ownership: str = Field(max_length=10)
    heating_type: str = Field(max_length=30)
    heating_depends_on_electricity: bool = Field(
        default=False, sa_column_kwargs={"server_default": "false"}
    )
    annual_consumption_estimate_kwh: int | None = None
    main_fuse: str = Field(max_length=6)
    connection_id: str = Field(max_length=40)
    grid_operator: str = Field(max_length=200)
    connection_power_kw: Decimal | None = Field(
        default=None, sa_column=Column(Numeric(10, 2), nullable=True)
    )
    connected_on: date | None = None
    created_at: datetime = server_timestamp_field()
    updated_at: datetime = server_timestamp_field()


class Consumption(SQLModel, table=True):
    """Energy per time step (not meter readings) of one site: one row per UTC day and
    resolution. Step n (from 1) starts at the day's 00:00 UTC plus n - 1 steps; a NULL
    value is a gap, and its quality letter is '-'. The view `consumption_value` shows the
    values one per row."""

    __tablename__ = "consumption"
    __table_args__ = (
        PrimaryKeyConstraint("site_id", "resolution", "day"),
        enum_check("resolution", Resolution),
        CheckConstraint(
            "cardinality(energy_kwh) = CASE resolution WHEN 'PT15M' THEN 96 ELSE 24 END",
            name="one_value_per_step",
        ),
        CheckConstraint("length(quality) = cardinality(energy_kwh)", name="one_quality_per_step"),
        CheckConstraint("quality ~ '^[mer-]+$'", name="quality_letters"),
        CheckConstraint("0 <= ALL(energy_kwh)", name="energy_not_negative"),
        CheckConstraint("revisions >= 0", name="revisions_not_negative"),
    )

    site_id: uuid.UUID = Field(foreign_key="site.id")
    resolution: str = Field(max_length=5)
    day: date = Field(description="The UTC day of the values.")
    energy_kwh: list[Decimal | None] = Field(
        sa_column=Column(ARRAY(Numeric(12, 3)), nullable=False)
    )
    quality: str = Field(max_length=96)
    revisions: int = Field(
        default=0,
        description="Values an import replaced with different ones (revised series).",
        sa_column_kwargs={"server_default": "0"},
    )


def stored_values(table: Any) -> ColumnElement[int]:
    """How many values (not gaps) the consumption rows hold: an aggregate for a query over
    `table` (the consumption table)."""
    present = func.cardinality(func.array_remove(table.c.energy_kwh, null()))
    return func.coalesce(func.sum(present), 0)
