"""Why a role gets what it gets: the decision on one field and the policy lines behind it.

Shared by `rekisteri policy explain` and the security console's explain page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from server.authz.decision import Access
from server.authz.policy import FIELD_ACTIONS, CompiledPolicy, Rule


@dataclass(frozen=True, slots=True)
class ActionLines:
    """The lines of one action (read, mask or write) that match, and what they add up to."""

    action: str
    rules: tuple[Rule, ...]

    @property
    def allowed(self) -> bool:
        """Casbin's effect: some line allows and none denies."""
        return any(r.eft == "allow" for r in self.rules) and not self.denied

    @property
    def denied(self) -> bool:
        return any(r.eft == "deny" for r in self.rules)

    @property
    def verdict(self) -> str:
        if self.denied:
            return "refused by a deny line (deny beats allow)"
        if self.allowed:
            return "allowed"
        return "no line allows it (denied by default)"


@dataclass(frozen=True, slots=True)
class Explanation:
    """One role, purpose and coordinate: the decision, the write right and their lines."""

    role: str
    purpose: str
    coordinate: str
    usable: bool
    access: Access
    writable: bool
    actions: tuple[ActionLines, ...]

    @property
    def rules(self) -> list[Rule]:
        return [rule for lines in self.actions for rule in lines.rules]


def explain(
    policy: CompiledPolicy, role: str, coordinate: str, purposes: Iterable[str] | None = None
) -> list[Explanation]:
    """The explanation per purpose (every purpose of the policy unless `purposes` names some)."""
    chosen = sorted(policy.purposes) if purposes is None else list(purposes)
    return [_one(policy, role, coordinate, purpose) for purpose in chosen]


def _one(policy: CompiledPolicy, role: str, coordinate: str, purpose: str) -> Explanation:
    usable = purpose in policy.role_purposes.get(role, frozenset())
    if not usable:
        return Explanation(role, purpose, coordinate, False, Access.DENY, False, ())
    grant = policy.grants[(role, purpose)]
    actions = tuple(
        ActionLines(action, tuple(policy.explain(role, coordinate, action, purpose)))
        for action in FIELD_ACTIONS
    )
    return Explanation(
        role,
        purpose,
        coordinate,
        True,
        grant.fields.get(coordinate, Access.DENY),
        coordinate in grant.writes,
        actions,
    )
