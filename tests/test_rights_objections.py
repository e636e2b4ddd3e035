"""Objections and restriction of processing take effect in the very next query."""

from __future__ import annotations

from tests import factories
from tests.conftest import gid, raw_id
from tests.factories import customer_input
from tests.test_mutations_harness import Api, api_fixture  # noqa: F401

MARKETING_LIST = "{ customers(first: 100) { edges { node { id email } } } }"
SET = """
mutation($input: SetObjectionInput!) {
  setObjection(input: $input) { changeId customer { id directMarketingObjectionAt } }
}
"""
WITHDRAW = """
mutation($input: WithdrawObjectionInput!) {
  withdrawObjection(input: $input) { changeId customer { id directMarketingObjectionAt } }
}
"""
RESTRICT = """
mutation($input: SetProcessingRestrictionInput!) {
  setProcessingRestriction(input: $input) { changeId customer { id processingRestrictedAt } }
}
"""
ONE = "query($id: ID!) { customer(id: $id) { id customerNumber } }"


async def _marketing_ids(api: Api) -> set[str]:
    result = await api.run(MARKETING_LIST, as_="marketing")
    return {raw_id(e["node"]["id"]) for e in result.ok()["customers"]["edges"]}


async def test_objection_takes_effect_in_marketing_at_once(api: Api) -> None:
    person = await factories.customer(api.owner)
    other = await factories.customer(api.owner)
    assert {str(person["id"]), str(other["id"])} <= await _marketing_ids(api)
    set_result = await api.mutate(
        SET,
        as_="customer_service",
        input=customer_input(person, kind="DIRECT_MARKETING", source="letter 2026-11-24"),
    )
    payload = set_result.ok()["setObjection"]
    assert payload["customer"]["directMarketingObjectionAt"] is not None
    assert payload["changeId"]
    ids = await _marketing_ids(api)
    assert str(person["id"]) not in ids and str(other["id"]) in ids
    withdrawn = await api.mutate(
        WITHDRAW,
        as_="customer_service",
        input=customer_input(person, kind="DIRECT_MARKETING", source="phone call"),
    )
    assert withdrawn.ok()["withdrawObjection"]["customer"]["directMarketingObjectionAt"] is None
    assert str(person["id"]) in await _marketing_ids(api)


async def test_research_objection_hides_from_business_development(api: Api) -> None:
    person = await factories.customer(api.owner)
    variables = {"id": str(person["id"])}
    assert (await api.run(ONE, as_="business_analyst", variables=variables)).ok()["customer"]
    await api.mutate(
        SET, as_="auditor", input=customer_input(person, kind="RESEARCH", source="signed letter")
    )
    assert (await api.run(ONE, as_="business_analyst", variables=variables)).ok()[
        "customer"
    ] is None
    # Marketing still reaches the customer: only research was forbidden.
    assert str(person["id"]) in await _marketing_ids(api)


async def test_marketing_records_an_objection_and_loses_the_customer(api: Api) -> None:
    person = await factories.customer(api.owner)
    result = await api.mutate(
        SET,
        as_="marketing",
        input=customer_input(person, kind="DISTANCE_SELLING", source="said so in a sales call"),
    )
    assert result.ok()["setObjection"]["customer"] is None  # out of scope at once
    assert str(person["id"]) not in await _marketing_ids(api)


async def test_objection_needs_a_source(api: Api) -> None:
    person = await factories.customer(api.owner)
    result = await api.mutate(
        SET, as_="customer_service", input=customer_input(person, kind="RESEARCH", source="")
    )
    assert result.error()["field"] == "input.source"


async def test_restriction_leaves_only_billing(api: Api) -> None:
    person = await factories.customer(api.owner)
    variables = {"id": str(person["id"])}
    restricted = await api.mutate(
        RESTRICT,
        as_="auditor",
        input=customer_input(person, restricted=True, reason="accuracy contested (Art. 18(1)(a))"),
    )
    assert restricted.ok()["setProcessingRestriction"]["customer"]["processingRestrictedAt"]
    for role, purpose in (
        ("customer_service", "customer_relationship"),
        ("customer_service", "delivery"),
        ("marketing", "marketing"),
        ("business_analyst", "business_development"),
    ):
        seen = await api.run(ONE, as_=role, purpose=purpose, variables=variables)
        assert seen.ok()["customer"] is None, (role, purpose)
    for role, purpose in (("billing", "billing"), ("customer_service", "billing")):
        seen = await api.run(ONE, as_=role, purpose=purpose, variables=variables)
        assert seen.ok()["customer"]["id"] == gid("Customer", person["id"]), (role, purpose)
    # A restricted customer is found only under oversight (or billing): lifted there.
    lifted = await api.mutate(
        RESTRICT,
        as_="administrator",
        purpose="oversight",
        input=customer_input(person, restricted=False, reason="accuracy verified"),
    )
    assert lifted.ok()["setProcessingRestriction"]["customer"]["processingRestrictedAt"] is None
    seen = await api.run(ONE, as_="customer_service", variables=variables)
    assert seen.ok()["customer"] is not None


async def test_customer_service_may_not_lift_a_restriction_it_cannot_see(api: Api) -> None:
    person = await factories.customer(api.owner)
    await api.mutate(
        RESTRICT,
        as_="auditor",
        input=customer_input(person, restricted=True, reason="objection pending"),
    )
    result = await api.mutate(
        RESTRICT, as_="customer_service", input=customer_input(person, restricted=False, reason="x")
    )
    assert result.error()["reason"] == "not found"
