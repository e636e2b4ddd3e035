"""`rekisteri policy ...`: the security team's tools."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from server.authz.diff import RevisionError, diff, matrix, policy_at_revision
from server.authz.policy import CompiledPolicy, PolicyError, load_policy
from server.settings import Settings


def _load(settings: Settings) -> CompiledPolicy:
    from server.schema import catalogue

    return load_policy(settings.policy_dir, catalogue())


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from server.authz.lint import personal_data_without_explicit_rule

    try:
        policy = _load(settings)
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
    from server.authz.policy_tests import load_tested_policy
    from server.schema import catalogue

    try:
        policy = load_tested_policy(settings.policy_dir, catalogue(), cross_check=True)
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
    from server.authz.explain import explain

    policy = _load(settings)
    purposes = [args.purpose] if args.purpose else None
    for item in explain(policy, args.role, args.coordinate, purposes):
        print(f"{item.role} / {item.purpose} / {item.coordinate}: {item.access.label}")
        if not item.usable:
            print(f"  the role may not act under purpose {item.purpose}")
            continue
        for rule in item.rules:
            print(f"  policy.csv:{rule.line}: {rule.text()}")
    return 0


def _markdown(data: dict[str, Any]) -> str:
    lines = [f"# Policy matrix (version {data['version']})", ""]
    for role, purposes in data["roles"].items():
        for purpose, grant in purposes.items():
            lines.append(f"## {role} / {purpose}")
            scopes = ", ".join(f"{t}: {'+'.join(s)}" for t, s in grant["rowScopes"].items())
            filters = ", ".join(f"{t}: {'+'.join(f)}" for t, f in grant["rowFilters"].items())
            lines.append(f"Rows: {scopes or 'none'}. Filters: {filters or 'none'}.")
            lines.append("")
            lines.append("| field | decision | write | import |")
            lines.append("|---|---|---|---|")
            for coordinate, label in grant["fields"].items():
                write = "yes" if coordinate in grant["writes"] else ""
                loads = "yes" if coordinate in grant["imports"] else ""
                if label != "deny" or write or loads:
                    lines.append(f"| {coordinate} | {label} | {write} | {loads} |")
            lines.append("")
    return "\n".join(lines)


def cmd_matrix(args: argparse.Namespace, settings: Settings) -> int:
    policy = _load(settings)
    if args.format == "html":
        from server.console.render import standalone_matrix

        print(standalone_matrix(policy))
    elif args.format == "json":
        print(json.dumps(matrix(policy), indent=2, sort_keys=True))
    else:
        print(_markdown(matrix(policy)))
    return 0


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    from server.schema import catalogue

    with tempfile.TemporaryDirectory() as tmp:
        try:
            policy_at_revision(args.revision, settings.policy_dir, Path(tmp))
            old = load_policy(Path(tmp), catalogue())
        except (RevisionError, PolicyError) as exc:
            print(f"the policy at {args.revision} does not load: {exc}", file=sys.stderr)
            return 1
    new = _load(settings)
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
    matrix_parser = sub.add_parser(
        "matrix", help="role x purpose x field (html: the console's grid, as one file)"
    )
    matrix_parser.add_argument("--format", choices=["md", "html", "json"], default="md")
    matrix_parser.set_defaults(func=cmd_matrix)
    diff_parser = sub.add_parser("diff", help="gains and losses against a git revision")
    diff_parser.add_argument("revision")
    diff_parser.set_defaults(func=cmd_diff)
