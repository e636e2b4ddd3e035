"""Requests and disclosures are records about the register: whoever may see the type sees
every row."""

from __future__ import annotations

from server.authz.scopes import register_scopes


def register() -> None:
    register_scopes("DataSubjectRequest")
    register_scopes("Disclosure")
