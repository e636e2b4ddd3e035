"""One place that observes a GraphQL request's end: its metrics and its log line.

The line carries the request ID, the operation type, the document's keyed hash (the same
as in the access log, so the two can be matched), the outcome, the HTTP status, the
duration, the executor and the purpose. Never the principal, the client address, the
operation name, the variables or the document: they are personal data, or free text that
can carry it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from server.observability import metrics, tracing
from server.observability.logging import REQUEST_LOGGER

if TYPE_CHECKING:
    from server.operations.runner import Operation, OperationRunner

log = logging.getLogger(REQUEST_LOGGER)


def observe(
    runner: OperationRunner,
    operation: Operation,
    *,
    outcome: str,
    status: int,
    executor: str | None,
) -> None:
    """Record the request's metrics and write its log line (never raises)."""
    try:
        seconds = time.perf_counter() - operation.started
        prepared = runner.documents.peek(operation.query)
        kind = prepared.operation_of(operation.operation_name)[0] if prepared else None
        policy = runner.policy()
        metrics.set_policy_version(policy.version)
        labels = metrics.request_labels(
            operation_type=kind,
            outcome=outcome,
            executor=executor,
            purpose=operation.purpose,
            known_purposes=policy.purposes,
        )
        metrics.observe_request(labels, seconds)
        kind_label, outcome_label, executor_label, purpose_label = labels
        tracing.annotate(
            {
                "rekisteri.request_id": str(operation.request_id),
                "rekisteri.operation_type": kind_label,
                "rekisteri.outcome": outcome_label,
                "rekisteri.executor": executor_label,
                "rekisteri.purpose": purpose_label,
            }
        )
        if log.isEnabledFor(logging.INFO):
            log.info(
                "graphql request",
                extra={
                    "request_id": str(operation.request_id),
                    "operation_type": kind_label,
                    "document_hash": runner.document_hash(operation.query, prepared),
                    "outcome": outcome_label,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "executor": executor_label,
                    "purpose": purpose_label,
                },
            )
    except Exception:
        log.exception("could not observe request %s", operation.request_id)
