"""What every importer shares: source files, a builder that remembers where each item
came from, YAML documents with their line numbers, addresses inside values, and the
bounds of what one import may describe.

Importers are pure: file names and texts in, a :class:`Imported` out (a graph, plus
where in the files each of its nodes and edges came from, so that a problem found
later, e.g. by the graph rules when the import is pushed, can still name the file and
line to fix).

Some importers make items the files only count (a Deployment's ``replicas: 3`` is
three CIs), so a few bytes could ask for millions of nodes. The count is bounded per
workload (:data:`MAX_REPLICAS`) and the whole import per request
(:data:`MAX_IMPORT_ITEMS`), both checked before any of those items is built; the
YAML aliases of an import are bounded as everywhere (see
:mod:`servicegraph.model.yaml_bounds`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from servicegraph.model.errors import Problem, ValidationError
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.kinds import Impact
from servicegraph.model.yaml_bounds import (
    AliasBoundError,
    AliasBudget,
    BoundedLoader,
    load_all,
    where,
)

#: The most replicas one workload (a Deployment, a StatefulSet, a Compose service) may
#: ask for: each becomes a CI of its own. Past a thousand, more replicas say nothing
#: more about impact (losing a few of a thousand stateless copies is the same answer),
#: while every one costs memory in every process and in the store.
MAX_REPLICAS = 1_000

#: The most nodes and dependencies one import may describe, replicas included: about
#: what the largest push body (16 MiB by default) carries, so that an import is never
#: a way to write more in one request than a push may.
MAX_IMPORT_ITEMS = 200_000


@dataclass(frozen=True)
class SourceFile:
    """One file to import: its name (as the user gave it) and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class Imported:
    """An import's graph and, for each node and edge in order, where it came from.

    ``notes`` tell what was left out on purpose (e.g. entity kinds with no place in
    the model), so that a quiet import is not mistaken for a complete one.
    """

    graph: GraphData
    node_origins: tuple[str, ...]
    edge_origins: tuple[str, ...]
    notes: tuple[str, ...] = ()
    #: Every inferred dependency with what it was inferred from (see :class:`Inference`).
    inferred: tuple[Inference, ...] = ()
    #: Addresses in the files that name nothing the files hold (see :class:`Unresolved`).
    unresolved: tuple[Unresolved, ...] = ()
    #: Workloads that need nothing the files show (a leaf, or calls the files hide).
    without_dependencies: tuple[str, ...] = ()

    def locate(self, problem: Problem) -> Problem:
        """``problem`` re-addressed to the file and line of the item it is about.

        Problems about the batch's ``nodes[i]`` or ``edges[i]`` (as the graph rules
        report them) get the origin of that item; others are returned unchanged.

        >>> from servicegraph.model.kinds import NodeKind
        >>> g = GraphData.of([Node("a", NodeKind.CI, "A")])
        >>> imp = Imported(g, ("hosts.csv line 2",), ())
        >>> str(imp.locate(Problem("nodes", 0, "'a'", "id", "duplicate id in batch")))
        "hosts.csv line 2 ('a'): id: duplicate id in batch"
        """
        origins = {"nodes": self.node_origins, "edges": self.edge_origins}.get(problem.section)
        if origins is None or problem.index is None or not 0 <= problem.index < len(origins):
            return problem
        return Problem(origins[problem.index], None, problem.item, problem.field,
                       problem.message)


def at_line(name: str, line: int | None, document: int | None = None) -> str:
    """The address of a place in a file, as problems and origins give it.

    >>> at_line("catalog-info.yaml", 12, 2)
    'catalog-info.yaml document 2 (line 12)'
    >>> at_line("nodes.csv", 4)
    'nodes.csv line 4'
    """
    if document is not None:
        return f"{name} document {document}" + (f" (line {line})" if line else "")
    return f"{name} line {line}" if line else name


@dataclass(frozen=True)
class Inference:
    """A dependency read from a value rather than stated: ``source`` needs ``target``
    because ``field`` at ``where`` says ``text``."""

    source: str
    target: str
    where: str
    field: str
    text: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form the import answer lists."""
        return {"from": self.source, "to": self.target, "where": self.where,
                "field": self.field, "text": self.text}


@dataclass(frozen=True)
class Unresolved:
    """An address in ``field`` of ``item`` at ``where`` whose ``host`` the files do not
    hold (a service outside them, a typo, or a name the importer cannot follow)."""

    item: str
    where: str
    field: str
    text: str
    host: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form the import answer lists."""
        return {"item": self.item, "where": self.where, "field": self.field,
                "text": self.text, "host": self.host}


#: Texts longer than this are cut in what an import answers (a ConfigMap may hold a
#: whole configuration file).
MAX_QUOTED = 200


def quoted(value: str) -> str:
    """``value`` cut to :data:`MAX_QUOTED` characters for an answer.

    >>> quoted("x" * 300)[-2:]
    'x…'
    """
    return value if len(value) <= MAX_QUOTED else value[:MAX_QUOTED - 1] + "…"


@dataclass
class Builder:
    """Collects nodes and edges with their origins, and the problems found on the way.

    A node id seen twice is a problem naming both places; an edge seen twice keeps
    its first form (two fields of a file may well say the same dependency).
    """

    nodes: dict[str, tuple[Node, str]] = field(default_factory=dict)
    edges: dict[tuple[str, str], tuple[Edge, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: What the YAML aliases of every file of this import stood for so far.
    aliases: AliasBudget = field(default_factory=AliasBudget)
    #: Items announced by :meth:`expect` before they are built.
    expected: int = 0
    inferred: list[Inference] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    without_dependencies: list[str] = field(default_factory=list)

    def problem(self, origin: str, item: str, field_name: str, message: str) -> None:
        """Record a problem at ``origin`` about ``item``."""
        self.problems.append(Problem(origin, None, item, field_name, message))

    def expect(self, origin: str, item: str, field_name: str, count: int) -> None:
        """Announce ``count`` items about to be built for ``item`` (a workload's node,
        its replicas and their edges); a problem at ``origin`` when the import then
        describes more than :data:`MAX_IMPORT_ITEMS` (the first time only)."""
        was = self.expected
        self.expected += count
        if was <= MAX_IMPORT_ITEMS < self.expected:
            self.problem(origin, item, field_name, _too_many(self.expected))

    def _room(self, origin: str, item: str) -> None:
        # What no importer announces (e.g. edges a selector matches) is counted as it is
        # built; past the bound, building stops.
        if len(self.nodes) + len(self.edges) >= MAX_IMPORT_ITEMS:
            self.problem(origin, item, "", _too_many(MAX_IMPORT_ITEMS + 1))
            raise ValidationError(self.problems)

    def node(self, node: Node, origin: str) -> None:
        """Add a node, unless its id is taken (a problem then)."""
        self._room(origin, repr(node.id))
        if node.id in self.nodes:
            self.problem(origin, repr(node.id), "id",
                         f"already defined at {self.nodes[node.id][1]}")
            return
        self.nodes[node.id] = (node, origin)

    def replace(self, node: Node) -> None:
        """Change a node already added (e.g. to record what was inferred about it)."""
        self.nodes[node.id] = (node, self.nodes[node.id][1])

    def edge(self, source: str, target: str, origin: str, *, group: str | None = None,
             impact: Impact = Impact.HARD) -> bool:
        """Add ``source`` needs ``target``; False when that pair was already there."""
        if (source, target) in self.edges or source == target:
            return False
        self._room(origin, f"{source} -> {target}")
        self.edges[(source, target)] = (Edge(source, target, group, impact), origin)
        return True

    def infer(self, source: str, target: str, where: str, field_name: str, value: str, *,
              why: str | None = None, group: str | None = None,
              impact: Impact = Impact.HARD) -> None:
        """Add ``source`` needs ``target``, inferred from ``value`` of ``field_name``:
        recorded in the source's ``properties.inferred_edges`` (as ``why``, by default the
        field) and in the import's :attr:`inferred` list."""
        if source == target or source not in self.nodes:
            return
        self.edge(source, target, where, group=group, impact=impact)
        self.replace(merge_inferred(self.nodes[source][0], target, why or field_name))
        self.inferred.append(Inference(source, target, where, field_name, quoted(value)))

    def unresolved_address(self, item: str, where: str, field_name: str, value: str,
                           host: str) -> None:
        """Record an address naming nothing the files hold."""
        self.unresolved.append(Unresolved(item, where, field_name, quoted(value), host))

    def result(self) -> Imported:
        """The import, or :class:`ValidationError` with every problem found."""
        if self.problems:
            raise ValidationError(self.problems)
        nodes = list(self.nodes.values())
        edges = list(self.edges.values())
        return Imported(GraphData(tuple(n for n, _ in nodes), tuple(e for e, _ in edges)),
                        tuple(o for _, o in nodes), tuple(o for _, o in edges),
                        tuple(self.notes), tuple(self.inferred), tuple(self.unresolved),
                        tuple(self.without_dependencies))


def _too_many(count: int) -> str:
    return (f"the import would describe more than {MAX_IMPORT_ITEMS:,} nodes and "
            f"dependencies ({count:,} so far), the most one import may: split the files "
            f"into several imports")


def replicas_of(value: Any, origin: str, item: str, field_name: str,
                builder: Builder) -> int | None:
    """``value`` as a number of replicas (``None``: 1), or ``None`` after recording a
    problem when it is not a whole number from 0 to :data:`MAX_REPLICAS`.

    >>> b = Builder()
    >>> replicas_of(3, "app.yaml", "'web'", "spec.replicas", b), b.problems
    (3, [])
    >>> replicas_of(10**6, "app.yaml", "'web'", "spec.replicas", b)
    >>> b.problems[0].message
    'at most 1,000 replicas per workload (each becomes a node), got 1,000,000'
    """
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        builder.problem(origin, item, field_name, f"must be a whole number, got {value!r}")
        return None
    if value > MAX_REPLICAS:
        builder.problem(origin, item, field_name,
                        f"at most {MAX_REPLICAS:,} replicas per workload (each becomes a "
                        f"node), got {value:,}")
        return None
    return value


class Located(dict[str, Any]):
    """A YAML mapping that knows the line it starts on (1-based)."""

    line: int = 0


class _Loader(BoundedLoader):
    """Safe YAML, aliases bounded, whose mappings carry their line numbers."""


def _mapping(loader: BoundedLoader, node: yaml.MappingNode) -> Located:
    out = Located({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def yaml_documents(file: SourceFile, builder: Builder) -> Iterator[tuple[int, Any]]:
    """The documents of a (multi-document) YAML file, numbered from 1.

    Empty documents are skipped; a syntax error becomes a problem naming the line,
    and ends the file; so do aliases past the bound of the builder's import (see
    :mod:`servicegraph.model.yaml_bounds`), the problem naming the document too.
    """
    number = 0
    try:
        for number, doc in enumerate(load_all(file.text, _Loader, builder.aliases),
                                     start=1):
            if doc is not None:
                yield number, doc
    except RecursionError:
        builder.problem(file.name, file.name, "", "not valid YAML: nested too deeply")
    except AliasBoundError as exc:
        line, reason = where(exc)
        builder.problem(at_line(file.name, line, number + 1), file.name, "", reason)
    except yaml.YAMLError as exc:
        line, reason = where(exc)
        builder.problem(at_line(file.name, line), file.name, "", f"not valid YAML: {reason}")


def line_of(value: Any) -> int | None:
    """The line a YAML mapping starts on, when known."""
    return value.line if isinstance(value, Located) and value.line else None


def text(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def strings(value: Any) -> list[str]:
    """A list of strings from a string or a list (other entries dropped)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [v for v in value if isinstance(v, str) and v]
    return []


_TOKEN = re.compile(r"[^\s,;\"'()\[\]{}]+")


def hosts_in(value: str) -> list[str]:
    """The host names a configuration value addresses, in order.

    Understands ``host``, ``host:port``, ``scheme://user@host:port/path`` and lists of
    them separated by commas, semicolons or spaces.

    >>> hosts_in("cartservice:7070")
    ['cartservice']
    >>> hosts_in("http://email:6060/send, redis://:pw@valkey-cart:6379/0")
    ['email', 'valkey-cart']
    """
    found: list[str] = []
    for token in _TOKEN.findall(value):
        rest = token.split("://", 1)[1] if "://" in token else token
        rest = rest.rsplit("@", 1)[-1]
        host = re.split(r"[:/?#]", rest, maxsplit=1)[0].lower()
        if host and re.fullmatch(r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?", host) and host not in found:
            found.append(host)
    return found


@dataclass(frozen=True)
class Address:
    """A host named in a value; ``explicit`` when it came with a scheme or a port (so it
    is surely an address, not a word that happens to be a name)."""

    host: str
    explicit: bool


_HOST = re.compile(r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?")
#: Hosts that are the caller itself or any interface: never a dependency.
LOCAL_HOSTS = frozenset({"localhost", "0.0.0.0", "127.0.0.1", "::", "::1"})


def addresses_in(value: str) -> list[Address]:
    """The addresses a value names, in order: ``host``, ``host:port``,
    ``scheme://user@host:port/path``, lists of them, and ``--flag=address``.

    >>> addresses_in("--backend-url=http://backend:9898/echo")
    [Address(host='backend', explicit=True)]
    >>> addresses_in("cache db:5432")
    [Address(host='cache', explicit=False), Address(host='db', explicit=True)]
    """
    found: dict[str, Address] = {}
    for token in _TOKEN.findall(value):
        if token.startswith("-") and "=" in token:
            token = token.split("=", 1)[1]
        scheme, sep, rest = token.partition("://")
        if not sep:
            rest = token
        rest = rest.rsplit("@", 1)[-1]
        host, _, after = rest.partition("/")[0].partition(":")
        host = host.lower()
        port = after.split("/", 1)[0]
        if not host or not _HOST.fullmatch(host) or re.fullmatch(r"[0-9.]+", host):
            continue
        explicit = bool(sep and scheme) or port.isdigit()
        if host not in found or (explicit and not found[host].explicit):
            found[host] = Address(host, explicit)
    return list(found.values())


def merge_inferred(node: Node, target: str, why: str) -> Node:
    """``node`` with ``why`` recorded for its inferred dependency on ``target``.

    The record lives in the node's ``properties["inferred_edges"]`` (target id ->
    the reasons, comma-separated), since dependencies carry no properties.
    """
    props = dict(node.properties)
    inferred: dict[str, str] = dict(props.get("inferred_edges") or {})
    reasons = [r for r in inferred.get(target, "").split(", ") if r]
    if why not in reasons:
        reasons.append(why)
    inferred[target] = ", ".join(reasons)
    props["inferred_edges"] = inferred
    return node.with_changes(properties=props)


def plain(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Properties without the empty entries."""
    return {k: v for k, v in properties.items() if v not in (None, "", [], {})}
