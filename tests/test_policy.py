"""The policy files: compile, lint, explain, diff, and hot reload that never widens access."""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import casbin
import pytest

from server.authz.decision import Access
from server.authz.diff import diff
from server.authz.lint import personal_data_without_explicit_rule
from server.authz.masks import MASKS
from server.authz.oracle import CasbinOracle
from server.authz.policy import CompiledPolicy, PolicyError, load_policy
from server.authz.policy_tests import load_tested_policy
from server.authz.store import PolicyStore
from server.schema import catalogue
from server.settings import PROJECT_ROOT

POLICY_DIR = PROJECT_ROOT / "policies"

# role, purpose, coordinate, expected
DECISIONS = [
    ("customer_service", "customer_relationship", "Customer.personalIdentityCode", Access.MASK),
    ("customer_service", "customer_relationship", "Customer.email", Access.READ),
    ("billing", "billing", "Customer.personalIdentityCode", Access.READ),
    ("collection_agency", "billing", "Customer.personalIdentityCode", Access.READ),
    ("collection_agency", "billing", "Site.meteringPointId", Access.DENY),
    ("field_service", "delivery", "Customer.personalIdentityCode", Access.DENY),
    ("field_service", "delivery", "Customer.invoices", Access.DENY),
    ("field_service", "delivery", "Site.mainFuse", Access.READ),
    ("marketing", "marketing", "Customer.personalIdentityCode", Access.DENY),
    ("marketing", "marketing", "Customer.invoices", Access.DENY),
    ("business_analyst", "business_development", "Customer.lastName", Access.DENY),
    ("business_analyst", "business_development", "Customer.postalCode", Access.MASK),
    ("auditor", "oversight", "Customer.email", Access.DENY),
    ("administrator", "marketing", "Customer.personalIdentityCode", Access.READ),
]

MASK_EXAMPLES = [
    ("identity_code", "131052-308T", "131052-****"),
    ("email", "matti.meikalainen@example.fi", "m***@example.fi"),
    ("phone", "+358447355230", "**********230"),
    ("initial", "Virtanen", "V."),
    ("street", "Kauppakatu 12 B 4", "Kauppakatu"),
    ("postal_area", "34800", "348**"),
    ("last4", "643007127000012344", "**************2344"),
]


@pytest.fixture(scope="module")
def policy() -> CompiledPolicy:
    return load_policy(POLICY_DIR, catalogue())


@pytest.fixture(scope="module")
def enforcer() -> casbin.Enforcer:
    return casbin.Enforcer(str(POLICY_DIR / "model.conf"), str(POLICY_DIR / "policy.csv"))


@pytest.fixture(scope="module")
def oracle() -> CasbinOracle:
    return CasbinOracle(POLICY_DIR)


@pytest.mark.parametrize(("role", "purpose", "coordinate", "expected"), DECISIONS)
def test_decision_table(
    policy: CompiledPolicy,
    enforcer: casbin.Enforcer,
    role: str,
    purpose: str,
    coordinate: str,
    expected: Access,
) -> None:
    assert policy.field_access([role], purpose, coordinate) is expected
    casbin_says = (
        Access.READ
        if enforcer.enforce(role, coordinate, "read", purpose)
        else Access.MASK
        if enforcer.enforce(role, coordinate, "mask", purpose)
        else Access.DENY
    )
    assert casbin_says is expected


def test_compiled_table_agrees_with_casbin_everywhere(
    policy: CompiledPolicy, oracle: CasbinOracle
) -> None:
    """Every role x usable purpose x coordinate: the compiler and enforce() agree."""
    disagreements: list[tuple[str, str, str, object, object]] = []
    for role in policy.roles:
        for purpose in policy.role_purposes[role]:
            grant = policy.grants[(role, purpose)]
            for coordinate in policy.catalogue.coordinates():
                compiled = policy.field_access([role], purpose, coordinate)
                direct = oracle.access(role, coordinate, purpose)
                if compiled is not direct:
                    disagreements.append((role, purpose, coordinate, compiled, direct))
                writes = oracle.enforce(role, coordinate, "write", purpose)
                if writes != (coordinate in grant.writes):
                    disagreements.append((role, purpose, coordinate, "write", writes))
    assert disagreements == []


def test_the_per_role_oracle_answers_as_the_full_enforcer(
    policy: CompiledPolicy, enforcer: casbin.Enforcer, oracle: CasbinOracle
) -> None:
    for role, purpose, coordinate, _ in DECISIONS:
        for action in ("read", "mask", "write"):
            full = enforcer.enforce(role, coordinate, action, purpose)
            assert oracle.enforce(role, coordinate, action, purpose) == full


@pytest.mark.parametrize(("mask", "value", "masked"), MASK_EXAMPLES)
def test_masks(mask: str, value: str, masked: str) -> None:
    assert MASKS[mask](value) == masked


def test_roles_and_scopes(policy: CompiledPolicy) -> None:
    assert policy.role_purposes["field_service"] == {"delivery"}
    assert policy.grants[("collection_agency", "billing")].scopes == {
        "Customer": ("collection_assigned",),
        "Invoice": ("collection_assigned",),
        "CollectionCase": ("own_agency",),
    }
    marketing = policy.grants[("marketing", "marketing")].filters["Customer"]
    assert "no_direct_marketing_objection" in marketing
    assert "no_distance_selling_objection" in marketing
    assert "not_restricted" not in policy.grants[("billing", "billing")].filters.get("Customer", ())


def test_shipped_policy_passes_the_lint(policy: CompiledPolicy) -> None:
    assert personal_data_without_explicit_rule(policy) == []


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, target)
    return target


def test_lint_finds_personal_data_without_an_explicit_rule(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    policy_file = directory / "policy.csv"
    lines = policy_file.read_text().splitlines()
    kept = [
        line for line in lines if line != "p, marketing, Customer.email, read, marketing, allow"
    ]
    assert len(kept) == len(lines) - 1
    policy_file.write_text("\n".join(kept) + "\n")
    (directory / "tests" / "decisions.csv").write_text("")
    problems = personal_data_without_explicit_rule(load_policy(directory, catalogue()))
    assert problems == ["Customer.email: no explicit rule for role marketing"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("p, marketing, Customer.shoeSize, read, marketing, allow", "unknown coordinate"),
        ("p, intern, Customer.email, read, marketing, allow", "unknown role"),
        ("p, marketing, Customer.email, read, gossip, allow", "unknown purpose"),
        ("p, marketing, Customer, rows:everyone_i_like, marketing, allow", "unknown rows"),
        ("p, marketing, Customer.email, peek, marketing, allow", "unknown action"),
        ("p, marketing, Customer.email, read", "not a valid p"),
        ("p, marketing, Customer.kind, mask, marketing, allow", "declares no mask"),
        ("p, auditor, consol, use, oversight, allow", "a use line must have object"),
    ],
)
def test_invalid_policies_are_refused(tmp_path: Path, line: str, problem: str) -> None:
    directory = _copy(tmp_path)
    with (directory / "policy.csv").open("a") as handle:
        handle.write(line + "\n")
    if "Customer.kind, mask" in line:
        (directory / "policy.csv").write_text(
            (directory / "policy.csv")
            .read_text()
            .replace(
                "p, marketing, Customer.*, read, marketing, allow",
                "p, marketing, Customer.*, read, marketing, allow\n"
                "p, marketing, Customer.kind, read, marketing, deny",
            )
        )
    with pytest.raises(PolicyError) as refused:
        load_policy(directory, catalogue())
    assert any(problem in p for p in refused.value.problems), refused.value.problems


def test_a_failing_expectation_refuses_the_policy(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    with (directory / "tests" / "decisions.csv").open("a") as handle:
        handle.write("marketing, marketing, Customer.personalIdentityCode, read\n")
    load_policy(directory, catalogue())  # the files are valid; the expectation is not
    with pytest.raises(PolicyError, match="policy test failed"):
        load_tested_policy(directory, catalogue())
    with pytest.raises(PolicyError, match="policy test failed"):
        load_tested_policy(directory, catalogue(), cross_check=True)


def test_expected_decisions_hold_in_casbin_too() -> None:
    load_tested_policy(POLICY_DIR, catalogue(), cross_check=True)


@pytest.mark.parametrize(
    "corruption",
    [
        lambda text: text[: len(text) // 2],  # truncated mid-line
        lambda text: "",  # emptied
        lambda text: text + "\x00\xff garbage,,\n",  # garbage bytes
        lambda text: (
            text.replace("p, marketing, Customer.personalIdentityCode, read, *, deny\n", "")
            + "p, marketing, Customer.personalIdentityCode, read, marketing, allow\n"
        ),  # widened
    ],
)
def test_hot_reload_keeps_the_last_good_policy(
    tmp_path: Path, corruption: Callable[[str], str]
) -> None:
    directory = _copy(tmp_path)
    store = PolicyStore(directory, catalogue())
    good = store.current
    policy_file = directory / "policy.csv"
    policy_file.write_text(corruption(policy_file.read_text()))
    assert store.reload_if_changed() is False
    assert store.current is good
    assert store.last_failure is not None
    assert (
        store.current.field_access(["marketing"], "marketing", "Customer.personalIdentityCode")
        is Access.DENY
    )


def test_hot_reload_applies_a_valid_change(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    store = PolicyStore(directory, catalogue())
    policy_file = directory / "policy.csv"
    policy_file.write_text(
        policy_file.read_text().replace(
            "p, marketing, Customer.phone, read, marketing, allow",
            "p, marketing, Customer.phone, read, marketing, deny",
        )
    )
    old_version = store.current.version
    assert store.reload_if_changed() is True
    assert store.current.version != old_version
    assert store.current.field_access(["marketing"], "marketing", "Customer.phone") is Access.DENY
    assert diff(load_policy(POLICY_DIR, catalogue()), store.current) == [
        "- marketing/marketing: Customer.phone read -> deny"
    ]


def test_explain_names_the_lines(policy: CompiledPolicy) -> None:
    rules = policy.explain("customer_service", "Customer.personalIdentityCode", "read", "billing")
    texts = {rule.text() for rule in rules}
    assert "p, customer_service, Customer.personalIdentityCode, read, *, deny" in texts
    assert "p, customer_service, Customer.*, read, *, allow" in texts


def test_the_console_is_a_grant_like_any_other(policy: CompiledPolicy) -> None:
    assert policy.tool_purposes(["auditor"], "console") == ["oversight"]
    assert policy.tool_purposes(["customer_service", "administrator"], "console") == []
    assert policy.tool_purposes(["billing", "auditor"], "console") == ["oversight"]


def test_diff_names_gains_and_losses_of_writes_tools_scopes_and_filters(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    policy_file = directory / "policy.csv"
    policy_file.write_text(
        policy_file.read_text().replace("p, auditor, console, use, oversight, allow\n", "")
        + "p, billing, console, use, billing, allow\n"
        + "p, field_service, Invoice, rows:collection_assigned, delivery, allow\n"
        + "p, billing, Customer, filter:current_customer, billing, allow\n"
        + "p, billing, Invoice.dueDate, write, billing, deny\n"
    )
    (directory / "tests" / "decisions.csv").write_text("")
    changes = diff(load_policy(POLICY_DIR, catalogue()), load_policy(directory, catalogue()))
    assert changes == [
        "- auditor/oversight: no longer may use the console",
        "- billing/billing: no longer may write Invoice.dueDate",
        "+ billing/billing: now may use the console",
        "- billing/billing: now Customer rows filtered by current_customer",
        "+ field_service/delivery: now Invoice rows of scope collection_assigned",
    ]


def test_matrix_html_is_the_consoles_grid_in_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    """`policy matrix --format html`: the grid per type with its legend, filter and rights,
    styles and script inlined, nothing fetched from anywhere."""
    from server.authz.cli import cmd_matrix
    from server.settings import Settings

    assert cmd_matrix(argparse.Namespace(format="html"), Settings()) == 0
    page = capsys.readouterr().out
    assert len(page) < 250_000  # the flat table it replaces was 375 kB
    assert '<table class="grid plain">' in page and page.count("<tbody data-type=") == 35
    row = re.search(r'<tr data-c="Customer.personalIdentityCode">(.*?)</tr>', page)
    assert row is not None
    cells = re.findall(r'<td class="(\w+)[^"]*">(\w)</td>', row.group(1))
    assert cells[0] == ("mask", "M")  # customer_service / customer_relationship
    assert ("deny", "D") in cells and ("read", "R") in cells
    assert "<style>" in page and "<script>" in page and "data-client" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert 'auditor <span>/ oversight</span> <span class="tool">console</span>' in page
