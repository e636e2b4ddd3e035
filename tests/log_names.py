"""Every field name the test suite writes into the access log is a field of its GraphQL type.

The log names fields by their GraphQL coordinate (docs/access-log.md); a report column, a
Python name or a made-up word would make a search of the log for the coordinate miss the
row. So the suite reads back what it wrote: `tests/dbserver.py` remembers every database
it creates, each test module's end checks the rows written since the last check in every
database still there (`conftest.py`), and dropping a database checks what is left. The
stored names are read (the request rows' field sets and the old object rows), not the
view that shows old spellings as coordinates.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg
from graphql import GraphQLObjectType

WATERMARK = """
SELECT coalesce(max(seq), 0) FROM (
    SELECT max(seq) AS seq FROM access_log_request
    UNION ALL SELECT max(seq) FROM access_log_object
) s
"""

# Each (type, decision, name) written in a range of positions, with one request that wrote it.
FIELD_SET_NAMES = """
SELECT fs ->> 'type' AS type_name, d.decision, d.name, min(r.request_id::text) AS request_id
FROM access_log_request r
CROSS JOIN LATERAL jsonb_array_elements(r.field_sets) AS fs
CROSS JOIN LATERAL (
    SELECT 'read', jsonb_array_elements_text(coalesce(fs -> 'read', '[]'))
    UNION ALL SELECT 'masked', jsonb_array_elements_text(coalesce(fs -> 'masked', '[]'))
    UNION ALL SELECT 'denied', jsonb_array_elements_text(coalesce(fs -> 'denied', '[]'))
) AS d(decision, name)
WHERE r.seq > $1 AND r.seq <= $2 AND r.field_sets IS NOT NULL
GROUP BY 1, 2, 3
"""
OBJECT_ROW_NAMES = """
SELECT o.type_name, d.decision, d.name, min(o.request_id::text) AS request_id
FROM access_log_object o
CROSS JOIN LATERAL (
    SELECT 'read', unnest(o.fields_read)
    UNION ALL SELECT 'masked', unnest(o.fields_masked)
    UNION ALL SELECT 'denied', unnest(o.fields_denied)
) AS d(decision, name)
WHERE o.seq > $1 AND o.seq <= $2
GROUP BY 1, 2, 3
"""


@dataclass(frozen=True, order=True, slots=True)
class LoggedName:
    """One field name as the log holds it."""

    type_name: str
    name: str
    decision: str  # read, masked or denied
    request_id: str

    def __str__(self) -> str:
        return f"{self.type_name}.{self.name} ({self.decision}, request {self.request_id})"


@functools.cache
def schema_fields() -> Mapping[str, frozenset[str]]:
    """Every object type of the schema with the names of its fields (`id` included)."""
    from server.schema import schema

    return {
        name: frozenset(graphql_type.fields)
        for name, graphql_type in schema()._schema.type_map.items()
        if isinstance(graphql_type, GraphQLObjectType)
    }


def is_coordinate(type_name: str, name: str) -> bool:
    return name in schema_fields().get(type_name, frozenset())


async def _has_log(conn: asyncpg.Connection) -> tuple[bool, bool]:
    """Whether the database has the log's tables, and request rows with field sets."""
    tables = await conn.fetchval("SELECT to_regclass('access_log_object') IS NOT NULL")
    field_sets = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
        " WHERE table_name = 'access_log_request' AND column_name = 'field_sets')"
    )
    return bool(tables), bool(field_sets)


async def unknown_names(url: str, after: int = 0) -> tuple[list[LoggedName], int]:
    """The names written after position `after` that are no field of their type, sorted,
    and the position checked up to."""
    conn = await asyncpg.connect(url)
    try:
        tables, field_sets = await _has_log(conn)
        if not tables:
            return [], after
        upto = await conn.fetchval(WATERMARK)
        rows = list(await conn.fetch(OBJECT_ROW_NAMES, after, upto))
        if field_sets:
            rows += await conn.fetch(FIELD_SET_NAMES, after, upto)
    finally:
        await conn.close()
    found = {
        LoggedName(r["type_name"], r["name"], r["decision"], r["request_id"])
        for r in rows
        if not is_coordinate(r["type_name"], r["name"])
    }
    return sorted(found), upto


def failure(where: str, names: list[LoggedName]) -> str:
    listed = "\n  ".join(str(n) for n in names)
    return (
        f"the access log of {where} names fields that are no GraphQL field of their type "
        f"(log every field by its coordinate, see server/audit/coordinates.py):\n  {listed}"
    )
