"""Kubernetes manifests as service systems, their replicas as CIs.

==========================  ========================================================
in the manifests            in the graph
==========================  ========================================================
Deployment / StatefulSet    a service system ``deployment/NAME`` (``statefulset/NAME``;
                            ``NAMESPACE/deployment/NAME`` when the manifest names a
                            namespace)
its ``replicas`` (n,        n CIs ``deployment/NAME/replica-1`` ... that the workload
default 1, at most 1,000)   needs as a redundancy group ``replicas``: a Deployment
                            needs 1 (stateless replicas each answer alone), a
                            StatefulSet a majority, n // 2 + 1 (stateful sets are
                            often quorum systems); the annotation
                            ``servicegraph.io/min-ok`` on the workload overrides it.
                            A PodDisruptionBudget's ``minAvailable`` (a count or a
                            share) is the group's ``ok_at``: below it the workload is
                            at risk (without one, any lost replica puts it at risk).
                            Counts and shares of the group's members, not of a
                            replica number, so the rule holds as the workload scales;
                            without ``replicas``, a HorizontalPodAutoscaler's
                            ``minReplicas`` is the count
Service                     a service system ``service/NAME`` that needs the workloads
                            its selector matches (one of them when several do)
Ingress                     a service system ``ingress/NAME`` that needs each Service
                            its rules and default backend name
an address naming a         the workload needs that Service; read from ``env`` values,
Service                     ``command`` and ``args`` (URLs, ``host:port``, ``--flag=x``,
                            ``--flag x``) and the ConfigMaps the workload loads
                            (``envFrom``, ``configMapKeyRef``) or mounts
PersistentVolumeClaim,      CIs ``persistentvolumeclaim/NAME``,
PersistentVolume            ``persistentvolume/NAME``; a workload needs the claims
                            its volumes name, a claim the volume bound to it; a
                            StatefulSet's ``volumeClaimTemplates`` give each replica a
                            claim of its own that it needs
==========================  ========================================================

Everything inferred is marked: replica CIs carry ``properties.inferred``; a node's
inferred dependencies are listed in its ``properties.inferred_edges`` (target id ->
why, e.g. ``env:CART_SERVICE_ADDR``) and in the import's ``inferred`` list with the
file, field and text. Addresses naming no Service of the files are listed as
unresolved. Other kinds (ServiceAccount, CronJob, ...) are left out and counted in the
notes; unrendered Helm templates are refused, kustomizations noted.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from servicegraph.importers.common import (
    LOCAL_HOSTS,
    MAX_IMPORT_ITEMS,
    Builder,
    Imported,
    SourceFile,
    addresses_in,
    at_line,
    line_of,
    plain,
    replicas_of,
    text,
    yaml_documents,
)
from servicegraph.importers.rendering import helm_problem, kustomization_note
from servicegraph.model.graph import Node
from servicegraph.model.kinds import NodeKind

WORKLOADS = ("Deployment", "StatefulSet")
#: Kinds read for what they say about others, without a node of their own.
READ = ("ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget")
#: Kinds that become nodes besides the workloads.
NODES = ("Service", "Ingress", "PersistentVolumeClaim", "PersistentVolume")
#: The annotation that sets how many replicas a workload needs.
MIN_OK_ANNOTATION = "servicegraph.io/min-ok"
REPLICAS = "replicas"
NO_CALLS = ("no calls found: nothing in these files says which service calls which; "
            "add a tracing import (jaeger, otel) or a calls file")


@dataclass(frozen=True)
class _Object:
    kind: str
    name: str
    namespace: str | None
    body: dict[str, Any]
    where: str

    @property
    def id(self) -> str:
        return _id(self.namespace, self.kind, self.name)


def _id(namespace: str | None, kind: str, name: str) -> str:
    if kind == "PersistentVolume":  # cluster-wide: no namespace
        namespace = None
    return (f"{namespace}/" if namespace else "") + f"{kind.lower()}/{name}"


def _objects(files: Sequence[SourceFile], builder: Builder) -> Iterator[_Object]:
    for file in files:
        note = kustomization_note(file)
        if note is not None:
            builder.notes.append(note)
            continue
        helm = helm_problem(file)
        if helm is not None:
            builder.problem(file.name, file.name, "", helm)
            continue
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
    if kind == "Kustomization":
        builder.notes.append(f"{where}: a Kustomization, not read: run `kubectl kustomize "
                             "DIR` and import its output")
        return None
    if kind not in (*WORKLOADS, *READ, *NODES):
        builder.notes.append(f"{where}: {kind} {name or '?'} left out (no place in the model)")
        return None
    if name is None or not isinstance(meta, dict):
        builder.problem(where, "?", "metadata.name", f"required: the {kind}'s name")
        return None
    if kind != "ConfigMap" and not isinstance(doc.get("spec") or {}, dict):
        builder.problem(where, repr(name), "spec", "must be a mapping")
        return None
    return _Object(kind, name, text(meta.get("namespace")), doc, where)


def _list(value: Any) -> list[Any]:
    """``value`` when it is a list, else nothing (a malformed field adds nothing)."""
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}


def _spec(obj: _Object, *path: str) -> Any:
    value: Any = obj.body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


@dataclass
class _Context:
    """What the other objects of the import say about the workloads."""

    #: (namespace, kind, name) of a workload -> (HPA minReplicas, the HPA's place).
    min_replicas: dict[tuple[str | None, str, str], tuple[int, str]]
    #: workload id -> (PDB minAvailable, a count or a share, and the PDB's name).
    min_available: dict[str, tuple[int | str, str]]
    #: (namespace, name) -> the ConfigMap's data.
    config_maps: dict[tuple[str | None, str], dict[str, str]]


def _rule(obj: _Object, replicas: int, ctx: _Context, builder: Builder) -> Any:
    """The replicas group's rule: how many must be up (``min_ok``), and, with a
    PodDisruptionBudget, how many must be ok before it is at risk (``ok_at``)."""
    need = _min_ok(obj, replicas, builder)
    if obj.id not in ctx.min_available:
        return need
    wanted, pdb = ctx.min_available[obj.id]
    share = isinstance(wanted, str) and wanted.endswith("%") and wanted[:-1].isdigit() \
        and 1 <= int(wanted[:-1]) <= 100
    if share or (isinstance(wanted, int) and need <= wanted <= replicas):
        return {"min_ok": need, "ok_at": wanted}
    builder.notes.append(f"{obj.where}: PodDisruptionBudget {pdb} asks minAvailable "
                         f"{wanted} of {obj.id}'s {replicas} replica(s): not used")
    return need


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


def _replicas(obj: _Object, ctx: _Context, builder: Builder) -> int | None:
    """The workload's replicas (``None`` after a problem), announced to the builder."""
    given = _spec(obj, "spec", "replicas")
    field_name = "spec.replicas"
    hpa = ctx.min_replicas.get((obj.namespace, obj.kind, obj.name))
    if given is None and hpa is not None:
        given, field_name = hpa[0], f"minReplicas of the HorizontalPodAutoscaler at {hpa[1]}"
    replicas = replicas_of(given, obj.where, repr(obj.id), field_name, builder)
    if replicas is not None:
        claims = len(_claim_templates(obj))
        builder.expect(obj.where, repr(obj.id), field_name, 1 + 2 * replicas * (1 + claims))
    return replicas


def _claim_templates(obj: _Object) -> list[str]:
    if obj.kind != "StatefulSet":
        return []
    return [n for t in _list(_spec(obj, "spec", "volumeClaimTemplates"))
            if (n := text(_dict(_dict(t).get("metadata")).get("name")))]


def _workload(obj: _Object, replicas: int, ctx: _Context, builder: Builder) -> None:
    containers = _containers(obj)
    images = [c["image"] for c in containers if text(c.get("image"))]
    rule = _rule(obj, replicas, ctx, builder) if replicas else 0
    from_hpa = _spec(obj, "spec", "replicas") is None and \
        (obj.namespace, obj.kind, obj.name) in ctx.min_replicas
    builder.node(Node(obj.id, NodeKind.SERVICE_SYSTEM, obj.name,
                      redundancy={REPLICAS: rule} if replicas else {},
                      properties=plain({"kubernetes_kind": obj.kind, "namespace": obj.namespace,
                                        "replicas": replicas, "images": images,
                                        "names": _names(obj),
                                        "replicas_from": "HorizontalPodAutoscaler minReplicas"
                                        if from_hpa else None})), obj.where)
    templates = _claim_templates(obj)
    needed = (f"{rule['min_ok']} needed, ok at {rule['ok_at']}" if isinstance(rule, dict)
              else f"{rule} needed")
    for i in range(1, replicas + 1):
        replica = f"{obj.id}/replica-{i}"
        builder.node(Node(replica, NodeKind.CI, f"{obj.name} replica {i}", silo="kubernetes",
                          properties={"inferred": f"{obj.kind} {obj.name}: replica {i} of "
                                                  f"{replicas}, {needed}"}), obj.where)
        builder.edge(obj.id, replica, obj.where, group=REPLICAS)
        for template in templates:
            # The claim a StatefulSet makes for its pod of ordinal i - 1.
            claim_name = f"{template}-{obj.name}-{i - 1}"
            claim = _id(obj.namespace, "PersistentVolumeClaim", claim_name)
            builder.node(Node(claim, NodeKind.CI, claim_name, silo="kubernetes",
                              properties={"inferred": f"StatefulSet {obj.name}: volume claim "
                                                      f"{template} of replica {i}"}),
                         obj.where)
            builder.infer(replica, claim, obj.where, "spec.volumeClaimTemplates",
                          template, why=f"volumeClaimTemplates:{template}")


#: The pod labels that name the service a workload is (as tracing reports it).
NAME_LABELS = ("app", "app.kubernetes.io/name")


def _names(obj: _Object) -> list[str]:
    """The names the workload's pods answer to in traces, besides its own."""
    labels = _labels(obj)
    return sorted({v for k in NAME_LABELS if isinstance(v := labels.get(k), str)
                   and v and v != obj.name})


def _containers(obj: _Object) -> list[dict[str, Any]]:
    pod = _dict(_spec(obj, "spec", "template", "spec"))
    return [c for c in _list(pod.get("initContainers")) + _list(pod.get("containers"))
            if isinstance(c, dict)]


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
    """The workloads of the object's namespace whose labels hold all of ``selector``.

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
                redundancy={"backends": 1} if len(selected) > 1 else {},
                properties=plain({"kubernetes_kind": "Service", "namespace": obj.namespace,
                                  "type": text(_spec(obj, "spec", "type"))}))
    group = "backends" if len(selected) > 1 else None
    why = "selector " + ",".join(f"{k}={v}" for k, v in _dict(selector).items())
    builder.node(node, obj.where)
    for w in selected:
        builder.infer(obj.id, w.id, obj.where, "spec.selector", why[len("selector "):],
                      why=why, group=group)
    return [w.id for w in selected]


def _context(objects: list[_Object], index: _LabelIndex, builder: Builder) -> _Context:
    ctx = _Context({}, {}, {})
    for o in objects:
        if o.kind == "HorizontalPodAutoscaler":
            target = _dict(_spec(o, "spec", "scaleTargetRef"))
            low = _spec(o, "spec", "minReplicas")
            low = 1 if low is None else low  # Kubernetes' default
            if text(target.get("name")) and isinstance(low, int) and not isinstance(low, bool):
                ctx.min_replicas[(o.namespace, str(target.get("kind")), target["name"])] = \
                    (low, o.where)
        elif o.kind == "PodDisruptionBudget":
            selected = _selected(o, _spec(o, "spec", "selector", "matchLabels"), index)
            wanted = _spec(o, "spec", "minAvailable")
            if (isinstance(wanted, int) and not isinstance(wanted, bool)) or \
                    isinstance(wanted, str):
                for w in selected:
                    ctx.min_available[w.id] = (wanted, o.name)
            else:
                given = f"maxUnavailable {_spec(o, 'spec', 'maxUnavailable')}"
                builder.notes.append(
                    f"{o.where}: PodDisruptionBudget {o.name} ({given}) not used: only "
                    "minAvailable (a count or a share) sets when the workload is at risk")
        elif o.kind == "ConfigMap":
            data = _dict(o.body.get("data"))
            ctx.config_maps[(o.namespace, o.name)] = {
                str(k): v for k, v in data.items() if isinstance(v, str)}
    return ctx


def _values(obj: _Object, ctx: _Context) -> Iterator[tuple[str, str, str, bool]]:
    """(field, why, value, bare) of every value of the workload that may hold an
    address; ``bare`` when a lone name there is an address too (an env value, a flag's
    value), not only a URL or ``host:port``."""
    pod = _dict(_spec(obj, "spec", "template", "spec"))
    mounted = {m.get("name") for c in _containers(obj)
               for m in _list(c.get("volumeMounts")) if isinstance(m, dict)}
    loaded: list[tuple[str, str]] = []  # (ConfigMap name, how)
    for c in _containers(obj):
        cname = c.get("name", "?")
        for env in _list(c.get("env")):
            env = _dict(env)
            name = text(env.get("name")) or "?"
            if text(env.get("value")):
                yield f"containers[{cname}].env[{name}]", f"env:{name}", env["value"], True
            ref = _dict(_dict(env.get("valueFrom")).get("configMapKeyRef"))
            data = ctx.config_maps.get((obj.namespace, str(ref.get("name"))), {})
            if text(data.get(str(ref.get("key")))):
                yield (f"ConfigMap {ref['name']} key {ref['key']} (env {name})",
                       f"configmap:{ref['name']}/{ref['key']}", data[str(ref["key"])], True)
        for source in _list(c.get("envFrom")):
            if ref_name := text(_dict(_dict(source).get("configMapRef")).get("name")):
                loaded.append((ref_name, "envFrom"))
        for part, i, word, bare in _arguments(c):
            yield f"containers[{cname}].{part}[{i}]", part, word, bare
    for volume in _list(pod.get("volumes")):
        volume = _dict(volume)
        ref_name = text(_dict(volume.get("configMap")).get("name"))
        if ref_name and volume.get("name") in mounted:
            loaded.append((ref_name, "volume"))
    for name, how in loaded:
        for key, value in ctx.config_maps.get((obj.namespace, name), {}).items():
            # A mounted file is a whole configuration text: only sure addresses count.
            yield (f"ConfigMap {name} key {key} ({how})", f"configmap:{name}/{key}", value,
                   how == "envFrom")


def _arguments(container: dict[str, Any]) -> Iterator[tuple[str, int, str, bool]]:
    """("command" or "args", index, value, bare) for the container's command line; a flag's
    value (``--flag=value``, ``--flag value``) may be a lone name, other words only
    count as URLs or ``host:port``."""
    for part in ("command", "args"):
        words = [w for w in _list(container.get(part)) if isinstance(w, str)]
        for i, word in enumerate(words):
            after_flag = i > 0 and words[i - 1].startswith("-") and "=" not in words[i - 1] \
                and not word.startswith("-")
            yield part, i, word, (word.startswith("-") and "=" in word) or after_flag


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


def _calls(w: _Object, ctx: _Context, known: dict[tuple[str | None, str], str],
           serves: dict[str, list[str]], builder: Builder) -> None:
    """The Services the workload's values name, and the addresses naming none."""
    for field_name, why, value, bare in _values(w, ctx):
        for address in addresses_in(value):
            host = address.host
            if not (bare or address.explicit or ".svc" in host):
                continue
            target = known.get((w.namespace, host)) or known.get((None, host))
            if target is None:
                if (address.explicit or host.endswith((".svc", ".svc.cluster.local"))) \
                        and host not in LOCAL_HOSTS:
                    builder.unresolved_address(w.id, w.where, field_name, value, host)
                continue
            # A workload naming its own Service is not a dependency on itself.
            if w.id not in serves.get(target, ()):
                builder.infer(w.id, target, w.where, field_name, value, why=why)


def _ingress(obj: _Object, known: dict[tuple[str | None, str], str],
             builder: Builder) -> None:
    """Add the Ingress and its dependencies on the Services it routes to."""
    builder.node(Node(obj.id, NodeKind.SERVICE_SYSTEM, obj.name,
                      properties=plain({"kubernetes_kind": "Ingress",
                                        "namespace": obj.namespace})), obj.where)
    backends: list[tuple[str, Any]] = [("spec.defaultBackend", _spec(obj, "spec",
                                                                     "defaultBackend"))]
    for i, rule in enumerate(_list(_spec(obj, "spec", "rules"))):
        for j, path in enumerate(_list(_dict(_dict(rule).get("http")).get("paths"))):
            backends.append((f"spec.rules[{i}].http.paths[{j}].backend",
                             _dict(path).get("backend")))
    for field_name, backend in backends:
        backend = _dict(backend)
        name = text(_dict(backend.get("service")).get("name")) or text(
            backend.get("serviceName"))
        if name is None:
            continue
        target = known.get((obj.namespace, name))
        if target is None:
            builder.unresolved_address(obj.id, obj.where, field_name, name, name)
        else:
            builder.infer(obj.id, target, obj.where, field_name, name,
                          why=f"ingress backend {name}")


def _volumes(objects: list[_Object], builder: Builder) -> None:
    """Claims and volumes as CIs; a claim needs the volume bound to it."""
    claims = [o for o in objects if o.kind == "PersistentVolumeClaim"]
    volumes = [o for o in objects if o.kind == "PersistentVolume"]
    for o in claims + volumes:
        builder.node(Node(o.id, NodeKind.CI, o.name, silo="kubernetes",
                          properties=plain({"kubernetes_kind": o.kind,
                                            "namespace": o.namespace})), o.where)
    by_name = {v.name: v.id for v in volumes}
    for c in claims:
        bound = text(_spec(c, "spec", "volumeName"))
        if bound and bound in by_name:
            builder.infer(c.id, by_name[bound], c.where, "spec.volumeName", bound)
    for v in volumes:
        ref = _dict(_spec(v, "spec", "claimRef"))
        claim = _id(text(ref.get("namespace")), "PersistentVolumeClaim", str(ref.get("name")))
        if text(ref.get("name")) and claim in builder.nodes:
            builder.infer(claim, v.id, v.where, "spec.claimRef", str(ref["name"]))


def _claims(w: _Object, builder: Builder) -> None:
    """The workload needs the claims its pod's volumes name."""
    for volume in _list(_spec(w, "spec", "template", "spec", "volumes")):
        claim = text(_dict(_dict(volume).get("persistentVolumeClaim")).get("claimName"))
        if claim is None:
            continue
        target = _id(w.namespace, "PersistentVolumeClaim", claim)
        if target in builder.nodes:
            builder.infer(w.id, target, w.where, "volumes.persistentVolumeClaim", claim,
                          why=f"volume:{claim}")
        else:
            builder.unresolved_address(w.id, w.where, "volumes.persistentVolumeClaim",
                                       claim, claim)


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
    >>> imp.inferred[0].field, imp.inferred[0].text
    ('containers[web].env[DB_ADDR]', 'db:5432')
    """
    builder = Builder()
    objects = list(_objects(files, builder))
    workloads = [o for o in objects if o.kind in WORKLOADS]
    services = [o for o in objects if o.kind == "Service"]
    index = _label_index(workloads)
    ctx = _context(objects, index, builder)
    # Every workload's replicas are counted before any is built.
    counted = [(w, _replicas(w, ctx, builder)) for w in workloads]
    if builder.expected > MAX_IMPORT_ITEMS:
        return builder.result()
    for w, replicas in counted:
        if replicas is not None:
            _workload(w, replicas, ctx, builder)
    _volumes(objects, builder)
    serves: dict[str, list[str]] = {}
    for s in services:
        serves[s.id] = _service(s, index, builder)
    known = _service_ids(services)
    for o in objects:
        if o.kind == "Ingress":
            _ingress(o, known, builder)
    called = 0
    for w in workloads:
        if w.id not in builder.nodes:
            continue
        before = len(builder.edges)
        _claims(w, builder)
        mark = len(builder.edges)
        _calls(w, ctx, known, serves, builder)
        called += len(builder.edges) - mark
        if len(builder.edges) == before:
            builder.without_dependencies.append(w.id)
    if workloads and not called:
        builder.notes.append(NO_CALLS)
    return builder.result()
