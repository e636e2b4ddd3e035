"""Error codes and the errors that carry them to the front end."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from graphql import GraphQLError


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    INTERNAL = "INTERNAL_SERVER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    QUERY_REJECTED = "GRAPHQL_VALIDATION_FAILED"


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
