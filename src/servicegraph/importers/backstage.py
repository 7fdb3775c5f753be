"""Backstage software catalogues (``catalog-info.yaml``) as service systems and CIs.

Each Component, API, System and Domain becomes a service system, each Resource a
CI, identified by its entity reference (``component:artist-lookup``; the namespace
is written only when it is not ``default``: ``component:ops/billing``). The
relations become dependencies, the dependant needing the dependency:

========================================  ==========================================
in the catalogue                          dependency
========================================  ==========================================
``spec.dependsOn`` of X                   X needs each entity named
``spec.dependencyOf`` of X                each entity named needs X
``spec.consumesApis`` of X                X needs each API named
``spec.providesApis`` of X                the API needs X (an API provided by several
                                          components needs one of them: a redundancy
                                          group ``providers`` with min_ok 1, or the
                                          rule of the API's annotation
                                          ``servicegraph.io/providers``: a count,
                                          a share such as ``50%``, or JSON
                                          ``{"min_ok": 1, "ok_at": 2}``)
``spec.subcomponentOf: P`` of X           P needs X
``spec.system: S`` of X                   S needs X (a system is whole only with its
                                          parts)
``spec.domain: D`` of system S            D needs S
``spec.subdomainOf: P`` of domain D       P needs D
========================================  ==========================================

``metadata.title`` (else the name) is the node's name, ``spec.owner`` its owner;
``spec.type``, ``spec.lifecycle``, ``metadata.tags`` and the Backstage kind are kept
in ``properties``. Other kinds (Group, User, Location, Template, ...) are left out
and counted in the notes; a Location's targets are read when they are among the files (the
command line adds them, see :mod:`servicegraph.importers.directories`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from servicegraph.importers.common import (
    Builder,
    Imported,
    SourceFile,
    at_line,
    line_of,
    plain,
    strings,
    text,
    yaml_documents,
)
from servicegraph.model.graph import Node
from servicegraph.model.kinds import NodeKind

#: Backstage kinds with a place in the model, and the node kind each becomes.
KINDS = {
    "component": NodeKind.SERVICE_SYSTEM,
    "api": NodeKind.SERVICE_SYSTEM,
    "system": NodeKind.SERVICE_SYSTEM,
    "domain": NodeKind.SERVICE_SYSTEM,
    "resource": NodeKind.CI,
}

#: The group an API's several providers form.
PROVIDERS = "providers"


def entity_ref(ref: str, default_kind: str, namespace: str = "default") -> str:
    """The canonical id of an entity reference ``[kind:][namespace/]name``.

    Kinds and namespaces are compared without case, as Backstage does.

    >>> entity_ref("resource:artists-db", "component")
    'resource:artists-db'
    >>> entity_ref("wayback-archive", "api")
    'api:wayback-archive'
    >>> entity_ref("Component:ops/Billing", "component")
    'component:ops/billing'
    """
    kind, _, rest = ref.rpartition(":") if ":" in ref else ("", "", ref)
    ns, _, name = rest.rpartition("/") if "/" in rest else (namespace, "", rest)
    kind = (kind or default_kind).lower()
    ns = ns.lower()
    return f"{kind}:{name.lower()}" if ns == "default" else f"{kind}:{ns}/{name.lower()}"


def _entity(builder: Builder, where: str, doc: Any) -> tuple[str, str, Any] | None:
    """(kind, id, spec) of a document that is a catalogue entity we model, else None."""
    if not isinstance(doc, dict):
        builder.problem(where, "?", "", "a catalogue entity must be a mapping")
        return None
    kind = text(doc.get("kind"))
    meta = doc.get("metadata")
    name = text(meta.get("name")) if isinstance(meta, dict) else None
    if kind is None or not str(doc.get("apiVersion", "")).startswith("backstage.io/"):
        builder.problem(where, repr(name or "?"), "apiVersion",
                        "not a Backstage entity (needs apiVersion backstage.io/... and kind)")
        return None
    if kind == "Location":
        builder.notes.append(f"{where}: Location {name or '?'} not an entity of the model: "
                             "its targets are read when among the files (the command line "
                             "follows relative targets within the given directory)")
        return None
    if kind.lower() not in KINDS:
        builder.notes.append(f"{where}: {kind} {name or '?'} left out (no place in the model)")
        return None
    if name is None or not isinstance(meta, dict):
        builder.problem(where, "?", "metadata.name", "required: the entity's name")
        return None
    spec = doc.get("spec") or {}
    if not isinstance(spec, dict):
        builder.problem(where, repr(name), "spec", "must be a mapping")
        return None
    namespace = text(meta.get("namespace")) or "default"
    return kind.lower(), entity_ref(f"{kind}:{namespace}/{name}", kind), spec


def _node(kind: str, node_id: str, doc: dict[str, Any], spec: dict[str, Any]) -> Node:
    meta = doc["metadata"]
    owner = text(spec.get("owner"))
    return Node(
        id=node_id, kind=KINDS[kind], name=text(meta.get("title")) or meta["name"],
        owner=owner, description=text(meta.get("description")),
        properties=plain({"backstage_kind": doc["kind"], "type": text(spec.get("type")),
                          "lifecycle": text(spec.get("lifecycle")),
                          "tags": strings(meta.get("tags"))}))


PROVIDERS_ANNOTATION = "servicegraph.io/providers"


def _providers_rule(doc: Any, where: str, builder: Builder) -> Any:
    """The rule an API's annotation gives its providers group, if any: a count, a
    share, or JSON; the graph's checks judge the rule itself."""
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    notes = meta.get("annotations") if isinstance(meta, dict) else None
    given = notes.get(PROVIDERS_ANNOTATION) if isinstance(notes, dict) else None
    if not isinstance(given, str) or not given.strip():
        return None
    value = given.strip()
    if value.isdigit():
        return int(value)
    if value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError as exc:
            builder.problem(where, repr(value), f"metadata.annotations.{PROVIDERS_ANNOTATION}",
                            f"not JSON: {exc}")
            return None
    return value


def import_backstage(files: Sequence[SourceFile]) -> Imported:
    """Read Backstage catalogue files (multi-document YAML) into service systems and CIs.

    Parameters
    ----------
    files : sequence of SourceFile
        ``catalog-info.yaml`` files; references may cross files.

    Returns
    -------
    Imported
        The graph, with each item's origin (file, document, line).

    Raises
    ------
    ValidationError
        Naming the file, document and entity of every problem.

    Examples
    --------
    >>> text = '''
    ... apiVersion: backstage.io/v1alpha1
    ... kind: Component
    ... metadata: {name: shop}
    ... spec: {owner: team-a, dependsOn: ['resource:shop-db']}
    ... ---
    ... apiVersion: backstage.io/v1alpha1
    ... kind: Resource
    ... metadata: {name: shop-db}
    ... spec: {type: database}
    ... '''
    >>> imp = import_backstage([SourceFile("catalog-info.yaml", text)])
    >>> [(n.id, n.kind.value) for n in imp.graph.nodes]
    [('component:shop', 'service_system'), ('resource:shop-db', 'ci')]
    >>> [e.key for e in imp.graph.edges]
    [('component:shop', 'resource:shop-db')]
    >>> imp.edge_origins
    ('catalog-info.yaml document 1 (line 2)',)
    """
    builder = Builder()
    # (dependant, dependency, origin), added once every entity is known.
    links: list[tuple[str, str, str]] = []
    providers: dict[str, list[tuple[str, str]]] = {}
    #: API -> the rule its annotation gives its providers (None: one of them).
    rules: dict[str, Any] = {}
    for file in files:
        for number, doc in yaml_documents(file, builder):
            where = at_line(file.name, line_of(doc), number)
            found = _entity(builder, where, doc)
            if found is None:
                continue
            kind, node_id, spec = found
            namespace = node_id.split(":", 1)[1].rpartition("/")[0] or "default"

            def ref(value: str, default: str, ns: str = namespace) -> str:
                return entity_ref(value, default, ns)

            builder.node(_node(kind, node_id, doc, spec), where)
            if kind == "api":
                rules[node_id] = _providers_rule(doc, where, builder)
            links += [(node_id, ref(r, "component"), where) for r in strings(spec.get("dependsOn"))]
            links += [(ref(r, "component"), node_id, where)
                      for r in strings(spec.get("dependencyOf"))]
            links += [(node_id, ref(r, "api"), where) for r in strings(spec.get("consumesApis"))]
            for api in strings(spec.get("providesApis")):
                providers.setdefault(ref(api, "api"), []).append((node_id, where))
            if parent := text(spec.get("subcomponentOf")):
                links.append((ref(parent, "component"), node_id, where))
            if kind in ("component", "resource", "api") and (system := text(spec.get("system"))):
                links.append((ref(system, "system"), node_id, where))
            if kind == "system" and (domain := text(spec.get("domain"))):
                links.append((ref(domain, "domain"), node_id, where))
            if kind == "domain" and (parent := text(spec.get("subdomainOf"))):
                links.append((ref(parent, "domain"), node_id, where))
    for source, target, where in links:
        builder.edge(source, target, where)
    for api, given_by in providers.items():
        group = PROVIDERS if len(given_by) > 1 else None
        for component, where in given_by:
            builder.edge(api, component, where, group=group)
        if group is not None and api in builder.nodes:
            node = builder.nodes[api][0]
            builder.replace(node.with_changes(
                redundancy={**node.redundancy, PROVIDERS: rules.get(api) or 1},
                properties={**node.properties,
                            "inferred": f"answers while one of its {len(given_by)} "
                                        "providers does"}))
    return builder.result()
