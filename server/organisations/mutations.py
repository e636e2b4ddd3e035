"""Mutations of assignments: give a subcontractor access to a customer or a site for a
purpose and a period, and take it back. The row scopes `assigned` and `site_assigned` read
these rows, so a grant or a revocation applies to the next request."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import strawberry
from sqlalchemy import func, insert, or_, select, update
from strawberry.types import Info

from server.customers.models import Customer as CustomerRow
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.payloads import payload
from server.graphql.shaping import build_one
from server.operations.inputs import not_found, parse_uuid, text_input
from server.operations.writes import (
    fetch_one,
    load_in_scope,
    record_write,
    require_rows,
    require_write,
)
from server.organisations.models import Assignment as AssignmentRow
from server.organisations.models import Organisation as OrganisationRow
from server.organisations.models import OrganisationKind
from server.organisations.types import Assignment, Organisation
from server.privacy.transfers import TransferRefused, check_country
from server.sites.models import Site as SiteRow

assignment_table = AssignmentRow.__table__  # type: ignore[attr-defined]
organisation_table = OrganisationRow.__table__  # type: ignore[attr-defined]
customer_table = CustomerRow.__table__  # type: ignore[attr-defined]
site_table = SiteRow.__table__  # type: ignore[attr-defined]
ASSIGNABLE = (OrganisationKind.SUBCONTRACTOR.value, OrganisationKind.PARTNER.value)


def _value(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


@strawberry.input(
    description="Access for a subcontractor or partner to one customer or one site, for a "
    "purpose and a period."
)
class GrantAssignmentInput:
    organisation_id: strawberry.ID = strawberry.field(description="The organisation.")
    purpose: str = strawberry.field(description="Purpose of processing (e.g. delivery).")
    valid_from: date = strawberry.field(description="First day of the assignment.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The customer (give this or siteId)."
    )
    site_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The site (give this or customerId)."
    )
    valid_to: date | None = strawberry.field(
        default=strawberry.UNSET, description="Last day (null: until revoked)."
    )


@strawberry.input(description="Revocation of an assignment: it ends at once.")
class RevokeAssignmentInput:
    assignment_id: strawberry.ID = strawberry.field(description="The assignment revoked.")
    reason: str | None = strawberry.field(
        default=strawberry.UNSET, description="Why it is revoked."
    )


@strawberry.type(description="An assignment after it was granted or revoked.")
class AssignmentPayload:
    assignment: Assignment | None = strawberry.field(description="The assignment.")
    organisation: Organisation | None = strawberry.field(
        description="The organisation it gives access to."
    )


def refused_transfer(country: str | None, *, field: str, recipient: str) -> None:
    """BAD_USER_INPUT naming `field` when data would go outside the EU/EEA."""
    try:
        check_country(country, field=field, recipient=recipient)
    except TransferRefused as exc:
        raise UserInputError(str(exc), field=exc.field, reason=exc.reason) from None


def _visible(ctx: RequestContext) -> Any:
    """An assignment is in scope when its customer or its site is."""
    customers = select(customer_table.c.id).where(ctx.access.rows("Customer"))
    sites = select(site_table.c.id).where(ctx.access.rows("Site"))
    return or_(assignment_table.c.customer_id.in_(customers), assignment_table.c.site_id.in_(sites))


async def _result(
    ctx: RequestContext, info: Info[RequestContext, Any], assignment_id: uuid.UUID
) -> AssignmentPayload:
    row = await fetch_one(
        ctx, select(assignment_table).where(assignment_table.c.id == assignment_id)
    )
    assert row is not None
    subject = row["customer_id"] or await ctx.session.scalar(
        select(site_table.c.customer_id).where(site_table.c.id == row["site_id"])
    )
    organisation = await fetch_one(
        ctx, select(organisation_table).where(organisation_table.c.id == row["organisation_id"])
    )
    return payload(
        AssignmentPayload,
        ctx,
        assignment=build_one(
            Assignment, {**row, "customer_id": subject}, ctx, info, through=("assignment",)
        ),
        organisation=build_one(
            Organisation, organisation, ctx, info, through=("organisation",), subject=None
        ),
    )


@strawberry.type(description="Assignment mutations.")
class AssignmentMutation:
    @strawberry.mutation(
        description="Grant a subcontractor or partner access to a customer or a site."
    )
    async def grant_assignment(
        self, info: Info[RequestContext, Any], input: GrantAssignmentInput
    ) -> AssignmentPayload:
        ctx = info.context
        valid_to = _value(input.valid_to)
        require_write(
            ctx, "Assignment", ["purpose", "valid_from"] + (["valid_to"] if valid_to else [])
        )
        customer_value, site_value = _value(input.customer_id), _value(input.site_id)
        if (customer_value is None) == (site_value is None):
            raise UserInputError(
                "Give either a customer or a site", field="input.customerId", reason="one target"
            )
        organisation_id = parse_uuid(input.organisation_id, field="input.organisationId")
        found = (
            await ctx.session.execute(
                select(organisation_table.c.kind, organisation_table.c.country).where(
                    organisation_table.c.id == organisation_id
                )
            )
        ).first()
        if found is None:
            raise not_found("input.organisationId")
        kind, country = found
        if kind not in ASSIGNABLE:
            raise UserInputError(
                "Only subcontractors and partners are given assignments",
                field="input.organisationId",
                reason="wrong kind",
            )
        refused_transfer(country, field="input.organisationId", recipient="the organisation")
        if input.purpose not in ctx.access.policy.purposes:
            raise UserInputError(
                "input.purpose is not a purpose of processing",
                field="input.purpose",
                reason="unknown purpose",
            )
        if valid_to is not None and valid_to < input.valid_from:
            raise UserInputError(
                "The assignment ends before it starts",
                field="input.validTo",
                reason="before start",
            )
        if customer_value is not None:
            target = await load_in_scope(
                ctx,
                customer_table,
                "Customer",
                customer_value,
                field="input.customerId",
                lock=False,
            )
            customer_id, site_id, subject = target["id"], None, target["id"]
        else:
            target = await load_in_scope(
                ctx, site_table, "Site", site_value, field="input.siteId", lock=False
            )
            customer_id, site_id, subject = None, target["id"], target["customer_id"]
        assignment_id = uuid.uuid4()
        await ctx.session.execute(
            insert(assignment_table).values(
                id=assignment_id,
                organisation_id=organisation_id,
                customer_id=customer_id,
                site_id=site_id,
                purpose=input.purpose,
                valid_from=input.valid_from,
                valid_to=valid_to,
            )
        )
        record_write(
            ctx,
            "Assignment",
            assignment_id,
            customer_id=subject,
            fields=["purpose", "validFrom", "validTo"],
        )
        return await _result(ctx, info, assignment_id)

    @strawberry.mutation(description="Revoke an assignment: the access ends at once.")
    async def revoke_assignment(
        self, info: Info[RequestContext, Any], input: RevokeAssignmentInput
    ) -> AssignmentPayload:
        ctx = info.context
        require_write(ctx, "Assignment", ["revoked_at"])
        text_input(_value(input.reason), field="input.reason", max_length=1000)
        if not (ctx.access.can_see_rows("Customer") or ctx.access.can_see_rows("Site")):
            require_rows(ctx, "Customer", field="input.assignmentId")
        assignment_id = parse_uuid(input.assignment_id, field="input.assignmentId")
        row = await fetch_one(
            ctx,
            select(assignment_table)
            .where(assignment_table.c.id == assignment_id, _visible(ctx))
            .with_for_update(of=assignment_table),
        )
        if row is None:
            raise not_found("input.assignmentId")
        if row["revoked_at"] is not None:
            raise UserInputError(
                "The assignment is already revoked",
                field="input.assignmentId",
                reason="revoked",
            )
        await ctx.session.execute(
            update(assignment_table)
            .where(assignment_table.c.id == assignment_id)
            .values(revoked_at=func.now())
        )
        subject = row["customer_id"] or await ctx.session.scalar(
            select(site_table.c.customer_id).where(site_table.c.id == row["site_id"])
        )
        record_write(ctx, "Assignment", assignment_id, customer_id=subject, fields=["revokedAt"])
        return await _result(ctx, info, assignment_id)
