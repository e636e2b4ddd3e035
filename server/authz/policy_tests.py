"""The security team's table of expected decisions (`policies/tests/*.csv`).

Each row: role, purpose, coordinate (or type), expected. Expected is one of read, mask,
deny, write, no_write, import, no_import, use, no_use (on `purpose`, or on a tool such as
`console`), or rows:<scope>[+<scope>...] / rows:none for a type.
Each row is checked against the compiled table, and with `cross_check` also against
Casbin's own enforce().
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Protocol

from server.authz.decision import Access
from server.authz.oracle import CasbinOracle
from server.authz.policy import Catalogue, CompiledPolicy, PolicyError, load_policy


def load_tested_policy(
    directory: Path, catalogue: Catalogue, *, cross_check: bool = False
) -> CompiledPolicy:
    """`load_policy`, then every expected decision in tests/ must hold; `cross_check` also
    asks Casbin itself (slower: `policy test` and the test suite do)."""
    policy = load_policy(directory, catalogue)
    failures = run_policy_tests(policy, CasbinOracle(directory) if cross_check else None)
    if failures:
        raise PolicyError([f"policy test failed: {f}" for f in failures])
    return policy


class Enforcer(Protocol):
    """What an expected decision is checked against: Casbin (CasbinOracle) or the table."""

    def enforce(self, role: str, obj: str, act: str, purpose: str) -> bool: ...

    def access(self, role: str, coordinate: str, purpose: str) -> Access: ...


class _CompiledOnly:
    """Stands in for Casbin when only the compiled table is checked (at every reload)."""

    def __init__(self, policy: CompiledPolicy) -> None:
        self.policy = policy

    def enforce(self, role: str, obj: str, act: str, purpose: str) -> bool:
        grant = self.policy.grants.get((role, purpose))
        if act == "use":
            return _may_use(self.policy, role, obj, purpose)
        if act == "write":
            return grant is not None and obj in grant.writes
        if act == "import":
            return grant is not None and obj in grant.imports
        wanted = Access.READ if act == "read" else Access.MASK
        return self.policy.field_access([role], purpose, obj) >= wanted

    def access(self, role: str, coordinate: str, purpose: str) -> Access:
        return self.policy.field_access([role], purpose, coordinate)


def _may_use(policy: CompiledPolicy, role: str, target: str, purpose: str) -> bool:
    """`use` of a purpose (act under it) or of a tool (open it under the purpose)."""
    if target == "purpose":
        return purpose in policy.role_purposes.get(role, frozenset())
    grant = policy.grants.get((role, purpose))
    return grant is not None and target in grant.tools


def check_row(policy: CompiledPolicy, enforcer: Enforcer, cells: list[str]) -> str | None:
    """None when the row holds, else a one-line explanation.

    `enforcer` is a `CasbinOracle` (cross-check against Casbin) or the compiled table."""
    role, purpose, target, expected = cells
    label = f"{role} / {purpose} / {target}: expected {expected}"
    if role not in policy.roles:
        return f"{label}, but the role is unknown"
    if expected in ("use", "no_use"):
        got = _may_use(policy, role, target, purpose)
        usable = enforcer.enforce(role, target, "use", purpose)
        want = expected == "use"
        return None if got == want == usable else f"{label}, got {got} (casbin {usable})"
    grant = policy.grants.get((role, purpose))
    if expected.startswith("rows:"):
        wanted = expected.removeprefix("rows:")
        scopes = grant.scopes.get(target, ()) if grant else ()
        got_rows = "+".join(scopes) or "none"
        return None if got_rows == wanted else f"{label}, got rows:{got_rows}"
    if expected in ("write", "no_write", "import", "no_import"):
        action = expected.removeprefix("no_")
        granted = {"write": grant.writes, "import": grant.imports} if grant else {}
        got = target in granted.get(action, frozenset())
        casbin = enforcer.enforce(role, target, action, purpose)
        if got == (expected == action) == casbin:
            return None
        return f"{label}, got {got} (casbin {casbin})"
    compiled = policy.field_access([role], purpose, target)
    enforced = enforcer.access(role, target, purpose)
    if purpose not in policy.role_purposes.get(role, frozenset()):
        enforced = Access.DENY
    if compiled.label == expected == enforced.label:
        return None
    return f"{label}, got {compiled.label} (casbin {enforced.label})"


def run_policy_tests(policy: CompiledPolicy, enforcer: Enforcer | None = None) -> list[str]:
    """Check every expected decision; with `enforcer` (a CasbinOracle) also against Casbin."""
    failures: list[str] = []
    if enforcer is None:
        enforcer = _CompiledOnly(policy)
    tests_dir = policy.source_dir / "tests"
    if not tests_dir.is_dir():
        return failures
    for path in sorted(tests_dir.glob("*.csv")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            cells = [c.strip() for c in next(csv.reader(io.StringIO(stripped)))]
            if len(cells) != 4:
                failures.append(f"{path.name}:{number}: expected 4 columns")
                continue
            problem = check_row(policy, enforcer, cells)
            if problem:
                failures.append(f"{path.name}:{number}: {problem}")
    return failures
