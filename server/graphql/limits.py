"""Query limits against abuse: depth, aliases, tokens, directives and cost.

Every limit is computed in time linear in the size of the document: each fragment is
measured once and its measure memoised, then counted once per use (a fragment spread
twice counts twice, without being walked twice). Fragment cycles are reported by
graphql-core's NoFragmentCycles rule; here a fragment met again while it is being
measured counts as empty, so no rule loops on them.

- depth, aliases and directives: one validation rule (`OperationLimitsRule`, a table of
  `OPERATION_LIMITS`) that measures each operation once, run with graphql-core's own rules;
- tokens: Strawberry's MaxTokensLimiter (the parser stops at the limit, linear);
- cost: `check_cost`, a function, since it needs the variables (page sizes, windows).

All refusals carry the code QUERY_TOO_COMPLEX and say which limit was exceeded and by how
much; they name nothing of the schema. README.md, section "Limits", documents the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from graphql import (
    ASTValidationRule,
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_operation_ast,
)
from graphql.pyutils import Undefined
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)

from server.graphql.errors import ErrorCode

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
MAX_DIRECTIVES = 20

# Cost: graphql-armor's weights (object 2, scalar 1, each level 1.5 times its parent),
# multiplied by how many items a list can return; a connection's edges and node add no level
# of their own, and nested connections multiply. The limit is higher than graphql-armor's
# 5,000 because armor does not multiply by page sizes: the reference page (bench/q3.py:
# 100 customers with at most 10 sites, 10 contracts and 20 invoices each) costs about
# 510,000 here, a month of quarter hours for 20 sites about 260,000, a year of days for one
# site about 160,000; the reference page without nested `first` (20 of each) is refused.
MAX_COST = 1_000_000
OBJECT_COST = 2.0
SCALAR_COST = 1.0
DEPTH_FACTOR = 1.5
LIST_SIZE = 5  # assumed items of a list without paging (an invoice's lines)
# Connection and edge types only wrap what they page: their fields add no level of their own.
WRAPPERS = ("Connection", "Edge")

# Steps of Site.consumption per resolution; must agree with server/sites/types.py.
CONSUMPTION_STEPS: Mapping[str, timedelta] = {
    "QUARTER_HOUR": timedelta(minutes=15),
    "HOUR": timedelta(hours=1),
    "DAY": timedelta(days=1),
    "MONTH": timedelta(days=28),
}
CONSUMPTION_DEFAULT_RESOLUTION = "DAY"
MAX_CONSUMPTION_POINTS = 40_000


def limit_error(message: str, node: Any = None) -> GraphQLError:
    """A refusal for a document over one of the limits (its message names the limit)."""
    return GraphQLError(message, node, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value})


# --------------------------------------------------------------------------------------
# Depth, aliases and directives: one linear pass, fragments memoised
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measure:
    """Depth (root fields are 0, introspection fields not counted), and aliases and
    directives counted once per use of the fragments that hold them."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.directives + other.directives,
        )


EMPTY = Measure()
MeasureT = TypeVar("MeasureT")


class FragmentMemo(Generic[MeasureT]):
    """The fragments of one document, each measured once by `measure` and then remembered.
    A fragment the document does not define (KnownFragmentNames refuses it) or one met again
    while it is being measured (a cycle: NoFragmentCycles refuses it) counts as `empty`, so
    no walk loops."""

    def __init__(
        self,
        document: DocumentNode,
        measure: Callable[[FragmentDefinitionNode], MeasureT],
        empty: MeasureT,
    ) -> None:
        self._definitions = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._measure = measure
        self._empty = empty
        self._memo: dict[str, MeasureT] = {}
        self._active: set[str] = set()

    def __call__(self, name: str) -> MeasureT:
        known = self._memo.get(name)
        if known is not None:
            return known
        definition = self._definitions.get(name)
        if definition is None or name in self._active:
            return self._empty
        self._active.add(name)
        try:
            measured = self._measure(definition)
        finally:
            self._active.discard(name)
        self._memo[name] = measured
        return measured


class DocumentMeasure:
    """Measures the operations of one document; each fragment is walked once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragment = FragmentMemo(document, self.operation, EMPTY)

    def operation(self, operation: OperationDefinitionNode | FragmentDefinitionNode) -> Measure:
        """The measure of an operation, or of a fragment's own selections."""
        own = Measure(directives=len(operation.directives or ()))
        return own + self._selection_set(operation.selection_set)

    def _selection_set(self, selection_set: SelectionSetNode | None) -> Measure:
        total = EMPTY
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            directives = len(selection.directives or ())
            if isinstance(selection, FieldNode):
                inner = self._selection_set(selection.selection_set)
                counted = (
                    selection.selection_set is not None
                    and not selection.name.value.startswith("__")
                )
                total = total + Measure(
                    inner.depth + 1 if counted else 0,
                    inner.aliases + (1 if selection.alias is not None else 0),
                    inner.directives + directives,
                )
            elif isinstance(selection, InlineFragmentNode):
                total = (
                    total
                    + Measure(directives=directives)
                    + self._selection_set(selection.selection_set)
                )
            elif isinstance(selection, FragmentSpreadNode):
                total = total + Measure(directives=directives) + self.fragment(selection.name.value)
        return total


def _operation_label(operation: OperationDefinitionNode) -> str:
    return f"Operation '{operation.name.value}'" if operation.name else "The operation"


@dataclass(frozen=True, slots=True)
class OperationLimit:
    """A limit on one part of an operation's measure, and how a refusal says what it found."""

    measure: str
    limit: int
    found: str


OPERATION_LIMITS: tuple[OperationLimit, ...] = (
    OperationLimit("depth", MAX_DEPTH, "has depth {}"),
    OperationLimit("aliases", MAX_ALIASES, "uses {} aliases"),
    # Directive overloading: directives in fragments count once per use of the fragment.
    OperationLimit("directives", MAX_DIRECTIVES, "uses {} directives"),
)


class OperationLimitsRule(ASTValidationRule):
    """Measures every operation of the document once, when the document is entered, and
    refuses it for each limit it exceeds."""

    def enter_document(self, node: DocumentNode, *_: Any) -> None:
        measure = DocumentMeasure(node)
        for definition in node.definitions:
            if isinstance(definition, OperationDefinitionNode):
                try:
                    result = measure.operation(definition)
                except RecursionError:
                    self.report_error(limit_error("The query is nested too deeply.", definition))
                    continue
                self._check(definition, result)

    def _check(self, operation: OperationDefinitionNode, measure: Measure) -> None:
        for limit in OPERATION_LIMITS:
            found: int = getattr(measure, limit.measure)
            if found > limit.limit:
                said = f"{_operation_label(operation)} {limit.found.format(found)}"
                self.report_error(limit_error(f"{said}; the limit is {limit.limit}.", operation))


LIMIT_RULES: tuple[type[ASTValidationRule], ...] = (OperationLimitsRule,)


def schema_extensions() -> list[Callable[[], SchemaExtension]]:
    """Factories, so that every request gets fresh extension instances."""
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(list(LIMIT_RULES)),
        # Front ends send the same documents again and again: parse and validate once.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]


# --------------------------------------------------------------------------------------
# Cost
# --------------------------------------------------------------------------------------


class PageSettings(Protocol):
    @property
    def default_page_size(self) -> int: ...

    @property
    def max_page_size(self) -> int: ...


def unwrap_type(graphql_type: Any) -> tuple[Any, bool]:
    """The named type, and whether a list lies on the way to it."""
    is_list = False
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        if isinstance(graphql_type, GraphQLList):
            is_list = True
        graphql_type = graphql_type.of_type
    return graphql_type, is_list


class _Cost:
    """Cost of one operation. A selection set's cost at depth d is DEPTH_FACTOR**d times its
    cost at depth 0, so each fragment's cost is computed once (at depth 0, per type) and
    scaled where it is used."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        settings: PageSettings,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.settings = settings
        self.fragment = FragmentMemo(document, self._fragment, 0.0)

    def selection_set(self, selection_set: SelectionSetNode | None, parent: Any) -> float:
        """Cost at depth 0 of a selection set on `parent` (a named type)."""
        if selection_set is None:
            return 0.0
        total = 0.0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, inner or parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def _fragment(self, definition: FragmentDefinitionNode) -> float:
        parent = self.schema.get_type(definition.type_condition.name.value)
        return self.selection_set(definition.selection_set, parent)

    def field(self, node: FieldNode, parent: Any) -> float:
        name = node.name.value
        if name.startswith("__"):
            return SCALAR_COST  # introspection has its own switch and is small
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return SCALAR_COST
        definition = parent.fields.get(name)
        if definition is None:
            return SCALAR_COST  # validation refuses unknown fields
        named, is_list = unwrap_type(definition.type)
        if node.selection_set is None:
            return SCALAR_COST
        children = self.selection_set(node.selection_set, named)
        if parent.name.endswith(WRAPPERS):
            return children  # edges, node, pageInfo: the connection paid for its page
        items = self.items(node, parent, definition, named, is_list)
        return OBJECT_COST + DEPTH_FACTOR * items * children

    def items(
        self,
        node: FieldNode,
        parent: GraphQLObjectType | GraphQLInterfaceType,
        definition: GraphQLField,
        named: GraphQLNamedType,
        is_list: bool,
    ) -> float:
        """How many objects the field can return: its children are paid that many times."""
        arguments = self.arguments(node, definition)
        if parent.name == "Site" and node.name.value == "consumption":
            return float(self.consumption_steps(arguments))
        if named.name.endswith("Connection"):
            last = arguments.get("last")
            return float(self.page_size(arguments.get("first") if last is None else last))
        if is_list:
            ids = arguments.get("ids")
            if isinstance(ids, list):
                return float(len(ids))  # nodes(ids:): one object per ID
            first = arguments.get("first")
            if isinstance(first, int) and not isinstance(first, bool) and first >= 0:
                return float(min(first, LIST_SIZE * 100))
            return float(LIST_SIZE)
        return 1.0

    def page_size(self, first: Any) -> int:
        if isinstance(first, int) and not isinstance(first, bool):
            return max(0, min(first, self.settings.max_page_size))
        return self.settings.default_page_size

    def consumption_steps(self, arguments: Mapping[str, Any]) -> int:
        resolution = arguments.get("resolution") or CONSUMPTION_DEFAULT_RESOLUTION
        step = CONSUMPTION_STEPS.get(str(resolution), CONSUMPTION_STEPS["QUARTER_HOUR"])
        start, end = _moment(arguments.get("from")), _moment(arguments.get("to"))
        if start is None or end is None:
            return 1  # the resolver refuses a missing or malformed window
        if end <= start:
            return 1
        steps = math.ceil((end - start) / step)
        return max(1, min(steps, MAX_CONSUMPTION_POINTS))

    def arguments(self, node: FieldNode, definition: GraphQLField) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, argument in definition.args.items():
            default = argument.default_value
            if default is not None and not _is_undefined(default):
                values[name] = default
        for argument_node in node.arguments or ():
            values[argument_node.name.value] = self.value(argument_node.value)
        return values

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            try:
                return int(node.value)
            except ValueError:
                return None
        if isinstance(node, StringValueNode | EnumValueNode):
            return node.value
        if isinstance(node, FloatValueNode):
            return float(node.value)
        if isinstance(node, BooleanValueNode):
            return node.value
        if isinstance(node, NullValueNode):
            return None
        if isinstance(node, ListValueNode):
            return [self.value(item) for item in node.values]
        return None  # objects play no part in the cost


def _is_undefined(value: Any) -> bool:
    return value is Undefined


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _variable_values(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None, cost: _Cost
) -> dict[str, Any]:
    """The request's variables over the operation's defaults."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            values[definition.variable.name.value] = cost.value(definition.default_value)
    values.update(variables or {})
    return values


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    settings: PageSettings,
) -> float | None:
    """The cost of the operation that would run (None when no operation would)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    cost = _Cost(schema, document, {}, settings)
    cost.variables = _variable_values(operation, variables, cost)
    try:
        return cost.selection_set(operation.selection_set, root)
    except RecursionError:
        return math.inf


def check_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    settings: PageSettings,
) -> GraphQLError | None:
    """A refusal when the operation to run costs more than MAX_COST, else None.

    Computed from the document before execution, in time linear in its size. Documents
    that are invalid in other ways are left to validation (None)."""
    cost = operation_cost(schema, document, operation_name, variables, settings=settings)
    if cost is None or cost <= MAX_COST:
        return None
    shown = f"{cost:,.0f}" if cost < 1e15 else "more than 10^15"
    return limit_error(
        f"The query is too complex: its cost is {shown} and the limit is {MAX_COST:,}. "
        "Ask for fewer items per page, fewer fields or shorter consumption windows.",
    )
