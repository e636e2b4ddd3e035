"""Which prospects a role sees: all of them, narrowed to valid marketing consents."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from server.authz.scopes import ScopeEnv, register_filters, register_scopes
from server.db.tables import table_of
from server.prospects.models import Prospect

prospect = table_of(Prospect).c


def prospect_consent_valid(env: ScopeEnv) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = prospect.consent_expires_on >= env.today
    return condition


def register() -> None:
    register_scopes("Prospect")
    register_filters("Prospect", {"consent_valid": prospect_consent_valid})
