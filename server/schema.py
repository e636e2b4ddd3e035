"""The root schema: it merges the domains' query types and registers their row scopes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLScalarType, get_named_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import merge_types

from server.audit import scopes as audit_scopes
from server.audit.queries import AccessLogQuery
from server.authz.policy import Catalogue
from server.billing import scopes as billing_scopes
from server.billing.mutations import BillingMutation
from server.billing.queries import BillingQuery
from server.contracts import scopes as contract_scopes
from server.contracts.mutations import ContractMutation
from server.contracts.queries import CatalogueQuery, ContractQuery
from server.customers import scopes as customer_scopes
from server.customers.mutations import CustomerMutation
from server.customers.queries import CustomerQuery
from server.graphql.errors import SCALAR_OVERRIDES, QuietSchema, guard_inputs
from server.graphql.fields import PERSONAL_DATA
from server.graphql.limits import schema_extensions
from server.identity.queries import MeQuery
from server.nodes.queries import NodeQuery
from server.organisations.mutations import AssignmentMutation
from server.prospects import scopes as prospect_scopes
from server.prospects.mutations import ProspectMutation
from server.prospects.queries import ProspectQuery
from server.rights import scopes as rights_scopes
from server.rights.mutations import RightsMutation
from server.rights.queries import RightsQuery
from server.sites import scopes as site_scopes
from server.sites.mutations import SiteMutation
from server.sites.queries import SiteQuery

QUERY_TYPES: tuple[type, ...] = (
    CustomerQuery,
    SiteQuery,
    ContractQuery,
    CatalogueQuery,
    BillingQuery,
    ProspectQuery,
    RightsQuery,
    MeQuery,
    AccessLogQuery,
    NodeQuery,
)

MUTATION_TYPES: tuple[type, ...] = (
    CustomerMutation,
    SiteMutation,
    ContractMutation,
    BillingMutation,
    AssignmentMutation,
    ProspectMutation,
    RightsMutation,
)

# Each domain registers the row scopes and filters of its types (server/<domain>/scopes.py),
# here, before any policy is loaded; the console lists the scoped types in this order.
ROW_SCOPE_REGISTRATIONS: tuple[Callable[[], None], ...] = (
    customer_scopes.register,
    site_scopes.register,
    contract_scopes.register,
    billing_scopes.register,
    prospect_scopes.register,
    audit_scopes.register,
    rights_scopes.register,
)
for register_row_scopes in ROW_SCOPE_REGISTRATIONS:
    register_row_scopes()

# Types that carry no register data of their own: paging, roots, the caller's own identity,
# the Node interface (only `id`).
UNPOLICED_SUFFIXES = ("Connection", "Edge")
UNPOLICED_TYPES = frozenset({"Query", "Mutation", "PageInfo", "Me", "Node"})


class SerialRootExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Root fields of a query run one after the other, as those of a mutation do: they
    share the request's database session, which allows one statement at a time. Within a
    root field, lists are still loaded in batches."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        return super().execute_operation(serially=True)


def build_schema() -> strawberry.Schema:
    query = merge_types("Query", QUERY_TYPES)
    query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
        "Reads of the customer register. Every field answers only within your role, purpose "
        "and row scope; denied fields are null with a FORBIDDEN error."
    )
    mutation = merge_types("Mutation", MUTATION_TYPES)
    mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
        "Changes to the register. Each runs in one transaction and writes nothing when any "
        "part fails; every input field needs `write` on its coordinate for your purpose."
    )
    built = QuietSchema(
        query=query,
        mutation=mutation,
        config=strawberry.schema.config.StrawberryConfig(disable_field_suggestions=True),
        extensions=schema_extensions(),
        scalar_overrides=SCALAR_OVERRIDES,
        execution_context_class=SerialRootExecutionContext,
    )
    guard_inputs(built._schema)  # text checks on every input object (errors.py)
    return built


@functools.cache
def schema() -> strawberry.Schema:
    return build_schema()


def export_sdl() -> str:
    return schema().as_str() + "\n"


def is_policed(type_name: str) -> bool:
    return not (
        type_name.startswith("__")
        or type_name in UNPOLICED_TYPES
        or type_name.endswith(UNPOLICED_SUFFIXES)
    )


@functools.cache
def catalogue() -> Catalogue:
    """Every policed coordinate of the schema (the `id` fields are structural, not policed)."""
    fields: dict[str, frozenset[str]] = {}
    personal: set[str] = set()
    strings: set[str] = set()
    graphql_schema = schema()._schema
    for name, graphql_type in graphql_schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or not is_policed(name):
            continue
        names = {field_name for field_name in graphql_type.fields if field_name != "id"}
        fields[name] = frozenset(names)
        for field_name in names:
            field = graphql_type.fields[field_name]
            coordinate = f"{name}.{field_name}"
            inner = get_named_type(field.type)
            if isinstance(inner, GraphQLScalarType) and inner.name == "String":
                strings.add(coordinate)
    definition_fields = _personal_fields()
    personal.update(definition_fields)
    return Catalogue(fields, frozenset(personal), frozenset(strings))


def _personal_fields() -> set[str]:
    """Coordinates whose Strawberry field is marked as personal data."""
    found: set[str] = set()
    for graphql_type in schema()._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            strawberry_field = (
                field.extensions.get("strawberry-definition") if field.extensions else None
            )
            metadata = getattr(strawberry_field, "metadata", None) or {}
            if metadata.get(PERSONAL_DATA):
                found.add(f"{graphql_type.name}.{field_name}")
    return found
