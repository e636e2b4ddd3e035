"""Assignments: a subcontractor sees a site only while an assignment is valid."""

from __future__ import annotations

from datetime import timedelta

from tests import factories
from tests.conftest import gid
from tests.test_mutations_harness import Api, Result, api_fixture, today  # noqa: F401

GRANT = """
mutation($input: GrantAssignmentInput!) {
  grantAssignment(input: $input) {
    assignment { id purpose validFrom validTo revokedAt } organisation { code }
  }
}
"""
REVOKE = """
mutation($input: RevokeAssignmentInput!) {
  revokeAssignment(input: $input) { assignment { id revokedAt } }
}
"""
SITES = "{ sites { edges { node { id mainFuse } } } }"


def assignment_input(organisation_id: object, **target: str) -> dict[str, str]:
    """GRANT's input: `target` (siteId or customerId, and validTo) assigned to the
    organisation for delivery, from today."""
    return {
        "organisationId": str(organisation_id),
        "purpose": "delivery",
        "validFrom": today().isoformat(),
        **target,
    }


async def grant(api: Api, assignment: dict[str, str], *, purpose: str = "delivery") -> Result:
    """GRANT of `assignment` by customer service, for `purpose`."""
    return await api.mutate(GRANT, as_="customer_service", purpose=purpose, input=assignment)


async def test_grant_and_revoke_site_access(api: Api) -> None:
    holder = await factories.customer(api.owner)
    place = await factories.site(api.owner, customer_id=holder["id"])
    contractor = await api.organisation("asennus")
    assert (await api.run(SITES, as_=("field_service", "asennus"))).ok()["sites"]["edges"] == []
    week = (today() + timedelta(days=7)).isoformat()
    granted = await grant(api, assignment_input(contractor, siteId=str(place["id"]), validTo=week))
    payload = granted.ok()["grantAssignment"]
    assert payload["organisation"] == {"code": "asennus"}
    seen = await api.run(SITES, as_=("field_service", "asennus"))
    assert [e["node"]["id"] for e in seen.ok()["sites"]["edges"]] == [gid("Site", place["id"])]
    revoked = await api.mutate(
        REVOKE,
        as_="customer_service",
        purpose="delivery",
        input={"assignmentId": payload["assignment"]["id"], "reason": "done"},
    )
    assert revoked.ok()["revokeAssignment"]["assignment"]["revokedAt"] is not None
    assert (await api.run(SITES, as_=("field_service", "asennus"))).ok()["sites"]["edges"] == []


async def test_grant_refusals(api: Api) -> None:
    holder = await factories.customer(api.owner)
    place = await factories.site(api.owner, customer_id=holder["id"])
    contractor = await api.organisation("asennus")
    base = assignment_input(contractor, siteId=str(place["id"]))
    wrong_purpose = await grant(api, {**base, "purpose": "gossip"})
    assert wrong_purpose.error()["field"] == "input.purpose"
    yesterday = (today() - timedelta(days=1)).isoformat()
    backwards = await grant(api, {**base, "validTo": yesterday})
    assert backwards.error()["field"] == "input.validTo"
    both = await grant(api, {**base, "customerId": str(holder["id"])})
    assert both.error()["reason"] == "one target"
    wrong_purpose_of_role = await grant(api, base, purpose="customer_relationship")
    assert wrong_purpose_of_role.error()["coordinate"] == "Assignment.purpose"
    assert await api.count("assignment") == 0
