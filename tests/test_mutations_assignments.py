"""Assignments: a subcontractor sees a site only while an assignment is valid."""

from __future__ import annotations

from datetime import timedelta

from tests import factories
from tests.conftest import gid
from tests.test_mutations_harness import Api, api_fixture, today  # noqa: F401

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


async def test_grant_and_revoke_site_access(api: Api) -> None:
    holder = await factories.customer(api.owner)
    place = await factories.site(api.owner, customer_id=holder["id"])
    contractor = await api.organisation("asennus")
    assert (await api.run(SITES, as_=("field_service", "asennus"))).ok()["sites"]["edges"] == []
    granted = await api.mutate(
        GRANT,
        as_="customer_service",
        purpose="delivery",
        input={
            "organisationId": str(contractor),
            "siteId": str(place["id"]),
            "purpose": "delivery",
            "validFrom": today().isoformat(),
            "validTo": (today() + timedelta(days=7)).isoformat(),
        },
    )
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
    base = {
        "organisationId": str(contractor),
        "siteId": str(place["id"]),
        "purpose": "delivery",
        "validFrom": today().isoformat(),
    }
    wrong_purpose = await api.mutate(
        GRANT, as_="customer_service", purpose="delivery", input={**base, "purpose": "gossip"}
    )
    assert wrong_purpose.error()["field"] == "input.purpose"
    backwards = await api.mutate(
        GRANT,
        as_="customer_service",
        purpose="delivery",
        input={**base, "validTo": (today() - timedelta(days=1)).isoformat()},
    )
    assert backwards.error()["field"] == "input.validTo"
    both = await api.mutate(
        GRANT,
        as_="customer_service",
        purpose="delivery",
        input={**base, "customerId": str(holder["id"])},
    )
    assert both.error()["reason"] == "one target"
    wrong_purpose_of_role = await api.mutate(
        GRANT, as_="customer_service", purpose="customer_relationship", input=base
    )
    assert wrong_purpose_of_role.error()["coordinate"] == "Assignment.purpose"
    assert await api.count("assignment") == 0
