"""Rules of assignments: give a subcontractor or partner access to a customer or a site for
a purpose and a period, and take it back. The row scopes `assigned` and `site_assigned`
read these rows, so a grant or a revocation applies to the next request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from server.customers.loaders import customer_table
from server.db.tables import table_of
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.operations.inputs import not_before, text_input
from server.operations.writes import Writes, columns_of, load_in_scope, row_of
from server.organisations.agencies import organisation_table
from server.organisations.models import Assignment as AssignmentRow
from server.organisations.models import OrganisationKind
from server.privacy.transfers import TransferRefused, check_country
from server.sites.loaders import site_table

assignment_table = table_of(AssignmentRow)
ASSIGNABLE = (OrganisationKind.SUBCONTRACTOR.value, OrganisationKind.PARTNER.value)

GRANTED = Writes("Assignment", ("purpose", "valid_from"), optional=("valid_to",))
REVOKED = Writes("Assignment", ("revoked_at",))


@dataclass(frozen=True, slots=True)
class AssignmentRows:
    """An assignment (with the customer it concerns) and the organisation it gives access."""

    assignment: dict[str, Any]
    organisation: dict[str, Any] | None


def refused_transfer(country: str | None, *, field: str, recipient: str) -> None:
    """BAD_USER_INPUT naming `field` when data would go outside the EU/EEA."""
    try:
        check_country(country, field=field, recipient=recipient)
    except TransferRefused as exc:
        raise UserInputError(str(exc), field=exc.field, reason=exc.reason) from None


async def _assignable(ctx: RequestContext, value: Any) -> uuid.UUID:
    """A subcontractor or partner inside the EU/EEA."""
    organisation_id: uuid.UUID
    organisation_id, kind, country = await columns_of(
        ctx,
        value,
        organisation_table.c.kind,
        organisation_table.c.country,
        field="input.organisationId",
    )
    if kind not in ASSIGNABLE:
        raise UserInputError(
            "Only subcontractors and partners are given assignments",
            field="input.organisationId",
            reason="wrong kind",
        )
    refused_transfer(country, field="input.organisationId", recipient="the organisation")
    return organisation_id


async def _target(
    ctx: RequestContext, customer_id: Any | None, site_id: Any | None
) -> tuple[dict[str, uuid.UUID | None], uuid.UUID]:
    """The assignment's customer or site columns, and the customer it concerns."""
    if customer_id is not None:
        target = await load_in_scope(
            ctx, customer_table, "Customer", customer_id, field="input.customerId", lock=False
        )
        return {"customer_id": target["id"], "site_id": None}, target["id"]
    target = await load_in_scope(ctx, site_table, "Site", site_id, field="input.siteId", lock=False)
    return {"customer_id": None, "site_id": target["id"]}, target["customer_id"]


async def _rows(ctx: RequestContext, assignment_id: uuid.UUID) -> AssignmentRows:
    row = await row_of(ctx, assignment_table, assignment_id)
    assert row is not None
    subject = row["customer_id"] or await _customer_of_site(ctx, row["site_id"])
    organisation = await row_of(ctx, organisation_table, row["organisation_id"])
    return AssignmentRows({**row, "customer_id": subject}, organisation)


async def _customer_of_site(ctx: RequestContext, site_id: uuid.UUID) -> Any:
    return await ctx.session.scalar(
        select(site_table.c.customer_id).where(site_table.c.id == site_id)
    )


async def grant_assignment(
    *,
    ctx: RequestContext,
    organisation_id: Any,
    purpose: str,
    valid_from: date,
    valid_to: date | None,
    customer_id: Any | None,
    site_id: Any | None,
) -> AssignmentRows:
    """Grant a subcontractor or partner access to a customer or a site."""
    writes = GRANTED.when(valid_to=bool(valid_to))
    writes.check(ctx)
    if (customer_id is None) == (site_id is None):
        raise UserInputError(
            "Give either a customer or a site", field="input.customerId", reason="one target"
        )
    organisation = await _assignable(ctx, organisation_id)
    if purpose not in ctx.access.policy.purposes:
        raise UserInputError(
            "input.purpose is not a purpose of processing",
            field="input.purpose",
            reason="unknown purpose",
        )
    if valid_to is not None:
        message = "The assignment ends before it starts"
        not_before(valid_to, valid_from, message, field="input.validTo", reason="before start")
    target, subject = await _target(ctx, customer_id, site_id)
    values = {"purpose": purpose, "valid_from": valid_from, "valid_to": valid_to}
    assignment_id = await writes.insert(
        ctx,
        assignment_table,
        {**values, **target, "organisation_id": organisation},
        customer_id=subject,
    )
    return await _rows(ctx, assignment_id)


def _visible(ctx: RequestContext) -> Any:
    """An assignment is in scope when its customer or its site is."""
    customers = select(customer_table.c.id).where(ctx.access.rows("Customer"))
    sites = select(site_table.c.id).where(ctx.access.rows("Site"))
    return or_(assignment_table.c.customer_id.in_(customers), assignment_table.c.site_id.in_(sites))


async def _active_assignment(ctx: RequestContext, value: Any) -> dict[str, Any]:
    row = await load_in_scope(
        ctx, assignment_table, "Assignment", value, field="input.assignmentId", where=_visible(ctx)
    )
    if row["revoked_at"] is not None:
        raise UserInputError(
            "The assignment is already revoked", field="input.assignmentId", reason="revoked"
        )
    return row


async def revoke_assignment(
    *, ctx: RequestContext, assignment_id: Any, reason: str | None
) -> AssignmentRows:
    """Revoke an assignment: the access ends at once."""
    REVOKED.check(ctx)
    text_input(reason, field="input.reason", max_length=1000)
    row = await _active_assignment(ctx, assignment_id)
    subject = row["customer_id"] or await _customer_of_site(ctx, row["site_id"])
    await REVOKED.update(
        ctx, assignment_table, row["id"], {"revoked_at": func.now()}, customer_id=subject
    )
    return await _rows(ctx, row["id"])
