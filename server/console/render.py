"""HTML of the console: Jinja2 templates with autoescaping, the stylesheet and the script.

`standalone_matrix` is `rekisteri policy matrix --format html`: the console's grid in one
file, with the stylesheet and script inlined and no explain links (nothing to ask).
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from server.authz.policy import CompiledPolicy
from server.console.grid import GridFilter, build_grid

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
NOTHING = "\N{EN DASH}"
STATIC_TYPES = {
    "console.css": "text/css",
    "console.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}


@functools.cache
def static_file(name: str) -> tuple[bytes, str]:
    """The bytes of a static file and a short hash of them (for cache-busting URLs)."""
    if name not in STATIC_TYPES:
        raise KeyError(name)
    content = (STATIC / name).read_bytes()
    return content, hashlib.sha256(content).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/console/static/{name}?v={static_file(name)[1]}"


def moment(value: datetime | str | None) -> str:
    """A time as 2026-12-03 14:05:09Z (UTC, to the second)."""
    if value is None:
        return NOTHING
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, coarsely (45 s, 12 min, 3 h, 2 d)."""
    if value is None:
        return NOTHING
    seconds = max(0, int(((now or datetime.now(UTC)) - value).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * 2 or (unit == "min" and seconds >= size):
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    env.filters["moment"] = moment
    env.filters["age"] = age
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def standalone_matrix(policy: CompiledPolicy) -> str:
    return render(
        "standalone_matrix.html",
        grid=build_grid(policy, GridFilter()),
        explain=False,
        css=Markup(static_file("console.css")[0].decode()),  # noqa: S704 - our own file
        js=Markup(static_file("console.js")[0].decode()),  # noqa: S704 - our own file
        generated=moment(datetime.now(UTC)),
    )
