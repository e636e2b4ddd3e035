"""/console: the security team's pages. Handlers are thin: the login and the policy's grant
are checked by `console_page`, the work is in service.py, the HTML in templates/."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.audit.records import EventKind, Outcome
from server.authz.explain import explain
from server.authz.principal import Principal
from server.console import auth, service
from server.console.grid import GridFilter, build_grid
from server.console.render import STATIC_TYPES, render, static_file
from server.db.columns import utcnow
from server.identity.login import LoginRefusal, TokenGrant, authenticate_password
from server.identity.routes import DATABASE_ERRORS
from server.identity.service import logout
from server.identity.sessions import load_session, revoke_sessions
from server.identity.tokens import InvalidToken, decode_access_token
from server.operations.runner import event_record

Page = Callable[[Request, auth.ConsoleUser], Awaitable[Response]]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
LOGIN_MESSAGES = {
    "invalid_credentials": "Wrong username or password.",
    "too_many_attempts": "Too many failed attempts; wait a moment and try again.",
    "temporarily_unavailable": "The service is busy; try again in a few seconds.",
}


class SecurityHeaders:
    """Every console response: CSP, no framing, no sniffing, no referrer, and no caching
    unless the handler said otherwise (the versioned static files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secured)


def html(template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("me", None)
    return HTMLResponse(render(template, **context), status_code=status)


def error_page(status: int, title: str, message: str) -> HTMLResponse:
    return html("error.html", status=status, page="error", title=title, message=message)


def unavailable() -> HTMLResponse:
    response = error_page(503, "Unavailable", "The database does not answer; try again shortly.")
    response.headers["Retry-After"] = "5"
    return response


def _safe_next(value: str | None) -> str:
    """Where to go after logging in: a console path of this site, nothing else."""
    if value and value.startswith("/console/") and "//" not in value and "\\" not in value:
        return value
    return "/console/"


async def record_refusal(request: Request, principal: Principal) -> None:
    """A principal without the console's grant tried to use it: into the access log."""
    runner = request.app.state.runner
    entry = event_record(
        EventKind.CONSOLE,
        outcome=Outcome.DENIED,
        principal=principal.log_ref,
        organisation=principal.organisation_code,
        roles=principal.roles,
        client_address=auth.client_address(request),
        operation_name=request.url.path[:100],
        policy_version=runner.policy().version,
        detail="the security console is not granted to these roles",
    )
    await runner.record_refusal(entry)


def refused(principal: Principal, *, logged_out: bool = False) -> HTMLResponse:
    return html(
        "refused.html",
        status=403,
        page="refused",
        title="Refused",
        roles=principal.roles,
        logged_out=logged_out,
    )


def console_page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
    """Log-in and grant check around a page; renews the cookie when it is half spent."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        state = request.app.state
        try:
            async with state.sessionmaker() as session, session.begin():
                found = await auth.live_session(request, session, state.settings, utcnow())
        except DATABASE_ERRORS:
            return unavailable()
        if found is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/console/login?" + urlencode({"next": target}), 303)
        live, renewed = found
        principal = live.principal()
        purpose = auth.console_purpose(state.policy_store.current, principal)
        if purpose is None:
            await record_refusal(request, principal)
            return refused(principal)
        csrf = auth.csrf_token(state.settings, auth.session_binding(live.session_id))
        user = auth.ConsoleUser(principal, purpose, csrf, renewed)
        try:
            response = await handler(request, user)
        except DATABASE_ERRORS:
            return unavailable()
        if renewed is not None:
            auth.set_session_cookie(response, renewed)
        return response

    return endpoint


# -- login and logout ------------------------------------------------------------------


def login_form(
    request: Request, *, status: int = 200, message: str = "", username: str = "", next_: str = ""
) -> HTMLResponse:
    nonce = auth.new_login_nonce()
    csrf = auth.csrf_token(request.app.state.settings, auth.login_binding(nonce))
    response = html(
        "login.html",
        status=status,
        page="login",
        title="Log in",
        csrf=csrf,
        message=message,
        username=username,
        next=_safe_next(next_ or request.query_params.get("next")),
    )
    auth.set_login_cookie(response, nonce)
    return response


async def login_page(request: Request) -> Response:
    return login_form(request)


async def login_submit(request: Request) -> Response:
    state = request.app.state
    form = await auth.read_form(request)
    nonce = request.cookies.get(auth.LOGIN_COOKIE)
    if (
        form is None
        or nonce is None
        or not auth.same_origin(request)
        or not auth.csrf_valid(state.settings, auth.login_binding(nonce), form.get("csrf"))
    ):
        return login_form(request, status=403, message="The form expired; log in again.")
    username, password = form.get("username", ""), form.get("password", "")
    next_ = form.get("next", "")
    if not username or not password or max(len(username), len(password)) > 1024:
        return login_form(request, status=400, message="Give a username and a password.")
    try:
        async with state.sessionmaker() as session:  # it commits its own transactions
            result = await authenticate_password(
                session=session,
                username=username,
                password=password,
                client_address=auth.client_address(request),
                settings=state.settings,
                sleep=getattr(state, "login_sleep", asyncio.sleep),
            )
        if isinstance(result, LoginRefusal):
            return _login_refused(request, result, username, next_)
        return await _logged_in(request, result, next_)
    except DATABASE_ERRORS:
        return unavailable()


def _login_refused(
    request: Request, refusal: LoginRefusal, username: str, next_: str
) -> HTMLResponse:
    message = LOGIN_MESSAGES.get(refusal.error, "The login was refused.")
    response = login_form(
        request, status=refusal.status, message=message, username=username, next_=next_
    )
    if refusal.retry_after is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


async def _logged_in(request: Request, grant: TokenGrant, next_: str) -> Response:
    """The cookie for a principal the policy grants the console; a refusal (and the new
    login ended at once) for anyone else."""
    state = request.app.state
    claims = decode_access_token(grant.access_token, settings=state.settings)
    async with state.sessionmaker() as session, session.begin():
        live = await load_session(session, session_id=claims.session_id, user_id=claims.user_id)
        assert live is not None  # made by this login, in a committed transaction
        granted = auth.console_purpose(state.policy_store.current, live.principal()) is not None
        if not granted:
            await revoke_sessions(session, session_id=live.session_id, now=utcnow())
    if not granted:
        await record_refusal(request, live.principal())
        return refused(live.principal(), logged_out=True)
    response = RedirectResponse(_safe_next(next_), 303)
    auth.set_session_cookie(response, grant)
    auth.clear_login_cookie(response)
    return response


async def logout_submit(request: Request) -> Response:
    state = request.app.state
    form = await auth.read_form(request)
    token = request.cookies.get(auth.SESSION_COOKIE)
    response = RedirectResponse("/console/login", 303)
    auth.clear_session_cookie(response)
    if form is None or token is None or not auth.same_origin(request):
        return response if token is None else error_page(403, "Refused", "Not a console form.")
    try:
        claims = decode_access_token(token, settings=state.settings)
    except InvalidToken:
        return response  # expired or not ours: nothing to end, the cookie goes
    if not auth.csrf_valid(
        state.settings, auth.session_binding(claims.session_id), form.get("csrf")
    ):
        return error_page(403, "Refused", "The form expired; reload the page and log out again.")
    try:
        async with state.sessionmaker() as session, session.begin():
            await logout(
                session=session,
                token=token,
                client_address=auth.client_address(request),
                settings=state.settings,
            )
    except DATABASE_ERRORS:
        return unavailable()
    return response


# -- pages -----------------------------------------------------------------------------


@console_page
async def status_page(request: Request, user: auth.ConsoleUser) -> Response:
    state = request.app.state
    seal = await service.seal_status(sessionmaker=state.sessionmaker, settings=state.settings)
    reload = service.reload_status(store=state.policy_store)
    return html("status.html", page="status", title="Status", me=user, reload=reload, seal=seal)


def _grid_filter(request: Request) -> GridFilter:
    params = request.query_params
    return GridFilter(
        role=params.get("role", "")[:100],
        purpose=params.get("purpose", "")[:100],
        field=params.get("field", "")[:200],
        hide_denied=params.get("granted") == "1",
    )


@console_page
async def matrix_page(request: Request, user: auth.ConsoleUser) -> Response:
    grid = build_grid(request.app.state.policy_store.current, _grid_filter(request))
    return html("matrix.html", page="matrix", title="Policy matrix", me=user, grid=grid)


@console_page
async def explain_page(request: Request, user: auth.ConsoleUser) -> Response:
    policy = request.app.state.policy_store.current
    params = request.query_params
    coordinate = params.get("c", "")[:200]
    role, purpose = params.get("r"), params.get("p")
    items = [
        item
        for name in policy.roles
        if role is None or name == role
        for item in explain(policy, name, coordinate, [purpose] if purpose else None)
        if item.usable
    ]
    if coordinate not in policy.catalogue.coordinates():
        items = []
    return html(
        "explain.html",
        page="explain",
        title=f"Explain {coordinate}",
        me=user,
        coordinate=coordinate,
        personal=coordinate in policy.catalogue.personal_data,
        version=policy.version,
        explanations=items,
    )


@console_page
async def diff_page(request: Request, user: auth.ConsoleUser) -> Response:
    store = request.app.state.policy_store
    params = request.query_params
    revision = params.get("revision", "").strip() if params.get("against") == "git" else ""
    if revision:
        result = await service.diff_with_revision(store=store, revision=revision)
    else:
        result = await service.diff_with_disk(store=store)
    return html(
        "diff.html", page="diff", title="Policy diff", me=user, result=result, revision=revision
    )


async def _search(request: Request, user: auth.ConsoleUser) -> service.LogSearch | None:
    """The search the page's parameters ask for (None: the page was opened without any)."""
    if not request.query_params:
        return None
    state = request.app.state
    query = service.parse_log_query(request.query_params, state.policy_store.current.purposes)
    return await service.search_access_log(
        runner=state.runner, user=user, client_address=auth.client_address(request), query=query
    )


@console_page
async def log_page(request: Request, user: auth.ConsoleUser) -> Response:
    policy = request.app.state.policy_store.current
    return html(
        "log.html",
        page="log",
        title="Access log",
        me=user,
        query=service.parse_log_query(request.query_params, policy.purposes),
        search=await _search(request, user),
        purposes=list(policy.purposes),
    )


@console_page
async def objects_fragment(request: Request, user: auth.ConsoleUser) -> Response:
    """One request's objects, as the piece of the log page the script puts in place when
    a request is opened (`log?request=ID` is the same without the script)."""
    search = await _search(request, user)
    if search is None or not request.query_params.get("request"):
        return error_page(400, "Bad request", "Name the request.")
    return html("_objects.html", search=search, hit=request.query_params.get("hit", ""))


async def static_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_TYPES:
        return error_page(404, "Not found", "No such file.")
    content, digest = static_file(name)
    cache = "public, max-age=31536000, immutable"
    if request.query_params.get("v") != digest:
        cache = "no-cache"
    return Response(content, media_type=STATIC_TYPES[name], headers={"Cache-Control": cache})


def routes() -> list[BaseRoute]:
    return [
        Mount(
            "/console",
            middleware=[Middleware(SecurityHeaders)],
            routes=[
                Route("/", status_page, methods=["GET"]),
                Route("/matrix", matrix_page, methods=["GET"]),
                Route("/explain", explain_page, methods=["GET"]),
                Route("/diff", diff_page, methods=["GET"]),
                Route("/log", log_page, methods=["GET"]),
                Route("/log/objects", objects_fragment, methods=["GET"]),
                Route("/login", login_page, methods=["GET"]),
                Route("/login", login_submit, methods=["POST"]),
                Route("/logout", logout_submit, methods=["POST"]),
                Route("/static/{name}", static_asset, methods=["GET"]),
            ],
        )
    ]
