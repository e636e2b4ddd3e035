"""Remembered credentials, confirmed inside each request's own transaction.

A request whose bearer credential was authenticated a moment ago does not need a transaction
of its own to read its session again: the principal is taken from this process's memory,
and the request's transaction confirms, in SQL, that the credential is still live with the
same roles and organisation (the compiled executor as part of its one statement, the
resolver executor as the first statement of its transaction). If it is not, nothing is
written and the request is authenticated again the full way, which records why it failed.

So logout, disabling a user, revoking a key and changing roles still apply to the very next
request: only the round trips are saved, never a check. An entry is used only until the
session's `last_seen_at` (or the key's `last_used_at`) is due to move forward again; the
full authentication moves it and remembers the credential anew.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from string import Formatter
from typing import Any

from server.authz.principal import Principal, PrincipalKind

CACHE_SIZE = 4096

# The credential's row must still say what the principal was made from. `{name}` is a
# parameter of the statement the predicate is put into.
SESSION_LIVE = (
    "EXISTS (SELECT 1 FROM user_session s JOIN app_user u ON u.id = s.user_id "
    "WHERE s.id = {credential_id} AND s.user_id = {principal_id} AND s.revoked_at IS NULL "
    "AND u.active AND u.roles = {roles} AND u.organisation_id = {organisation_id} "
    "AND now() < least(s.expires_at, s.created_at + {lifetime}) "
    "AND now() - s.last_seen_at <= {idle})"
)
API_KEY_LIVE = (
    "EXISTS (SELECT 1 FROM api_key k JOIN organisation o ON o.id = k.organisation_id "
    "WHERE k.id = {credential_id} AND k.id = {principal_id} AND k.revoked_at IS NULL "
    "AND k.roles = {roles} AND k.organisation_id = {organisation_id} "
    "AND now() < k.expires_at AND o.country = {country})"
)
PREDICATES = {PrincipalKind.USER: SESSION_LIVE, PrincipalKind.API_KEY: API_KEY_LIVE}
CASTS = {
    "credential_id": "uuid",
    "principal_id": "uuid",
    "roles": "varchar[]",
    "organisation_id": "uuid",
    "lifetime": "interval",
    "idle": "interval",
    "country": "text",
}


def live_predicate(kind: PrincipalKind, param: Callable[[str, str], str]) -> str:
    """The SQL condition that a credential of this kind is still live as remembered, with
    each value placed by `param(name, cast)`."""
    template = PREDICATES[kind]
    names = [name for _, name, _, _ in Formatter().parse(template) if name]
    return template.format(**{name: param(name, CASTS[name]) for name in names})


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A remembered principal and the values its request's transaction must find still
    true (the parameters of `live_predicate`)."""

    principal: Principal
    values: Mapping[str, Any]
    fresh_until: datetime  # after this, the full authentication runs (and touches the row)

    @property
    def kind(self) -> PrincipalKind:
        return self.principal.kind

    def numbered(self) -> tuple[str, list[Any]]:
        """The condition as a statement of its own ($1, $2, ...) and its values."""
        order: list[str] = []

        def place(name: str, cast: str) -> str:
            order.append(name)
            return f"${len(order)}::{cast}"

        sql = "SELECT " + live_predicate(self.kind, place)
        return sql, [self.values[name] for name in order]


def session_confirmation(
    principal: Principal,
    *,
    last_seen_at: datetime,
    touch_every: timedelta,
    idle: timedelta,
    lifetime: timedelta,
    token_expires_at: datetime,
) -> Confirmation:
    assert principal.session_id is not None
    return Confirmation(
        principal=principal,
        values=_values(principal, {"lifetime": lifetime, "idle": idle}),
        fresh_until=min(last_seen_at + touch_every, token_expires_at),
    )


def api_key_confirmation(
    principal: Principal, *, last_used_at: datetime, touch_every: timedelta, country: str
) -> Confirmation:
    return Confirmation(
        principal=principal,
        values=_values(principal, {"country": country}),
        fresh_until=last_used_at + touch_every,
    )


def _values(principal: Principal, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "credential_id": principal.session_id or principal.id,
        "principal_id": principal.id,
        "roles": list(principal.roles),
        "organisation_id": principal.organisation_id,
        **extra,
    }


class RememberedCredentials:
    """Bearer credential -> Confirmation, for the short while it is fresh (LRU-bounded)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[str, Confirmation] = OrderedDict()

    def recall(self, credential: str, now: datetime) -> Confirmation | None:
        entry = self._entries.get(credential)
        if entry is None:
            return None
        if now >= entry.fresh_until:
            del self._entries[credential]
            return None
        return entry

    def remember(self, credential: str, confirmation: Confirmation) -> None:
        self._entries[credential] = confirmation
        self._entries.move_to_end(credential)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, credential: str) -> None:
        self._entries.pop(credential, None)
