"""`node(id:)` and `nodes(ids:)`: any object of the register by its global ID."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.globalid import Node, require_global_id
from server.graphql.shaping import build_one
from server.nodes.loaders import NodeKind, node_kind, node_loader

# The arguments of `node(id:)` and `nodes(ids:)`.
GlobalId = Annotated[strawberry.ID, strawberry.argument(description="A global ID.")]
GlobalIds = Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs.")]


def parsed_node_id(value: object, *, field: str) -> tuple[NodeKind, Any]:
    """The Node type and key a global ID names; BAD_USER_INPUT naming the argument when it
    is malformed or of no Node type."""
    type_name, text = require_global_id(value, field=field)
    kind = node_kind(type_name, field=field)
    try:
        return kind, kind.key(text)
    except ValueError as exc:
        raise UserInputError(
            f"{field} is not a global ID of this API", field=field, reason="not a global ID"
        ) from exc


async def load_node(info: Info[RequestContext, Any], kind: NodeKind, key: Any) -> Node | None:
    """The object, shaped by the policy and logged; None when unknown or not visible."""
    ctx = info.context
    row = await node_loader(ctx, kind).load(key)
    if row is None:
        return None
    rows = kind.prepare(ctx, [row]) if kind.prepare else [row]
    found: Node | None = build_one(
        kind.cls(), rows[0], ctx, info, subject="_subject", prospect="_prospect"
    )
    return found


@strawberry.type(description="Objects by their global IDs.")
class NodeQuery:
    @strawberry.field(
        description="Any object by its global ID; null when unknown or outside your scope, "
        "like the type's own look-up."
    )
    async def node(self, info: Info[RequestContext, Any], id: GlobalId) -> Node | None:
        kind, key = parsed_node_id(id, field="id")
        return await load_node(info, kind, key)

    @strawberry.field(
        description="Objects by their global IDs, in the order asked for (at most the "
        "configured page size); null for each one unknown or outside your scope."
    )
    async def nodes(self, info: Info[RequestContext, Any], ids: GlobalIds) -> list[Node | None]:
        maximum = info.context.settings.max_page_size
        if len(ids) > maximum:
            raise UserInputError(f"at most {maximum} ids", field="ids", reason="too many ids")
        parsed = [parsed_node_id(value, field=f"ids[{n}]") for n, value in enumerate(ids)]
        kinds: dict[str, tuple[NodeKind, list[Any]]] = {}
        for kind, key in parsed:
            kinds.setdefault(kind.type_name, (kind, []))[1].append(key)
        for kind, keys in kinds.values():  # one statement per type, one after the other
            await node_loader(info.context, kind).load_many(keys)
        return [await load_node(info, kind, key) for kind, key in parsed]
