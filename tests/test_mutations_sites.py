"""Site mutations: create and rectify site data; field service may correct the connection
data of its assigned sites only."""

from __future__ import annotations

from typing import Any

from tests import factories
from tests.conftest import gid, nodes
from tests.test_mutations_harness import Api, Result, api_fixture  # noqa: F401

CREATE = """
mutation($input: CreateSiteInput!) {
  createSite(input: $input) { changeId site { id meteringPointId mainFuse heatingType } }
}
"""
UPDATE = """
mutation($input: UpdateSiteInput!) {
  updateSite(input: $input) { changeId site { id mainFuse heatingType annualConsumptionEstimateKwh housingType } }
}
"""
HISTORY = """
query($id: ID!) {
  customer(id: $id) { history { edges { node { objectType objectId changes { fieldName oldValue newValue } } } } }
}
"""


def new_site(customer_id: str, gsrn: str = "643007127000012344") -> dict[str, object]:
    return {
        "customerId": customer_id,
        "meteringPointId": gsrn,
        "streetAddress": "Mäkitie 3",
        "postalCode": "34800",
        "postOffice": "Virrat",
        "housingType": "DETACHED_HOUSE",
        "ownership": "OWNED",
        "heatingType": "GROUND_SOURCE_HEAT_PUMP",
        "mainFuse": "3 x 25",
        "connectionId": "LI-1",
        "gridOperator": "Koillis-Satakunnan Sähköverkko",
        "annualConsumptionEstimateKwh": 12000,
    }


async def update_site(
    api: Api,
    site: dict[str, Any],
    *,
    as_: str | tuple[str, str] = "customer_service",
    purpose: str | None = None,
    **fields: Any,
) -> Result:
    """UPDATE of the site's `fields` (and a reason), as `as_`."""
    site_input = {"siteId": str(site["id"]), **fields}
    return await api.mutate(UPDATE, as_=as_, purpose=purpose, input=site_input)


async def test_create_site_validates_the_metering_point(api: Api) -> None:
    holder = await factories.customer(api.owner)
    created = await api.mutate(CREATE, as_="customer_service", input=new_site(str(holder["id"])))
    site = created.ok()["createSite"]["site"]
    assert site["mainFuse"] == "3x25A"
    assert site["heatingType"] == "GROUND_SOURCE_HEAT_PUMP"
    bad = await api.mutate(
        CREATE, as_="customer_service", input=new_site(str(holder["id"]), "643007127000012345")
    )
    assert bad.error()["field"] == "input.meteringPointId"
    duplicate = await api.mutate(CREATE, as_="customer_service", input=new_site(str(holder["id"])))
    assert duplicate.error()["reason"] == "duplicate"
    assert await api.count("site") == 1


async def test_update_site_data_with_history(api: Api) -> None:
    holder = await factories.customer(api.owner)
    place = await factories.site(api.owner, customer_id=holder["id"])
    result = await update_site(
        api,
        place,
        purpose="delivery",
        heatingType="AIR_TO_WATER_HEAT_PUMP",
        annualConsumptionEstimateKwh=9000,
        housingType="TERRACED_HOUSE",
        reason="heat pump installed",
    )
    site = result.ok()["updateSite"]["site"]
    assert site["heatingType"] == "AIR_TO_WATER_HEAT_PUMP"
    assert site["annualConsumptionEstimateKwh"] == 9000
    history = await api.run(HISTORY, as_="customer_service", variables={"id": str(holder["id"])})
    [entry] = nodes(history.ok()["customer"]["history"])
    assert entry["objectType"] == "SITE" and entry["objectId"] == gid("Site", place["id"])
    changes = {c["fieldName"]: (c["oldValue"], c["newValue"]) for c in entry["changes"]}
    assert changes["heatingType"] == ("direct_electric", "air_to_water_heat_pump")
    assert changes["annualConsumptionEstimateKwh"] == ("18000", "9000")


async def test_field_service_corrects_the_fuse_of_an_assigned_site_only(api: Api) -> None:
    holder = await factories.customer(api.owner)
    assigned = await factories.site(api.owner, customer_id=holder["id"])
    other = await factories.site(api.owner, customer_id=holder["id"])
    contractor = await api.organisation("sahkotyo")
    await factories.assignment(api.owner, organisation_id=contractor, site_id=assigned["id"])
    field_service = ("field_service", "sahkotyo")
    fuse = {"mainFuse": "3x35A", "reason": "fuse changed on site"}
    done = await update_site(api, assigned, as_=field_service, **fuse)
    assert done.ok()["updateSite"]["site"]["mainFuse"] == "3x35A"
    hidden = await update_site(api, other, as_=field_service, **fuse)
    assert hidden.error()["reason"] == "not found"
    heating = await update_site(api, assigned, as_=field_service, heatingType="OIL", reason="seen")
    assert heating.error()["code"] == "FORBIDDEN"
    assert heating.error()["coordinate"] == "Site.heatingType"
    bad = await update_site(api, assigned, as_=field_service, mainFuse="3x27A", reason="x")
    assert bad.error()["field"] == "input.mainFuse"
    assert (
        await api.owner.fetchval("SELECT main_fuse FROM site WHERE id = $1", assigned["id"])
        == "3x35A"
    )


async def test_negative_estimate_is_refused(api: Api) -> None:
    holder = await factories.customer(api.owner)
    place = await factories.site(api.owner, customer_id=holder["id"])
    result = await update_site(api, place, annualConsumptionEstimateKwh=-1, reason="x")
    assert result.error()["field"] == "input.annualConsumptionEstimateKwh"
