"""Idempotency keys: a client that retries a mutation after a lost answer (a 503, a cut
connection) sends the same `Idempotency-Key` and gets the first answer back; nothing is
written twice. Keys belong to the principal and are kept for a day.

Concurrent requests with the same key take turns on a transaction-level advisory lock, so
the second waits for the first to commit and then finds its answer.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.records import Outcome
from server.graphql.errors import ErrorCode, error_payload

if TYPE_CHECKING:
    from server.operations.runner import Operation, OperationResult

MAX_KEY_LENGTH = 200
KEPT_FOR = "1 day"

LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 7))")
EARLIER = text(
    "SELECT request_hash, status, response FROM idempotency_record "
    f"WHERE principal = :principal AND key = :key AND created_at > now() - interval '{KEPT_FOR}'"
)
REMEMBER = text(
    "INSERT INTO idempotency_record (principal, key, request_hash, status, response) "
    "VALUES (:principal, :key, :request_hash, :status, :response) "
    "ON CONFLICT (principal, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, "
    "status = EXCLUDED.status, response = EXCLUDED.response, created_at = now()"
)


def valid_key(value: str) -> bool:
    """1 to 200 printable ASCII characters."""
    return 0 < len(value) <= MAX_KEY_LENGTH and all(" " <= c <= "~" for c in value)


def _request_hash(operation: Operation) -> str:
    material = orjson.dumps(
        [operation.query, operation.operation_name or "", operation.variables or {}],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


def _owner(operation: Operation) -> str:
    return operation.principal.log_ref if operation.principal is not None else ""


async def earlier_answer(session: AsyncSession, operation: Operation) -> OperationResult | None:
    """The first answer for this key, or None to run the mutation."""
    from server.operations.runner import OperationResult

    key = operation.idempotency_key
    owner = _owner(operation)
    await session.execute(LOCK, {"lock": f"{owner}\x1f{key}"})
    row = (await session.execute(EARLIER, {"principal": owner, "key": key})).first()
    if row is None:
        return None
    media_type = operation.media_type
    if row.request_hash != _request_hash(operation):
        body = {
            "errors": [
                error_payload(
                    ErrorCode.BAD_USER_INPUT,
                    "This Idempotency-Key was used for a different request.",
                    field="Idempotency-Key",
                    reason="key reused",
                )
            ]
        }
        return OperationResult(422, orjson.dumps(body), "application/json", Outcome.ERROR)
    return OperationResult(
        row.status,
        bytes(row.response),
        media_type,
        Outcome.OK,
        headers={"Idempotent-Replayed": "true"},
    )


async def remember(session: AsyncSession, operation: Operation, result: OperationResult) -> None:
    """Keep the answer in the mutation's own transaction: both commit or neither."""
    await session.execute(
        REMEMBER,
        {
            "principal": _owner(operation),
            "key": operation.idempotency_key,
            "request_hash": _request_hash(operation),
            "status": result.status,
            "response": result.body,
        },
    )
