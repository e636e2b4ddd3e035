"""Mutations of assignments: give a subcontractor access to a customer or a site for a
purpose and a period, and take it back.

The rules are in server/organisations/service.py; a resolver reads its input, calls the
service and shapes the rows it returns.
"""

from __future__ import annotations

from datetime import date

import strawberry

from server.graphql.inputs import optional
from server.graphql.mutation import mutation, objects_answer
from server.organisations import service
from server.organisations.types import Assignment, Organisation


@strawberry.input(
    description="Access for a subcontractor or partner to one customer or one site, for a "
    "purpose and a period."
)
class GrantAssignmentInput:
    organisation_id: strawberry.ID = strawberry.field(description="The organisation.")
    purpose: str = strawberry.field(description="Purpose of processing (e.g. delivery).")
    valid_from: date = strawberry.field(description="First day of the assignment.")
    customer_id: strawberry.ID | None = optional("The customer (give this or siteId).")
    site_id: strawberry.ID | None = optional("The site (give this or customerId).")
    valid_to: date | None = optional("Last day (null: until revoked).")


@strawberry.input(description="Revocation of an assignment: it ends at once.")
class RevokeAssignmentInput:
    assignment_id: strawberry.ID = strawberry.field(description="The assignment revoked.")
    reason: str | None = optional("Why it is revoked.")


@strawberry.type(description="An assignment after it was granted or revoked.")
class AssignmentPayload:
    assignment: Assignment | None = strawberry.field(description="The assignment.")
    organisation: Organisation | None = strawberry.field(
        description="The organisation it gives access to."
    )


ASSIGNMENT_ANSWER = objects_answer(organisation={"subject": None})


@strawberry.type(description="Assignment mutations.")
class AssignmentMutation:
    grant_assignment = mutation(
        service.grant_assignment, GrantAssignmentInput, AssignmentPayload, ASSIGNMENT_ANSWER
    )
    revoke_assignment = mutation(
        service.revoke_assignment, RevokeAssignmentInput, AssignmentPayload, ASSIGNMENT_ANSWER
    )
