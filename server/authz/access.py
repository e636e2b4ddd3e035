"""The per-request view of the compiled policy: one principal, one purpose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement

from server.authz.decision import Access
from server.authz.masks import MASKS, MaskFn
from server.authz.policy import CompiledPolicy
from server.authz.principal import Principal
from server.authz.scopes import ScopeEnv, row_predicate


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How one field of one type is returned to this principal."""

    python_name: str
    graphql_name: str
    access: Access
    mask: MaskFn | None


class AccessView:
    """Decisions for one request, looked up in the compiled table and cached per coordinate."""

    __slots__ = ("_cache", "_rows", "policy", "principal", "purpose", "today")

    def __init__(
        self, policy: CompiledPolicy, principal: Principal, purpose: str, today: date
    ) -> None:
        self.policy = policy
        self.principal = principal
        self.purpose = purpose
        self.today = today
        self._cache: dict[str, Access] = {}
        self._rows: dict[str, ColumnElement[bool]] = {}

    @property
    def policy_version(self) -> str:
        return self.policy.version

    def field(self, coordinate: str) -> Access:
        access = self._cache.get(coordinate)
        if access is None:
            access = self.policy.field_access(self.principal.roles, self.purpose, coordinate)
            self._cache[coordinate] = access
        return access

    def mask_for(self, coordinate: str) -> MaskFn | None:
        name = self.policy.masks.get(coordinate)
        return MASKS[name] if name else None

    def can_write(self, coordinate: str) -> bool:
        for role in self.principal.roles:
            grant = self.policy.grants.get((role, self.purpose))
            if grant is not None and coordinate in grant.writes:
                return True
        return False

    def can_import(self, coordinate: str) -> bool:
        """Whether files may be loaded into `coordinate` (an importer's bulk write)."""
        return any(
            coordinate in grant.imports
            for role in self.principal.roles
            if (grant := self.policy.grants.get((role, self.purpose))) is not None
        )

    def scopes(self, type_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Scopes (union over roles) and filters (every role's filters) for a type."""
        scopes: set[str] = set()
        filters: set[str] = set()
        for role in self.principal.roles:
            grant = self.policy.grants.get((role, self.purpose))
            if grant is None:
                continue
            role_scopes = grant.scopes.get(type_name, ())
            if role_scopes:
                scopes.update(role_scopes)
                filters.update(grant.filters.get(type_name, ()))
        return tuple(sorted(scopes)), tuple(sorted(filters))

    def can_see_rows(self, type_name: str) -> bool:
        return bool(self.scopes(type_name)[0])

    def env(self) -> ScopeEnv:
        """The values this request's row predicates compare with."""
        return ScopeEnv(self.principal.organisation_id, self.today, self.purpose)

    def rows(self, type_name: str) -> ColumnElement[bool]:
        """The SQL predicate limiting `type_name` rows to what this principal may see."""
        predicate = self._rows.get(type_name)
        if predicate is None:
            predicate = self.rows_with(type_name, self.env())
            self._rows[type_name] = predicate
        return predicate

    def rows_with(self, type_name: str, env: ScopeEnv) -> ColumnElement[bool]:
        """The same predicate as `rows`, over other values (e.g. bind parameters for SQL
        built once and cached); the scopes and filters are this principal's and purpose's."""
        scopes, filters = self.scopes(type_name)
        return row_predicate(type_name, scopes, filters, env)
