"""Imports from what people already have: catalogues, manifests, traces, spreadsheets.

Each importer is a pure function from files (name and text) to an
:class:`~servicegraph.importers.common.Imported` graph. Apart from CSV (the
interchange format as tables), they write only the layers they can see, service
systems and CIs; promises, business services and acts are attached on top from
another file. :func:`run_import` pushes an import from a named source, so an import
is validated whole, idempotent and retired by a later full sync like any push, and
a problem names the file and line of the item it is about.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from servicegraph.importers.backstage import import_backstage
from servicegraph.importers.common import Imported, SourceFile
from servicegraph.importers.compose import import_compose
from servicegraph.importers.csvfiles import import_csv
from servicegraph.importers.jaeger import import_jaeger
from servicegraph.importers.joins import join_traces
from servicegraph.importers.kubernetes import import_kubernetes
from servicegraph.importers.otel import import_otel
from servicegraph.model.errors import ValidationError
from servicegraph.model.validate import batch_problems

if TYPE_CHECKING:
    from servicegraph.runtime.writes import Writer

#: The kinds whose service names are joined onto the workloads already held.
TRACING = ("jaeger", "otel")

Importer = Callable[[Sequence[SourceFile]], Imported]

#: Every import kind, by the name the command line and the API use.
IMPORTERS: dict[str, Importer] = {
    "backstage": import_backstage,
    "kubernetes": import_kubernetes,
    "compose": import_compose,
    "jaeger": import_jaeger,
    "otel": import_otel,
    "csv": import_csv,
}

#: One line on each kind, for help texts.
DESCRIPTIONS = {
    "backstage": "Backstage catalog-info.yaml (Component, API, Resource, System, Domain)",
    "kubernetes": "Kubernetes manifests (Deployment, StatefulSet, Service, Ingress, "
                  "ConfigMap, HPA, PDB, PVC, PV)",
    "compose": "Compose files, with their .env files",
    "jaeger": "Jaeger service dependencies (/api/dependencies JSON)",
    "otel": "OpenTelemetry service-graph metrics (Prometheus text format)",
    "csv": "a nodes CSV and an edges CSV (interchange columns)",
}


def parse(kind: str, files: Sequence[SourceFile]) -> Imported:
    """Read ``files`` with the importer of ``kind``.

    Raises
    ------
    ValueError
        For an unknown kind.
    ValidationError
        Naming the file, line (or document) and item of every problem.

    Examples
    --------
    >>> imp = parse("jaeger", [SourceFile("deps.json", '[{"parent": "a", "child": "b"}]')])
    >>> [n.id for n in imp.graph.nodes]
    ['a', 'b']
    """
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise ValueError(f"unknown import kind {kind!r} (one of: {', '.join(IMPORTERS)})")
    if not files:
        raise ValueError("nothing to import: give at least one file")
    return importer(files)


def run_import(writer: Writer, source: str, kind: str, files: Sequence[SourceFile], *,
               full_sync: bool = False, dry_run: bool = False,
               allow_empty: bool = False) -> dict[str, Any]:
    """Import ``files`` as a push from ``source``; answers the push's counts and what
    was read (``imported``: kind, files, nodes, edges, notes, and, each as a count and
    the first :data:`MAX_LISTED`, the dependencies ``inferred`` with what they were
    inferred from, the ``unresolved`` addresses and the workloads
    ``without_dependencies``).

    The service names of a tracing import (``jaeger``, ``otel``) are joined onto the
    workloads and Services already held (see :mod:`servicegraph.importers.joins`).

    Problems the graph rules find (e.g. a dependency on an id the graph lacks) are
    re-addressed to the file and line of the offending item; nothing is written then.
    Reading the files and checking what they describe on its own (bounds, ids given
    twice) is done before the push takes the store's write lock; inside it, only what
    needs the graph.
    """
    imported = parse(kind, files)
    if kind in TRACING:
        # Read outside the write lock: a node retired meanwhile is a problem of the push.
        with writer.questions.reading() as live:
            imported = join_traces(imported, live.nodes())
    try:
        problems = batch_problems(imported.graph)
        if problems:
            raise ValidationError(problems)
        answer = writer.push(source, imported.graph, full_sync=full_sync, dry_run=dry_run,
                            allow_empty=allow_empty)
    except ValidationError as exc:
        raise ValidationError([imported.locate(p) for p in exc.problems]) from None
    return {**answer, "imported": {
        "kind": kind, "files": [f.name for f in files], "nodes": len(imported.graph.nodes),
        "edges": len(imported.graph.edges), "notes": list(imported.notes),
        **seen_and_unseen(imported)}}


#: How many inferred dependencies, unresolved addresses and workloads without a
#: dependency an import answer lists; the counts are always whole.
MAX_LISTED = 100


def seen_and_unseen(imported: Imported, limit: int = MAX_LISTED) -> dict[str, Any]:
    """What an import inferred and what it could not see, each as a count and the first
    ``limit`` items, so that the answer stays small whatever the files hold.

    >>> doc = "{kind: Deployment, metadata: {name: a}}"
    >>> imp = parse("kubernetes", [SourceFile("a.yaml", doc)])
    >>> seen_and_unseen(imp)["without_dependencies"]
    {'count': 1, 'first': ['deployment/a']}
    """
    return {
        "inferred": {"count": len(imported.inferred),
                     "first": [i.as_dict() for i in imported.inferred[:limit]]},
        "unresolved": {"count": len(imported.unresolved),
                       "first": [u.as_dict() for u in imported.unresolved[:limit]]},
        "without_dependencies": {"count": len(imported.without_dependencies),
                                 "first": list(imported.without_dependencies[:limit])},
    }


__all__ = ["DESCRIPTIONS", "IMPORTERS", "MAX_LISTED", "Imported", "SourceFile", "parse",
           "run_import", "seen_and_unseen"]
