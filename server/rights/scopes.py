"""Row scopes of the root types this package adds, registered beside the register's own.

The policy names them as `p, role, DataSubjectRequest, rows:all, purpose, allow`; they live
here so that the rights package stays self-contained. Imported by the rights types, so they
are registered before any policy is compiled against the schema.
"""

from __future__ import annotations

from server.authz.scopes import ROW_SCOPES, everything

RIGHTS_ROW_SCOPES = {
    "DataSubjectRequest": {"all": everything},
    "Disclosure": {"all": everything},
}


def register() -> None:
    for type_name, scopes in RIGHTS_ROW_SCOPES.items():
        ROW_SCOPES.setdefault(type_name, {}).update(scopes)


register()
