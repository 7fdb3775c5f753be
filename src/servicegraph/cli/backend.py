"""Where a command's question goes: the library over a store, or a running server.

Both backends answer with the same JSON documents (the server's answers are the
library's own), so each command prints the same thing either way. Heavy modules
(numpy, networkx, the Neo4j driver, httpx) are imported here, when a command runs,
never when the command line starts.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import typer

if TYPE_CHECKING:
    from servicegraph.client import ServiceGraphClient
    from servicegraph.core import ServiceGraph
    from servicegraph.model.graph import Node

#: The catalogue names of the command line -> the API's.
CATALOGUES = {"promises": "promises", "systems": "service-systems", "acts": "service-acts"}


class Backend(Protocol):
    """The questions and writes of the command line."""

    def impact(self, down: Sequence[str], degraded: Sequence[str],
               limit: int | None) -> dict[str, Any]: ...
    def describe(self, node_id: str) -> tuple[str, str | None]: ...
    def spof(self, promise: str | None, limit: int | None) -> dict[str, Any]: ...
    def root_cause(self, observed: Mapping[str, str], limit: int) -> dict[str, Any]: ...
    def assess(self, changes: Sequence[Mapping[str, Any]]) -> dict[str, Any]: ...
    def record(self, promise: str | None, start: str | None, end: str | None, tz: str,
               hours: str | None, by: str) -> dict[str, Any]: ...
    def catalogue(self, which: str, visible: bool | None) -> dict[str, Any]: ...
    def matrix(self, columns: str) -> dict[str, Any]: ...
    def export(self, fmt: str) -> str: ...
    def nodes(self, kind: str | None) -> list[dict[str, Any]]: ...
    def unknown(self, ids: Sequence[str], said: Mapping[str, Any] | None = None) -> str: ...
    def push(self, source: str, doc: Mapping[str, Any], full_sync: bool, dry_run: bool,
             allow_empty: bool) -> dict[str, Any]: ...
    def status(self, source: str, statuses: Sequence[Mapping[str, Any]]) -> dict[str, Any]: ...
    def import_files(self, source: str, kind: str, files: Sequence[tuple[str, str]],
                     full_sync: bool, dry_run: bool, allow_empty: bool) -> dict[str, Any]: ...
    def send_alerts(self, source: str, payload: Mapping[str, Any],
                    kind: str = "alertmanager") -> dict[str, Any]: ...
    def alerts(self, source: str, unmatched: bool) -> dict[str, Any]: ...
    def alert_mapping(self, source: str) -> dict[str, Any]: ...
    def set_alert_mapping(self, source: str, doc: Mapping[str, Any]) -> dict[str, Any]: ...
    def register_window(self, window: Mapping[str, Any]) -> dict[str, Any]: ...
    def windows(self, phase: str | None) -> dict[str, Any]: ...
    def cancel_window(self, window_id: str) -> dict[str, Any] | None: ...
    def acknowledge(self, node: str, by: str, comment: str | None) -> dict[str, Any]: ...
    def acknowledgements(self) -> dict[str, Any]: ...
    def clear_ack(self, node: str) -> dict[str, Any] | None: ...
    def subscribe(self, url: str, flt: Mapping[str, Sequence[str]], secret: str | None,
                  fmt: str) -> dict[str, Any]: ...
    def subscriptions(self) -> list[dict[str, Any]]: ...
    def unsubscribe(self, subscription: str) -> None: ...
    def dead_letters(self, subscription: str) -> list[dict[str, Any]]: ...
    def redeliver(self, subscription: str, event: str) -> None: ...
    def current(self, at: str | None) -> dict[str, Any]: ...
    def close(self) -> None: ...


#: Kernels over fewer nodes than this run as Python in a command (see
#: :mod:`servicegraph.impact.jit`); larger graphs load the compiled kernels.
INTERPRET_BELOW = 2000


class Local:
    """The library over a store (embedded or Neo4j): the same questions and writes the
    server's handlers call, answering the same documents."""

    def __init__(self, store: str | None) -> None:
        from servicegraph.core import ServiceGraph
        from servicegraph.impact import jit
        from servicegraph.settings import Settings

        # One command asks a question or two: on a small graph the kernels answer as
        # Python sooner than their compiler would load (the same code, the same answers).
        # The bound is the process's: it is put back when the command is done.
        self._bound = jit.interpreting()
        jit.interpret_below(INTERPRET_BELOW)
        self.settings = Settings()
        try:
            self.graph: ServiceGraph = ServiceGraph.open(self.settings, store)
        except BaseException:
            jit.interpret_below(self._bound)
            raise
        # Each command is a new process: single points of failure are kept in a file
        # between commands, and computed again only when the graph's structure changed.
        self.graph.questions.keep_single_points(spof_file(self.settings, store))

    def impact(self, down: Sequence[str], degraded: Sequence[str],
               limit: int | None) -> dict[str, Any]:
        return self.graph.questions.impact(down, degraded, limit=limit)

    def describe(self, node_id: str) -> tuple[str, str | None]:
        from servicegraph.model.errors import UnknownNodeError

        try:
            node = self.graph.questions.node(node_id)
        except UnknownNodeError:
            return node_id, None
        return node.name, node.owner or node.provider

    def spof(self, promise: str | None, limit: int | None) -> dict[str, Any]:
        # A person waits for the answer: the table is computed here, however long it takes.
        questions = self.graph.questions
        # No limit asks for the whole table.
        size = sys.maxsize if limit is None else limit
        page = (questions.spof_ranking(limit=size, wait=_SPOF_WAIT) if promise is None else
                questions.promise_spof(promise, limit=size, wait=_SPOF_WAIT))
        return {k: v for k, v in page.body.items() if k in ("promise", "single_points")}

    def root_cause(self, observed: Mapping[str, str], limit: int) -> dict[str, Any]:
        from servicegraph.model.kinds import State

        return self.graph.questions.root_cause(
            {n: State.parse(s) for n, s in observed.items()}, limit=limit)

    def assess(self, changes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        from servicegraph.impact import PlannedChange
        from servicegraph.model.kinds import State

        return self.graph.questions.assess([
            PlannedChange(c["id"], tuple(c["components"]), datetime.fromisoformat(c["start"]),
                          datetime.fromisoformat(c["end"]), State.parse(c["state"]))
            for c in changes])

    def record(self, promise: str | None, start: str | None, end: str | None, tz: str,
               hours: str | None, by: str) -> dict[str, Any]:
        from servicegraph.runtime import record

        questions = self.graph.questions
        transitions = getattr(questions, "record_transitions", None)
        if transitions is None:
            raise fail("this servicegraph keeps no record of transitions")
        if promise is None:
            return record.records(questions, transitions, by=by, start=start, end=end,
                                  tz=tz, hours=hours)
        return record.promise_record(questions, transitions, promise, start=start, end=end,
                                     tz=tz, hours=hours)

    def catalogue(self, which: str, visible: bool | None) -> dict[str, Any]:
        return self.graph.questions.catalogue(CATALOGUES[which], visible=visible)

    def matrix(self, columns: str) -> dict[str, Any]:
        from servicegraph.model.kinds import NodeKind

        return self.graph.questions.matrix(NodeKind(columns))

    def export(self, fmt: str) -> str:
        from servicegraph.formats import ExportFormat

        return self.graph.questions.export(ExportFormat(fmt))

    def nodes(self, kind: str | None) -> list[dict[str, Any]]:
        from servicegraph.model.kinds import NodeKind

        found, _total = self.graph.questions.node_page(
            kind=NodeKind(kind) if kind else None, limit=2**62)
        return [node_view(n) for n in found]

    def unknown(self, ids: Sequence[str], said: Mapping[str, Any] | None = None) -> str:
        from servicegraph.cli.hints import unknown_ids
        from servicegraph.runtime.unknown import hints

        retired, suggestions = hints(self.graph.questions, ids[:HINTED])
        return unknown_ids([i for i in ids if i not in retired], retired, suggestions)

    def push(self, source: str, doc: Mapping[str, Any], full_sync: bool, dry_run: bool,
             allow_empty: bool) -> dict[str, Any]:
        from servicegraph.model.interchange import parse_document

        return self.graph.writes.push(source, parse_document(doc), full_sync=full_sync,
                                      dry_run=dry_run, allow_empty=allow_empty)

    def status(self, source: str, statuses: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        from servicegraph.ingest.status import parse_updates

        return self.graph.writes.push_status(source,
                                             parse_updates(statuses, now=datetime.now(UTC)))

    def import_files(self, source: str, kind: str, files: Sequence[tuple[str, str]],
                     full_sync: bool, dry_run: bool, allow_empty: bool) -> dict[str, Any]:
        from servicegraph.importers import SourceFile, run_import

        return run_import(self.graph.writes, source, kind,
                          [SourceFile(n, t) for n, t in files],
                          full_sync=full_sync, dry_run=dry_run, allow_empty=allow_empty)

    def send_alerts(self, source: str, payload: Mapping[str, Any],
                    kind: str = "alertmanager") -> dict[str, Any]:
        from servicegraph.ingest.alerts import read_alertmanager
        from servicegraph.ingest.generic_alerts import read_generic

        read = read_generic if kind == "generic" else read_alertmanager
        return self.graph.writes.push_alerts(source, read(payload, now=datetime.now(UTC)))

    def alert_mapping(self, source: str) -> dict[str, Any]:
        return self.graph.questions.alert_mapping(source).to_dict()

    def set_alert_mapping(self, source: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        from servicegraph.model.alert_mapping import AlertMapping

        return self.graph.writes.set_mapping(AlertMapping.parse(source, doc),
                                             by="command line")

    def alerts(self, source: str, unmatched: bool) -> dict[str, Any]:
        found, total = self.graph.questions.alerts(source, unmatched=unmatched, limit=10_000)
        return {"alerts": [a.to_dict() for a in found], "total": total}

    def register_window(self, window: Mapping[str, Any]) -> dict[str, Any]:
        from servicegraph.model.maintenance import Window
        from servicegraph.model.times import parse_iso

        planned = Window.plan(window["id"], window["title"], window["components"],
                              parse_iso(window["starts_at"]), parse_iso(window["ends_at"]),
                              window.get("owner"))
        return self.graph.questions.registered(self.graph.writes.save_window(planned))

    def windows(self, phase: str | None) -> dict[str, Any]:
        return {"windows": self.graph.questions.windows(phase=phase)}

    def cancel_window(self, window_id: str) -> dict[str, Any] | None:
        if self.graph.writes.cancel_window(window_id) is None:
            return None
        return self.graph.questions.window(window_id)

    def acknowledge(self, node: str, by: str, comment: str | None) -> dict[str, Any]:
        ack = self.graph.writes.acknowledge(node, by, comment)
        return self.graph.questions.acknowledgement(node) or {**ack.to_dict(), "now": "ok"}

    def acknowledgements(self) -> dict[str, Any]:
        return {"acknowledgements": self.graph.questions.acknowledgements()}

    def clear_ack(self, node: str) -> dict[str, Any] | None:
        ended = self.graph.writes.clear_ack(node)
        if ended is None:
            return None
        return {**ended.to_dict(),
                "now": self.graph.questions.explain_current(node)["state"]}

    def _subscriptions(self) -> Any:
        from servicegraph.notify import Subscriptions

        return Subscriptions(self.graph.store,  # type: ignore[arg-type]
                             self.settings.subscription_allowed_networks)

    def subscribe(self, url: str, flt: Mapping[str, Sequence[str]], secret: str | None,
                  fmt: str) -> dict[str, Any]:
        from servicegraph.notify import NewSubscription

        return self._subscriptions().create(  # type: ignore[no-any-return]
            NewSubscription(url, {k: list(v) for k, v in flt.items()}, secret, fmt))

    def subscriptions(self) -> list[dict[str, Any]]:
        return self._subscriptions().all()  # type: ignore[no-any-return]

    def unsubscribe(self, subscription: str) -> None:
        self._subscriptions().remove(subscription)

    def dead_letters(self, subscription: str) -> list[dict[str, Any]]:
        return self._subscriptions().dead(subscription)  # type: ignore[no-any-return]

    def redeliver(self, subscription: str, event: str) -> None:
        self._subscriptions().redeliver(subscription, event)

    def current(self, at: str | None) -> dict[str, Any]:
        questions = self.graph.questions
        return questions.current() if at is None else questions.current_at(at)

    def close(self) -> None:
        from servicegraph.impact import jit

        try:
            self.graph.close()
        finally:
            jit.interpret_below(self._bound)


def spof_file(settings: Any, store: str | None) -> Path:
    """The file where the command line keeps the single points of failure of ``store``
    (one per store: its location, or its URI and database, named by a digest)."""
    import hashlib
    import os

    from servicegraph.store import is_neo4j_uri

    target = store or settings.store
    where = (f"{target} {settings.neo4j_database}" if is_neo4j_uri(target)
             else str(Path(target).resolve()))
    folder = settings.cli_cache_dir or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "servicegraph"
    name = hashlib.blake2b(where.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return Path(folder) / f"spof-{name}.npz"


#: The most ids of one answer looked up for being retired and for suggestions: the
#: others are named as given (a question may name thousands).
HINTED = 20


def node_view(node: Node) -> dict[str, Any]:
    """A node as the server lists it: the interchange form, plus its retirement mark and
    observed state when it has them."""
    out = node.to_dict()
    if node.retired_at is not None:
        out["retired_at"] = node.retired_at
    if node.observed is not None:
        out["observed"] = node.observed.to_dict()
    return out


#: Seconds the command line waits for single points of failure it computes itself.
_SPOF_WAIT = 24 * 3600.0


class Remote:
    """A running servicegraph server, through the Python client."""

    def __init__(self, url: str, api_key: str | None) -> None:
        import logging

        from servicegraph.client import ServiceGraphClient
        from servicegraph.settings import Settings

        # The answer is what a person reads; a log line per HTTP request is noise.
        logging.getLogger("httpx").setLevel(logging.WARNING)

        # One quick retry: a person is waiting, and a server that is down says so at once.
        # The deadline holds however the server answers, slowly or not at all.
        self.client: ServiceGraphClient = ServiceGraphClient(
            url, api_key=api_key, retries=1, backoff=0.2, deadline=Settings().cli_timeout)
        self._names: dict[str, tuple[str, str | None]] = {}

    def impact(self, down: Sequence[str], degraded: Sequence[str],
               limit: int | None) -> dict[str, Any]:
        return self.client.impact(down, degraded, limit=limit)

    def describe(self, node_id: str) -> tuple[str, str | None]:
        if node_id not in self._names:
            from servicegraph.client import ServiceGraphError

            try:
                node = self.client.node(node_id)
            except ServiceGraphError:
                self._names[node_id] = (node_id, None)
            else:
                self._names[node_id] = (node.get("name", node_id),
                                        node.get("owner") or node.get("provider"))
        return self._names[node_id]

    def spof(self, promise: str | None, limit: int | None) -> dict[str, Any]:
        answer = self.client.spof(promise, limit=limit)
        # The server also says which graph version it computed on: not part of the answer.
        return {k: v for k, v in answer.items() if k in ("promise", "single_points")}

    def root_cause(self, observed: Mapping[str, str], limit: int) -> dict[str, Any]:
        return self.client.root_cause(observed, limit=limit)

    def assess(self, changes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return self.client.assess_changes(changes)

    def record(self, promise: str | None, start: str | None, end: str | None, tz: str,
               hours: str | None, by: str) -> dict[str, Any]:
        return self.client.record(promise, start=start, end=end, tz=tz, hours=hours, by=by)

    def catalogue(self, which: str, visible: bool | None) -> dict[str, Any]:
        return self.client.catalogue(CATALOGUES[which], visible=visible)

    def matrix(self, columns: str) -> dict[str, Any]:
        return self.client.matrix(columns)

    def export(self, fmt: str) -> str:
        return self.client.export(fmt)

    def unknown(self, ids: Sequence[str], said: Mapping[str, Any] | None = None) -> str:
        from servicegraph.cli.hints import unknown_ids
        from servicegraph.client import ServiceGraphError

        said = said or {}
        if "retired" in said or "suggestions" in said:
            # The server said which are retired and what the others likely meant.
            retired = _str_map(said.get("retired"))
            suggestions = {k: [str(s) for s in v] for k, v in
                           _str_map(said.get("suggestions"), list).items()}
            return unknown_ids([i for i in ids if i not in retired], retired, suggestions)
        retired = {}
        for node_id in ids[:HINTED]:
            try:
                node = self.client.node(node_id)
            except ServiceGraphError:
                continue
            if node.get("retired_at"):
                retired[node_id] = str(node["retired_at"])
        return unknown_ids([i for i in ids if i not in retired], retired, {})

    def nodes(self, kind: str | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = self.client.nodes(kind=kind, limit=1000, offset=len(out))
            out += page["items"]
            if not page["items"] or len(out) >= page["total"]:
                return out

    def push(self, source: str, doc: Mapping[str, Any], full_sync: bool, dry_run: bool,
             allow_empty: bool) -> dict[str, Any]:
        return self.client.push(source, doc, full_sync=full_sync, dry_run=dry_run,
                                allow_empty=allow_empty)

    def status(self, source: str, statuses: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return self.client.push_status(source, statuses)

    def import_files(self, source: str, kind: str, files: Sequence[tuple[str, str]],
                     full_sync: bool, dry_run: bool, allow_empty: bool) -> dict[str, Any]:
        return self.client.import_files(source, kind, files, full_sync=full_sync,
                                        dry_run=dry_run, allow_empty=allow_empty)

    def send_alerts(self, source: str, payload: Mapping[str, Any],
                    kind: str = "alertmanager") -> dict[str, Any]:
        return self.client.send_alerts(source, payload, kind=kind)

    def alert_mapping(self, source: str) -> dict[str, Any]:
        return self.client.alert_mapping(source)

    def set_alert_mapping(self, source: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        return self.client.set_alert_mapping(source, doc)

    def alerts(self, source: str, unmatched: bool) -> dict[str, Any]:
        return self.client.alerts(source, unmatched=unmatched, limit=10_000)

    def register_window(self, window: Mapping[str, Any]) -> dict[str, Any]:
        return self.client.register_window(window)

    def windows(self, phase: str | None) -> dict[str, Any]:
        return self.client.windows(phase)

    def cancel_window(self, window_id: str) -> dict[str, Any] | None:
        from servicegraph.client import ServiceGraphError

        try:
            return self.client.cancel_window(window_id)
        except ServiceGraphError as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise

    def acknowledge(self, node: str, by: str, comment: str | None) -> dict[str, Any]:
        return self.client.acknowledge(node, by, comment)

    def acknowledgements(self) -> dict[str, Any]:
        return self.client.acknowledgements()

    def clear_ack(self, node: str) -> dict[str, Any] | None:
        from servicegraph.client import ServiceGraphError

        try:
            return self.client.clear_ack(node)
        except ServiceGraphError as exc:
            # No acknowledgement held; an unknown node is told by its 404's ids.
            if exc.status == 404 and not (isinstance(exc.body, dict) and exc.body.get("ids")):
                return None
            raise

    def subscribe(self, url: str, flt: Mapping[str, Sequence[str]], secret: str | None,
                  fmt: str) -> dict[str, Any]:
        return self.client.subscribe(url, filter=flt, secret=secret, fmt=fmt)

    def subscriptions(self) -> list[dict[str, Any]]:
        return self.client.subscriptions()

    def unsubscribe(self, subscription: str) -> None:
        self.client.unsubscribe(subscription)

    def dead_letters(self, subscription: str) -> list[dict[str, Any]]:
        return self.client.dead_letters(subscription)

    def redeliver(self, subscription: str, event: str) -> None:
        self.client.redeliver(subscription, event)

    def current(self, at: str | None) -> dict[str, Any]:
        return self.client.current(at)

    def close(self) -> None:
        self.client.close()


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say what is wrong on stderr; the exit to raise."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def explain_error(exc: Exception, server: str | None,
                  backend: Backend | None = None) -> tuple[str, int] | None:
    """A message and exit code for an error a person can act on; None for a bug.
    Unknown ids are told apart from retired ones, with suggestions, by ``backend``."""
    from servicegraph.model.errors import UnknownEdgeError, UnknownNodeError, ValidationError

    if isinstance(exc, UnknownNodeError) and not isinstance(exc, UnknownEdgeError):
        return _unknown(exc.ids, backend) or (
            f"{exc} (see `servicegraph nodes` for the ids in the store)"), 2
    if isinstance(exc, UnknownNodeError):
        return str(exc), 2
    if type(exc).__name__ == "UnknownSubscription":  # not imported: it loads the notifier
        return str(exc), 1
    if isinstance(exc, ValidationError | ValueError):
        return str(exc), 2
    module = type(exc).__module__
    if module.startswith("neo4j"):
        return f"the store does not answer: {type(exc).__name__}: {exc}", 1
    if server is not None:
        import httpx

        from servicegraph.client import DeadlineError, ServiceGraphError, UnexpectedAnswerError

        if isinstance(exc, ServiceGraphError):
            ids = exc.body.get("ids") if isinstance(exc.body, dict) else None
            told = (_unknown(ids, backend, exc.body) if exc.status == 404
                    and isinstance(ids, list)
                    and ids and all(isinstance(i, str) for i in ids) else None)
            if told:
                return told, 2
            return _server_refusal(exc), 2 if exc.status < 500 else 1
        if isinstance(exc, DeadlineError):
            return f"{exc} (SERVICEGRAPH_CLI_TIMEOUT sets how long to wait)", 1
        if isinstance(exc, UnexpectedAnswerError):
            return f"{server}: {exc}", 1
        if isinstance(exc, httpx.HTTPError):
            return f"cannot reach the server at {server}: {type(exc).__name__}: {exc}", 1
        if isinstance(exc, KeyError | TypeError | AttributeError | IndexError):
            # The client checked the outline of the answer; this is a part further in
            # that is not what a servicegraph server sends.
            return (f"{server}: its answer is not a document this command can read "
                    f"({type(exc).__name__}: {exc}): is it a servicegraph server of this "
                    "version?", 1)
    return None


def _str_map(value: Any, kind: type = str) -> dict[str, Any]:
    """The entries of a mapping in a server's answer whose keys are strings and whose
    values are of ``kind`` (anything else is left out)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, kind)}


def _unknown(ids: Sequence[str], backend: Backend | None,
             said: Mapping[str, Any] | None = None) -> str | None:
    """What ``backend`` says of ids it did not know (``said``: what the server's refusal
    said of them); None when it cannot say (the plain message is given then)."""
    if backend is None:
        return None
    try:
        return backend.unknown(ids, said)
    except Exception:  # the store or server failing now: the plain message will do
        return None


#: The longest part of a refusal's detail shown.
REFUSAL_QUOTE = 300


def _server_refusal(exc: Any) -> str:
    body = exc.body
    if isinstance(body, dict) and body.get("problems"):
        from servicegraph.model.errors import Problem, ValidationError

        return str(ValidationError([Problem(**p) for p in body["problems"]]))
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, list):  # request-shape errors: [{loc, msg}]
        detail = "; ".join(f"{'.'.join(str(x) for x in d.get('loc', []))}: {d.get('msg')}"
                           for d in detail if isinstance(d, dict))
    # One line, and not a whole page when something else than servicegraph answered.
    detail = " ".join(str(detail).split())
    detail = detail if len(detail) <= REFUSAL_QUOTE else detail[:REFUSAL_QUOTE] + "…"
    hint = (" (give a key with --api-key or SERVICEGRAPH_API_KEY)"
            if exc.status in (401, 403) else "")
    return f"the server refused (HTTP {exc.status}): {detail}{hint}"


@contextmanager
def connect(store: str | None, server: str | None, api_key: str | None) -> Iterator[Backend]:
    """The backend a command asked for; errors a person can act on become one message
    and a non-zero exit, never a traceback."""
    backend: Backend | None = None
    try:
        backend = Remote(server, api_key) if server else Local(store)
        yield backend
    except typer.Exit:
        raise
    except Exception as exc:
        found = explain_error(exc, server, backend)
        if found is None:
            raise
        raise fail(*found) from None
    finally:
        if backend is not None:
            backend.close()
