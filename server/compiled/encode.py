"""SQL that writes each value as JSON text exactly as the resolver path's serialisation does.

The resolver path sends what Strawberry serialises, dumped by orjson (compact, no spaces):
IDs and UUIDs as their text (a Node's `id` as its global ID), dates as `YYYY-MM-DD` (a date's text under the `DateStyle`
`ISO, YMD` that every connection starts with: server/db/engine.py), `DateTime` as Python's `isoformat()` of
an aware UTC value (`+00:00`, microseconds only when not zero), `Decimal` as the string
`str(Decimal)` gives (PostgreSQL's numeric text for the scales the register stores), enums
by name. Masks have an SQL form next to the Python one (`server.authz.masks`); a test checks
the two agree on a table of sample values.
"""

from __future__ import annotations

from collections.abc import Callable

from graphql import GraphQLEnumType, GraphQLSchema

NULL = "'null'"


def quote_literal(value: str) -> str:
    """An SQL string literal (for names from the schema and the plan, never user input)."""
    return "'" + value.replace("'", "''") + "'"


def json_literal(json_text: str) -> str:
    return quote_literal(json_text)


def _text(column: str) -> str:
    return f"CAST({column} AS text)"


def _quoted(expression: str) -> str:
    """JSON string of a text that needs no escaping (digits, hex, ISO dates)."""
    return f"'\"' || {expression} || '\"'"


def _datetime(column: str) -> str:
    # Microseconds always, then ".000000" dropped: isoformat() shows them only when not
    # zero. The date and time parts hold no ".", so only the fraction can match.
    text = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    return _quoted(f"replace({text}, '.000000', '') || '+00:00'")


def _enum(column: str, enum: GraphQLEnumType) -> str:
    cases = " ".join(
        f"WHEN {quote_literal(str(value.value))} THEN {quote_literal(chr(34) + name + chr(34))}"
        for name, value in enum.values.items()
    )
    return f"(CASE {_text(column)} {cases} END)"


def global_id(column: str, type_name: str) -> str:
    """globalid.to_global_id: base64 of "Type:key" (PostgreSQL breaks base64 lines at 76
    characters; the breaks are removed)."""
    encoded = (
        f"encode(convert_to({quote_literal(type_name + ':')} || {_text(column)}, 'UTF8'), 'base64')"
    )
    return _quoted(f"replace({encoded}, chr(10), '')")


def encode(column: str, encoding: str, schema: GraphQLSchema) -> str:
    """JSON text of a column's value, NULL when the value is NULL."""
    if encoding == "ID":
        return _quoted(_text(column))  # UUIDs and "uuid:number": nothing to escape
    if encoding.startswith("node:"):
        return global_id(column, encoding.removeprefix("node:"))
    if encoding == "String":
        return f"to_json({_text(column)})::text"
    if encoding in ("Int", "Boolean", "Float"):
        return _text(column)
    if encoding == "Date":
        return _quoted(_text(column))  # ISO, as every connection's DateStyle says
    if encoding == "DateTime":
        return _datetime(column)
    if encoding == "Decimal":
        return _quoted(_text(column))
    if encoding.startswith("enum:"):
        enum = schema.get_type(encoding.removeprefix("enum:"))
        assert isinstance(enum, GraphQLEnumType)
        return _enum(column, enum)
    raise ValueError(encoding)


# ---------------------------------------------------------------------------------------
# Masks: SQL over the value's text, the same results as server.authz.masks
# ---------------------------------------------------------------------------------------


def _identity_code(v: str) -> str:
    return f"CASE WHEN length({v}) = 11 THEN left({v}, 7) || '****' ELSE '****' END"


def _email(v: str) -> str:
    at = f"strpos({v}, '@')"
    return (
        f"CASE WHEN {at} = 0 THEN '***' "
        f"ELSE left(left({v}, {at} - 1), 1) || '***@' || substr({v}, {at} + 1) END"
    )


def _phone(v: str) -> str:
    return (
        f"repeat('*', greatest(length({v}) - 3, 3)) "
        f"|| CASE WHEN length({v}) > 3 THEN right({v}, 3) ELSE '' END"
    )


def _initial(v: str) -> str:
    return f"CASE WHEN {v} = '' THEN '' ELSE left({v}, 1) || '.' END"


def _street(v: str) -> str:
    return f"split_part({v}, ' ', 1)"


def _postal_area(v: str) -> str:
    return f"CASE WHEN {v} = '' THEN '' ELSE left({v}, 3) || '**' END"


def _last4(v: str) -> str:
    return f"repeat('*', greatest(length({v}) - 4, 0)) || right({v}, 4)"


def _redact(v: str) -> str:
    return "'***'"


SQL_MASKS: dict[str, Callable[[str], str]] = {
    "identity_code": _identity_code,
    "email": _email,
    "phone": _phone,
    "initial": _initial,
    "street": _street,
    "postal_area": _postal_area,
    "last4": _last4,
    "redact": _redact,
}


def masked(column: str, mask: str) -> str:
    """JSON text of the masked value; NULL stays NULL (as on the resolver path)."""
    value = _text(column)
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE to_json({SQL_MASKS[mask](value)})::text END"
