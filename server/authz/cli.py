"""`rekisteri policy ...`: the security team's tools."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from server.authz.decision import Access
from server.authz.policy import POLICY_FILES, CompiledPolicy, PolicyError, load_policy
from server.settings import Settings


def _load(
    settings: Settings, *, run_tests: bool = True, cross_check: bool = False
) -> CompiledPolicy:
    from server.schema import catalogue

    return load_policy(
        settings.policy_dir, catalogue(), run_tests=run_tests, cross_check=cross_check
    )


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from server.authz.lint import personal_data_without_explicit_rule

    try:
        policy = _load(settings, run_tests=False)
    except PolicyError as exc:
        for problem in exc.problems:
            print(f"error: {problem}")
        return 1
    problems = personal_data_without_explicit_rule(policy)
    for problem in problems:
        print(f"error: {problem}")
    if problems:
        return 1
    print(f"policy {policy.version} is valid: {len(policy.roles)} roles, {len(policy.rules)} rules")
    return 0


def cmd_test(args: argparse.Namespace, settings: Settings) -> int:
    try:
        policy = _load(settings, cross_check=True)
    except PolicyError as exc:
        for problem in exc.problems:
            print(f"FAIL {problem}")
        return 1
    tests = sorted((settings.policy_dir / "tests").glob("*.csv"))
    rows = sum(
        1
        for path in tests
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    )
    print(f"policy {policy.version}: {rows} expected decisions hold")
    return 0


def cmd_explain(args: argparse.Namespace, settings: Settings) -> int:
    policy = _load(settings, run_tests=False)
    purposes = [args.purpose] if args.purpose else sorted(policy.purposes)
    for purpose in purposes:
        usable = purpose in policy.role_purposes.get(args.role, frozenset())
        access = (
            policy.field_access([args.role], purpose, args.coordinate) if usable else Access.DENY
        )
        print(f"{args.role} / {purpose} / {args.coordinate}: {access.label}")
        if not usable:
            print(f"  the role may not act under purpose {purpose}")
            continue
        for action in ("read", "mask", "write"):
            for rule in policy.explain(args.role, args.coordinate, action, purpose):
                print(f"  policy.csv:{rule.line}: {rule.text()}")
    return 0


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
                "rowScopes": {t: list(s) for t, s in grant.scopes.items()},
                "rowFilters": {t: list(f) for t, f in grant.filters.items()},
            }
        result["roles"][role] = per_purpose
    return result


def _markdown(data: dict[str, Any]) -> str:
    lines = [f"# Policy matrix (version {data['version']})", ""]
    for role, purposes in data["roles"].items():
        for purpose, grant in purposes.items():
            lines.append(f"## {role} / {purpose}")
            scopes = ", ".join(f"{t}: {'+'.join(s)}" for t, s in grant["rowScopes"].items())
            filters = ", ".join(f"{t}: {'+'.join(f)}" for t, f in grant["rowFilters"].items())
            lines.append(f"Rows: {scopes or 'none'}. Filters: {filters or 'none'}.")
            lines.append("")
            lines.append("| field | decision | write |")
            lines.append("|---|---|---|")
            for coordinate, label in grant["fields"].items():
                write = "yes" if coordinate in grant["writes"] else ""
                if label != "deny" or write:
                    lines.append(f"| {coordinate} | {label} | {write} |")
            lines.append("")
    return "\n".join(lines)


def _html(data: dict[str, Any]) -> str:
    import html

    rows = []
    for role, purposes in data["roles"].items():
        for purpose, grant in purposes.items():
            for coordinate, label in grant["fields"].items():
                rows.append(
                    f"<tr><td>{html.escape(role)}</td><td>{html.escape(purpose)}</td>"
                    f"<td>{html.escape(coordinate)}</td><td class='{label}'>{label}</td></tr>"
                )
    return (
        "<!doctype html><meta charset='utf-8'><title>Policy matrix</title>"
        "<style>.read{background:#cfc}.mask{background:#ffc}.deny{background:#fcc}</style>"
        f"<h1>Policy matrix {html.escape(data['version'])}</h1><table>"
        "<tr><th>role</th><th>purpose</th><th>field</th><th>decision</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def cmd_matrix(args: argparse.Namespace, settings: Settings) -> int:
    data = matrix(_load(settings, run_tests=False))
    if args.format == "json":
        print(json.dumps(data, indent=2, sort_keys=True))
    elif args.format == "html":
        print(_html(data))
    else:
        print(_markdown(data))
    return 0


def _policy_at_revision(revision: str, policy_dir: Path, target: Path) -> None:
    root = Path(
        subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],  # noqa: S607
            cwd=policy_dir,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    relative = policy_dir.resolve().relative_to(root)
    names = list(POLICY_FILES)
    listing = subprocess.run(  # noqa: S603
        ["git", "ls-tree", "--name-only", f"{revision}:{relative.as_posix()}/tests"],  # noqa: S607
        cwd=root,
        capture_output=True,
        text=True,
    )
    (target / "tests").mkdir()
    names += [f"tests/{n}" for n in listing.stdout.split() if n.endswith(".csv")]
    for name in names:
        shown = subprocess.run(  # noqa: S603
            ["git", "show", f"{revision}:{(relative / name).as_posix()}"],  # noqa: S607
            cwd=root,
            capture_output=True,
        )
        if shown.returncode == 0:
            (target / name).write_bytes(shown.stdout)


def diff(old: CompiledPolicy, new: CompiledPolicy) -> list[str]:
    """What each role gains (+) and loses (-) from `old` to `new`."""
    lines: list[str] = []
    old_m, new_m = matrix(old)["roles"], matrix(new)["roles"]
    for role in sorted(set(old_m) | set(new_m)):
        before, after = old_m.get(role, {}), new_m.get(role, {})
        for purpose in sorted(set(before) - set(after)):
            lines.append(f"- {role}: may no longer act for {purpose}")
        for purpose in sorted(set(after) - set(before)):
            lines.append(f"+ {role}: may now act for {purpose}")
        for purpose in sorted(set(before) & set(after)):
            b, a = before[purpose], after[purpose]
            for coordinate in sorted(set(b["fields"]) | set(a["fields"])):
                was, now = b["fields"].get(coordinate, "deny"), a["fields"].get(coordinate, "deny")
                if was != now:
                    rank = {"deny": 0, "mask": 1, "read": 2}
                    sign = "+" if rank[now] > rank[was] else "-"
                    lines.append(f"{sign} {role}/{purpose}: {coordinate} {was} -> {now}")
            for key in ("rowScopes", "rowFilters"):
                if b[key] != a[key]:
                    lines.append(f"~ {role}/{purpose}: {key} {b[key]} -> {a[key]}")
    return lines


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    from server.schema import catalogue

    with tempfile.TemporaryDirectory() as tmp:
        _policy_at_revision(args.revision, settings.policy_dir, Path(tmp))
        try:
            old = load_policy(Path(tmp), catalogue(), run_tests=False)
        except PolicyError as exc:
            print(f"the policy at {args.revision} does not load: {exc}", file=sys.stderr)
            return 1
    new = _load(settings, run_tests=False)
    changes = diff(old, new)
    print(f"policy {old.version} ({args.revision}) -> {new.version} (working tree)")
    print("\n".join(changes) if changes else "no change in any role's access")
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    policy = commands.add_parser("policy", help="policy tools for the security team")
    sub = policy.add_subparsers(dest="policy_command", required=True)
    sub.add_parser("check", help="lint the policy files").set_defaults(func=cmd_check)
    sub.add_parser("test", help="run policies/tests").set_defaults(func=cmd_test)
    explain = sub.add_parser("explain", help="a decision and the lines that made it")
    explain.add_argument("role")
    explain.add_argument("coordinate")
    explain.add_argument("--purpose")
    explain.set_defaults(func=cmd_explain)
    matrix_parser = sub.add_parser("matrix", help="role x purpose x field")
    matrix_parser.add_argument("--format", choices=["md", "html", "json"], default="md")
    matrix_parser.set_defaults(func=cmd_matrix)
    diff_parser = sub.add_parser("diff", help="gains and losses against a git revision")
    diff_parser.add_argument("revision")
    diff_parser.set_defaults(func=cmd_diff)
