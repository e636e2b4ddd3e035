"""Casbin's own answer, fast enough to ask for every role, purpose and field.

A rule can only match a request whose role is linked to the rule's subject (or a `*`
rule), so an enforcer holding just one role's lines, its ancestors' lines, the `*` lines
and the `g` lines gives exactly the answer of the full enforcer, at a fraction of the cost
(enforce() evaluates the matcher once per rule).
"""

from __future__ import annotations

from pathlib import Path

import casbin

from server.authz.decision import Access


class CasbinOracle:
    def __init__(self, directory: Path) -> None:
        self._model = str(directory / "model.conf")
        self._full = casbin.Enforcer(self._model, str(directory / "policy.csv"))
        self._per_role: dict[str, casbin.Enforcer] = {}

    def _enforcer(self, role: str) -> casbin.Enforcer:
        enforcer = self._per_role.get(role)
        if enforcer is None:
            subjects = {role, "*", *self._full.get_implicit_roles_for_user(role)}
            enforcer = casbin.Enforcer(self._model)
            rules = [rule for rule in self._full.get_policy() if rule[0] in subjects]
            if rules:
                enforcer.add_policies(rules)
            links = self._full.get_grouping_policy()
            if links:
                enforcer.add_grouping_policies(links)
            self._per_role[role] = enforcer
        return enforcer

    def enforce(self, role: str, obj: str, act: str, purpose: str) -> bool:
        return bool(self._enforcer(role).enforce(role, obj, act, purpose))

    def access(self, role: str, coordinate: str, purpose: str) -> Access:
        if self.enforce(role, coordinate, "read", purpose):
            return Access.READ
        if self.enforce(role, coordinate, "mask", purpose):
            return Access.MASK
        return Access.DENY
