"""The page's HTTP side: who may load it, what files it ships (and nothing else), the
vendored libraries against their checksums, and the drawn-view export on both stores."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from servicegraph.model import loads
from servicegraph.store import SqliteStore
from servicegraph.views.export import EXPORTS, view_of
from servicegraph_api import create_app
from servicegraph_api.auth import Scope
from servicegraph_api.page import STATIC, assets

from apikit import add_key, example_graph, settings_for

VENDOR = STATIC / "vendor"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "vendor-page.sh"


def app_from(tmp_path: Path, address: str) -> TestClient:
    store = SqliteStore(tmp_path / "g.db")
    app = create_app(settings_for(tmp_path), graph=example_graph(store))
    return TestClient(app, client=(address, 50000))


def test_the_page_and_its_files_are_served(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for src in re.findall(r'(?:src|href)="(page/[^"]+)"', r.text):
        file = client.get(f"/{src}")
        assert file.status_code == 200, src
    js = client.get("/page/app/main.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert client.get("/page/vendor/cytoscape.LICENSE").status_code == 200


def test_the_page_loads_nothing_from_the_network() -> None:
    for name, path in assets().items():
        if path.suffix in {".html", ".css"} or name.startswith("app/"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), name
            assert not re.search(r"""(import|from)\s*["'](https?:)?//""", text), name
            assert not re.search(r"""url\((["']?)(https?:)?//""", text), name


@pytest.mark.parametrize("path", ["/page/../__init__.py", "/page/%2e%2e/__init__.py",
                                  "/page/..%2f__init__.py", "/page/app", "/page/nothing.js",
                                  "/page//etc/passwd"])
def test_nothing_but_the_shipped_files(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_without_keys_the_page_answers_this_machine_only(tmp_path: Path) -> None:
    with app_from(tmp_path, "192.0.2.7") as outside:
        assert outside.get("/").status_code == 403
        assert outside.get("/page/app/main.js").status_code == 403
        assert outside.get("/v1/nodes").status_code == 403


def test_with_keys_the_page_is_open_and_the_data_needs_a_key(tmp_path: Path) -> None:
    key = add_key(tmp_path, "viewer", Scope.READ)
    with app_from(tmp_path, "192.0.2.7") as outside:
        assert outside.get("/").status_code == 200
        assert outside.get("/page/vendor/cytoscape.min.js").status_code == 200
        assert outside.get("/v1/nodes").status_code == 401
        ids = {"ids": ["web-tier", "web-1"]}
        assert outside.post("/v1/views/export/dot", json=ids).status_code == 401
        r = outside.post("/v1/views/export/dot", json=ids,
                         headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200 and '"web-tier" -> "web-1"' in r.text


def test_vendored_files_match_their_checksums_and_licences() -> None:
    sums = dict(reversed(line.split(maxsplit=1))
                for line in (VENDOR / "SHA256SUMS").read_text().splitlines())
    assert {"cytoscape.min.js", "cytoscape-dagre.min.js"} <= sums.keys()
    for name, digest in sums.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    script = SCRIPT.read_text(encoding="utf-8")
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    for library in ("cytoscape", "cytoscape-dagre"):
        assert (VENDOR / f"{library}.LICENSE").read_text().count("Permission is hereby granted")
        version = re.search(rf'"{library}@([0-9.]+) package/dist', script)
        assert version is not None and f"| {version.group(1)} |" in readme


@pytest.mark.parametrize("fmt", ["graphml", "dot", "mermaid"])
def test_a_drawn_view_exports_like_the_whole_graph(client: TestClient, fmt: str) -> None:
    ids = ["web-tier", "web-1", "web-2", "web-3", "webshop"]
    r = client.post(f"/v1/views/export/{fmt}", json={"ids": ids})
    assert r.status_code == 200
    whole = loads(client.get("/v1/export/json").text)
    media, write = EXPORTS[fmt]
    assert r.text == write(view_of(whole, ids))
    assert r.headers["content-type"].startswith(media)
    part = view_of(whole, ids)
    assert {n.id for n in part.nodes} == set(ids)
    assert {(e.source, e.target) for e in part.edges} == {
        ("web-tier", "web-1"), ("web-tier", "web-2"), ("web-tier", "web-3"),
        ("webshop", "web-tier")}


def test_a_view_of_unknown_ids_answers_404_naming_them(client: TestClient) -> None:
    r = client.post("/v1/views/export/dot", json={"ids": ["web-1", "nope", "gone"]})
    assert r.status_code == 404
    assert r.json()["ids"] == ["gone", "nope"]
    assert client.post("/v1/views/export/dot", json={"ids": []}).status_code == 422
    assert client.post("/v1/views/export/png", json={"ids": ["web-1"]}).status_code == 422
