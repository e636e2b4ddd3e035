"""Error codes, the errors that carry them to the front end, and how errors are reported.

`format_error` classifies every error of a GraphQL result once, centrally:

- errors with one of our codes (`ErrorCode`) keep their message;
- variables that cannot be coerced (wrong type, unknown enum value or input field, an Int
  over 2^31, an impossible date, a NaN decimal...) become BAD_USER_INPUT naming the
  variable path in `extensions.field` and the reason (never the value);
- validation and syntax errors are collapsed into one message that names nothing of the
  schema, unless `detailed` (development), which keeps graphql-core's message;
- anything else is INTERNAL_SERVER_ERROR with the request ID, logged once with its
  exception (the log formatter removes personal data).

Input checks are installed on the schema (`SCALAR_OVERRIDES`, `guard_inputs`): text in
input objects refuses control and bidirectional characters (line breaks only in the
multi-line fields `MULTILINE_FIELDS`), and decimals must be finite.
"""

from __future__ import annotations

import decimal
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLSchema,
    VariableDefinitionNode,
)
from strawberry.types.scalar import ScalarDefinition

from server.validators import text_problem

log = logging.getLogger(__name__)

GENERIC_VALIDATION_MESSAGE = "The query is not valid for this API."


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    INTERNAL = "INTERNAL_SERVER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    QUERY_REJECTED = "GRAPHQL_VALIDATION_FAILED"
    # Over a limit of depth, aliases, directives or cost (server/graphql/limits.py).
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    # Trusted documents (server/operations/trusted.py): a malformed documentId or
    # persistedQuery, an unknown one (Apollo's code), an ad-hoc document a rule refuses.
    BAD_REQUEST = "BAD_REQUEST"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"


PUBLIC_CODES = frozenset(code.value for code in ErrorCode)


class UserInputError(GraphQLError):
    """Bad input: names the offending input path and the reason; nothing was written."""

    def __init__(self, message: str, *, field: str, reason: str | None = None) -> None:
        super().__init__(
            message,
            extensions={
                "code": ErrorCode.BAD_USER_INPUT.value,
                "field": field,
                "reason": reason or message,
            },
        )


class ForbiddenError(GraphQLError):
    def __init__(self, message: str, *, coordinate: str, purpose: str) -> None:
        super().__init__(
            message,
            extensions={
                "code": ErrorCode.FORBIDDEN.value,
                "coordinate": coordinate,
                "purpose": purpose,
            },
        )


def forbidden_payload(coordinate: str, purpose: str) -> dict[str, Any]:
    """One error per denied coordinate, added once to the response."""
    return {
        "message": f"Not allowed to read {coordinate} for purpose {purpose}",
        "extensions": {
            "code": ErrorCode.FORBIDDEN.value,
            "coordinate": coordinate,
            "purpose": purpose,
        },
    }


def error_payload(code: ErrorCode, message: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code.value, **extensions}}


# --------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------

_VARIABLE_MESSAGE = re.compile(
    r"^Variable '\$(?P<name>\w+)' (?:has invalid (?:default )?value"
    r"(?: at (?P<path>(?:\.\w+|\[\d+\])+))?: (?P<detail>.*)|(?P<rest>.*))$",
    re.DOTALL,
)
_UNKNOWN_FIELD = re.compile(r"unknown field '(\w+)'")
_REQUIRED_FIELD = re.compile(r"required field '(\w+)'")

# (pattern in graphql-core's or the scalar's message, reason shown); first match wins.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"non 32-bit signed integer", "must be an integer from -2147483648 to 2147483647"),
        (r"Int cannot represent", "must be an integer"),
        (r"Float cannot represent", "must be a number"),
        (r"String cannot represent", "must be a string"),
        (r"Boolean cannot represent", "must be true or false"),
        (r"ID cannot represent", "must be a string or an integer"),
        (r"enum", "not one of the allowed values"),
        (r"unknown field", "unknown field"),
        (r"required field", "required field missing"),
        (r"to be provided|was not provided", "required"),
        (r"must not be null|not to be None|non-null|found null", "must not be null"),
        (r"to be an object|to be a dict|Expected type .* to be", "must be an object"),
        (r"DateTime", "must be a date and time (ISO 8601, e.g. 2026-01-31T12:00:00Z)"),
        (r"\bDate\b", "must be a valid date (YYYY-MM-DD)"),
        (r"Decimal", "must be a finite decimal number"),
        (r"JSON", "must be JSON"),
    )
)


def _reason(detail: str) -> str:
    for pattern, reason in _REASONS:
        if pattern.search(detail):
            return reason
    return "invalid value"


def variable_error(error: GraphQLError) -> dict[str, Any] | None:
    """BAD_USER_INPUT for an error of variable coercion (None for any other error)."""
    nodes = error.nodes or []
    if not nodes or not isinstance(nodes[0], VariableDefinitionNode):
        return None
    name = nodes[0].variable.name.value
    match = _VARIABLE_MESSAGE.match(error.message)
    path = (match.group("path") or "") if match else ""
    detail = (match.group("detail") or match.group("rest") or "") if match else error.message
    for pattern in (_UNKNOWN_FIELD, _REQUIRED_FIELD):
        found = pattern.search(detail)
        if found:
            path += f".{found.group(1)}"
    field = f"${name}{path}"
    reason = _reason(detail)
    return error_payload(
        ErrorCode.BAD_USER_INPUT,
        f"Variable {field}: {reason}.",
        field=field,
        reason=reason,
    )


def format_error(error: GraphQLError, request_id: uuid.UUID, *, detailed: bool) -> dict[str, Any]:
    """The error as the caller sees it (see the module docstring for the rules).

    Logs only resolver errors (one line each, with the exception); refusals of the request
    are summarised by `format_errors`, never with the document or the variables."""
    code = (error.extensions or {}).get("code")
    if code in PUBLIC_CODES:
        return dict(error.formatted)
    user_input = variable_error(error)
    if user_input is not None:
        return user_input
    if error.original_error is None and error.path is None:
        if detailed:
            payload = error_payload(ErrorCode.QUERY_REJECTED, error.message)
            if error.locations:
                payload["locations"] = [location.formatted for location in error.locations]
            return payload
        # A validation error: collapsed so that it reveals no names of the schema.
        return error_payload(ErrorCode.QUERY_REJECTED, GENERIC_VALIDATION_MESSAGE)
    original = error.original_error
    where = ".".join(str(key) for key in error.path) if error.path else "-"
    log.error(
        "resolver error in request %s at %s: %s",
        request_id,
        where,
        type(original or error).__name__,
        exc_info=original or error,
    )
    payload = error_payload(ErrorCode.INTERNAL, "Internal error.", requestId=str(request_id))
    if error.path is not None:
        payload["path"] = error.path
    return payload


def format_errors(
    errors: Iterable[GraphQLError], request_id: uuid.UUID, *, detailed: bool
) -> list[dict[str, Any]]:
    """`format_error` for each error, and one log line (codes only) for a refused request."""
    formatted: list[dict[str, Any]] = []
    refused: list[str] = []
    for error in errors:
        payload = format_error(error, request_id, detailed=detailed)
        formatted.append(payload)
        if error.path is None:
            refused.append(str(payload.get("extensions", {}).get("code")))
    if refused:
        log.info(
            "request %s refused: %s",
            request_id,
            ", ".join(f"{code} x{refused.count(code)}" for code in sorted(set(refused))),
        )
    return formatted


class QuietSchema(strawberry.Schema):
    """Strawberry logs every error with its source text (a whole document for a validation
    error) and its traceback; the endpoint reports errors through `format_errors`."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


# --------------------------------------------------------------------------------------
# Input checks installed on the schema
# --------------------------------------------------------------------------------------

# Input fields whose text may span lines: free-text reasons, notes and consent texts.
MULTILINE_FIELDS = frozenset({"reason", "notes", "text"})


def _parse_decimal(value: object) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("Decimal must be given as a string or a number")
    try:
        number = decimal.Decimal(str(value).strip())
    except decimal.DecimalException:
        raise ValueError("Decimal cannot represent this value") from None
    if not number.is_finite():
        raise ValueError("Decimal must be a finite number")
    if abs(number.adjusted()) > 30:
        raise ValueError("Decimal out of range")
    return number


DECIMAL = ScalarDefinition(
    name="Decimal",
    description="Decimal (fixed-point)",
    specified_by_url=None,
    serialize=str,
    parse_value=_parse_decimal,
    parse_literal=None,
    origin=decimal.Decimal,
)

# For strawberry.Schema(scalar_overrides=...): the same names and SDL, stricter parsing.
SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {decimal.Decimal: DECIMAL}


def _check_text(type_name: str, field: str, value: Any) -> None:
    if isinstance(value, str):
        problem = text_problem(value, multiline=field in MULTILINE_FIELDS)
        if problem is not None:
            raise UserInputError(
                f"{type_name}.{field}: {problem}", field=f"{type_name}.{field}", reason=problem
            )
    elif isinstance(value, list):
        for item in value:
            _check_text(type_name, field, item)


def _guarded(
    input_type: GraphQLInputObjectType, out_type: Callable[[dict[str, Any]], Any]
) -> Callable[[dict[str, Any]], Any]:
    names = {(field.out_name or name): name for name, field in input_type.fields.items()}

    def checked(values: dict[str, Any]) -> Any:
        for key, value in values.items():
            _check_text(input_type.name, names.get(key, key), value)
        return out_type(values)

    checked.__wrapped__ = out_type  # type: ignore[attr-defined]
    return checked


def guard_inputs(schema: GraphQLSchema) -> None:
    """Check the text of every input object while it is coerced (variables and literals
    alike): a refused value is BAD_USER_INPUT naming `Type.field`. Idempotent."""
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLInputObjectType) and not hasattr(
            graphql_type.out_type, "__wrapped__"
        ):
            graphql_type.out_type = _guarded(  # type: ignore[method-assign,assignment]
                graphql_type, graphql_type.out_type
            )
