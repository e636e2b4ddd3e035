"""Mutations of the customers domain: create a customer and rectify their data, with history.

Every given input field is checked against `write` on its coordinate (Customer.email...);
the identity code is writable only where the policy grants it. Each change is kept in the
history with its previous values, who made it, when and why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from sqlalchemy import insert, select
from strawberry.types import Info

from server.customers.models import Customer as CustomerRow
from server.customers.models import CustomerKind
from server.customers.types import Customer, CustomerKindEnum, LanguageEnum
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.inputs import camel, given_fields
from server.graphql.loading import Row
from server.graphql.payloads import payload
from server.graphql.shaping import build_one
from server.operations.inputs import require_reason, text_input
from server.operations.writes import fetch_one, load_in_scope, require_write
from server.rights.history import (
    request_of_customer,
    update_with_history,
    write_with_history,
)
from server.rights.models import ChangeAction, ChangedType
from server.validators import (
    IdentifierError,
    validate_business_id,
    validate_country,
    validate_email,
    validate_hetu,
    validate_phone,
    validate_postal_code,
)

customer_table = CustomerRow.__table__  # type: ignore[attr-defined]
CONTROL_FIELDS = ("customer_id", "reason", "request_id")

TEXT_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "organisation_name": 200,
    "street_address": 200,
    "post_office": 100,
}
REQUIRED = frozenset({"street_address", "postal_code", "post_office"})
IDENTIFIERS: dict[str, Callable[[str], str]] = {
    "personal_identity_code": validate_hetu,
    "business_id": validate_business_id,
    "email": validate_email,
    "phone": validate_phone,
    "postal_code": validate_postal_code,
}


def _opt(description: str) -> Any:
    return strawberry.field(default=strawberry.UNSET, description=description)


@strawberry.input(description="A new customer: a person or an organisation.")
class CreateCustomerInput:
    kind: CustomerKindEnum = strawberry.field(description="Person or organisation.")  # type: ignore[valid-type]
    street_address: str = strawberry.field(description="Postal street address.")
    postal_code: str = strawberry.field(description="Postal code (5 digits).")
    post_office: str = strawberry.field(description="Post office (town).")
    first_name: str | None = _opt("First name(s) of a person.")
    last_name: str | None = _opt("Last name of a person (required for a person).")
    organisation_name: str | None = _opt("Name of an organisation (required for one).")
    personal_identity_code: str | None = _opt("Personal identity code of a person.")
    business_id: str | None = _opt("Business ID (Y-tunnus) of an organisation.")
    country: str | None = _opt("Country of the address, ISO 3166-1 alpha-2 (default FI).")
    email: str | None = _opt("E-mail address.")
    phone: str | None = _opt("Phone number (Finnish national or international form).")
    language: LanguageEnum | None = _opt("Language of service (default fi).")  # type: ignore[valid-type]
    reason: str | None = _opt("Why the customer is registered (order, contract...).")


@strawberry.input(
    description="Rectification of a customer's data: only the fields given change (null "
    "clears an optional one). A reason or a data-subject request is required."
)
class UpdateCustomerInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer to change.")
    first_name: str | None = _opt("First name(s) of a person.")
    last_name: str | None = _opt("Last name of a person.")
    organisation_name: str | None = _opt("Name of an organisation.")
    personal_identity_code: str | None = _opt(
        "Personal identity code; only roles the policy grants it to may change it."
    )
    business_id: str | None = _opt("Business ID (Y-tunnus) of an organisation.")
    street_address: str | None = _opt("Postal street address.")
    postal_code: str | None = _opt("Postal code (5 digits).")
    post_office: str | None = _opt("Post office (town).")
    country: str | None = _opt("Country of the address, ISO 3166-1 alpha-2.")
    email: str | None = _opt("E-mail address.")
    phone: str | None = _opt("Phone number.")
    language: LanguageEnum | None = _opt("Language of service.")  # type: ignore[valid-type]
    reason: str | None = _opt("Why the data changes (free text).")
    request_id: strawberry.ID | None = _opt("The customer's rectification request it answers.")


@strawberry.type(description="A customer after a change, and the history entry it left.")
class CustomerPayload:
    customer: Customer | None = strawberry.field(
        description="The customer as your role may see it after the change (null if the "
        "change took it out of your scope)."
    )
    change_id: strawberry.ID | None = strawberry.field(
        description="The entry in Customer.history (null when nothing changed)."
    )


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def validate_customer_values(values: Mapping[str, Any], *, prefix: str = "input") -> dict[str, Any]:
    """Canonical values for the given fields; BAD_USER_INPUT naming the first bad one."""
    clean: dict[str, Any] = {}
    for name, raw in values.items():
        field = f"{prefix}.{camel(name)}"
        value = _plain(raw)
        if name in IDENTIFIERS:
            if value is None or (isinstance(value, str) and not value.strip()):
                if name in REQUIRED:
                    raise UserInputError(f"{field} is required", field=field, reason="required")
                clean[name] = None
                continue
            try:
                clean[name] = IDENTIFIERS[name](value)
            except IdentifierError as exc:
                raise UserInputError(f"{field}: {exc}", field=field, reason=exc.reason) from None
        elif name in TEXT_LIMITS:
            clean[name] = text_input(
                value, field=field, max_length=TEXT_LIMITS[name], required=name in REQUIRED
            )
        elif name == "country":
            try:
                clean[name] = validate_country(value or "")
            except IdentifierError as exc:
                raise UserInputError(f"{field}: {exc}", field=field, reason=exc.reason) from None
        else:
            clean[name] = value
    return clean


def check_identity_matches_kind(merged: Mapping[str, Any], *, prefix: str = "input") -> None:
    if merged.get("kind") == CustomerKind.PERSON.value:
        if not merged.get("last_name"):
            raise UserInputError(
                "A person needs a last name", field=f"{prefix}.lastName", reason="required"
            )
        if merged.get("business_id"):
            raise UserInputError(
                "A person has no business ID", field=f"{prefix}.businessId", reason="not allowed"
            )
    else:
        if not merged.get("organisation_name"):
            raise UserInputError(
                "An organisation needs a name",
                field=f"{prefix}.organisationName",
                reason="required",
            )
        if merged.get("personal_identity_code"):
            raise UserInputError(
                "An organisation has no personal identity code",
                field=f"{prefix}.personalIdentityCode",
                reason="not allowed",
            )


async def check_identity_code_free(
    ctx: RequestContext, code: str | None, *, customer_id: uuid.UUID | None, prefix: str
) -> None:
    if not code:
        return
    statement = select(customer_table.c.id).where(customer_table.c.personal_identity_code == code)
    if customer_id is not None:
        statement = statement.where(customer_table.c.id != customer_id)
    if await ctx.session.scalar(statement) is not None:
        raise UserInputError(
            "This personal identity code is already registered to another customer",
            field=f"{prefix}.personalIdentityCode",
            reason="duplicate",
        )


async def create_customer(
    *, ctx: RequestContext, values: Mapping[str, Any], reason: str | None
) -> tuple[uuid.UUID, uuid.UUID | None]:
    """Insert a validated customer and its creation entry in the history."""
    customer_id = uuid.uuid4()
    await ctx.session.execute(insert(customer_table).values(id=customer_id, **values))
    change_id = await write_with_history(
        ctx,
        type_name="Customer",
        object_type=ChangedType.CUSTOMER,
        customer_id=customer_id,
        object_id=customer_id,
        action=ChangeAction.CREATE,
        old={},
        new=values,
        reason=reason,
    )
    return customer_id, change_id


async def update_customer(
    *,
    ctx: RequestContext,
    current: Row,
    values: Mapping[str, Any],
    reason: str | None,
    request_id: uuid.UUID | None,
) -> uuid.UUID | None:
    """Write the changed fields and keep the previous values in the history."""
    return await update_with_history(
        ctx,
        table=customer_table,
        type_name="Customer",
        object_type=ChangedType.CUSTOMER,
        current=current,
        customer_id=current["id"],
        values=values,
        reason=reason,
        request_id=request_id,
    )


async def customer_result(
    ctx: RequestContext, info: Info[RequestContext, Any], customer_id: uuid.UUID
) -> Customer | None:
    """The customer after the change, through the row scope and the field policy."""
    row = await fetch_one(
        ctx,
        select(customer_table).where(
            customer_table.c.id == customer_id, ctx.access.rows("Customer")
        ),
    )
    return build_one(Customer, row, ctx, info, through=("customer",), subject="id")


@strawberry.type(description="Customer mutations.")
class CustomerMutation:
    @strawberry.mutation(description="Register a new customer (a person or an organisation).")
    async def create_customer(
        self, info: Info[RequestContext, Any], input: CreateCustomerInput
    ) -> CustomerPayload:
        ctx = info.context
        sent = given_fields(input, exclude=("reason",))
        require_write(ctx, "Customer", sent)
        reason = (
            text_input(input.reason or None, field="input.reason", max_length=1000)
            or "customer registered"
        )
        values = validate_customer_values(sent)
        values["kind"] = _plain(input.kind)
        values.setdefault("country", "FI")
        if values.get("language") is None:
            values["language"] = "fi"
        check_identity_matches_kind(values)
        await check_identity_code_free(
            ctx, values.get("personal_identity_code"), customer_id=None, prefix="input"
        )
        customer_id, change_id = await create_customer(ctx=ctx, values=values, reason=reason)
        return payload(
            CustomerPayload,
            ctx,
            customer=await customer_result(ctx, info, customer_id),
            change_id=strawberry.ID(str(change_id)) if change_id else None,
        )

    @strawberry.mutation(
        description="Rectify a customer's contact, address or identification data; the "
        "previous values are kept in Customer.history with who, when and why."
    )
    async def update_customer(
        self, info: Info[RequestContext, Any], input: UpdateCustomerInput
    ) -> CustomerPayload:
        ctx = info.context
        sent = given_fields(input, exclude=CONTROL_FIELDS)
        require_write(ctx, "Customer", sent)
        if not sent:
            raise UserInputError("Nothing to change", field="input", reason="no fields given")
        request_given = input.request_id if input.request_id is not strawberry.UNSET else None
        reason_given = input.reason if input.reason is not strawberry.UNSET else None
        require_reason(reason_given, request_given)
        current = await load_in_scope(
            ctx, customer_table, "Customer", input.customer_id, field="input.customerId"
        )
        values = validate_customer_values(sent)
        check_identity_matches_kind({**current, **values})
        if "personal_identity_code" in values:
            await check_identity_code_free(
                ctx,
                values["personal_identity_code"],
                customer_id=current["id"],
                prefix="input",
            )
        request_id = await request_of_customer(
            ctx.session, request_given, current["id"], field="input.requestId"
        )
        change_id = await update_customer(
            ctx=ctx,
            current=current,
            values=values,
            reason=reason_given.strip() if reason_given else None,
            request_id=request_id,
        )
        return payload(
            CustomerPayload,
            ctx,
            customer=await customer_result(ctx, info, current["id"]),
            change_id=strawberry.ID(str(change_id)) if change_id else None,
        )
