"""Safe YAML whose aliases cannot multiply the work of whoever reads the data.

An alias (``*a``) repeats everything its anchor (``&a``) holds without writing it
again, so a few hundred bytes of nested aliases stand for billions of values, and
any code that walks the data (an importer, a JSON encoder, the bounds checks) does
that much work. :class:`BoundedLoader` counts, as it composes, what every alias
stands for as if it were written out, and stops with :class:`AliasBoundError` once
the aliases of one :class:`AliasBudget` (a request: every document of every file it
sends) stand for more than :data:`MAX_ALIAS_NODES` nodes. Aliases within the bound
are read as usual (``<<: *defaults`` in Compose files, for instance); an alias of
a node it is inside of (a recursive structure, which no JSON can carry) is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import AliasEvent

#: The most YAML nodes (scalars, lists, mappings) the aliases of one request may
#: stand for, counted as if written out. Hand-written files repeat a few defaults a
#: few dozen times (a few thousand nodes); the bound is far above that, and keeps the
#: work a reader does within a small multiple of the text it was sent.
MAX_ALIAS_NODES = 100_000


@dataclass
class AliasBudget:
    """How many nodes the aliases of one request stood for so far, and the bound.

    Share one budget between the documents and files of a request, so the bound
    holds for the request, not only for each document.
    """

    limit: int = MAX_ALIAS_NODES
    used: int = 0


class AliasBoundError(yaml.MarkedYAMLError):
    """The aliases passed their bound, or one names a node it is inside of.

    ``problem`` says which; ``problem_mark`` is where the alias is.
    """


class BoundedLoader(yaml.SafeLoader):
    """:class:`yaml.SafeLoader` counting what its aliases stand for against a
    :class:`AliasBudget` (a budget of its own unless given one).

    Examples
    --------
    >>> bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\\n" + "".join(
    ...     f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\\n"
    ...     for p, n in zip("abcdefg", "bcdefgh"))
    >>> yaml.load(bomb, Loader=BoundedLoader)
    Traceback (most recent call last):
    ...
    servicegraph.model.yaml_bounds.AliasBoundError: ...
    >>> yaml.load("d: &d {image: web}\\nweb: *d\\napi: {<<: *d}", Loader=BoundedLoader)
    {'d': {'image': 'web'}, 'web': {'image': 'web'}, 'api': {'image': 'web'}}
    """

    def __init__(self, stream: str | bytes, budget: AliasBudget | None = None) -> None:
        super().__init__(stream)
        self.budget = budget if budget is not None else AliasBudget()
        # Nodes composed so far, each alias counted as what it stands for; an anchor's
        # weight is what its node added to that count (its own aliases included).
        self._composed = 0
        self._weights: dict[str, int] = {}

    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        self._weights = {}  # anchors are per document
        return node

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            self._count_alias(event)
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        start = self._composed
        self._composed += 1
        node = super().compose_node(parent, index)
        if event.anchor is not None:
            self._weights[event.anchor] = self._composed - start
        return node

    def _count_alias(self, event: AliasEvent) -> None:
        anchor = event.anchor
        mark: Any = event.start_mark
        weight = self._weights.get(anchor) if anchor is not None else None
        if weight is None:
            if anchor in self.anchors:  # defined, not yet complete: the alias is inside it
                raise AliasBoundError(
                    None, None, f"the alias *{anchor} is inside the node it names (a "
                    f"recursive structure): write it out instead", mark)
            return  # an undefined alias: the composer says so
        self._composed += weight
        self.budget.used += weight
        if self.budget.used > self.budget.limit:
            raise AliasBoundError(
                None, None, f"aliases stand for more than {self.budget.limit:,} YAML nodes "
                f"(each counts as everything its anchor holds, as if written out; at most "
                f"{self.budget.limit:,} per request): write the repeated parts out, or "
                f"send less", mark)


def load_all(text: str | bytes, loader: type[BoundedLoader] = BoundedLoader,
             budget: AliasBudget | None = None) -> Iterator[Any]:
    """The documents of ``text``, read by ``loader`` against ``budget``.

    >>> list(load_all("a: 1\\n---\\nb: *x"))
    Traceback (most recent call last):
    ...
    yaml.composer.ComposerError: found undefined alias 'x'
    ...
    """
    reader = loader(text, budget)
    try:
        while reader.check_data():  # type: ignore[no-untyped-call]
            yield reader.get_data()
    finally:
        reader.dispose()


def load(text: str | bytes, budget: AliasBudget | None = None) -> Any:
    """The one document of ``text`` (``None`` when empty), read against ``budget``.

    >>> load("nodes: [{id: a, kind: ci}]")
    {'nodes': [{'id': 'a', 'kind': 'ci'}]}
    """
    reader = BoundedLoader(text, budget)
    try:
        return reader.get_single_data()
    finally:
        reader.dispose()


def where(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """The line (1-based, when known) and the reason of a YAML error, in one line each.

    >>> try:
    ...     load("a: [1")
    ... except yaml.YAMLError as exc:
    ...     where(exc)
    (1, "expected ',' or ']', but got '<stream end>'")
    """
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc)
    return line, " ".join(str(reason).split())


__all__ = ["MAX_ALIAS_NODES", "AliasBoundError", "AliasBudget", "BoundedLoader", "load",
           "load_all", "where"]
