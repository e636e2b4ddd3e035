"""Batched reads of sites and aggregated consumption."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select, text

from server.graphql.connections import NestedList
from server.graphql.context import RequestContext
from server.graphql.loading import Row, by_id_loader, loader
from server.graphql.relay import FilterValue, SortKey, Visible
from server.sites.models import Site

site_table = Site.__table__  # type: ignore[attr-defined]


def _s(name: str) -> Any:
    return site_table.c[name]


SITES_OF_CUSTOMER = NestedList(
    "sites_of_customer",
    site_table,
    site_table.c.customer_id,
    (SortKey("metering_point_id"),),  # unique: it ends the order
    "Site",
)


def sites_by_id(ctx: RequestContext) -> Any:
    def statement(ids: list[uuid.UUID]) -> Select[Any]:
        return select(site_table).where(_s("id").in_(ids), ctx.access.rows("Site"))

    return by_id_loader(ctx, "site_by_id", statement)


def site_filter_conditions(
    visible: Visible, *, metering_point_id: FilterValue[str] = None
) -> list[ColumnElement[bool]]:
    """SQL conditions for the site filters (values or bind parameters; None: not given).
    `visible` is the row-predicate source, as for every filter builder; these filters test
    only the site's own columns."""
    conditions: list[ColumnElement[bool]] = []
    if metering_point_id is not None:
        conditions.append(_s("metering_point_id") == metering_point_id)
    return conditions


@dataclass(frozen=True, slots=True)
class ConsumptionKey:
    site_id: uuid.UUID
    start: datetime
    end: datetime
    resolution: str


# Aggregation in SQL: 15-minute values stand alone, the rest are summed per local
# (Europe/Helsinki) hour, day or month. Hourly series cannot be split into quarters.
_BUCKETS = {
    "QUARTER_HOUR": ("period_start", "('PT15M')"),
    "HOUR": ("date_trunc('hour', period_start, 'Europe/Helsinki')", "('PT15M','PT1H')"),
    "DAY": ("date_trunc('day', period_start, 'Europe/Helsinki')", "('PT15M','PT1H')"),
    "MONTH": ("date_trunc('month', period_start, 'Europe/Helsinki')", "('PT15M','PT1H')"),
}


def consumption_sql(resolution: str, *, sites: str, start: str, end: str) -> str:
    """The aggregation as SQL text: `sites` is the condition on `c.site_id`, `start` and
    `end` are the window's placeholders. Shared by both read executors."""
    bucket, resolutions = _BUCKETS[resolution]
    # Where a site has both series for the same time, prefer the finer one.
    return f"""
        WITH chosen AS (
            SELECT c.site_id, c.period_start, c.energy_kwh, c.quality
            FROM consumption c
            WHERE c.site_id {sites}
              AND c.period_start >= {start} AND c.period_start < {end}
              AND c.resolution IN {resolutions}
              AND (c.resolution = 'PT15M' OR NOT EXISTS (
                    SELECT 1 FROM consumption f
                    WHERE f.site_id = c.site_id AND f.resolution = 'PT15M'
                      AND f.period_start >= c.period_start
                      AND f.period_start < c.period_start + interval '1 hour'))
        )
        SELECT site_id, {bucket} AS period_start, sum(energy_kwh) AS energy_kwh,
               count(*) AS values_count,
               bool_and(quality = 'measured') AS all_measured,
               bool_or(quality = 'estimated') AS any_estimated
        FROM chosen
        GROUP BY site_id, {bucket}
        ORDER BY site_id, 2
        """


def _consumption_sql(resolution: str) -> Any:
    return text(consumption_sql(resolution, sites="= ANY(:site_ids)", start=":start", end=":end"))


def consumption_loader(ctx: RequestContext) -> Any:
    """One statement per distinct (from, to, resolution) in the request, for all sites."""

    async def load(keys: list[ConsumptionKey]) -> list[list[Row]]:
        by_window: dict[tuple[datetime, datetime, str], list[uuid.UUID]] = defaultdict(list)
        for key in keys:
            by_window[(key.start, key.end, key.resolution)].append(key.site_id)
        results: dict[ConsumptionKey, list[Row]] = defaultdict(list)
        for (start, end, resolution), site_ids in by_window.items():
            result = await ctx.session.execute(
                _consumption_sql(resolution),
                {"site_ids": site_ids, "start": start, "end": end},
            )
            for row in result.mappings():
                key = ConsumptionKey(row["site_id"], start, end, resolution)
                results[key].append(dict(row))
        return [results.get(key, []) for key in keys]

    return loader(ctx, "consumption", load)
