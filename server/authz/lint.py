"""`policy check`: problems beyond what loading refuses (explicit rules for personal data)."""

from __future__ import annotations

from server.authz.policy import CompiledPolicy


def personal_data_without_explicit_rule(policy: CompiledPolicy) -> list[str]:
    """Every personal-data coordinate needs a line naming it exactly, for every role
    (on the role itself or a role it inherits); wildcards do not count."""
    problems: list[str] = []
    for coordinate in sorted(policy.catalogue.personal_data):
        for role in sorted(policy.roles):
            subjects = policy.inherited.get(role, frozenset({role}))
            explicit = any(
                rule.obj == coordinate and rule.sub in subjects and rule.act in ("read", "mask")
                for rule in policy.rules
            )
            if not explicit and policy.role_purposes.get(role):
                problems.append(f"{coordinate}: no explicit rule for role {role}")
    return problems
