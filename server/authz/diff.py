"""Two policies side by side: the matrix as data, what each role gains and loses, and the
policy files of a git revision. Used by `rekisteri policy matrix|diff` and the console."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from server.authz.decision import Access
from server.authz.policy import POLICY_FILES, CompiledPolicy

RANK = {"deny": 0, "mask": 1, "read": 2}
# A git revision as the tools accept it: a name, a hash, HEAD~2, main^, v1.0, @{1}; never
# something git would read as an option.
REVISION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.~^@{}/-]{0,99}")
GIT_TIMEOUT_SECONDS = 10


class RevisionError(ValueError):
    """The revision is not a valid name, or git cannot show the policy files at it."""


def matrix(policy: CompiledPolicy) -> dict[str, Any]:
    result: dict[str, Any] = {"version": policy.version, "roles": {}}
    coordinates = policy.catalogue.coordinates()
    for role in sorted(policy.roles):
        per_purpose: dict[str, Any] = {}
        for purpose in sorted(policy.role_purposes.get(role, frozenset())):
            grant = policy.grants[(role, purpose)]
            per_purpose[purpose] = {
                "fields": {c: grant.fields.get(c, Access.DENY).label for c in coordinates},
                "writes": sorted(grant.writes),
                "imports": sorted(grant.imports),
                "rowScopes": {t: list(s) for t, s in grant.scopes.items()},
                "rowFilters": {t: list(f) for t, f in grant.filters.items()},
                "tools": sorted(grant.tools),
            }
        result["roles"][role] = per_purpose
    return result


def diff(old: CompiledPolicy, new: CompiledPolicy) -> list[str]:
    """What each role gains (+) and loses (-) from `old` to `new`."""
    lines: list[str] = []
    old_m, new_m = matrix(old)["roles"], matrix(new)["roles"]
    for role in sorted(set(old_m) | set(new_m)):
        before, after = old_m.get(role, {}), new_m.get(role, {})
        lines += [f"- {role}: may no longer act for {p}" for p in sorted(set(before) - set(after))]
        lines += [f"+ {role}: may now act for {p}" for p in sorted(set(after) - set(before))]
        for purpose in sorted(set(before) & set(after)):
            lines += _grant_changes(f"{role}/{purpose}", before[purpose], after[purpose])
    return lines


def _grant_changes(label: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for coordinate in sorted(set(before["fields"]) | set(after["fields"])):
        was = before["fields"].get(coordinate, "deny")
        now = after["fields"].get(coordinate, "deny")
        if was != now:
            sign = "+" if RANK[now] > RANK[was] else "-"
            lines.append(f"{sign} {label}: {coordinate} {was} -> {now}")
    lines += _set_changes(label, before["writes"], after["writes"], "may write {}", gain=True)
    lines += _set_changes(
        label, before["imports"], after["imports"], "may import files into {}", gain=True
    )
    lines += _set_changes(label, before["tools"], after["tools"], "may use the {}", gain=True)
    for type_name in sorted(set(before["rowScopes"]) | set(after["rowScopes"])):
        scopes = (before["rowScopes"].get(type_name, []), after["rowScopes"].get(type_name, []))
        lines += _set_changes(label, *scopes, f"{type_name} rows of scope {{}}", gain=True)
    for type_name in sorted(set(before["rowFilters"]) | set(after["rowFilters"])):
        filters = (before["rowFilters"].get(type_name, []), after["rowFilters"].get(type_name, []))
        lines += _set_changes(label, *filters, f"{type_name} rows filtered by {{}}", gain=False)
    return lines


def _set_changes(
    label: str, before: list[str], after: list[str], what: str, *, gain: bool
) -> list[str]:
    """Names added to or removed from a set; an added name is a gain when `gain`, else a
    loss (a filter added takes rows away)."""
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    plus, minus = ("+", "-") if gain else ("-", "+")
    return [f"{plus} {label}: now {what.format(name)}" for name in added] + [
        f"{minus} {label}: no longer {what.format(name)}" for name in removed
    ]


def _git(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 - git with fixed options and a checked revision
        ["git", *arguments],  # noqa: S607
        cwd=cwd,
        capture_output=True,
        timeout=GIT_TIMEOUT_SECONDS,
        check=False,
    )


def policy_at_revision(revision: str, policy_dir: Path, target: Path) -> None:
    """Write the policy files as they are at a git revision into `target`."""
    if not REVISION.fullmatch(revision) or ".." in revision:
        raise RevisionError(f"not a revision name: {revision!r}")
    top = _git(["rev-parse", "--show-toplevel"], policy_dir)
    if top.returncode != 0:
        raise RevisionError("the policy folder is not in a git checkout")
    root = Path(top.stdout.decode().strip())
    relative = policy_dir.resolve().relative_to(root.resolve())
    if _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], root).returncode:
        raise RevisionError(f"git knows no revision {revision!r}")
    listing = _git(["ls-tree", "--name-only", f"{revision}:{relative.as_posix()}/tests"], root)
    (target / "tests").mkdir()
    names = list(POLICY_FILES)
    names += [f"tests/{n}" for n in listing.stdout.decode().split() if n.endswith(".csv")]
    for name in names:
        shown = _git(["show", f"{revision}:{(relative / name).as_posix()}"], root)
        if shown.returncode == 0:
            (target / name).write_bytes(shown.stdout)
