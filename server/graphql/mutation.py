"""A mutation field from a service function: argument parsing, one call, shaping.

    record_payment = mutation(service.record_payment, RecordPaymentInput, PaymentPayload)

The field's description is the first paragraph of the service function's docstring; its
one argument is `input`; the service function is called with the operation's context and
the input's fields by name (`arguments`), and what it returns is shaped into the payload
(`answer`; by default the payload's one object field built from the returned row).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from server.graphql.context import RequestContext
from server.graphql.inputs import camel, change_arguments, field_types, input_values
from server.graphql.payloads import optional_id, payload, payload_of
from server.graphql.shaping import build_one

Answer = Callable[[Info[RequestContext, Any], type[Any], Any], Any]


def mutation(
    run: Callable[..., Awaitable[Any]],
    input_type: type[Any],
    payload_type: type[Any],
    answer: Answer | None = None,
    *,
    arguments: Callable[[Any], dict[str, Any]] = input_values,
) -> Any:
    """The mutation field that runs the service function `run`."""
    shape = answer or object_answer()

    async def resolve(info: Info[RequestContext, Any], input: Any) -> Any:
        return shape(info, payload_type, await run(ctx=info.context, **arguments(input)))

    resolve.__annotations__ = {
        "info": Info[RequestContext, Any],
        "input": input_type,
        "return": payload_type,
    }
    return strawberry.mutation(resolver=resolve, description=description_of(run))


def change(
    run: Callable[..., Awaitable[Any]],
    input_type: type[Any],
    payload_type: type[Any],
    **options: Any,
) -> Any:
    """The mutation field of a change kept in the history (`change_arguments`,
    `change_answer`)."""
    return mutation(
        run, input_type, payload_type, change_answer(**options), arguments=change_arguments
    )


def description_of(run: Callable[..., Any]) -> str:
    """The first paragraph of a function's docstring, on one line."""
    first = inspect.cleandoc(run.__doc__ or "").split("\n\n")[0]
    return " ".join(first.split())


def object_answer(**options: Any) -> Answer:
    """A payload whose one object field is built from the row the service returned
    (`options` as `build_one` takes them)."""

    def answer(info: Info[RequestContext, Any], cls: type[Any], row: Any) -> Any:
        name, kind = _object_field(cls)
        return payload_of(info, cls, name, kind, row, **options)

    return answer


def change_answer(**options: Any) -> Answer:
    """A payload of an object after a change kept in the history: the object built from
    the row and the ID of the history entry (`changeId`)."""

    def answer(info: Info[RequestContext, Any], cls: type[Any], changed: Any) -> Any:
        name, kind = _object_field(cls)
        change_id = optional_id(changed.change_id)
        return payload_of(
            info, cls, name, kind, changed.row, values={"change_id": change_id}, **options
        )

    return answer


def objects_answer(**options: dict[str, Any]) -> Answer:
    """A payload of several objects, each built from the row of the same name in what the
    service returned (`options` by field name, as `build_one` takes them)."""

    def answer(info: Info[RequestContext, Any], cls: type[Any], rows: Any) -> Any:
        ctx = info.context
        built = {
            name: build_one(
                kind,
                getattr(rows, name),
                ctx,
                info,
                through=(camel(name),),
                **options.get(name, {}),
            )
            for name, kind in field_types(cls)
        }
        return payload(cls, ctx, **built)

    return answer


def _object_field(cls: type[Any]) -> tuple[str, type[Any]]:
    return field_types(cls)[0]
