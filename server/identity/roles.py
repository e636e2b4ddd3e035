"""Role names come from the policy files (roles.csv); code never lists them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from server.identity.errors import UnknownRole


def known_roles(policy_dir: Path) -> set[str]:
    """The first column of roles.csv, skipping comments and blank lines."""
    names: set[str] = set()
    text = (policy_dir / "roles.csv").read_text(encoding="utf-8")
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        cells = next(csv.reader(io.StringIO(stripped), skipinitialspace=True))
        if cells and cells[0].strip():
            names.add(cells[0].strip())
    return names


def validate_roles(roles: Iterable[str], known: set[str]) -> tuple[str, ...]:
    """The roles, sorted and without repeats; raise UnknownRole for any the policy lacks."""
    wanted = sorted({role.strip() for role in roles})
    if not wanted:
        raise UnknownRole("Give at least one role.")
    unknown = [role for role in wanted if role not in known]
    if unknown:
        raise UnknownRole(
            f"Unknown role(s): {', '.join(unknown)}; the policy defines: "
            f"{', '.join(sorted(known)) or 'none'}."
        )
    return tuple(wanted)
