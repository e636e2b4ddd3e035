"""Rules of the customers domain: register a customer and rectify their data, with history.

Every field given is checked against `write` on its coordinate (Customer.email...); the
identity code is writable only where the policy grants it. Each change is kept in the
history with its previous values, who made it, when and why.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from server.customers.loaders import customer_table
from server.customers.models import CustomerKind
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.loading import Row
from server.operations.inputs import FieldRules, identifier, text_input
from server.operations.writes import Writes, refuse_duplicate
from server.rights.models import ChangedType
from server.rights.rectification import Changed, Kept
from server.validators import (
    validate_business_id,
    validate_country,
    validate_email,
    validate_hetu,
    validate_phone,
    validate_postal_code,
)

DEFAULTS = {"country": "FI", "language": "fi"}  # written when not given

RULES = FieldRules(
    required=frozenset({"street_address", "postal_code", "post_office"}),
    text_limits={
        "first_name": 100,
        "last_name": 100,
        "organisation_name": 200,
        "street_address": 200,
        "post_office": 100,
    },
    identifiers={
        "personal_identity_code": validate_hetu,
        "business_id": validate_business_id,
        "email": validate_email,
        "phone": validate_phone,
        "postal_code": validate_postal_code,
    },
    checks={"country": lambda value, field: identifier(validate_country, value or "", field=field)},
    blank_is_null=True,
)


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
    ctx: RequestContext, code: str | None, *, customer_id: uuid.UUID | None
) -> None:
    message = "This personal identity code is already registered to another customer"
    column = customer_table.c.personal_identity_code
    field = "input.personalIdentityCode"
    await refuse_duplicate(ctx, column, code, message, row_id=customer_id, field=field)


async def create_customer(
    *, ctx: RequestContext, fields: Mapping[str, Any], reason: str | None
) -> Changed:
    """Register a new customer (a person or an organisation).

    Its creation is the first entry of its history."""
    Writes("Customer", (*fields, *(name for name in DEFAULTS if name not in fields))).check(ctx)
    reason = text_input(reason, field="input.reason", max_length=1000) or "customer registered"
    values = RULES.clean(fields)
    values.setdefault("country", DEFAULTS["country"])
    if values.get("language") is None:
        values["language"] = DEFAULTS["language"]
    check_identity_matches_kind(values)
    await check_identity_code_free(ctx, values.get("personal_identity_code"), customer_id=None)
    return await CUSTOMER.create(ctx, values, reason=reason)


async def _rectified_values(
    ctx: RequestContext, current: Row, sent: Mapping[str, Any]
) -> dict[str, Any]:
    values = RULES.clean(sent)
    check_identity_matches_kind({**current, **values})
    if "personal_identity_code" in values:
        code = values["personal_identity_code"]
        await check_identity_code_free(ctx, code, customer_id=current["id"])
    return values


CUSTOMER = Kept(ChangedType.CUSTOMER, customer_table, "id", "input.customerId", _rectified_values)


async def update_customer(*, ctx: RequestContext, customer_id: Any, **change: Any) -> Changed:
    """Rectify a customer's contact, address or identification data; the previous values are kept
    in Customer.history with who, when and why.

    `change`: the fields sent, and the reason or the data-subject request answered."""
    return await CUSTOMER.rectify(ctx, customer_id, **change)
