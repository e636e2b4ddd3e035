"""Which usage sites a role sees."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from server.authz.scopes import ScopeEnv, register_filters, register_scopes
from server.customers.scopes import subject_filters
from server.db.tables import table_of
from server.organisations.scopes import assigned
from server.sites.models import Site

site = table_of(Site).c


def site_assigned(env: ScopeEnv) -> ColumnElement[bool]:
    return assigned("site_id", site.id, env)


def register() -> None:
    register_scopes("Site", assigned=site_assigned)
    register_filters("Site", subject_filters(site.customer_id))
