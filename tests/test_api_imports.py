"""The import route: one file as the body, or several as multipart; problems name the
file and line; on both stores."""

from __future__ import annotations

from pathlib import Path

from servicegraph.store import GraphStore

from apikit import api_client

DATA = Path(__file__).parent / "data"


def test_import_one_file_then_several(store: GraphStore, tmp_path: Path) -> None:
    manifests = (DATA / "microservices-demo" / "kubernetes-manifests.yaml").read_text()
    with api_client(store, tmp_path) as client:
        answer = client.post("/v1/sources/k8s/import/kubernetes?full_sync=true&name=boutique.yaml",
                             content=manifests, headers={"Content-Type": "application/yaml"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["imported"]["files"] == ["boutique.yaml"]
        assert body["nodes"]["created"] == 36 and body["changed"]
        again = client.post("/v1/sources/k8s/import/kubernetes?full_sync=true", content=manifests)
        assert again.json()["changed"] is False
        demo = DATA / "opentelemetry-demo"
        files = [("files", ("compose.yaml", (demo / "compose.yaml").read_bytes())),
                 ("files", (".env", (demo / ".env").read_bytes()))]
        compose = client.post("/v1/sources/compose/import/compose", files=files)
        assert compose.status_code == 200, compose.text
        assert compose.json()["imported"]["files"] == ["compose.yaml", ".env"]
        edges = client.get("/v1/edges", params={"from": "checkout"}).json()
        assert "cart" in {e["to"] for e in edges["items"]}


def test_bad_import_is_a_422_naming_file_and_line(store: GraphStore, tmp_path: Path) -> None:
    nodes = b"id,kind,name\nweb,service_system,Web\n"
    edges = b"from,to\nweb,nowhere\n"
    with api_client(store, tmp_path) as client:
        answer = client.post("/v1/sources/cmdb/import/csv",
                             files=[("files", ("nodes.csv", nodes)),
                                    ("files", ("edges.csv", edges))])
        assert answer.status_code == 422, answer.text
        (problem,) = answer.json()["problems"]
        assert problem["section"] == "edges.csv line 2"
        assert problem["item"] == "web -> nowhere"
        assert client.get("/v1/nodes/web").status_code == 404
        bad = client.post("/v1/sources/cmdb/import/jaeger", content=b"\xff\xfe")
        assert bad.status_code == 422 and "not UTF-8" in bad.text
