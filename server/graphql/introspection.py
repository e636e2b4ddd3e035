"""Per-role introspection: `__schema` shows a principal only what it may read or see masked."""

from __future__ import annotations

import re
from typing import Any

from server.authz.access import AccessView
from server.authz.decision import Access
from server.schema import is_policed

_INTROSPECTION = re.compile(r"__schema\b|__type\b")


def is_introspection(query: str) -> bool:
    """True for documents asking for `__schema` or `__type` (not `__typename`)."""
    return _INTROSPECTION.search(query) is not None


def _named(type_ref: dict[str, Any] | None) -> str | None:
    while type_ref is not None:
        if type_ref.get("name"):
            return str(type_ref["name"])
        type_ref = type_ref.get("ofType")
    return None


def _hidden_types(types: list[dict[str, Any]], access: AccessView) -> set[str]:
    hidden: set[str] = set()
    for graphql_type in types:
        name = graphql_type.get("name") or ""
        fields = graphql_type.get("fields")
        if fields is None or not is_policed(name):
            continue
        visible = [
            f
            for f in fields
            if f["name"] == "id" or access.field(f"{name}.{f['name']}") is not Access.DENY
        ]
        if len(visible) <= 1:
            hidden.add(name)
    return hidden


def _prune_fields(graphql_type: dict[str, Any], hidden: set[str], access: AccessView) -> None:
    name = graphql_type.get("name") or ""
    fields = graphql_type.get("fields")
    if fields is None:
        return
    kept = []
    for field in fields:
        if _named(field.get("type")) in hidden:
            continue
        if (
            is_policed(name)
            and field["name"] != "id"
            and access.field(f"{name}.{field['name']}") is Access.DENY
        ):
            continue
        kept.append(field)
    graphql_type["fields"] = kept


def _can_write_anything(access: AccessView) -> bool:
    return any(
        grant.writes
        for role in access.principal.roles
        if (grant := access.policy.grants.get((role, access.purpose))) is not None
    )


def filter_introspection(data: dict[str, Any], access: AccessView) -> dict[str, Any]:
    """Remove denied fields, types with nothing visible, and fields that lead to them.
    Mutations are shown only to principals that may write something under the purpose."""
    schema = data.get("__schema")
    if isinstance(schema, dict) and isinstance(schema.get("types"), list):
        types: list[dict[str, Any]] = schema["types"]
        hidden = _hidden_types(types, access)
        if not _can_write_anything(access):
            hidden.add("Mutation")
            if schema.get("mutationType") is not None:
                schema["mutationType"] = None
        changed = True
        while changed:  # wrappers (edges, connections) of hidden types disappear too
            changed = False
            for graphql_type in types:
                if graphql_type.get("name") in hidden or graphql_type.get("fields") is None:
                    continue
                _prune_fields(graphql_type, hidden, access)
                if not graphql_type["fields"] and graphql_type.get("name") not in hidden:
                    hidden.add(graphql_type["name"])
                    changed = True
        schema["types"] = [t for t in types if t.get("name") not in hidden]
    single = data.get("__type")
    if isinstance(single, dict):
        name = single.get("name") or ""
        if (name == "Mutation" and not _can_write_anything(access)) or (
            is_policed(name) and _hidden_types([single], access)
        ):
            data["__type"] = None
        else:
            _prune_fields(single, set(), access)
    return data
