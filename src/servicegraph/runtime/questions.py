"""Every question the service graph answers, for the HTTP API and the command line alike.

Each question is answered from the process's live graph (held under its read lock
for the time of the answer) or, for the heavier questions, from a frozen copy of
its index taken once per change of the graph's structure. Answers are the JSON
documents the API sends, so that a command run on a store prints exactly what the
same command asks of a server.

Before answering, the live graph catches up with the store once per question
(:data:`ASKED_AT`); while the store does not answer, questions are answered from
memory and :meth:`Questions.freshness` says so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from servicegraph.formats import INTERCHANGE, ExportFormat
from servicegraph.impact.acknowledged import acknowledged_marks, nothing_acknowledged
from servicegraph.impact.analysis import ImpactResult, analyse, scenario
from servicegraph.impact.change import PlannedChange, assess_changes
from servicegraph.impact.index import GraphIndex
from servicegraph.impact.planned import nothing_planned, planned_marks
from servicegraph.impact.rootcause import COMPONENTS, root_cause_candidates
from servicegraph.impact.spof_cache import SpofAnswer, SpofCache, SpofResult
from servicegraph.impact.spof_file import SpofFile
from servicegraph.impact.spof_table import COMPONENT_KINDS, SinglePoint
from servicegraph.live.plan import dangling_view
from servicegraph.live.replica import Replica
from servicegraph.live.state import LiveGraph
from servicegraph.model.alert_mapping import AlertMapping, rules_of
from servicegraph.model.alerts import Alert, Status
from servicegraph.model.errors import UnknownNodeError
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.interchange import dumps
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.maintenance import Window
from servicegraph.model.record import Columns
from servicegraph.model.times import iso
from servicegraph.runtime.feed import PromiseChange, promise_states
from servicegraph.runtime.travel import admitted, answer_at, moment_of, now_utc, travel_moment
from servicegraph.store.base import GraphStore, RecordStore, StoreUnavailable
from servicegraph.views.catalogue import (
    Links,
    promise_catalogue,
    service_act_catalogue,
    service_system_catalogue,
    silo_matrix,
)
from servicegraph.views.export import EXPORTS
from servicegraph.views.neighbourhood import Subgraph, neighbourhood

#: When the question being answered was asked (monotonic seconds), if known: reads
#: look at the store once per question, not once per step of its answer.
ASKED_AT: ContextVar[float | None] = ContextVar("servicegraph_asked_at", default=None)



class AnswerMark:
    """Where a question notes the freshness it answered at (see :data:`ANSWERED`)."""

    def __init__(self) -> None:
        self.freshness: Freshness | None = None
        #: The version a write of the request committed (the answer names at least it).
        self.written: int | None = None


#: Set by whoever serves a request (the API's middleware) to learn the version and
#: staleness its answer was read at: headers written when the answer starts must not
#: name a newer version than its body.
ANSWERED: ContextVar[AnswerMark | None] = ContextVar("servicegraph_answered", default=None)

#: The catalogues, by the names the API and the command line give them.
CATALOGUES: dict[str, Callable[[GraphData | Links], list[dict[str, Any]]]] = {
    "promises": promise_catalogue,
    "service-systems": service_system_catalogue,
    "service-acts": service_act_catalogue,
}
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Freshness:
    """How current an answer is: the version it reflects, and whether the store
    could be asked (``stale`` when it could not: the answer is what was known)."""

    version: int
    stale: bool
    stale_since: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"version": self.version, "stale": self.stale,
                "stale_since": self.stale_since, "reason": self.reason}


class SpofPending(Exception):
    """No single points of failure are computed yet for the graph asked about: ask
    again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__("the single points of failure are being computed; ask again in "
                         f"{retry_after} s")


@dataclass(frozen=True)
class SpofPage:
    """A page of single points of failure and the table it was read from."""

    body: dict[str, Any]
    #: Whether the table was computed on the graph's present dependencies.
    current: bool
    #: When not current: seconds until a current one is likely.
    retry_after: int


class _Kept:
    """One value per key, replaced when the key changes (a version, a structure)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: object = None
        self._value: object = None

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if self._key == key:
                return self._value  # type: ignore[return-value]
        value = make()
        with self._lock:
            self._key, self._value = key, value
        return value


class Questions:
    """The questions, answered from the live graph of one process.

    Parameters
    ----------
    store : GraphStore
        The store of record (read for provenance, claims and health).
    replica : Replica
        The live graph of this process.
    record_days : float
        How far back the promise record reaches (time travel before it is refused).
    max_skew : float
        Seconds after the server's clock a time-travel moment may lie.
    """

    def __init__(self, store: GraphStore, replica: Replica, *, record_days: float = 400.0,
                 max_skew: float = 300.0) -> None:
        self.store = store
        self.replica = replica
        self.record_days = record_days
        self.max_skew = max_skew
        self._whole = _Kept()
        self._frozen = _Kept()
        self._current = _Kept()
        self._spof = SpofCache(self.reading)

    # --- the live graph at hand -----------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[LiveGraph]:
        """The live graph, current as far as the store answers, unchanged while held.

        It includes every change committed before the question was asked
        (:data:`ASKED_AT`, or now), unless the store does not answer: then it is what
        this process knew, and :meth:`freshness` says so.
        """
        self.replica.refresh(since=ASKED_AT.get())
        with self.replica.reading() as graph:
            mark = ANSWERED.get()
            if mark is not None:
                mark.freshness = self.freshness()
            yield graph

    def freshness(self) -> Freshness:
        """How current the answers are, without asking the store."""
        since = self.replica.stale_since
        return Freshness(self.replica.version, since is not None,
                         None if since is None else
                         iso(datetime.fromtimestamp(since, UTC)), self.replica.stale_reason)

    def ping(self) -> None:
        """Raise unless the store answers now."""
        self.store.ping()

    def whole_graph(self) -> GraphData:
        """The whole stored graph as model objects (retired items included, claims left
        out: see :meth:`provenance`), built once per change of nodes or edges: for the
        views that need all of it (the whole-graph exports)."""
        with self.reading() as live:
            return self._whole.get(live.index.key, live.graph)

    def index(self) -> GraphIndex:
        """A frozen copy of the impact index, built once per change of the graph's
        structure, safe to use for as long as wanted (the heavier questions run on it)."""
        with self.reading() as live:
            return self._frozen.get(live.index.key, live.index.snapshot)

    # --- nodes and edges ------------------------------------------------------------------

    def node(self, node_id: str) -> Node:
        """One node, retired or not (without its claims); raises :class:`UnknownNodeError`."""
        with self.reading() as live:
            node = live.node(node_id)
        if node is None:
            raise UnknownNodeError([node_id])
        return node

    def has_node(self, node_id: str) -> bool:
        """Whether a node of that id is stored (retired or not)."""
        with self.reading() as live:
            return node_id in live

    def has_edge(self, dependant: str, dependency: str) -> bool:
        """Whether the edge ``dependant -> dependency`` is stored (retired or not)."""
        with self.reading() as live:
            return bool(live.edge_numbers(dependant, dependency))

    def node_page(self, *, kind: NodeKind | None = None, query: str | None = None,
                  limit: int = 100, offset: int = 0) -> tuple[list[Node], int]:
        """A page of the stored nodes (of ``kind``, matching ``query`` in id or name), in
        id order (exact matches first), and how many match."""
        with self.reading() as live:
            found = live.find_nodes(kind, query)
            return [live.node_at(v) for v in found[offset:offset + limit]], len(found)

    def edge_page(self, *, dependant: str | None = None, dependency: str | None = None,
                  limit: int = 1000, offset: int = 0
                  ) -> tuple[list[tuple[Edge, bool]], int]:
        """A page of the stored edges (from ``dependant``, to ``dependency``) ordered by
        (from, to), each with whether it is dangling (touches a retired node), and how
        many match. Provenance is read from the store for the page; while the store
        does not answer the edges come without it."""
        with self.reading() as live:
            found = live.ordered_edges(live.edge_numbers(dependant, dependency))
            page = found[offset:offset + limit]
            dangling = set(live.dangling(page))
            edges = [(live.edge_at(e), e in dangling) for e in page]
        try:
            stored = self.store.fetch([], [e.key for e, _ in edges]).edges
            claims = {e.key: e.claims for e in stored}
        except StoreUnavailable:
            claims = {}
        return [(edge.with_claims(claims.get(edge.key, ())), d) for edge, d in edges], len(found)

    def neighbourhood(self, node_id: str, *, direction: str = "both", depth: int = 2,
                      limit: int = 500) -> Subgraph:
        """The live graph within ``depth`` hops of ``node_id`` (see
        :func:`~servicegraph.views.neighbourhood.neighbourhood`), walked on the live
        graph: it costs what it reaches."""
        with self.reading() as live:
            return neighbourhood(live.neighbours(), node_id, direction=direction,
                                 depth=depth, limit=limit)

    def provenance(self, node_id: str) -> dict[str, Any]:
        """Who says what about a node, and since when (read from the store)."""
        found = self.store.fetch([node_id], []).nodes
        if not found:
            raise UnknownNodeError([node_id])
        node = found[0]
        return {"id": node.id, "retired_at": node.retired_at,
                "claims": [c.to_dict() for c in node.claims],
                "observed": node.observed.to_dict() if node.observed else None}

    def dangling(self) -> list[dict[str, Any]]:
        """Every live dependency on a retired node: what one source stopped asserting
        and another still needs. Impact keeps flowing through them."""
        with self.reading() as live:
            return dangling_view(live, live.dangling())

    # --- impact ---------------------------------------------------------------------------

    def impact(self, down: Sequence[str] = (), degraded: Sequence[str] = (),
               **size: Any) -> dict[str, Any]:
        """What breaks if ``down`` fail and ``degraded`` degrade (a what-if), sized by
        ``size`` (see :meth:`~servicegraph.impact.ImpactResult.answer`; the whole
        answer by default), computed on the live index. Its ``alerts`` is empty: the
        failures are supposed, not observed (the answer has the shape of
        :meth:`current`'s)."""
        with self.reading() as live:
            result = analyse(live.index, scenario(down, degraded))
            return {**result.answer(**size), "alerts": {},
                    "planned": nothing_planned(), "acknowledged": nothing_acknowledged(),
                    "as_of": self.freshness().to_dict()}

    def explain(self, node_id: str, down: Sequence[str] = (), degraded: Sequence[str] = ()
                ) -> dict[str, Any]:
        """One node's explanation under a what-if (state ``ok``, no causes, when the
        scenario leaves it alone), with its whole chain."""
        with self.reading() as live:
            return _explained(node_id, analyse(live.index, scenario(down, degraded)))

    def current(self, **size: Any) -> dict[str, Any]:
        """The impact of the states integrators observed, sized by ``size`` like
        :meth:`impact`, with the firing alerts behind each failed component of the
        page of impacted nodes (``alerts``)."""
        with self.reading() as live:
            result = self.current_on(live)
            answer = result.answer(**size)
            return {**answer, "alerts": alerts_behind(live, answer.get("impacted", {})),
                    **self._marks(live, result), "as_of": self.freshness().to_dict()}

    def marked(self, live: LiveGraph, result: ImpactResult,
               changes: list[PromiseChange]) -> list[PromiseChange]:
        """``changes`` of the current impact ``result`` with their planned and
        acknowledged marks, as :meth:`current` gives them."""
        marks = self._marks(live, result)
        planned, acked = (set(marks[k]["promises"]) for k in ("planned", "acknowledged"))
        return [replace(c, planned=c.promise in planned, acknowledged=c.promise in acked)
                for c in changes]

    @staticmethod
    def _marks(live: LiveGraph, result: ImpactResult) -> dict[str, dict[str, Any]]:
        """The planned and acknowledged parts of the current impact ``result``. Most
        graphs hold no window and no acknowledgement: then the observed failures are
        not gathered a second time on the hot path."""
        observed = observed_failures(live) if live.windows or live.acks else {}
        return {
            "planned": (planned_marks(live.index, observed, result, live.windows.values(),
                                      iso(datetime.now(UTC)))
                        if live.windows else nothing_planned()),
            "acknowledged": (acknowledged_marks(live.index, observed, result, live.acks)
                             if live.acks else nothing_acknowledged())}

    def acknowledgements(self) -> list[dict[str, Any]]:
        """The acknowledgements that hold (of nodes impacted now), by node, each with
        the node's state now."""
        with self.reading() as live:
            impacted = self.current_on(live).impacted if live.acks else {}
            return [{**a.to_dict(), "now": impacted[n].word}
                    for n, a in sorted(live.acks.items()) if n in impacted]

    def acknowledgement(self, node_id: str) -> dict[str, Any] | None:
        """One node's acknowledgement, if it holds one (:class:`UnknownNodeError` for
        an unknown node)."""
        with self.reading() as live:
            if node_id not in live:
                raise UnknownNodeError([node_id])
            held = live.acks.get(node_id)
            state = self.current_on(live).impacted.get(node_id) if held else None
            return None if held is None or state is None else {**held.to_dict(),
                                                                "now": state.word}

    def registered(self, window: Window) -> dict[str, Any]:
        """A window as registered, with the assessment of its change (its components
        down for its span, as :meth:`assess` judges it)."""
        starts, ends = window.span()
        return {"window": self.window(window.id),
                "assessment": self.assess([PlannedChange(window.id, window.components,
                                                         starts, ends)])}

    def windows(self, *, phase: str | None = None) -> list[dict[str, Any]]:
        """The maintenance windows (of one ``phase``: upcoming, active, ended,
        cancelled), by start, each with its phase now."""
        now = iso(datetime.now(UTC))
        with self.reading() as live:
            found = sorted(live.windows.values(), key=lambda w: (w.starts_at, w.id))
        return [{**w.to_dict(), "phase": w.phase(now)} for w in found
                if phase is None or w.phase(now) == phase]

    def window(self, window_id: str) -> dict[str, Any] | None:
        """One maintenance window with its phase now, if there is one of that id."""
        with self.reading() as live:
            found = live.windows.get(window_id)
        return None if found is None else {**found.to_dict(),
                                           "phase": found.phase(iso(datetime.now(UTC)))}

    def alert_mapping(self, source: str) -> AlertMapping:
        """``source``'s alert mapping as stored (version 0: none set, the default)."""
        with self.reading() as live:
            return rules_of(live.mappings, source)

    def alerts(self, source: str, *, unmatched: bool = False, firing: bool | None = None,
               limit: int = 1000, offset: int = 0) -> tuple[list[Alert], int]:
        """A page of the alerts ``source`` sent (all its alerts, or only those that
        match no node), ordered by fingerprint, and how many there are."""
        with self.reading() as live:
            found = sorted((a for a in live.alerts.values() if a.source == source
                            and (not unmatched or a.node is None)
                            and (firing is None or (a.status is Status.FIRING) == firing)),
                           key=lambda a: a.fingerprint)
        return found[offset:offset + limit], len(found)

    def explain_current(self, node_id: str) -> dict[str, Any]:
        """One node's explanation under the states observed now, with its whole chain."""
        with self.reading() as live:
            return _explained(node_id, self.current_on(live))

    def observed(self) -> dict[str, State]:
        """What integrators observe failing now (down or degraded), by node id: with
        :meth:`index`, the inputs of :func:`~servicegraph.impact.analyse` for the
        current impact as an object to explore."""
        with self.reading() as live:
            return observed_failures(live)

    def promise_states(self) -> dict[str, State]:
        """The current state of every promise (ok ones included)."""
        with self.reading() as live:
            return promise_states(self.current_on(live))

    def keep_current(self, key: tuple[tuple[int, int], int], result: ImpactResult) -> None:
        """Keep ``result`` as the current impact of the graph of ``key`` (its index's
        key and a version), computed by a writer before the version was applied."""
        self._current.get(key, lambda: result)

    def current_on(self, live: LiveGraph) -> ImpactResult:
        """The impact of what is observed on ``live`` (held under its read lock), kept
        once per version."""
        return self._current.get((live.index.key, live.version),
                                 lambda: analyse(live.index, observed_failures(live)))

    # --- the promise record ----------------------------------------------------------------

    def current_at(self, at: str) -> dict[str, Any]:
        """What :meth:`current` answered at ``at`` (ISO 8601 with a time zone), rebuilt
        from the promise record (see :func:`~servicegraph.runtime.travel.answer_at`);
        raises :class:`~servicegraph.model.ValidationError` naming ``at`` when it is
        unreadable, further ahead than the allowed skew, or older than the record keeps."""
        moment = travel_moment(at, now=now_utc(), max_skew=timedelta(seconds=self.max_skew),
                               record_days=self.record_days)
        record = self._record()
        return {**answer_at(moment, record.record_last(moment),
                            reaches=record.record_reach()),
                "as_of": self.freshness().to_dict()}

    def record_transitions(self, *, start: str, end: str, nodes: Sequence[str] | None = None,
                           layers: Sequence[str] | None = None) -> Columns:
        """What the record's figures read of the transitions with ``start <= at < end``
        (ISO 8601 with a time zone), of ``nodes`` and ``layers`` when given, and of the
        last transition of each (node, layer) before ``start``, so that the state at the
        period's start is known: as columns, read in one go. The causes are read when
        ``nodes`` are named (a record that lists their breaks), not for all of them."""
        begin, finish = moment_of(start, "start"), moment_of(end, "end")
        return self._record().record_columns(begin, finish, nodes=nodes, layers=layers,
                                             causes=nodes is not None)

    def history(self, *, nodes: Sequence[str] | None = None,
                layers: Sequence[str] | None = None, owners: Sequence[str] | None = None,
                providers: Sequence[str] | None = None, start: str | None = None,
                end: str | None = None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """A page of the record's timeline: transitions with ``start <= at < end``, of
        ``nodes``, ``layers``, ``owners`` (the node's or a cause's) and ``providers`` (a
        cause's; the recovery that ends a matching transition is shown too), in time
        order, with the ``page`` (``total``, ``limit``, ``offset``)."""
        begin = None if start is None else moment_of(start, "from")
        finish = None if end is None else moment_of(end, "to")
        record = self._record()
        if owners is None and providers is None:
            rows, total = record.record_between(begin, finish, nodes=nodes, layers=layers,
                                                limit=limit, offset=offset)
        else:
            every, _ = record.record_between(begin, finish, nodes=nodes, layers=layers)
            with self.reading() as live:
                owner_of = {t.node: (n.owner if (n := live.node(t.node)) else None)
                            for t in every}
            found = admitted(every, owners=owners, providers=providers, owner_of=owner_of)
            rows, total = found[offset:offset + limit], len(found)
        return {"transitions": [t.to_dict() for t in rows],
                "page": {"total": total, "limit": limit, "offset": offset}}

    def _record(self) -> RecordStore:
        return cast(RecordStore, self.store)

    # --- the heavier questions, on a frozen copy ------------------------------------------

    def root_cause(self, observed: Mapping[str, State], *, limit: int = 10,
                   kinds: Collection[NodeKind] = COMPONENTS) -> dict[str, Any]:
        """Root-cause candidates for what is observed (see
        :func:`~servicegraph.impact.root_cause_candidates`)."""
        found = root_cause_candidates(self.index(), observed, limit=limit, kinds=kinds)
        return {"candidates": [c.to_dict() for c in found]}

    def assess(self, changes: Sequence[PlannedChange]) -> dict[str, Any]:
        """Planned changes assessed alone and together (see
        :func:`~servicegraph.impact.assess_changes`)."""
        return assess_changes(self.index(), changes).to_dict()

    def keep_single_points(self, path: Path) -> None:
        """Keep the single points of failure computed here in the file ``path`` too, and
        answer from it while the graph's structure is the one it was computed on (for
        processes that answer one question each: see
        :mod:`~servicegraph.impact.spof_file`)."""
        self._spof.keep = SpofFile(path)

    def single_points(self, *, wait: float = 0.5) -> SpofAnswer:
        """The single points of failure of every promise, as last computed (see
        :class:`~servicegraph.impact.spof_cache.SpofCache`), waiting at most ``wait``
        seconds for a table of the graph as it is."""
        return self._spof.answer(wait=wait)

    def promise_spof(self, promise: str, *, limit: int = 100, offset: int = 0,
                     wait: float = 0.5) -> SpofPage:
        """A page of the single points of failure of ``promise``; raises
        :class:`SpofPending` while none can be told, :class:`UnknownNodeError` for an
        unknown id and ``ValueError`` for a node that is not a promise."""
        found = self.single_points(wait=wait)
        result = _table(found)
        try:
            points, total = result.table.of_promise(promise, limit=limit, offset=offset)
        except UnknownNodeError:
            if found.current:
                raise
            raise SpofPending(found.retry_after) from None  # it may be newer than the table
        return _spof_page(found, result, points, total, limit, offset, promise=promise)

    def spof_ranking(self, *, kinds: Collection[NodeKind] = COMPONENT_KINDS,
                     limit: int = 100, offset: int = 0, wait: float = 0.5) -> SpofPage:
        """A page of the components of ``kinds`` that break a promise alone, ranked;
        raises :class:`SpofPending` while none can be told."""
        found = self.single_points(wait=wait)
        result = _table(found)
        points, total = result.table.ranking(kinds, limit=limit, offset=offset)
        return _spof_page(found, result, points, total, limit, offset)

    # --- catalogues, read from the live graph ---------------------------------------------

    def catalogue(self, which: str, *, visible: bool | None = None) -> dict[str, Any]:
        """One of :data:`CATALOGUES`, of the live graph; service systems filtered by
        ``visible`` (``True``: those the customer sees; ``False``: the hidden ones,
        explicitly hidden or not said). Read from the index and the columns: it costs
        what it lists."""
        with self.reading() as live:
            rows = CATALOGUES[which](live.links())
        if visible is not None:
            rows = [r for r in rows if (r.get("visible") is True) is visible]
        return {"items": rows}

    def matrix(self, columns: NodeKind = NodeKind.BUSINESS_SERVICE) -> dict[str, Any]:
        """The silo x service matrix of the live graph, walked on its index from each
        service: it costs what the services reach."""
        with self.reading() as live:
            return silo_matrix(live.links(), columns=columns).to_dict()

    # --- views of the whole graph ---------------------------------------------------------

    def export(self, fmt: ExportFormat) -> str:
        """The live graph in one of the export formats."""
        live = self.whole_graph().live()
        return dumps(live, fmt=fmt.value) if fmt in INTERCHANGE else EXPORTS[fmt][1](live)

    def export_view(self, fmt: str, ids: Sequence[str]) -> str:
        """The nodes ``ids`` of the live graph and every edge among them, exported as
        the whole graph is; raises :class:`UnknownNodeError` naming ids the live
        graph lacks. Read from the live graph: it costs what it exports."""
        with self.reading() as live:
            view = live.view(ids)
        return EXPORTS[fmt][1](view)


def observed_failures(live: LiveGraph) -> dict[str, State]:
    """What integrators observed failing, of the nodes impact answers count: per node,
    the worse of its latest status observation and its worst firing alert."""
    idx = live.index
    found = {idx.ids[v]: seen.state for v, seen in live.observed.items()
             if seen.state > State.OK and idx.counted(v)}
    for node_id, held in live.alerting.items():
        v = idx.position.get(node_id)
        if v is None or not idx.counted(v):
            continue
        worst = max(held.values())
        if worst > found.get(node_id, State.OK):
            found[node_id] = worst
    return found


def alerts_behind(live: LiveGraph, node_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The firing alerts behind each of ``node_ids`` that has any, in brief."""
    out: dict[str, list[dict[str, Any]]] = {}
    for node_id in node_ids:
        held = live.alerting.get(node_id)
        if held:
            out[node_id] = [_brief(live.alerts[key]) for key in sorted(held)]
    return out


def _brief(alert: Alert) -> dict[str, Any]:
    return {"source": alert.source, "fingerprint": alert.fingerprint,
            "alertname": alert.labels.get("alertname"), "state": alert.state.word,
            "starts_at": alert.starts_at,
            "summary": alert.annotations.get("summary") or alert.annotations.get("description")}


def _explained(node_id: str, result: ImpactResult) -> dict[str, Any]:
    found = result.explain(node_id)
    if found is None:
        return {"node": node_id, "state": "ok", "rule": None, "given": None, "causes": [],
                "via": None, "chain": []}
    return {"node": node_id, **found.to_dict()}


def _table(found: SpofAnswer) -> SpofResult:
    if found.result is None:
        raise SpofPending(found.retry_after)
    return found.result


def _spof_page(found: SpofAnswer, result: SpofResult, points: list[SinglePoint], total: int,
               limit: int, offset: int, **extra: Any) -> SpofPage:
    body = {**extra, "version": result.version, "computed_at": iso(result.computed_at),
            "current": found.current, "page": {"total": total, "limit": limit, "offset": offset},
            "single_points": [p.to_dict() for p in points]}
    return SpofPage(body, found.current, found.retry_after)


__all__ = [
    "ANSWERED",
    "ASKED_AT",
    "CATALOGUES",
    "AnswerMark",
    "Freshness",
    "Questions",
    "SpofPage",
    "SpofPending",
    "observed_failures",
]
