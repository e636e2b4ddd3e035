"""GraphiQL in development, served by the service itself: no CDN, no internet needed.

React 17.0.2 and GraphiQL 2.4.7 come from the pinned wheel `graphene-django-graphiql-static`
(its static files, byte for byte the npm releases' UMD builds with a final newline added;
nothing of its Django code is imported). Each file's SHA-256 is pinned here: a wheel whose
files differ is refused when the first asset is read, and the page names the same digests
in `integrity` so that the browser checks them too. The page's own script and style are
files of this package, so the content security policy allows scripts, styles and
connections from the service's own origin only, and no inline script.

Outside development `GET /graphql` answers 405 and the assets 404.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

VENDOR_PACKAGE = "graphene_django_graphiql_static"
VENDOR_DIRECTORY = "static/graphene_django_graphiql_static"
OWN_PACKAGE = "server.graphql"
OWN_DIRECTORY = "graphiql"
ASSET_PREFIX = "/graphiql/"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"


@dataclass(frozen=True, slots=True)
class AssetFile:
    """A file the page loads: where it is, its media type and (third-party) pinned digest."""

    package: str
    path: str
    media_type: str
    pinned: str | None = None  # "sha256-<base64>"


ASSET_FILES = {
    "graphiql.min.css": AssetFile(
        VENDOR_PACKAGE,
        f"{VENDOR_DIRECTORY}/graphiql.min.css",
        CSS,
        "sha256-xs1Lg/AcXh/0l113vJVxhNzm3sAVX7+cxNkZDrqKe50=",
    ),
    "react.production.min.js": AssetFile(
        VENDOR_PACKAGE,
        f"{VENDOR_DIRECTORY}/react.production.min.js",
        JAVASCRIPT,
        "sha256-Ipu/TQ50iCCVZBUsZyNJfxrDk0E2yhaEIz0vqI+kFG8=",
    ),
    "react-dom.production.min.js": AssetFile(
        VENDOR_PACKAGE,
        f"{VENDOR_DIRECTORY}/react-dom.production.min.js",
        JAVASCRIPT,
        "sha256-nbMykgB6tsOFJ7OdVmPpdqMFVk4ZsqWocT6issAPUF0=",
    ),
    "graphiql.min.js": AssetFile(
        VENDOR_PACKAGE,
        f"{VENDOR_DIRECTORY}/graphiql.min.js",
        JAVASCRIPT,
        "sha256-xWTeBbldGE4sW6XOryY1gh9r+S8tV3e3TZEAT/a1kdE=",
    ),
    "page.css": AssetFile(OWN_PACKAGE, f"{OWN_DIRECTORY}/page.css", CSS),
    "setup.js": AssetFile(OWN_PACKAGE, f"{OWN_DIRECTORY}/setup.js", JAVASCRIPT),
}
STYLES = ("graphiql.min.css", "page.css")
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "setup.js")


class AssetMismatch(RuntimeError):
    """A third-party file is not the one pinned (another version of the wheel, or changed)."""


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    integrity: str


def integrity_of(body: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode()


@functools.cache
def asset(name: str) -> Asset:
    """The file, read once and checked against its pinned digest."""
    spec = ASSET_FILES[name]
    body = resources.files(spec.package).joinpath(spec.path).read_bytes()
    integrity = integrity_of(body)
    if spec.pinned is not None and integrity != spec.pinned:
        raise AssetMismatch(f"{name}: {integrity}, pinned {spec.pinned}")
    return Asset(body, spec.media_type, integrity)


DEFAULT_QUERY = """\
# rekisteri · GraphiQL (development only)
#
# 1. Get an access token (the first ./dev run printed the
#    demo users' passwords):
#      curl -s {origin}/auth/token \\
#        -H 'content-type: application/json' \\
#        -d '{{"username": "demo-customer-service",
#             "password": "..."}}'
# 2. Under "Headers" below, put its access_token after
#    "Bearer ". Add  "X-Purpose": "customer_relationship"
#    to act for a purpose other than your role's default
#    (`me` lists the purposes your roles allow). Headers
#    are not kept in the browser.
# 3. Re-fetch the schema (the circular arrow at the lower
#    left, or Shift-Ctrl-R) for the docs and completion.

query Me {{
  me {{ username organisation roles purposes }}
}}
"""
DEFAULT_HEADERS = '{\n  "Authorization": "Bearer PASTE-THE-ACCESS-TOKEN-HERE"\n}'
HELP = (
    "Every request needs <code>Authorization: Bearer &lt;access token&gt;</code> (from "
    "<code>POST /auth/token</code>) and may name a purpose of processing with "
    "<code>X-Purpose</code>: set both under <b>Headers</b> below the query editor."
)


def _tags(origin: str) -> str:
    config = {
        "url": "/graphql",
        "defaultQuery": DEFAULT_QUERY.format(origin=origin),
        "defaultHeaders": DEFAULT_HEADERS,
    }
    # JSON inside a script element: "<" escaped so that no text can close the element.
    data = json.dumps(config).replace("<", "\\u003c")
    styles = "".join(
        f'<link rel="stylesheet" href="{ASSET_PREFIX}{name}" integrity="{asset(name).integrity}">'
        for name in STYLES
    )
    scripts = "".join(
        f'<script src="{ASSET_PREFIX}{name}" integrity="{asset(name).integrity}"></script>'
        for name in SCRIPTS
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>rekisteri · GraphiQL</title>"
        f'{styles}</head><body><div id="help">{HELP}</div>'
        '<div id="graphiql">Loading GraphiQL…</div>'
        f'<script type="application/json" id="graphiql-config">{data}</script>'
        f"{scripts}</body></html>"
    )


def page(request: Request) -> Response:
    """The GraphiQL page, with a policy that allows nothing from another origin."""
    origin = html.escape(f"{request.url.scheme}://{request.url.netloc}")
    return HTMLResponse(
        _tags(origin),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


async def asset_endpoint(request: Request) -> Response:
    """GET /graphiql/{name}: one of the page's files, in development only."""
    name = request.path_params["name"]
    if not request.app.state.settings.is_development or name not in ASSET_FILES:
        return PlainTextResponse("Not Found", status_code=404)
    found = asset(name)
    return Response(
        found.body,
        media_type=found.media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
