"""The policy matrix as a grid per type: fields down, role x purpose across.

Built from the compiled policy (nothing is decided here) for the console's matrix page and
for `rekisteri policy matrix --format html`; both render it with the same template.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.authz.decision import Access
from server.authz.policy import CompiledPolicy
from server.authz.scopes import ROW_SCOPES

LETTERS = {Access.READ: "R", Access.MASK: "M", Access.DENY: "D"}
NONE = "\N{EN DASH}"


@dataclass(frozen=True, slots=True)
class GridFilter:
    """Which columns and fields to show: a role, a purpose, and part of a coordinate."""

    role: str = ""
    purpose: str = ""
    field: str = ""
    hide_denied: bool = False

    def wants_column(self, role: str, purpose: str) -> bool:
        return (not self.role or role == self.role) and (
            not self.purpose or purpose == self.purpose
        )

    def wants_field(self, coordinate: str) -> bool:
        return self.field.strip().casefold() in coordinate.casefold()


@dataclass(frozen=True, slots=True)
class Column:
    role: str
    purpose: str
    first: bool = False  # the first column of its role (drawn with a separator)


@dataclass(frozen=True, slots=True)
class RoleGroup:
    """A role's header over its purposes' columns."""

    role: str
    description: str
    span: int


@dataclass(frozen=True, slots=True)
class Cell:
    access: Access
    write: bool

    @property
    def letter(self) -> str:
        return LETTERS[self.access]

    @property
    def css(self) -> str:
        return self.access.label + (" w" if self.write else "")


@dataclass(frozen=True, slots=True)
class FieldRow:
    coordinate: str
    name: str
    personal: bool
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class RowAccess:
    """The rows of a type one column sees: its scopes (a union) and filters (all apply)."""

    scopes: tuple[str, ...]
    filters: tuple[str, ...]

    @property
    def letter(self) -> str:
        if not self.scopes:
            return NONE
        return "A" if "all" in self.scopes else "S"

    @property
    def css(self) -> str:
        return {NONE: "none", "A": "all", "S": "some"}[self.letter]

    @property
    def summary(self) -> str:
        text = "+".join(self.scopes) or "no rows"
        return text + (f" (filters: {', '.join(self.filters)})" if self.filters else "")


@dataclass(frozen=True, slots=True)
class TypeGrid:
    name: str
    rows: tuple[RowAccess, ...] | None  # None: the type has no row scopes of its own
    fields: tuple[FieldRow, ...]


@dataclass(frozen=True, slots=True)
class ColumnRights:
    """One column's rows per scoped type and the tools it may open: the listing under
    the grid."""

    column: Column
    rows: tuple[tuple[str, RowAccess], ...]
    tools: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Grid:
    version: str
    filter: GridFilter
    roles: tuple[str, ...]
    purposes: tuple[str, ...]
    columns: tuple[Column, ...]
    groups: tuple[RoleGroup, ...]
    types: tuple[TypeGrid, ...]
    scoped_types: tuple[str, ...]
    rights: tuple[ColumnRights, ...]
    idle_roles: tuple[str, ...]  # roles that may act under no purpose (bases of others)

    @property
    def field_count(self) -> int:
        return sum(len(t.fields) for t in self.types)


def build_grid(policy: CompiledPolicy, chosen: GridFilter | None = None) -> Grid:
    chosen = chosen or GridFilter()
    pairs = [
        (role, purpose)
        for role in policy.roles
        for purpose in policy.purposes
        if purpose in policy.role_purposes.get(role, frozenset())
        and chosen.wants_column(role, purpose)
    ]
    columns = tuple(
        Column(role, purpose, i == 0 or pairs[i - 1][0] != role)
        for i, (role, purpose) in enumerate(pairs)
    )
    groups: list[RoleGroup] = []
    for column in columns:
        if groups and groups[-1].role == column.role:
            groups[-1] = RoleGroup(column.role, groups[-1].description, groups[-1].span + 1)
        else:
            groups.append(RoleGroup(column.role, policy.roles[column.role].description, 1))
    types = tuple(
        grid
        for name in _type_order(policy)
        if (grid := _type_grid(policy, name, columns, chosen)).fields
    )
    return Grid(
        version=policy.version,
        filter=chosen,
        roles=tuple(policy.roles),
        purposes=tuple(policy.purposes),
        columns=columns,
        groups=tuple(groups),
        types=types,
        scoped_types=tuple(ROW_SCOPES),
        rights=tuple(
            ColumnRights(
                column,
                tuple((t, row_access(policy, column, t)) for t in ROW_SCOPES),
                tuple(sorted(policy.grants[(column.role, column.purpose)].tools)),
            )
            for column in columns
        ),
        idle_roles=tuple(r for r in policy.roles if not policy.role_purposes.get(r)),
    )


def row_access(policy: CompiledPolicy, column: Column, type_name: str) -> RowAccess:
    grant = policy.grants[(column.role, column.purpose)]
    scopes = grant.scopes.get(type_name, ())
    return RowAccess(scopes, grant.filters.get(type_name, ()) if scopes else ())


def _type_order(policy: CompiledPolicy) -> list[str]:
    """Types with row scopes first (the register's main types), then the rest by name."""
    names = set(policy.catalogue.fields)
    return [t for t in ROW_SCOPES if t in names] + sorted(names - set(ROW_SCOPES))


def _type_grid(
    policy: CompiledPolicy, name: str, columns: tuple[Column, ...], chosen: GridFilter
) -> TypeGrid:
    catalogue = policy.catalogue
    fields: list[FieldRow] = []
    for field_name in sorted(catalogue.fields[name]):
        coordinate = f"{name}.{field_name}"
        if not chosen.wants_field(coordinate):
            continue
        cells = tuple(_cell(policy, column, coordinate) for column in columns)
        if chosen.hide_denied and all(c.access is Access.DENY and not c.write for c in cells):
            continue
        personal = coordinate in catalogue.personal_data
        fields.append(FieldRow(coordinate, field_name, personal, cells))
    rows = None
    if name in ROW_SCOPES:
        rows = tuple(row_access(policy, column, name) for column in columns)
    return TypeGrid(name, rows, tuple(fields))


def _cell(policy: CompiledPolicy, column: Column, coordinate: str) -> Cell:
    grant = policy.grants[(column.role, column.purpose)]
    return Cell(grant.fields.get(coordinate, Access.DENY), coordinate in grant.writes)
