"""Batched reads of sites and aggregated consumption."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, text

from server.db.tables import table_of
from server.graphql.connections import NestedList
from server.graphql.context import RequestContext
from server.graphql.loading import Row, RowLoader, loader, rows_by_id
from server.graphql.relay import FilterValue, SortKey, Visible, columns_equal
from server.sites.models import Site

site_table = table_of(Site)


def _s(name: str) -> Any:
    return site_table.c[name]


SITES_OF_CUSTOMER = NestedList(
    "sites_of_customer",
    site_table,
    site_table.c.customer_id,
    (SortKey("metering_point_id"),),  # unique: it ends the order
    "Site",
)


def sites_by_id(ctx: RequestContext) -> RowLoader:
    return rows_by_id(ctx, site_table, "Site")


def site_filter_conditions(
    visible: Visible, *, metering_point_id: FilterValue[str] = None
) -> list[ColumnElement[bool]]:
    """SQL conditions for the site filters (values or bind parameters; None: not given).
    `visible` is the row-predicate source, as for every filter builder; these filters test
    only the site's own columns."""
    return columns_equal(site_table, metering_point_id=metering_point_id)


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

# The start of step v.n of a consumption row c (one row per UTC day, server/sites/models.py).
STEP_START = (
    "timezone('UTC', c.day + (v.n - 1) * CASE c.resolution WHEN 'PT15M'"
    " THEN interval '15 minutes' ELSE interval '1 hour' END)"
)
# The row's values one per step, gaps left out: v.energy_kwh, v.n (from 1) and v.quality.
STEP_VALUES = (
    "CROSS JOIN LATERAL (SELECT u.energy_kwh, CAST(u.n AS integer) AS n,"
    " substr(c.quality, CAST(u.n AS integer), 1) AS quality"
    " FROM unnest(c.energy_kwh) WITH ORDINALITY AS u(energy_kwh, n)"
    " WHERE u.energy_kwh IS NOT NULL) v"
)
# An hourly value gives way to quarter-hours of the same site and hour: the PT15M row of
# the same day (f) with any value among the hour's four steps.
_FINER = (
    "LEFT JOIN consumption f ON c.resolution = 'PT1H' AND f.site_id = c.site_id"
    " AND f.resolution = 'PT15M' AND f.day = c.day"
)
_NOT_COVERED = (
    "AND (c.resolution = 'PT15M' OR f.energy_kwh IS NULL"
    " OR cardinality(array_remove(f.energy_kwh[(v.n - 1) * 4 + 1 : v.n * 4], NULL)) = 0)"
)


def consumption_sql(resolution: str, *, sites: str, start: str, end: str) -> str:
    """The aggregation as SQL text: `sites` is the condition on `c.site_id`, `start` and
    `end` are the window's placeholders (timestamptz). Shared by both read executors."""
    bucket, resolutions = _BUCKETS[resolution]
    finer = resolution != "QUARTER_HOUR"
    # Where a site has both series for the same time, prefer the finer one.
    return f"""
        WITH chosen AS (
            SELECT c.site_id, {STEP_START} AS period_start, v.energy_kwh, v.quality
            FROM consumption c
            {STEP_VALUES}
            {_FINER if finer else ""}
            WHERE c.site_id {sites}
              AND c.resolution IN {resolutions}
              AND c.day >= CAST(timezone('UTC', CAST({start} AS timestamptz)) AS date)
              AND c.day <= CAST(timezone('UTC', CAST({end} AS timestamptz)) AS date)
              AND {STEP_START} >= {start} AND {STEP_START} < {end}
              {_NOT_COVERED if finer else ""}
        )
        SELECT site_id, {bucket} AS period_start, sum(energy_kwh) AS energy_kwh,
               count(*) AS values_count,
               bool_and(quality = 'm') AS all_measured,
               bool_or(quality = 'e') AS any_estimated
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
