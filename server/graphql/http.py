"""GraphQL over HTTP: which media type answers, and with which status.

Per the GraphQL-over-HTTP specification, a client that accepts
`application/graphql-response+json` (and prefers it to `application/json`) gets it, with
status 400 when the request failed before execution (it did not parse or validate, or
its variables were refused) and no `data` entry then. Everyone else gets
`application/json` with status 200 for every well-formed request (the legacy rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import Response

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"


def _accepted(accept_header: str) -> list[tuple[str, float, int]]:
    """(media range, quality, specificity) for each entry of an Accept header."""
    entries: list[tuple[str, float, int]] = []
    for part in accept_header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        if not media or "/" not in media:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(1.0, max(0.0, float(value)))
                except ValueError:
                    quality = 0.0
        kind, _, subtype = media.partition("/")
        specificity = 0 if kind == "*" else 1 if subtype == "*" else 2
        entries.append((media, quality, specificity))
    return entries


def _quality(entries: list[tuple[str, float, int]], media_type: str) -> tuple[float, int]:
    """The quality the most specific matching range gives `media_type`, and its specificity."""
    kind = media_type.split("/", 1)[0]
    best: tuple[float, int] = (0.0, -1)
    for media, quality, specificity in entries:
        if media in (media_type, f"{kind}/*", "*/*") and specificity > best[1]:
            best = (quality, specificity)
    return best


def response_media_type(accept_header: str | None) -> str:
    """`application/graphql-response+json` when the client prefers it, else
    `application/json` (also when the header is missing, `*/*`, or accepts neither)."""
    if not accept_header:
        return APPLICATION_JSON
    entries = _accepted(accept_header)
    graphql_quality, graphql_specificity = _quality(entries, GRAPHQL_RESPONSE_JSON)
    json_quality, _ = _quality(entries, APPLICATION_JSON)
    if graphql_quality <= 0 or graphql_specificity < 2:
        return APPLICATION_JSON  # only named explicitly: wildcards keep the legacy type
    return GRAPHQL_RESPONSE_JSON if graphql_quality >= json_quality else APPLICATION_JSON


def is_request_error(data: Any, errors: Sequence[GraphQLError] | None) -> bool:
    """True when the operation did not run: no data, and only errors without a path
    (syntax, validation, limits, refused variables)."""
    return data is None and bool(errors) and all(error.path is None for error in errors or ())


def status_for(media_type: str, *, request_error: bool) -> int:
    """400 for a request error under `application/graphql-response+json`, else 200."""
    if media_type == GRAPHQL_RESPONSE_JSON and request_error:
        return 400
    return 200


def graphql_response(
    payload: dict[str, Any], *, media_type: str, request_error: bool, **headers: str
) -> Response:
    """The response for a GraphQL result (or a refusal before execution): the status
    follows `status_for`, and a request error has no `data` under the new media type."""
    if media_type == GRAPHQL_RESPONSE_JSON and request_error:
        payload = {key: value for key, value in payload.items() if key != "data"}
    return Response(
        orjson.dumps(payload),
        status_code=status_for(media_type, request_error=request_error),
        media_type=media_type,
        headers=headers,
    )
