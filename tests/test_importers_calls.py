"""Imports that find the calls: addresses in commands, arguments and ConfigMaps,
Ingresses, autoscalers, disruption budgets and volumes; Compose volumes, profiles and
start-up order; what each inferred dependency was read from, and what an import
could not see; directories and Backstage Locations; unrendered templates.

The expected dependencies of the vendored manifests (tests/data/podinfo,
tests/data/bookinfo) are written out by hand, as a careful reader finds them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicegraph.cli import app
from servicegraph.core import ServiceGraph
from servicegraph.importers import Imported, SourceFile, parse, run_import, seen_and_unseen
from servicegraph.importers.directories import expand
from servicegraph.importers.kubernetes import NO_CALLS
from servicegraph.model.errors import ValidationError
from servicegraph.model.kinds import Impact
from servicegraph.store import GraphStore

from apikit import api_client

DATA = Path(__file__).parent / "data"


def files(*paths: Path) -> list[SourceFile]:
    return [SourceFile(str(p.relative_to(DATA)), p.read_text(encoding="utf-8")) for p in paths]


def calls(imp: Imported) -> set[tuple[str, str]]:
    """Every dependency but a workload's on its own replicas."""
    return {e.key for e in imp.graph.edges if e.group != "replicas"}


def podinfo() -> Imported:
    paths, _ = expand("kubernetes", [DATA / "podinfo"], lambda p: p.read_text())
    return parse("kubernetes", files(*paths))


def test_podinfo_bases_read_as_a_directory() -> None:
    imp = podinfo()
    assert calls(imp) == {
        # The container commands: --backend-url=http://backend:9898/echo and
        # --cache-server=tcp://cache:6379 (the frontend), the cache again (the backend).
        ("deployment/frontend", "service/backend"),
        ("deployment/frontend", "service/cache"),
        ("deployment/backend", "service/cache"),
        # Each Service's selector.
        ("service/frontend", "deployment/frontend"),
        ("service/backend", "deployment/backend"),
        ("service/cache", "deployment/cache"),
        ("service/database-primary", "statefulset/database-primary"),
        ("service/database-replica", "deployment/database-replica"),
        # The primary's data volume, a PersistentVolumeClaim.
        ("statefulset/database-primary", "persistentvolumeclaim/database-primary"),
    }
    nodes = imp.graph.node_map()
    # No spec.replicas: the HorizontalPodAutoscalers' minReplicas (2, 1, 2) count.
    assert nodes["deployment/frontend"].properties["replicas"] == 2
    assert nodes["deployment/backend"].properties["replicas"] == 1
    assert nodes["deployment/database-replica"].properties["replicas"] == 2
    assert nodes["deployment/cache"].properties["replicas"] == 1  # no HPA: 1
    assert nodes["deployment/frontend"].properties["replicas_from"] == \
        "HorizontalPodAutoscaler minReplicas"
    assert nodes["persistentvolumeclaim/database-primary"].kind.value == "ci"
    frontend = {(i.target, i.field, i.text) for i in imp.inferred
                if i.source == "deployment/frontend"}
    assert frontend == {
        ("service/backend", "containers[frontend].command[4]",
         "--backend-url=http://backend:9898/echo"),
        ("service/cache", "containers[frontend].command[5]", "--cache-server=tcp://cache:6379")}
    assert all(i.where.startswith("podinfo/") for i in imp.inferred)
    # The cache and the read replicas call nothing the files show.
    assert set(imp.without_dependencies) == {"deployment/cache", "deployment/database-replica"}
    assert imp.unresolved == ()
    assert NO_CALLS not in imp.notes
    kustomize = [n for n in imp.notes if "kubectl kustomize" in n]
    assert len(kustomize) == 4 and kustomize[0].startswith("podinfo/backend/kustomization.yaml")


def test_bookinfo_says_no_calls_were_found() -> None:
    imp = parse("kubernetes", files(DATA / "bookinfo" / "bookinfo.yaml"))
    assert calls(imp) == {
        ("service/details", "deployment/details-v1"),
        ("service/ratings", "deployment/ratings-v1"),
        ("service/reviews", "deployment/reviews-v1"),
        ("service/reviews", "deployment/reviews-v2"),
        ("service/reviews", "deployment/reviews-v3"),
        ("service/productpage", "deployment/productpage-v1"),
    }
    assert imp.graph.node_map()["service/reviews"].redundancy == {"backends": 1}
    # Bookinfo's services find each other in their code: the manifests hold no call.
    assert NO_CALLS in imp.notes
    assert set(imp.without_dependencies) == {
        "deployment/details-v1", "deployment/ratings-v1", "deployment/reviews-v1",
        "deployment/reviews-v2", "deployment/reviews-v3", "deployment/productpage-v1"}


SHOP = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data:
  PAYMENT_URL: "http://payment.pay:8080/charge"
  ZIPKIN: "zipkin.jaeger.svc.cluster.local"
  LOG_LEVEL: info
---
apiVersion: v1
kind: ConfigMap
metadata: {name: keys, namespace: shop}
data: {stock: stock, other: "http://ghost-a:1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: files, namespace: shop}
data:
  app.conf: "upstream = search.shop.svc.cluster.local:9200\\nmode = cart\\n"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unused, namespace: shop}
data: {x: "http://ghost-b:1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1
        command: [./web]
        args: ["--cart", "cart", "--users=users.shop.svc:5000", "serve", "notes",
               "--zipkin=http://zipkin:9411", "--listen=0.0.0.0:80"]
        env:
        - name: STOCK_HOST
          valueFrom: {configMapKeyRef: {name: keys, key: stock}}
        envFrom:
        - configMapRef: {name: settings}
        volumeMounts:
        - {name: conf, mountPath: /etc/web}
        - {name: uploads, mountPath: /uploads}
      volumes:
      - {name: conf, configMap: {name: files}}
      - {name: spare, configMap: {name: unused}}
      - {name: uploads, persistentVolumeClaim: {claimName: uploads}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: db}}
  volumeClaimTemplates:
  - metadata: {name: data}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 4
  maxReplicas: 8
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: shop}
spec:
  minAvailable: 50%
  selector: {matchLabels: {app: api}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: uploads, namespace: shop}
spec: {volumeName: pv-uploads}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-uploads}
spec: {capacity: {storage: 1Gi}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: www, namespace: shop}
spec:
  defaultBackend: {service: {name: legacy, port: {number: 80}}}
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
"""

SERVICES = "".join(f"""---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec: {{selector: {{app: {name}}}}}
""" for name, ns in [("web", "shop"), ("cart", "shop"), ("users", "shop"), ("search", "shop"),
                     ("stock", "shop"), ("notes", "shop"), ("serve", "other"),
                     ("payment", "pay")])


def test_kubernetes_addresses_in_arguments_configmaps_ingress_and_volumes() -> None:
    imp = parse("kubernetes", [SourceFile("shop.yaml", SHOP + SERVICES)])
    assert {t for s, t in calls(imp) if s == "shop/deployment/web"} == {
        "shop/service/cart",          # --cart cart: a flag's value
        "shop/service/users",         # --users=users.shop.svc:5000
        "pay/service/payment",        # envFrom settings: http://payment.pay:8080/charge
        "shop/service/stock",         # configMapKeyRef keys/stock: stock
        "shop/service/search",        # the mounted app.conf: search.shop.svc.cluster.local
        "shop/persistentvolumeclaim/uploads",
    }
    edges = calls(imp)
    assert ("shop/persistentvolumeclaim/uploads", "persistentvolume/pv-uploads") in edges
    assert ("shop/ingress/www", "shop/service/web") in edges
    assert ("shop/statefulset/db/replica-1", "shop/persistentvolumeclaim/data-db-0") in edges
    assert ("shop/statefulset/db/replica-2", "shop/persistentvolumeclaim/data-db-1") in edges
    nodes = imp.graph.node_map()
    # One replica serves; the PDB's minAvailable, a count or a share, is where the
    # workload is at risk.
    assert nodes["shop/deployment/web"].redundancy == {"replicas": {"min_ok": 1, "ok_at": 2}}
    assert nodes["shop/deployment/api"].properties["replicas"] == 4  # the HPA's minimum
    assert nodes["shop/deployment/api"].redundancy == {
        "replicas": {"min_ok": 1, "ok_at": "50%"}}
    unresolved = {(u.item, u.field, u.host) for u in imp.unresolved}
    assert unresolved == {
        ("shop/deployment/web", "ConfigMap settings key ZIPKIN (envFrom)",
         "zipkin.jaeger.svc.cluster.local"),
        ("shop/deployment/web", "containers[web].args[5]", "zipkin"),
        ("shop/ingress/www", "spec.defaultBackend", "legacy"),
    }
    why = nodes["shop/deployment/web"].properties["inferred_edges"]
    assert why["shop/service/stock"] == "configmap:keys/stock"
    assert why["shop/service/cart"] == "args"


def test_unrendered_helm_templates_and_charts_are_refused_with_the_command() -> None:
    template = SourceFile("chart/templates/deploy.yaml",
                          "kind: Deployment\nmetadata: {name: {{ .Release.Name }}}\n"
                          "spec: {replicas: {{ .Values.replicas }}}\n")
    chart = SourceFile("chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
    with pytest.raises(ValidationError) as caught:
        parse("kubernetes", [template, chart])
    found = {p.section: p.message for p in caught.value.problems}
    assert "helm template" in found["chart/templates/deploy.yaml"]
    assert "helm template" in found["chart/Chart.yaml"]


COMPOSE = """
services:
  shop:
    image: shop
    environment:
      DB_URL: postgres://db:5432/shop
      TRACES: http://tempo:4317
    depends_on: [db]
    volumes: [uploads:/srv/uploads, ./static:/srv/static]
  db:
    image: postgres
    volumes:
      - {type: volume, source: pgdata, target: /var/lib/postgresql/data}
  debug:
    image: busybox
    profiles: [debug]
    depends_on:
      shop: {condition: service_healthy}
volumes:
  uploads: {}
  pgdata: {}
"""


def test_compose_volumes_profiles_and_start_up_order() -> None:
    imp = parse("compose", [SourceFile("compose.yaml", COMPOSE)])
    assert calls(imp) == {("shop", "db"), ("shop", "volume/uploads"), ("db", "volume/pgdata"),
                          ("debug", "shop")}
    assert {e.key: e.impact for e in imp.graph.edges}[("shop", "db")] is Impact.HARD
    assert any("service debug has profiles (debug)" in n for n in imp.notes)
    (order,) = [n for n in imp.notes if "order start-up" in n]
    assert order.startswith("1 depends_on entry only order start-up") and "shop -> db" in order
    assert [(u.item, u.host) for u in imp.unresolved] == [("shop", "tempo")]
    assert imp.without_dependencies == ()
    assert {(i.source, i.target, i.field) for i in imp.inferred} >= {
        ("shop", "db", "environment.DB_URL"), ("shop", "db", "depends_on"),
        ("shop", "volume/uploads", "volumes")}


def test_an_answer_lists_a_bounded_number_of_items() -> None:
    many = "".join(f"---\nkind: Deployment\nmetadata: {{name: w{i}}}\n" for i in range(150))
    imp = parse("kubernetes", [SourceFile("many.yaml", many)])
    listed = seen_and_unseen(imp)["without_dependencies"]
    assert listed["count"] == 150 and len(listed["first"]) == 100
    assert listed["first"][0] == "deployment/w0"


def test_import_answer_names_what_it_inferred_and_could_not_see(store: GraphStore) -> None:
    graph = ServiceGraph(store)
    answer = run_import(graph.writes, "k8s", "kubernetes",
                        [SourceFile("shop.yaml", SHOP + SERVICES)])
    imported = answer["imported"]
    assert imported["unresolved"]["count"] == 3
    assert {"from": "shop/deployment/web", "to": "shop/service/users",
            "where": "shop.yaml document 5 (line 26)",
            "field": "containers[web].args[2]",
            "text": "--users=users.shop.svc:5000"} in imported["inferred"]["first"]
    assert imported["without_dependencies"]["first"] == [
        "shop/deployment/api", "shop/statefulset/db"]
    edges = {(e.source, e.target) for e in graph.questions.whole_graph().edges}
    assert ("shop/deployment/web", "shop/service/cart") in edges


def _catalogue(root: Path) -> Path:
    entity = ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: {}}}\n"
              "spec: {{type: service, owner: team}}\n")
    (root / "components").mkdir(parents=True)
    (root / "components" / "a.yaml").write_text(entity.format("a"))
    (root / "components" / "b.yaml").write_text(entity.format("b"))
    (root / "more.yaml").write_text(entity.format("c"))
    (root.parent / "outside.yaml").write_text(entity.format("outside"))
    location = root / "catalog-info.yaml"
    location.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: all}\n"
        "spec:\n  targets: [./components/*.yaml, more.yaml, ../outside.yaml,\n"
        "            'https://example.com/catalog-info.yaml']\n")
    return location


def test_backstage_locations_are_followed_within_the_directory_only(tmp_path: Path) -> None:
    location = _catalogue(tmp_path / "catalog")
    paths, notes = expand("backstage", [location], lambda p: p.read_text())
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "catalog/catalog-info.yaml", "catalog/components/a.yaml", "catalog/components/b.yaml",
        "catalog/more.yaml"]
    assert len(notes) == 2
    assert "https://example.com/catalog-info.yaml not followed (a URL" in notes[0]
    assert "../outside.yaml not followed (outside" in notes[1]


def test_cli_imports_a_directory(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    out = CliRunner().invoke(app, ["import", "kubernetes", str(DATA / "podinfo"),
                                   "--source", "k8s", "--store", db, "--format", "json"])
    assert out.exit_code == 0, out.output
    location = _catalogue(tmp_path / "catalog")
    out = CliRunner().invoke(app, ["import", "backstage", str(location), "--source", "bs",
                                   "--store", db])
    assert out.exit_code == 0, out.output
    nodes = CliRunner().invoke(app, ["nodes", "--store", db]).output
    assert "deployment/frontend" in nodes and "component:a" in nodes
    assert "component:outside" not in nodes
    empty = tmp_path / "empty"
    empty.mkdir()
    out = CliRunner().invoke(app, ["import", "compose", str(empty), "--source", "c",
                                   "--store", db])
    assert out.exit_code == 2 and "no compose files in" in out.output


def test_traces_join_the_manifests_already_held(store: GraphStore) -> None:
    graph = ServiceGraph(store)
    run_import(graph.writes, "k8s", "kubernetes", files(DATA / "bookinfo" / "bookinfo.yaml"))
    # Bookinfo's calls as Jaeger reports them, by the names the services trace under.
    traced = SourceFile("deps.json", """[
        {"parent": "istio-ingressgateway", "child": "productpage", "callCount": 9},
        {"parent": "productpage", "child": "details", "callCount": 9},
        {"parent": "productpage", "child": "reviews", "callCount": 9},
        {"parent": "reviews", "child": "ratings", "callCount": 6}]""")
    answer = run_import(graph.writes, "jaeger", "jaeger", [traced], full_sync=True)
    imported = answer["imported"]
    edges = {(e.source, e.target) for e in graph.questions.whole_graph().edges}
    assert {
        ("istio-ingressgateway", "service/productpage"),
        ("deployment/productpage-v1", "service/details"),   # the app label productpage
        ("deployment/productpage-v1", "service/reviews"),
        # Three workloads answer to reviews (v1, v2, v3): the Service stands for them.
        ("service/reviews", "service/ratings"),
    } <= edges
    # Only the name no manifest knows becomes a node of its own.
    assert imported["nodes"] == 1 and imported["edges"] == 4
    ids = {n.id for n in graph.questions.whole_graph().nodes}
    assert "productpage" not in ids and "reviews" not in ids and "istio-ingressgateway" in ids
    assert any("joined onto nodes already held" in n for n in imported["notes"])
    again = run_import(graph.writes, "jaeger", "jaeger", [traced], full_sync=True)
    assert again["changed"] is False


def test_http_import_answers_what_was_inferred_and_unseen(store: GraphStore,
                                                          tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        answer = client.post("/v1/sources/k8s/import/kubernetes?name=shop.yaml",
                             content=SHOP + SERVICES,
                             headers={"Content-Type": "application/yaml"})
        assert answer.status_code == 200, answer.text
        imported = answer.json()["imported"]
        assert {"from": "shop/deployment/web", "to": "shop/service/cart",
                "where": "shop.yaml document 5 (line 26)", "field": "containers[web].args[1]",
                "text": "cart"} in imported["inferred"]["first"]
        assert imported["inferred"]["count"] == len(imported["inferred"]["first"])
        assert {"item": "shop/deployment/web", "where": "shop.yaml document 5 (line 26)",
                "field": "ConfigMap settings key ZIPKIN (envFrom)",
                "text": "zipkin.jaeger.svc.cluster.local",
                "host": "zipkin.jaeger.svc.cluster.local"} in imported["unresolved"]["first"]
        assert imported["without_dependencies"] == {
            "count": 2, "first": ["shop/deployment/api", "shop/statefulset/db"]}
        bookinfo = client.post("/v1/sources/bi/import/kubernetes",
                               content=(DATA / "bookinfo" / "bookinfo.yaml").read_bytes())
        assert NO_CALLS in bookinfo.json()["imported"]["notes"]


@pytest.mark.parametrize("text", [
    "services: {a: {volumes: 5}}\nvolumes: {x: {}}\n",
    "services: {a: {volumes: {x: /data}}}\nvolumes: {x: {}}\n",
    "services: {a: {volumes: [5, {type: volume}, null]}}\nvolumes: [x]\n",
])
def test_compose_malformed_volumes_add_nothing(text: str) -> None:
    imp = parse("compose", [SourceFile("compose.yaml", text)])
    assert [n.id for n in imp.graph.nodes] == ["a", "a/replica-1"]


def test_a_service_selector_that_is_no_mapping_selects_nothing() -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: web}\n"
    imp = parse("kubernetes", [SourceFile("svc.yaml", text)])
    assert [n.id for n in imp.graph.nodes] == ["service/web"] and imp.graph.edges == ()
