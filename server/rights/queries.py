"""Root query fields of the data-subject rights: the requests register, the register of
disclosures, and the access report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, Select, func, select
from strawberry.types import Info

from server.audit.coordinates import logged
from server.authz.decision import Access
from server.customers.models import Customer as CustomerRow
from server.db.tables import table_of
from server.graphql.connections import RootPage, root_connection, root_connection_field
from server.graphql.context import RequestContext
from server.graphql.errors import ForbiddenError, UserInputError
from server.graphql.guards import parse_id, require_readable_for_filter
from server.graphql.inputs import filter_field
from server.graphql.ordering import Sortable, SortField
from server.graphql.relay import Connection, FilterValue, SortKey, Visible
from server.graphql.shaping import build_one
from server.rights.access_log import access_events
from server.rights.models import OPEN_REQUEST_STATUSES, RequestKind, RequestStatus
from server.rights.models import Disclosure as DisclosureRow
from server.rights.models import DisclosureCustomer as DisclosureCustomerRow
from server.rights.report import LANGUAGES, build_report
from server.rights.requests import request_filter_conditions, request_select, request_table
from server.rights.types import DataSubjectReport, DataSubjectRequest, Disclosure

customer_table = table_of(CustomerRow)
disclosure_table = table_of(DisclosureRow)
disclosure_customer_table = table_of(DisclosureCustomerRow)
REPORT_COORDINATE = "DataSubjectReport.content"
# What reading the register of disclosures logs about each person in it.
DISCLOSURE_FIELDS = logged(
    Disclosure, "recipient", "recipient_kind", "legal_basis", "case_reference", "disclosed_on"
)


@strawberry.input(description="Filters for the requests register.")
class DataSubjectRequestFilter:
    overdue: bool | None = filter_field("True: open requests past their (extended) due date.")
    status: RequestStatus | None = filter_field("Only requests in this status.")
    kind: RequestKind | None = filter_field("Only requests of this kind.")
    customer_id: strawberry.ID | None = filter_field("Only this customer's requests.")


def disclosure_select() -> Select[Any]:
    customers = (
        select(func.array_agg(disclosure_customer_table.c.customer_id))
        .where(disclosure_customer_table.c.disclosure_id == disclosure_table.c.id)
        .scalar_subquery()
        .label("customer_ids")
    )
    return select(disclosure_table, customers)


def disclosure_filter_conditions(
    visible: Visible, *, customer_id: FilterValue[uuid.UUID] = None
) -> list[ColumnElement[bool]]:
    """SQL conditions for the disclosure filters (values or bind parameters; None: not
    given). The customer filter tests the disclosure's customers only inside the customer
    row scope, so it tells nothing about customers the principal may not see."""
    conditions: list[ColumnElement[bool]] = []
    if customer_id is not None:
        conditions.append(
            disclosure_table.c.id.in_(
                select(disclosure_customer_table.c.disclosure_id).where(
                    disclosure_customer_table.c.customer_id == customer_id,
                    disclosure_customer_table.c.customer_id.in_(
                        select(customer_table.c.id).where(visible("Customer"))
                    ),
                )
            )
        )
    return conditions


def disclosure_rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {**row, "made_by": row["made_by_name"], "customer_ids": row["customer_ids"] or []}
        for row in rows
    ]


def log_disclosure_subjects(ctx: RequestContext, rows: list[dict[str, Any]]) -> None:
    """Reading the register tells whose data went where: an access to each person's data."""
    for row in rows:
        for customer_id in row["customer_ids"]:
            ctx.collector.touch(
                DISCLOSURE_FIELDS.type_name,
                f"{row['id']}:{customer_id}",
                customer_id=customer_id,
                read=DISCLOSURE_FIELDS.fields,
            )


def require_report_allowed(ctx: RequestContext) -> None:
    """Producing the access report is a permission of the policy: `write` on
    DataSubjectReport.content for the role and purpose (and `read` of it, to see it)."""
    if ctx.access.field(REPORT_COORDINATE) is not Access.READ or not ctx.access.can_write(
        REPORT_COORDINATE
    ):
        raise ForbiddenError(
            f"Not allowed to produce {REPORT_COORDINATE} for purpose {ctx.purpose}",
            coordinate=REPORT_COORDINATE,
            purpose=ctx.purpose,
        )


async def open_access_request(ctx: RequestContext, customer_id: uuid.UUID) -> uuid.UUID:
    """The customer's open access request (GDPR Art. 15) in the requests register, the
    oldest first; without one no report is produced."""
    found: uuid.UUID | None = await ctx.session.scalar(
        select(request_table.c.id)
        .where(
            request_table.c.customer_id == customer_id,
            request_table.c.kind == RequestKind.ACCESS.value,
            request_table.c.status.in_(OPEN_REQUEST_STATUSES),
            ctx.access.rows("DataSubjectRequest"),
        )
        .order_by(request_table.c.received_on, request_table.c.request_number)
        .limit(1)
    )
    if found is None:
        raise UserInputError(
            "No open access request (GDPR Art. 15) of this customer in the requests register: "
            "record the data subject's request first",
            field="customerId",
            reason="no open access request",
        )
    return found


async def produce_report(
    ctx: RequestContext, customer_id: uuid.UUID, language: str | None
) -> dict[str, Any] | None:
    """The access report of a customer inside the principal's row scope, recorded in the
    access log object by object; None when the customer is unknown or out of scope.

    Only for a role the policy lets produce it (FORBIDDEN otherwise) and only against an
    open access request of that customer (BAD_USER_INPUT otherwise)."""
    require_report_allowed(ctx)
    if not ctx.access.can_see_rows("Customer"):
        return None
    visible = await ctx.session.scalar(
        select(customer_table.c.language).where(
            customer_table.c.id == customer_id, ctx.access.rows("Customer")
        )
    )
    if visible is None:
        return None
    chosen = language or ("en" if visible == "en" else "fi")
    if chosen not in LANGUAGES:
        raise UserInputError(
            "language must be fi or en", field="language", reason="unsupported language"
        )
    await open_access_request(ctx, customer_id)
    entries = await access_events(ctx, customer_id)
    document, touched = await build_report(
        session=ctx.session,
        customer_id=customer_id,
        access_entries=entries,
        language=chosen,
        generated_at=datetime.now(UTC),
        purposes=ctx.access.policy.purposes,
    )
    for shown in touched.objects:
        ctx.collector.touch(
            shown.type_name,
            shown.object_id,
            customer_id=shown.customer_id,
            prospect_id=shown.prospect_id,
            read=shown.fields,
        )
    return document


REQUEST_ORDER = Sortable(
    "DataSubjectRequest",
    request_table,
    {
        "REQUEST_NUMBER": SortField(
            "request_number", "DataSubjectRequest.requestNumber", "Request number (the default)."
        ),
        "RECEIVED_ON": SortField(
            "received_on", "DataSubjectRequest.receivedOn", "When it was received."
        ),
        "DUE_ON": SortField("due_on", "DataSubjectRequest.dueOn", "When it must be answered."),
        "STATUS": SortField("status", "DataSubjectRequest.status", "Where the request stands."),
    },
    (SortKey("request_number"),),
)
DISCLOSURE_ORDER = Sortable(
    "Disclosure",
    disclosure_table,
    {
        "DISCLOSED_ON": SortField(
            "disclosed_on", "Disclosure.disclosedOn", "When disclosed (the default: DESC)."
        ),
        "RECIPIENT": SortField("recipient", "Disclosure.recipient", "Who received the data."),
    },
    (SortKey("disclosed_on", descending=True), SortKey("id", descending=True)),
)


async def requests_page(
    asked: RootPage[DataSubjectRequestFilter],
) -> Connection[DataSubjectRequest]:
    """The requests register in request-number order; `overdue: true` lists open requests
    past their deadline."""
    ctx = asked.context
    chosen = asked.filter or DataSubjectRequestFilter()
    if chosen.overdue is not None:
        require_readable_for_filter(ctx, "DataSubjectRequest.overdue", "filter.overdue")
    if chosen.status is not None:
        require_readable_for_filter(ctx, "DataSubjectRequest.status", "filter.status")
    if chosen.kind is not None:
        require_readable_for_filter(ctx, "DataSubjectRequest.kind", "filter.kind")
    customer_id = None
    if chosen.customer_id is not None:
        customer_id = parse_id(chosen.customer_id, "Customer")
        if customer_id is None:
            return Connection.empty()
    conditions = request_filter_conditions(
        ctx.access.rows,
        overdue=chosen.overdue,
        status=chosen.status.value if chosen.status is not None else None,
        kind=chosen.kind.value if chosen.kind is not None else None,
        customer_id=customer_id,
        today=ctx.access.today,
    )
    return await root_connection(
        asked,
        DataSubjectRequest,
        REQUEST_ORDER,
        conditions=conditions,
        statement=request_select(ctx.access.today),
    )


async def disclosures_page(asked: RootPage[strawberry.ID]) -> Connection[Disclosure]:
    """The register of disclosures to authorities and energy companies, newest first.

    (`asked.filter` is the `customerId` argument.)"""
    ctx = asked.context
    subject = None
    if asked.filter is not None:
        subject = parse_id(asked.filter, "Customer")
        if subject is None:
            return Connection.empty()

    def prepare(rows: list[Any]) -> list[Any]:
        shown = disclosure_rows(rows)
        log_disclosure_subjects(ctx, shown)
        return shown

    return await root_connection(
        asked,
        Disclosure,
        DISCLOSURE_ORDER,
        conditions=disclosure_filter_conditions(ctx.access.rows, customer_id=subject),
        statement=disclosure_select(),
        prepare=prepare,
        subject=None,
    )


@strawberry.type(description="Queries of the data-subject rights.")
class RightsQuery:
    data_subject_requests = root_connection_field(
        DataSubjectRequest, REQUEST_ORDER, requests_page, filter=DataSubjectRequestFilter
    )
    disclosures = root_connection_field(
        Disclosure,
        DISCLOSURE_ORDER,
        disclosures_page,
        filter=strawberry.ID,
        filter_name="customer_id",
        filter_description="Only disclosures about this customer.",
    )

    @strawberry.field(
        description="The access report of one person (GDPR Art. 15) for the roles allowed "
        "to produce it, against the person's open access request in the requests register; "
        "null when the customer is unknown or outside your scope."
    )
    async def data_subject_report(
        self,
        info: Info[RequestContext, Any],
        customer_id: Annotated[strawberry.ID, strawberry.argument(description="The customer.")],
        language: Annotated[
            str | None,
            strawberry.argument(description="fi or en (default: the customer's language)."),
        ] = None,
    ) -> DataSubjectReport | None:
        ctx = info.context
        require_report_allowed(ctx)
        subject = parse_id(customer_id, "Customer")
        if subject is None:
            return None
        document = await produce_report(ctx, subject, language)
        if document is None:
            return None
        row = {
            "id": str(subject),
            "customer_id": subject,
            "generated_at": datetime.fromisoformat(document["generatedAt"]),
            "language": document["language"],
            "content": document,
        }
        return build_one(DataSubjectReport, row, ctx, info, subject="customer_id")
