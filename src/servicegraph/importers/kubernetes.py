"""Kubernetes manifests as service systems, their replicas as CIs.

==========================  ========================================================
in the manifests            in the graph
==========================  ========================================================
Deployment / StatefulSet    a service system ``deployment/NAME`` (``statefulset/NAME``;
                            ``NAMESPACE/deployment/NAME`` when the manifest names a
                            namespace)
its ``replicas`` (n,        n CIs ``deployment/NAME/replica-1`` ... that the workload
default 1, at most 1,000)   needs as a redundancy group ``replicas``: a Deployment
                            needs 1 of n (stateless replicas each answer alone), a
                            StatefulSet a majority, n // 2 + 1 (stateful sets are
                            often quorum systems); the annotation
                            ``servicegraph.io/min-ok`` on the workload overrides it
Service                     a service system ``service/NAME`` that needs the workloads
                            its selector matches (one of them when several do)
an ``env`` value naming a   the workload needs that Service (``CART_SERVICE_ADDR:
Service's address           "cartservice:7070"``)
==========================  ========================================================

Everything inferred is marked: replica CIs carry ``properties.inferred``; a node's
inferred dependencies are listed in its ``properties.inferred_edges`` (target id ->
why, e.g. ``env:CART_SERVICE_ADDR``). Other kinds (ServiceAccount, ConfigMap, ...)
are left out and counted in the notes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from servicegraph.importers.common import (
    MAX_IMPORT_ITEMS,
    Builder,
    Imported,
    SourceFile,
    at_line,
    hosts_in,
    line_of,
    merge_inferred,
    plain,
    replicas_of,
    text,
    yaml_documents,
)
from servicegraph.model.graph import Node
from servicegraph.model.kinds import NodeKind

WORKLOADS = ("Deployment", "StatefulSet")
#: The annotation that sets how many replicas a workload needs.
MIN_OK_ANNOTATION = "servicegraph.io/min-ok"
REPLICAS = "replicas"


@dataclass(frozen=True)
class _Object:
    kind: str
    name: str
    namespace: str | None
    body: dict[str, Any]
    where: str

    @property
    def id(self) -> str:
        prefix = f"{self.namespace}/" if self.namespace else ""
        return f"{prefix}{self.kind.lower()}/{self.name}"


def _objects(files: Sequence[SourceFile], builder: Builder) -> Iterator[_Object]:
    for file in files:
        for number, doc in yaml_documents(file, builder):
            where = at_line(file.name, line_of(doc), number)
            items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" \
                else [doc]
            for item in _list(items):
                obj = _object(item, at_line(file.name, line_of(item), number) if
                              item is not doc else where, builder)
                if obj is not None:
                    yield obj


def _object(doc: Any, where: str, builder: Builder) -> _Object | None:
    if not isinstance(doc, dict) or text(doc.get("kind")) is None:
        builder.problem(where, "?", "kind", "a Kubernetes object must be a mapping with a kind")
        return None
    kind = doc["kind"]
    meta = doc.get("metadata")
    name = text(meta.get("name")) if isinstance(meta, dict) else None
    if kind not in (*WORKLOADS, "Service"):
        builder.notes.append(f"{where}: {kind} {name or '?'} left out (no place in the model)")
        return None
    if name is None or not isinstance(meta, dict):
        builder.problem(where, "?", "metadata.name", f"required: the {kind}'s name")
        return None
    if not isinstance(doc.get("spec") or {}, dict):
        builder.problem(where, repr(name), "spec", "must be a mapping")
        return None
    return _Object(kind, name, text(meta.get("namespace")), doc, where)


def _list(value: Any) -> list[Any]:
    """``value`` when it is a list, else nothing (a malformed field adds nothing)."""
    return value if isinstance(value, list) else []


def _spec(obj: _Object, *path: str) -> Any:
    value: Any = obj.body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _min_ok(obj: _Object, replicas: int, builder: Builder) -> int:
    annotations = _spec(obj, "metadata", "annotations") or {}
    given = annotations.get(MIN_OK_ANNOTATION) if isinstance(annotations, dict) else None
    if given is not None:
        try:
            wanted = int(str(given))
        except ValueError:
            wanted = 0
        if 1 <= wanted <= replicas:
            return wanted
        builder.problem(obj.where, repr(obj.id), f"metadata.annotations.{MIN_OK_ANNOTATION}",
                        f"must be a whole number from 1 to replicas ({replicas}), got {given!r}")
    return 1 if obj.kind == "Deployment" else replicas // 2 + 1


def _replicas(obj: _Object, builder: Builder) -> int | None:
    """The workload's replicas (``None`` after a problem), announced to the builder."""
    replicas = replicas_of(_spec(obj, "spec", "replicas"), obj.where, repr(obj.id),
                           "spec.replicas", builder)
    if replicas is not None:
        builder.expect(obj.where, repr(obj.id), "spec.replicas", 1 + 2 * replicas)
    return replicas


def _workload(obj: _Object, replicas: int, builder: Builder) -> None:
    containers = _list(_spec(obj, "spec", "template", "spec", "containers"))
    images = [c["image"] for c in containers if isinstance(c, dict) and text(c.get("image"))]
    need = _min_ok(obj, replicas, builder) if replicas else 0
    builder.node(Node(obj.id, NodeKind.SERVICE_SYSTEM, obj.name,
                      redundancy={REPLICAS: need} if replicas else {},
                      properties=plain({"kubernetes_kind": obj.kind, "namespace": obj.namespace,
                                        "replicas": replicas, "images": images})), obj.where)
    for i in range(1, replicas + 1):
        replica = f"{obj.id}/replica-{i}"
        builder.node(Node(replica, NodeKind.CI, f"{obj.name} replica {i}", silo="kubernetes",
                          properties={"inferred": f"{obj.kind} {obj.name}: replica {i} of "
                                                  f"{replicas}, {need} needed"}), obj.where)
        builder.edge(obj.id, replica, obj.where, group=REPLICAS)


def _labels(obj: _Object) -> dict[str, Any]:
    labels = _spec(obj, "spec", "template", "metadata", "labels")
    return labels if isinstance(labels, dict) else {}


#: (namespace, label, value) -> the workloads with that label, in document order.
_LabelIndex = dict[tuple[str | None, str, Any], list[_Object]]


def _label_index(workloads: list[_Object]) -> _LabelIndex:
    index: _LabelIndex = {}
    for w in workloads:
        for key, value in _labels(w).items():
            if isinstance(value, Hashable):
                index.setdefault((w.namespace, key, value), []).append(w)
    return index


def _selected(obj: _Object, selector: Any, index: _LabelIndex) -> list[_Object]:
    """The workloads of the Service's namespace whose labels hold all of ``selector``.

    Looked up by label rather than tried one by one: a file of many Services and
    workloads would otherwise cost their product.
    """
    if not isinstance(selector, dict) or not selector or not all(
            isinstance(v, Hashable) for v in selector.values()):
        return []
    fewest = min((index.get((obj.namespace, k, v), []) for k, v in selector.items()), key=len)
    return [w for w in fewest if all(_labels(w).get(k) == v for k, v in selector.items())]


def _service(obj: _Object, index: _LabelIndex, builder: Builder) -> list[str]:
    """Add the Service; returns the ids of the workloads it selects."""
    selector = _spec(obj, "spec", "selector")
    selected = _selected(obj, selector, index)
    node = Node(obj.id, NodeKind.SERVICE_SYSTEM, obj.name,
                properties=plain({"kubernetes_kind": "Service", "namespace": obj.namespace,
                                  "type": text(_spec(obj, "spec", "type"))}))
    group = "backends" if len(selected) > 1 else None
    if group:
        node = node.with_changes(redundancy={group: 1})
    why = "selector " + ",".join(f"{k}={v}" for k, v in (selector or {}).items())
    for w in selected:
        node = merge_inferred(node, w.id, why)
    builder.node(node, obj.where)
    for w in selected:
        builder.edge(obj.id, w.id, obj.where, group=group)
    return [w.id for w in selected]


def _addresses(obj: _Object) -> Iterator[tuple[str, str]]:
    """(variable, value) of every literal env value of the workload's containers."""
    for container in _list(_spec(obj, "spec", "template", "spec", "containers")):
        for env in _list(container.get("env")) if isinstance(container, dict) else []:
            if isinstance(env, dict) and text(env.get("name")) and text(env.get("value")):
                yield env["name"], env["value"]


def _service_ids(services: list[_Object]) -> dict[tuple[str | None, str], str]:
    """(namespace of the caller or None, host) -> Service id, for every way to name it."""
    out: dict[tuple[str | None, str], str] = {}
    for s in services:
        ns = s.namespace
        out[(ns, s.name)] = s.id
        for full in (f"{s.name}.{ns or 'default'}", f"{s.name}.{ns or 'default'}.svc",
                     f"{s.name}.{ns or 'default'}.svc.cluster.local"):
            out[(None, full)] = s.id
    return out


def import_kubernetes(files: Sequence[SourceFile]) -> Imported:
    """Read Kubernetes manifests (multi-document YAML, or ``kind: List``).

    Examples
    --------
    >>> text = '''
    ... apiVersion: apps/v1
    ... kind: Deployment
    ... metadata: {name: web}
    ... spec:
    ...   replicas: 2
    ...   template:
    ...     metadata: {labels: {app: web}}
    ...     spec:
    ...       containers: [{name: web, image: web:1, env: [{name: DB_ADDR, value: "db:5432"}]}]
    ... ---
    ... apiVersion: v1
    ... kind: Service
    ... metadata: {name: db}
    ... spec: {selector: {app: db}}
    ... '''
    >>> imp = import_kubernetes([SourceFile("app.yaml", text)])
    >>> [n.id for n in imp.graph.nodes]
    ['deployment/web', 'deployment/web/replica-1', 'deployment/web/replica-2', 'service/db']
    >>> imp.graph.nodes[0].properties["inferred_edges"]
    {'service/db': 'env:DB_ADDR'}
    """
    builder = Builder()
    objects = list(_objects(files, builder))
    workloads = [o for o in objects if o.kind in WORKLOADS]
    services = [o for o in objects if o.kind == "Service"]
    # Every workload's replicas are counted before any is built.
    counted = [(w, _replicas(w, builder)) for w in workloads]
    if builder.expected > MAX_IMPORT_ITEMS:
        return builder.result()
    for w, replicas in counted:
        if replicas is not None:
            _workload(w, replicas, builder)
    serves: dict[str, list[str]] = {}
    index = _label_index(workloads)
    for s in services:
        serves[s.id] = _service(s, index, builder)
    known = _service_ids(services)
    for w in workloads:
        if w.id not in builder.nodes:
            continue
        for variable, value in _addresses(w):
            for host in hosts_in(value):
                target = known.get((w.namespace, host)) or known.get((None, host))
                # A workload naming its own Service is not a dependency on itself.
                if target is None or w.id in serves.get(target, ()):
                    continue
                builder.edge(w.id, target, w.where)
                builder.replace(merge_inferred(builder.nodes[w.id][0], target, f"env:{variable}"))
    return builder.result()
