"""Rules of the sites domain: register a usage site and rectify its data (with history).

The rules of its consumption (windows, steps, day rows) are in server/sites/consumption.py."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from server.customers.loaders import customer_table
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.loading import Row
from server.operations.inputs import FieldRules, text_input
from server.operations.writes import Writes, load_in_scope, refuse_duplicate
from server.rights.models import ChangedType
from server.rights.rectification import Changed, Kept
from server.sites.loaders import site_table
from server.validators import validate_gsrn, validate_main_fuse, validate_postal_code

MAX_ESTIMATE_KWH = 100_000_000
MAX_POWER_KW = Decimal(100_000_000)
DEFAULTS = {"heating_depends_on_electricity": False}  # written when not given (or null)


def _estimate(value: int | None, field: str) -> int | None:
    if value is not None and not 0 <= value <= MAX_ESTIMATE_KWH:
        raise UserInputError(
            f"{field} must be between 0 and {MAX_ESTIMATE_KWH}", field=field, reason="out of range"
        )
    return value


def _power(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if not Decimal(0) < value < MAX_POWER_KW:
        raise UserInputError(f"{field} must be positive", field=field, reason="out of range")
    return value.quantize(Decimal("0.01"))


RULES = FieldRules(
    required=frozenset(
        {
            "metering_point_id",
            "street_address",
            "postal_code",
            "post_office",
            "housing_type",
            "ownership",
            "heating_type",
            "heating_depends_on_electricity",
            "main_fuse",
            "connection_id",
            "grid_operator",
        }
    ),
    text_limits={
        "street_address": 200,
        "post_office": 100,
        "connection_id": 40,
        "grid_operator": 200,
    },
    identifiers={
        "metering_point_id": validate_gsrn,
        "postal_code": validate_postal_code,
        "main_fuse": validate_main_fuse,
    },
    checks={"annual_consumption_estimate_kwh": _estimate, "connection_power_kw": _power},
)


async def check_metering_point_free(
    ctx: RequestContext, gsrn: str | None, *, site_id: uuid.UUID | None
) -> None:
    message = "This metering point is already registered to another site"
    column = site_table.c.metering_point_id
    await refuse_duplicate(
        ctx, column, gsrn, message, row_id=site_id, field="input.meteringPointId"
    )


async def create_site(
    *, ctx: RequestContext, customer_id: Any, fields: Mapping[str, Any], reason: str | None
) -> Changed:
    """Register a usage site for a customer.

    Its creation is an entry of the holder's history."""
    Writes("Site", (*fields, *(name for name in DEFAULTS if name not in fields))).check(ctx)
    holder = await load_in_scope(
        ctx, customer_table, "Customer", customer_id, field="input.customerId", lock=False
    )
    values = RULES.clean(fields)
    for name, default in DEFAULTS.items():
        if values.get(name) is None:
            values[name] = default
    await check_metering_point_free(ctx, values["metering_point_id"], site_id=None)
    reason = text_input(reason, field="input.reason", max_length=1000) or "site registered"
    return await SITE.create(ctx, values, reason=reason, customer_id=holder["id"])


async def _rectified_values(
    ctx: RequestContext, current: Row, sent: Mapping[str, Any]
) -> dict[str, Any]:
    values = RULES.clean(sent)
    if "metering_point_id" in values:
        await check_metering_point_free(ctx, values["metering_point_id"], site_id=current["id"])
    return values


SITE = Kept(ChangedType.SITE, site_table, "customer_id", "input.siteId", _rectified_values)


async def update_site(*, ctx: RequestContext, site_id: Any, **change: Any) -> Changed:
    """Rectify a site's data (housing, heating, fuse, consumption estimate, address, connection);
    previous values are kept in the holder's history.

    `change`: the fields sent, and the reason or the data-subject request answered."""
    return await SITE.rectify(ctx, site_id, **change)
