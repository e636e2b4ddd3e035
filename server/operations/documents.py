"""Parsed and validated documents, cached by their text (front ends send the same ones)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from graphql.error import GraphQLSyntaxError

from server.graphql.limits import LIMIT_RULES, MAX_TOKENS

CACHE_SIZE = 512


@dataclass(slots=True)
class PreparedDocument:
    """A document with its validation errors (empty when valid) and its parts."""

    key: str
    document: DocumentNode
    errors: list[GraphQLError]
    operations: list[OperationDefinitionNode] = field(default_factory=list)
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)
    keyed_hash: str | None = None  # the access log's keyed hash, computed once
    _kinds: dict[str | None, tuple[str | None, str | None]] = field(default_factory=dict)

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation to run: the one named, or the document's only one."""
        if name is None:
            return self.operations[0] if len(self.operations) == 1 else None
        for operation in self.operations:
            if operation.name is not None and operation.name.value == name:
                return operation
        return None

    def operation_of(self, name: str | None) -> tuple[str | None, str | None]:
        """(type, name) of the operation that would run, for the access log (computed
        once per name: every request's record and log line ask)."""
        found = self._kinds.get(name)
        if found is None:
            operation = self.operation(name)
            if operation is None:
                found = (None, name)
            else:
                found = (
                    operation.operation.value,
                    operation.name.value if operation.name else None,
                )
            self._kinds[name] = found
        return found


class DocumentCache:
    """Prepared documents by text: an LRU for ad-hoc ones, and the pinned registered
    (trusted) documents, which are never evicted."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.rules = [*specified_rules, *LIMIT_RULES]
        self._cache: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._pinned: dict[str, PreparedDocument] = {}

    def peek(self, query: str) -> PreparedDocument | None:
        return self._pinned.get(query) or self._cache.get(query)

    def pin(self, query: str) -> PreparedDocument:
        """Prepare a registered document once and keep it for as long as it is registered."""
        prepared = self._pinned.get(query) or self._cache.pop(query, None) or self._prepare(query)
        self._pinned[query] = prepared
        return prepared

    def unpin(self, query: str) -> None:
        self._pinned.pop(query, None)

    def prepare(self, query: str) -> PreparedDocument:
        prepared = self._pinned.get(query)
        if prepared is not None:
            return prepared
        prepared = self._cache.get(query)
        if prepared is not None:
            self._cache.move_to_end(query)
            return prepared
        prepared = self._prepare(query)
        self._cache[query] = prepared
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> PreparedDocument:
        key = hashlib.sha256(query.encode()).hexdigest()
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLSyntaxError as error:
            return PreparedDocument(key, DocumentNode(definitions=()), [error])
        errors = validate(self.schema, document, self.rules)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        return PreparedDocument(key, document, list(errors), operations, fragments)
