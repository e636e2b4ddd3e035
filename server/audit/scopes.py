"""The access log is a record about the register: whoever may see its type sees every row."""

from __future__ import annotations

from server.authz.scopes import register_scopes


def register() -> None:
    register_scopes("AccessLogEntry")
