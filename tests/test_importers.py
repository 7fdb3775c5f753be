"""The importers on real public files (tests/data), and imports as pushes on both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_graph
from servicegraph.importers import SourceFile, parse, run_import
from servicegraph.model.errors import ValidationError
from servicegraph.model.kinds import NodeKind
from servicegraph.store import GraphStore

DATA = Path(__file__).parent / "data"


def files(*paths: Path) -> list[SourceFile]:
    return [SourceFile(str(p.relative_to(DATA)), p.read_text(encoding="utf-8")) for p in paths]


def backstage() -> list[SourceFile]:
    return files(*sorted((DATA / "backstage").rglob("*.yaml")))


def test_backstage_example_catalogue() -> None:
    imp = parse("backstage", backstage())
    kinds = {n.id: n.kind for n in imp.graph.nodes}
    assert kinds["component:artist-lookup"] is NodeKind.SERVICE_SYSTEM
    assert kinds["resource:artists-db"] is NodeKind.CI
    assert kinds["domain:playback"] is NodeKind.SERVICE_SYSTEM
    assert len(kinds) == 17
    edges = {e.key for e in imp.graph.edges}
    assert ("component:artist-lookup", "resource:artists-db") in edges  # dependsOn
    assert ("component:www-artist", "component:artist-lookup") in edges  # consumesApis
    assert ("api:wayback-archive", "component:wayback-archive") in edges  # providesApis
    assert ("component:wayback-search", "api:wayback-archive") in edges  # consumesApis
    assert ("component:wayback-archive", "component:wayback-archive-storage") in edges
    assert ("system:audio-playback", "component:shuffle-api") in edges  # spec.system
    assert ("domain:playback", "system:podcast") in edges  # spec.domain
    node = {n.id: n for n in imp.graph.nodes}["system:artist-engagement-portal"]
    assert node.name == "Artist Engagement Portal" and node.owner == "team-a"
    # The multi-document file of Groups and Users is read and left out, said so.
    assert len(imp.notes) == 6 and all("left out" in n for n in imp.notes)
    assert any("acme/team-a-group.yaml document 2" in n for n in imp.notes)


def test_kubernetes_online_boutique() -> None:
    imp = parse("kubernetes", files(DATA / "microservices-demo" / "kubernetes-manifests.yaml"))
    nodes = {n.id: n for n in imp.graph.nodes}
    edges = {e.key: e for e in imp.graph.edges}
    frontend = nodes["deployment/frontend"]
    assert frontend.redundancy == {"replicas": 1}
    assert frontend.properties["inferred_edges"]["service/cartservice"] == "env:CART_SERVICE_ADDR"
    assert ("deployment/frontend", "service/cartservice") in edges
    assert ("deployment/cartservice", "service/redis-cart") in edges  # REDIS_ADDR
    assert edges[("deployment/frontend", "deployment/frontend/replica-1")].group == "replicas"
    assert nodes["deployment/frontend/replica-1"].kind is NodeKind.CI
    assert "inferred" in nodes["deployment/frontend/replica-1"].properties
    # Both Services in front of the frontend select it.
    assert ("service/frontend-external", "deployment/frontend") in edges
    assert {e for e in edges if e[0] == "deployment/checkoutservice"} >= {
        ("deployment/checkoutservice", f"service/{s}") for s in
        ("productcatalogservice", "shippingservice", "paymentservice", "emailservice",
         "currencyservice", "cartservice")}
    assert any("ServiceAccount" in n for n in imp.notes)
    assert all(n.kind in (NodeKind.SERVICE_SYSTEM, NodeKind.CI) for n in imp.graph.nodes)


def test_kubernetes_statefulset_needs_a_majority_and_annotation_overrides() -> None:
    text = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: zk}
spec: {replicas: 5}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, annotations: {servicegraph.io/min-ok: "2"}}
spec: {replicas: 3}
"""
    nodes = {n.id: n for n in parse("kubernetes", [SourceFile("k.yaml", text)]).graph.nodes}
    assert nodes["statefulset/zk"].redundancy == {"replicas": 3}
    assert nodes["shop/deployment/web"].redundancy == {"replicas": 2}


def test_compose_opentelemetry_demo_with_its_env() -> None:
    demo = DATA / "opentelemetry-demo"
    imp = parse("compose", files(demo / "compose.yaml", demo / ".env"))
    nodes = {n.id: n for n in imp.graph.nodes}
    edges = {e.key for e in imp.graph.edges}
    checkout = nodes["checkout"].properties["inferred_edges"]
    # CART_ADDR is passed through from .env: cart:${CART_PORT}.
    assert "env:CART_ADDR" in checkout["cart"].split(", ")
    assert ("checkout", "cart") in edges and ("frontend", "checkout") in edges
    assert "depends_on" in nodes["cart"].properties["inferred_edges"]["valkey-cart"]
    assert ("cart", "cart/replica-1") in edges
    # Without the .env, the pass-through variables are empty: fewer dependencies.
    alone = parse("compose", files(demo / "compose.yaml"))
    without = alone.graph.node_map()["checkout"].properties["inferred_edges"]
    assert "env:CART_ADDR" not in without.get("cart", "")


def test_jaeger_dependencies() -> None:
    imp = parse("jaeger", files(DATA / "jaeger-ui" / "small.json"))
    assert len(imp.graph.nodes) == 8 and len(imp.graph.edges) == 7
    service1 = imp.graph.node_map()["Service1"]
    assert service1.properties["inferred_edges"]["Service2"] == "trace: 30489 calls"
    assert imp.edge_origins[0] == "jaeger-ui/small.json data[0]"


def test_otel_service_graph_metrics() -> None:
    imp = parse("otel", files(DATA / "grafana-agent" / "servicegraph-metrics.prom"))
    assert sorted(e.key for e in imp.graph.edges) == [("app", "db"), ("lb", "app")]
    assert imp.graph.node_map()["lb"].properties["inferred_edges"] == {"app": "trace: 3 requests"}


@pytest.mark.parametrize(("kind", "name", "text", "expected"), [
    ("backstage", "catalog-info.yaml",
     "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\n---\n"
     "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {description: x}\n",
     "catalog-info.yaml document 2 (line 5) (?): metadata.name: required"),
    ("backstage", "bad.yaml", "kind: [unclosed\n", "bad.yaml line 2 (bad.yaml): : not valid YAML"),
    ("kubernetes", "app.yaml",
     "kind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: apps/v1\nkind: Deployment\n"
     "metadata: {name: web}\nspec: {replicas: two}\n",
     "app.yaml document 2 (line 4) ('deployment/web'): spec.replicas: must be a whole number"),
    ("compose", "compose.yaml", "services:\n  web: {depends_on: [db]}\n",
     "compose.yaml line 2 ('web'): depends_on: names 'db', which is not a service"),
    ("jaeger", "deps.json", '[{"parent": "a", "child": "b", "callCount": "many"}]',
     "deps.json data[0] (a -> b): callCount: must be a whole number"),
    ("jaeger", "deps.json", '[{"parent": "a",\n "child": }]', "deps.json line 2 (deps.json)"),
    ("otel", "m.prom", "# HELP x\ntraces_service_graph_request_total{client=\"a\" 3\n",
     "m.prom line 2 (traces_service_graph_request_total): : not a Prometheus sample"),
    ("csv", "nodes.csv", "id,kind,name\nweb,ci,Web\ndb,gadget,DB\n",
     "nodes.csv line 3 ('db'): kind: unknown kind 'gadget'"),
    ("csv", "edges.csv", "from,to,weight\na,b,3\n", "edges.csv line 1 (edges.csv): weight"),
])
def test_bad_input_names_file_line_and_item(kind: str, name: str, text: str,
                                            expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(kind, [SourceFile(name, text)])
    assert any(str(p).startswith(expected) for p in caught.value.problems), \
        [str(p) for p in caught.value.problems]


def redundancy_cell(rules: dict[str, Any]) -> str:
    """A redundancy cell as a spreadsheet holds it: pairs, or JSON for mapping rules."""
    import json

    if any(isinstance(r, dict) for r in rules.values()):
        return json.dumps(rules)
    return ";".join(f"{g}:{k}" for g, k in rules.items())


def _example_csv(tmp: Path) -> list[SourceFile]:
    """The example enterprise written as the two CSV files a spreadsheet would hold."""
    import csv
    import io
    import json

    graph = example_graph()
    nodes, edges = io.StringIO(), io.StringIO()
    w = csv.writer(nodes)
    w.writerow(["id", "kind", "name", "owner", "provider", "visible", "silo", "description",
                "properties", "redundancy"])
    for n in graph.nodes:
        w.writerow([n.id, n.kind.value, n.name, n.owner or "", n.provider or "",
                    "" if n.visible is None else str(n.visible).lower(), n.silo or "",
                    n.description or "", json.dumps(dict(n.properties)) if n.properties else "",
                    redundancy_cell(dict(n.redundancy))])
    w = csv.writer(edges)
    w.writerow(["from", "to", "group", "impact"])
    for e in graph.edges:
        w.writerow([e.source, e.target, e.group or "", e.impact.value])
    return [SourceFile("nodes.csv", nodes.getvalue()), SourceFile("edges.csv", edges.getvalue())]


def test_csv_round_trip_of_the_example(tmp_path: Path) -> None:
    imp = parse("csv", _example_csv(tmp_path))
    assert imp.graph.to_dict() == example_graph().to_dict()


def test_import_is_a_push_idempotent_and_retired_by_full_sync(store: GraphStore) -> None:
    graph = ServiceGraph(store)
    manifests = files(DATA / "microservices-demo" / "kubernetes-manifests.yaml")
    first = run_import(graph.writes, "k8s", "kubernetes", manifests, full_sync=True)
    assert first["changed"] and first["nodes"]["created"] == first["imported"]["nodes"] == 36
    again = run_import(graph.writes, "k8s", "kubernetes", manifests, full_sync=True)
    assert not again["changed"] and again["nodes"]["unchanged"] == 36
    assert graph.questions.provenance("deployment/frontend")["claims"][0]["source"] == "k8s"
    # Promises and acts on top, from a file of one's own.
    graph.writes.load(example_graph())
    # A smaller sync retires what the source no longer lists.
    text = manifests[0].text.split("\n---\n")
    kept = "\n---\n".join(d for d in text if "metadata:\n  name: adservice\n" not in d)
    later = run_import(graph.writes, "k8s", "kubernetes", [SourceFile("m.yaml", kept)],
                       full_sync=True)
    assert later["nodes"]["retired"] == 3  # the deployment, its replica, its service
    assert graph.questions.node("deployment/adservice").retired_at is not None
    assert "deployment/adservice" not in graph.questions.index().position


def test_graph_rule_problems_name_the_file(store: GraphStore) -> None:
    graph = ServiceGraph(store)
    text = ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: shop}\n"
            "spec: {dependsOn: ['resource:missing-db']}\n")
    with pytest.raises(ValidationError) as caught:
        run_import(graph.writes, "backstage", "backstage", [SourceFile("catalog-info.yaml", text)])
    (problem,) = caught.value.problems
    assert str(problem).startswith("catalog-info.yaml document 1 (line 1) "
                                   "(component:shop -> resource:missing-db): to: no node")
    assert graph.questions.whole_graph().nodes == ()


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["kind", "apiVersion", "metadata", "name", "spec", "services",
                         "replicas", "template", "containers", "env", "value", "selector",
                         "depends_on", "environment", "parent", "child", "callCount",
                         "dependsOn", "providesApis", "system", "data", "items",
                         "volumes", "command", "args", "envFrom", "configMapRef",
                         "valueFrom", "configMapKeyRef", "key", "volumeMounts", "configMap",
                         "rules", "http", "paths", "backend", "service", "defaultBackend",
                         "scaleTargetRef", "minReplicas", "minAvailable", "matchLabels",
                         "volumeClaimTemplates", "persistentVolumeClaim", "claimName",
                         "claimRef", "volumeName", "profiles", "source", "type"])
        | st.text(max_size=8), inner, max_size=5),
    max_leaves=25)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(kind=st.sampled_from(["backstage", "kubernetes", "compose", "jaeger", "otel", "csv"]),
       doc=_JSONISH, raw=st.text(max_size=200), as_yaml=st.booleans())
def test_importers_refuse_any_input_with_problems_never_a_crash(kind: str, doc: object,
                                                                raw: str, as_yaml: bool) -> None:
    import json

    import yaml

    for text in (raw, yaml.safe_dump(doc) if as_yaml else json.dumps(doc)):
        try:
            parse(kind, [SourceFile("input", text)])
        except ValidationError as exc:
            assert all(p.section.startswith("input") for p in exc.problems)


def test_csv_and_backstage_take_shares_and_thresholds() -> None:
    nodes = ("id,kind,name,redundancy\n"
             "pool,service_system,Pool,web:50%\n"
             'wan,ci,WAN,"{""links"": {""min_ok"": 1, ""ok_at"": ""50%""}}"\n'
             "w1,ci,W1,\nw2,ci,W2,\nl1,ci,L1,\nl2,ci,L2,\n")
    edges = "from,to,group\npool,w1,web\npool,w2,web\nwan,l1,links\nwan,l2,links\n"
    imp = parse("csv", [SourceFile("nodes.csv", nodes), SourceFile("edges.csv", edges)])
    found = imp.graph.node_map()
    assert found["pool"].redundancy == {"web": "50%"}
    assert found["wan"].redundancy == {"links": {"min_ok": 1, "ok_at": "50%"}}
    bad = "id,kind,redundancy\npool,service_system,web:half\n"
    with pytest.raises(ValidationError, match="group:rule pairs"):
        parse("csv", [SourceFile("nodes.csv", bad)])
    catalogue = """
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: orders, annotations: {servicegraph.io/providers: '{"min_ok": 1, "ok_at": 2}'}}
spec: {type: openapi}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: orders-a}
spec: {providesApis: [orders]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: orders-b}
spec: {providesApis: [orders]}
"""
    api = parse("backstage", [SourceFile("catalog-info.yaml", catalogue)]).graph.node_map()
    assert api["api:orders"].redundancy == {"providers": {"min_ok": 1, "ok_at": 2}}
