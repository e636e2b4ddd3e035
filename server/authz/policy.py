"""Load the Casbin policy files and compile them into a decision table.

The security team edits `policies/`; code never names a role. At load the policy is
validated and compiled once: a request then looks decisions up per (role, purpose,
Type.field) in dictionaries, and never calls `enforce()` per field or per row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import casbin
from casbin.util import key_match

from server.authz.decision import Access
from server.authz.masks import MASKS
from server.authz.scopes import ROW_FILTERS, ROW_SCOPES

log = logging.getLogger(__name__)

FIELD_ACTIONS = ("read", "mask", "write", "import")
PURPOSE_OBJECT = "purpose"
# What else a `use` line can open: a tool of the service, granted per role and purpose
# like any other right (`p, ROLE, console, use, PURPOSE, allow`).
TOOL_OBJECTS = frozenset({"console"})
ANY = "*"
POLICY_FILES = ("model.conf", "policy.csv", "roles.csv", "purposes.csv", "masks.csv")


class PolicyError(ValueError):
    """The policy files are not valid; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class Rule:
    """One `p` line of policy.csv, with the line number for `policy explain`."""

    sub: str
    obj: str
    act: str
    pur: str
    eft: str
    line: int

    def matches(self, obj: str, act: str, pur: str) -> bool:
        return self.act == act and key_match(obj, self.obj) and key_match(pur, self.pur)

    def text(self) -> str:
        return f"p, {self.sub}, {self.obj}, {self.act}, {self.pur}, {self.eft}"


@dataclass(frozen=True, slots=True)
class RoleInfo:
    name: str
    default_purpose: str
    organisation_kind: str
    description: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What the schema offers to the policy: types, their fields, and personal-data fields."""

    fields: Mapping[str, frozenset[str]]
    personal_data: frozenset[str]
    string_fields: frozenset[str]

    def coordinates(self) -> list[str]:
        return sorted(f"{t}.{f}" for t, names in self.fields.items() for f in names)


@dataclass(frozen=True)
class RoleGrant:
    """Everything one role may do under one purpose, compiled."""

    fields: Mapping[str, Access]
    writes: frozenset[str]
    scopes: Mapping[str, tuple[str, ...]]
    filters: Mapping[str, tuple[str, ...]]
    tools: frozenset[str] = frozenset()
    imports: frozenset[str] = frozenset()  # coordinates files may be loaded into (importers)


@dataclass(frozen=True)
class CompiledPolicy:
    version: str
    roles: Mapping[str, RoleInfo]
    purposes: Mapping[str, str]
    masks: Mapping[str, str]
    grants: Mapping[tuple[str, str], RoleGrant]
    role_purposes: Mapping[str, frozenset[str]]
    rules: tuple[Rule, ...]
    inherited: Mapping[str, frozenset[str]]
    catalogue: Catalogue
    source_dir: Path = field(compare=False)

    def purposes_for(self, roles: Iterable[str]) -> frozenset[str]:
        allowed: set[str] = set()
        for role in roles:
            allowed |= self.role_purposes.get(role, frozenset())
        return frozenset(allowed)

    def field_access(self, roles: Iterable[str], purpose: str, coordinate: str) -> Access:
        """Roles add up: the widest access any of the principal's roles gives."""
        best = Access.DENY
        for role in roles:
            grant = self.grants.get((role, purpose))
            if grant is not None:
                best = max(best, grant.fields.get(coordinate, Access.DENY))
        return best

    def tool_purposes(self, roles: Iterable[str], tool: str) -> list[str]:
        """The purposes under which any of the roles may use `tool`, sorted."""
        wanted = set(roles)
        return sorted(
            {
                p
                for (role, p), grant in self.grants.items()
                if role in wanted and tool in grant.tools
            }
        )

    def explain(self, role: str, coordinate: str, action: str, purpose: str) -> list[Rule]:
        subjects = self.inherited.get(role, frozenset({role})) | {ANY}
        return [
            r for r in self.rules if r.sub in subjects and r.matches(coordinate, action, purpose)
        ]


def policy_version(directory: Path) -> str:
    """A hash over every policy file (and the tests), so each decision names its policy."""
    digest = hashlib.sha256()
    for path in sorted(_policy_paths(directory)):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _policy_paths(directory: Path) -> list[Path]:
    paths = [directory / name for name in POLICY_FILES if (directory / name).exists()]
    tests = directory / "tests"
    if tests.is_dir():
        paths.extend(sorted(tests.glob("*.csv")))
    return paths


def _read_table(path: Path, columns: int) -> list[tuple[int, list[str]]]:
    """Rows of a comma-separated file, skipping comments and blank lines."""
    rows: list[tuple[int, list[str]]] = []
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        cells = [c.strip() for c in next(csv.reader(io.StringIO(stripped), skipinitialspace=True))]
        if len(cells) != columns:
            raise PolicyError(
                [f"{path.name}:{number}: expected {columns} columns, got {len(cells)}"]
            )
        rows.append((number, cells))
    return rows


def _load_enforcer(directory: Path) -> casbin.Enforcer:
    return casbin.Enforcer(str(directory / "model.conf"), str(directory / "policy.csv"))


def load_policy(directory: Path, catalogue: Catalogue) -> CompiledPolicy:
    """Read, validate and compile the policy; raise PolicyError listing every problem.

    The expected decisions in tests/ are checked by `load_tested_policy`
    (server/authz/policy_tests.py), which the service and `policy test` use."""
    version = policy_version(directory)
    problems: list[str] = []
    for name in POLICY_FILES:
        if not (directory / name).exists():
            problems.append(f"{name}: missing")
    if problems:
        raise PolicyError(problems)

    roles = {
        cells[0]: RoleInfo(cells[0], cells[1], cells[2], cells[3])
        for _, cells in _read_table(directory / "roles.csv", 4)
    }
    purposes = {cells[0]: cells[1] for _, cells in _read_table(directory / "purposes.csv", 2)}
    masks = {cells[0]: cells[1] for _, cells in _read_table(directory / "masks.csv", 2)}
    rules, links = _read_policy_lines(directory / "policy.csv", problems)

    try:
        enforcer = _load_enforcer(directory)
    except Exception as exc:  # casbin raises assorted errors on malformed files
        raise PolicyError(
            [f"casbin could not load the policy: {type(exc).__name__}: {exc}"]
        ) from exc

    _validate(rules, links, roles, purposes, masks, catalogue, problems)
    if problems:
        raise PolicyError(problems)

    inherited = {
        role: frozenset({role, *enforcer.get_implicit_roles_for_user(role)}) for role in roles
    }
    grants, role_purposes = _compile(rules, roles, purposes, catalogue, inherited)
    _check_masks_declared(grants, masks, catalogue, problems)
    if problems:
        raise PolicyError(problems)

    return CompiledPolicy(
        version=version,
        roles=roles,
        purposes=purposes,
        masks=masks,
        grants=grants,
        role_purposes=role_purposes,
        rules=tuple(rules),
        inherited=inherited,
        catalogue=catalogue,
        source_dir=directory,
    )


def _read_policy_lines(path: Path, problems: list[str]) -> tuple[list[Rule], list[tuple[str, str]]]:
    rules: list[Rule] = []
    links: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        cells = [c.strip() for c in stripped.split(",")]
        if cells[0] == "p" and len(cells) == 6:
            rules.append(Rule(cells[1], cells[2], cells[3], cells[4], cells[5], number))
        elif cells[0] == "g" and len(cells) == 3:
            links.append((cells[1], cells[2]))
        else:
            problems.append(f"policy.csv:{number}: not a valid p (6 fields) or g (3 fields) line")
    return rules, links


def _known_object(obj: str, catalogue: Catalogue) -> bool:
    if obj == ANY:
        return True
    type_name, _, field_name = obj.partition(".")
    if type_name not in catalogue.fields:
        return False
    return field_name == ANY or field_name in catalogue.fields[type_name]


def _validate(
    rules: list[Rule],
    links: list[tuple[str, str]],
    roles: Mapping[str, RoleInfo],
    purposes: Mapping[str, str],
    masks: Mapping[str, str],
    catalogue: Catalogue,
    problems: list[str],
) -> None:
    for role in roles.values():
        if role.default_purpose not in purposes:
            problems.append(f"roles.csv: role {role.name} has unknown default purpose")
    for child, parent in links:
        for name in (child, parent):
            if name not in roles:
                problems.append(f"policy.csv: g line names unknown role {name!r}")
    for rule in rules:
        where = f"policy.csv:{rule.line}"
        if rule.sub != ANY and rule.sub not in roles:
            problems.append(f"{where}: unknown role {rule.sub!r}")
        if rule.pur != ANY and rule.pur not in purposes:
            problems.append(f"{where}: unknown purpose {rule.pur!r}")
        if rule.eft not in ("allow", "deny"):
            problems.append(f"{where}: effect must be allow or deny")
        _validate_action(rule, catalogue, where, problems)
    for coordinate, mask in masks.items():
        if not _known_object(coordinate, catalogue) or "*" in coordinate:
            problems.append(f"masks.csv: unknown coordinate {coordinate!r}")
        elif coordinate not in catalogue.string_fields:
            problems.append(f"masks.csv: {coordinate} is not a text field and cannot be masked")
        if mask not in MASKS:
            problems.append(f"masks.csv: unknown mask {mask!r} (known: {', '.join(sorted(MASKS))})")


def _validate_action(rule: Rule, catalogue: Catalogue, where: str, problems: list[str]) -> None:
    act = rule.act
    if act in FIELD_ACTIONS:
        if not _known_object(rule.obj, catalogue):
            problems.append(f"{where}: unknown coordinate {rule.obj!r}")
    elif act == "use":
        if rule.obj != PURPOSE_OBJECT and rule.obj not in TOOL_OBJECTS:
            tools = ", ".join(sorted(TOOL_OBJECTS))
            problems.append(f"{where}: a use line must have object 'purpose' or a tool ({tools})")
    elif act.startswith("rows:") or act.startswith("filter:"):
        kind, _, name = act.partition(":")
        registry = ROW_SCOPES if kind == "rows" else ROW_FILTERS
        if rule.obj not in registry:
            problems.append(f"{where}: type {rule.obj!r} has no row {kind}s")
        elif name not in registry[rule.obj]:
            known = ", ".join(sorted(registry[rule.obj]))
            problems.append(f"{where}: unknown {kind} {name!r} for {rule.obj} (known: {known})")
    else:
        problems.append(f"{where}: unknown action {act!r}")


def _decide(rules: list[Rule], obj: str, act: str, pur: str) -> bool:
    """Casbin's effect `some(allow) && !some(deny)` over rules already narrowed to a role."""
    allowed = False
    for rule in rules:
        if rule.matches(obj, act, pur):
            if rule.eft == "deny":
                return False
            allowed = True
    return allowed


def _compile(
    rules: list[Rule],
    roles: Mapping[str, RoleInfo],
    purposes: Mapping[str, str],
    catalogue: Catalogue,
    inherited: Mapping[str, frozenset[str]],
) -> tuple[dict[tuple[str, str], RoleGrant], dict[str, frozenset[str]]]:
    grants: dict[tuple[str, str], RoleGrant] = {}
    role_purposes: dict[str, frozenset[str]] = {}
    coordinates = catalogue.coordinates()
    for role in roles:
        subjects = inherited[role] | {ANY}
        own = [r for r in rules if r.sub in subjects]
        usable = frozenset(p for p in purposes if _decide(own, PURPOSE_OBJECT, "use", p))
        role_purposes[role] = usable
        for purpose in usable:
            relevant = [r for r in own if key_match(purpose, r.pur)]
            fields: dict[str, Access] = {}
            writes: set[str] = set()
            imports: set[str] = set()
            importing = [r for r in relevant if r.act == "import"]
            for coordinate in coordinates:
                if _decide(relevant, coordinate, "read", purpose):
                    fields[coordinate] = Access.READ
                elif _decide(relevant, coordinate, "mask", purpose):
                    fields[coordinate] = Access.MASK
                if _decide(relevant, coordinate, "write", purpose):
                    writes.add(coordinate)
                if importing and _decide(importing, coordinate, "import", purpose):
                    imports.add(coordinate)
            scopes = _named_grants(relevant, ROW_SCOPES, "rows", purpose)
            filters = _named_grants(relevant, ROW_FILTERS, "filter", purpose)
            tools = frozenset(t for t in TOOL_OBJECTS if _decide(relevant, t, "use", purpose))
            grants[(role, purpose)] = RoleGrant(
                fields, frozenset(writes), scopes, filters, tools, frozenset(imports)
            )
    return grants, role_purposes


def _named_grants(
    rules: list[Rule], registry: Mapping[str, Mapping[str, object]], kind: str, purpose: str
) -> dict[str, tuple[str, ...]]:
    granted: dict[str, tuple[str, ...]] = {}
    for type_name, names in registry.items():
        chosen = tuple(
            name for name in sorted(names) if _decide(rules, type_name, f"{kind}:{name}", purpose)
        )
        if chosen:
            granted[type_name] = chosen
    return granted


def _check_masks_declared(
    grants: Mapping[tuple[str, str], RoleGrant],
    masks: Mapping[str, str],
    catalogue: Catalogue,
    problems: list[str],
) -> None:
    missing = sorted(
        {
            coordinate
            for grant in grants.values()
            for coordinate, access in grant.fields.items()
            if access is Access.MASK and coordinate not in masks
        }
    )
    for coordinate in missing:
        problems.append(f"{coordinate} is granted as masked but masks.csv declares no mask for it")
