"""POST /auth/token, /auth/refresh and /auth/logout: JSON in, JSON out, never cached."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import orjson
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.identity.authenticate import AuthenticationFailed, bearer_credential
from server.identity.service import (
    LoginRefusal,
    authenticate_password,
    logout,
    refresh,
)

T = TypeVar("T")

MAX_BODY_BYTES = 4096
MAX_FIELD_LENGTH = 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
INVALID_TOKEN_CHALLENGE = 'Bearer realm="rekisteri", error="invalid_token"'  # noqa: S105
DATABASE_RETRY_AFTER = 5
# What a database that refuses connections, was dropped, or times out raises: asyncpg's
# connection errors arrive as OSError, pool timeouts as TimeoutError.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


def _json(payload: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(
        orjson.dumps(payload),
        status_code=status,
        media_type="application/json",
        headers={**NO_STORE, **headers},
    )


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json"


async def _read_body(request: Request) -> bytes | None:
    """The body if it is at most MAX_BODY_BYTES long, else None (read no further)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _credentials(request: Request) -> tuple[str, str] | Response:
    if not _is_json(request):
        return _json({"error": "unsupported_media_type"}, 415)
    raw = await _read_body(request)
    if raw is None:
        return _json({"error": "request_too_large"}, 413)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _json({"error": "invalid_request"}, 400)
    if not isinstance(body, dict):
        return _json({"error": "invalid_request"}, 400)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return _json({"error": "invalid_request"}, 400)
    if not username or not password or max(len(username), len(password)) > MAX_FIELD_LENGTH:
        return _json({"error": "invalid_request"}, 400)
    return username, password


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _unavailable(request_id: uuid.UUID) -> Response:
    """503 in the shape of the GraphQL endpoint's errors, with the ID to quote in support."""
    body = {
        "errors": [
            {
                "message": "The service is temporarily unavailable; try again shortly.",
                "extensions": {"code": "SERVICE_UNAVAILABLE", "requestId": str(request_id)},
            }
        ]
    }
    return _json(body, 503, **{"Retry-After": str(DATABASE_RETRY_AFTER)})


def database_guarded(endpoint: Endpoint) -> Endpoint:
    """Answer a JSON 503 with Retry-After, never a bare 500, when the database fails."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except DATABASE_ERRORS as exc:
            request_id = uuid.uuid4()
            # The exception's type only: its text can hold connection details.
            log.error(
                "request %s to %s failed: database unavailable (%s)",
                request_id,
                request.url.path,
                type(exc).__name__,
            )
            return _unavailable(request_id)

    return guarded


def _refused(refusal: LoginRefusal) -> Response:
    headers: dict[str, str] = {}
    if refusal.retry_after is not None:
        headers["Retry-After"] = str(refusal.retry_after)
    return _json(refusal.as_json(), refusal.status, **headers)


async def token_endpoint(request: Request) -> Response:
    """Log in with a username and password; answers an access token."""
    parsed = await _credentials(request)
    if isinstance(parsed, Response):
        return parsed
    username, password = parsed
    state = request.app.state
    async with state.sessionmaker() as session:  # it commits its own transactions
        result = await authenticate_password(
            session=session,
            username=username,
            password=password,
            client_address=_client(request),
            settings=state.settings,
            # The account delay's sleep; tests put one that records instead of waiting.
            sleep=getattr(state, "login_sleep", asyncio.sleep),
        )
    if isinstance(result, LoginRefusal):
        return _refused(result)
    return _json(result.as_json())


def _token_or_error(request: Request) -> str | Response:
    if not _is_json(request):
        return _json({"error": "unsupported_media_type"}, 415)
    try:
        return bearer_credential(request)
    except AuthenticationFailed:
        return _json({"error": "invalid_token"}, 401, **{"WWW-Authenticate": "Bearer"})


def _invalid_token() -> Response:
    return _json({"error": "invalid_token"}, 401, **{"WWW-Authenticate": INVALID_TOKEN_CHALLENGE})


async def _for_token(request: Request, action: Callable[..., Awaitable[T]]) -> T | Response:
    """`refresh` or `logout` for the caller's token, in one transaction; the error response
    when the request carries no usable token."""
    token = _token_or_error(request)
    if isinstance(token, Response):
        return token
    state = request.app.state
    async with state.sessionmaker() as session, session.begin():
        return await action(
            session=session, token=token, client_address=_client(request), settings=state.settings
        )


async def refresh_endpoint(request: Request) -> Response:
    """A new access token for the caller's live session (send the current, unexpired one)."""
    grant = await _for_token(request, refresh)
    if isinstance(grant, Response):
        return grant
    return _invalid_token() if grant is None else _json(grant.as_json())


async def logout_endpoint(request: Request) -> Response:
    """End the caller's session: every token issued for it stops working at once."""
    ended = await _for_token(request, logout)
    if isinstance(ended, Response):
        return ended
    return _json({"status": "logged_out"}) if ended else _invalid_token()


def routes() -> list[Route]:
    return [
        Route("/auth/token", database_guarded(token_endpoint), methods=["POST"]),
        Route("/auth/refresh", database_guarded(refresh_endpoint), methods=["POST"]),
        Route("/auth/logout", database_guarded(logout_endpoint), methods=["POST"]),
    ]
