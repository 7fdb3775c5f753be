"""API keys: scopes on every route, hashed storage, the `keys` commands, loopback binding."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from servicegraph.cli import app as cli
from servicegraph.store import GraphStore
from servicegraph_api.app import create_app
from servicegraph_api.auth import KEY_PREFIX, KeyFile, KeyFileError, Scope, hash_key
from servicegraph_api.serve import bind_host, is_loopback

from apikit import add_key, api_client, local_client, settings_for


@pytest.fixture()
def keys(tmp_path: Path) -> dict[str, str]:
    """One key per scope, in the test's keys file."""
    return {s.value: add_key(tmp_path, f"{s.value}-key", s) for s in Scope}


@pytest.fixture()
def client(store: GraphStore, tmp_path: Path, keys: dict[str, str]) -> Iterator[TestClient]:
    with api_client(store, tmp_path) as c:
        yield c


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    """Every operation under /v1 (and /metrics), with its path parameters filled in."""
    spec = client.get("/openapi.json").json()
    out = []
    for path, ops in spec["paths"].items():
        if not (path.startswith("/v1/") or path == "/metrics"):
            continue
        filled = (path.replace("{node_id}", "web-tier").replace("{promise_id}", "onboarding")
                  .replace("{format}", "json").replace("{source}", "test"))
        out.extend((method.upper(), filled) for method in ops)
    return out


def test_no_key_answers_401_on_every_secured_route(client: TestClient) -> None:
    routes = _routes(client)
    assert len(routes) >= 22
    for method, path in routes:
        r = client.request(method, path)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["www-authenticate"] == "Bearer"
        assert "API key" in r.json()["detail"]


def test_an_unknown_key_answers_401(client: TestClient) -> None:
    r = client.get("/v1/nodes", headers=bearer(KEY_PREFIX + "forged"))
    assert r.status_code == 401 and r.json()["detail"] == "unknown API key"


#: POST routes that only ask a question: a read key may call them.
QUESTIONS = {"/v1/impact", "/v1/impact/explain/web-tier", "/v1/changes/assess",
             "/v1/root-cause", "/v1/views/export/json"}


def test_a_read_key_reads_and_asks_but_cannot_write(client: TestClient,
                                                    keys: dict[str, str]) -> None:
    assert client.get("/v1/nodes/web-tier", headers=bearer(keys["read"])).status_code == 200
    assert client.get("/metrics", headers=bearer(keys["read"])).status_code == 200
    r = client.post("/v1/impact", json={"down": ["feed-job"]}, headers=bearer(keys["read"]))
    assert r.status_code == 200
    writes = [(m, p) for m, p in _routes(client) if m != "GET" and p not in QUESTIONS]
    assert ("PUT", "/v1/nodes/web-tier") in writes and ("DELETE", "/v1/edges") in writes
    for method, path in writes:
        r = client.request(method, path, headers=bearer(keys["read"]))
        assert r.status_code == 403, (method, path, r.status_code)
        assert "lacks" in r.json()["detail"]
    for path in QUESTIONS:
        r = client.post(path, json={}, headers=bearer(keys["read"]))
        assert r.status_code != 403, path


def test_ingest_and_admin_keys_write(client: TestClient, keys: dict[str, str]) -> None:
    node = {"kind": "ci", "name": "Web server 4"}
    for scope in ("ingest", "admin"):
        r = client.put("/v1/nodes/web-4", json=node, headers=bearer(keys[scope]))
        assert r.status_code in (200, 201)
        # ... and read: ingest and admin imply read.
        assert client.get("/v1/nodes/web-4", headers=bearer(keys[scope])).status_code == 200
    r = client.post("/v1/impact", json={"down": ["feed-job"]},
                    headers={"X-API-Key": keys["ingest"]})
    assert r.status_code == 200 and r.json()["broken_promises"] == ["onboarding"]


def test_probes_and_docs_stay_open(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_a_revoked_key_is_refused_without_restart(client: TestClient, tmp_path: Path,
                                                  keys: dict[str, str]) -> None:
    assert client.get("/v1/nodes", headers=bearer(keys["read"])).status_code == 200
    assert KeyFile(tmp_path / "keys.json").revoke("read-key")
    assert client.get("/v1/nodes", headers=bearer(keys["read"])).status_code == 401


def test_without_keys_everything_is_open(tmp_path: Path) -> None:
    from servicegraph.store import SqliteStore

    from apikit import example_graph

    store = SqliteStore(tmp_path / "g.db")
    app = create_app(settings_for(tmp_path), graph=example_graph(store))
    with local_client(app) as c:
        assert c.get("/v1/nodes").status_code == 200
        assert c.put("/v1/nodes/web-4", json={"kind": "ci"}).status_code == 201
    store.close()


# --- the keys file ----------------------------------------------------------------------------


def test_keys_are_stored_hashed(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    key = KeyFile(path).add("feed", [Scope.INGEST])
    assert key.startswith(KEY_PREFIX) and len(key) > 40
    text = path.read_text()
    assert key not in text
    (stored,) = json.loads(text)["keys"]
    assert stored["hash"] == hash_key(key)
    assert stored["scopes"] == ["ingest"] and stored["name"] == "feed" and stored["created"]
    assert path.stat().st_mode & 0o077 == 0
    assert KeyFile(path).authenticate(key) is not None
    assert KeyFile(path).authenticate(key + "x") is None


def test_key_names_are_unique_and_scopes_required(tmp_path: Path) -> None:
    keys = KeyFile(tmp_path / "keys.json")
    keys.add("feed", [Scope.READ])
    with pytest.raises(KeyFileError, match="exists"):
        keys.add("feed", [Scope.READ])
    with pytest.raises(KeyFileError, match="scope"):
        keys.add("other", [])


def test_a_broken_keys_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("{not json")
    with pytest.raises(KeyFileError, match="not a valid keys file"):
        KeyFile(path).keys()


# --- the CLI --------------------------------------------------------------------------------


def test_keys_add_list_revoke(tmp_path: Path) -> None:
    runner = CliRunner()
    path = str(tmp_path / "keys.json")
    added = runner.invoke(cli, ["keys", "add", "feed", "--scope", "read", "--scope", "ingest",
                                "--keys-file", path])
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[0]
    assert key.startswith(KEY_PREFIX)
    assert KeyFile(path).authenticate(key) is not None
    listed = runner.invoke(cli, ["keys", "list", "--keys-file", path])
    assert listed.exit_code == 0
    assert "feed\tread,ingest" in listed.stdout
    assert hash_key(key) not in listed.stdout and key not in listed.stdout
    bad = runner.invoke(cli, ["keys", "add", "x", "--scope", "root", "--keys-file", path])
    assert bad.exit_code != 0 and "unknown scope" in bad.output
    assert runner.invoke(cli, ["keys", "revoke", "feed", "--keys-file", path]).exit_code == 0
    assert runner.invoke(cli, ["keys", "revoke", "feed", "--keys-file", path]).exit_code == 1
    assert KeyFile(path).keys() == ()


# --- binding ----------------------------------------------------------------------------------


def test_without_keys_the_server_binds_loopback_only(tmp_path: Path) -> None:
    host, warning = bind_host(settings_for(tmp_path, host="0.0.0.0"))
    assert host == "127.0.0.1"
    assert warning is not None and "refusing to listen on 0.0.0.0" in warning
    host, warning = bind_host(settings_for(tmp_path, host="127.0.0.1"))
    assert host == "127.0.0.1" and warning is not None and "open" in warning


def test_with_a_key_the_server_binds_where_asked(tmp_path: Path) -> None:
    add_key(tmp_path, "reader", Scope.READ)
    assert bind_host(settings_for(tmp_path, host="0.0.0.0")) == ("0.0.0.0", None)


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.2") and is_loopback("[::1]")
    assert not is_loopback("10.0.0.1") and not is_loopback("")


# --- failing closed -----------------------------------------------------------------------


def test_without_keys_other_machines_are_refused_on_every_request(tmp_path: Path) -> None:
    """The loopback-only rule holds per request, not only when the server binds."""
    from servicegraph.store import SqliteStore

    from apikit import example_graph

    store = SqliteStore(tmp_path / "g.db")
    app = create_app(settings_for(tmp_path), graph=example_graph(store))
    with TestClient(app, client=("192.0.2.7", 40000)) as remote:
        r = remote.post("/v1/sources/x/push", json={"nodes": [], "edges": []})
        assert r.status_code == 403 and "loopback" in r.json()["detail"]
        assert remote.get("/v1/nodes").status_code == 403
        assert remote.get("/healthz").status_code == 200
    with local_client(app) as local:
        assert local.get("/v1/nodes").status_code == 200
    store.close()


def test_revoking_every_key_does_not_open_the_server_to_other_machines(
        store: GraphStore, tmp_path: Path) -> None:
    from apikit import example_graph

    key = add_key(tmp_path, "only", Scope.ADMIN)
    app = create_app(settings_for(tmp_path), graph=example_graph(store))
    with TestClient(app, client=("192.0.2.7", 40000)) as remote:
        assert remote.get("/v1/nodes", headers=bearer(key)).status_code == 200
        assert KeyFile(tmp_path / "keys.json").revoke("only")
        r = remote.post("/v1/sources/x/push", json={"nodes": [], "edges": []})
        assert r.status_code == 403
        (tmp_path / "keys.json").unlink()  # a lost keys file: the same
        assert remote.post("/v1/sources/x/push", json={"nodes": []}).status_code == 403


def test_a_corrupt_keys_file_fails_closed_without_showing_its_path(
        store: GraphStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with api_client(store, tmp_path) as client:
        (tmp_path / "keys.json").write_text("{not json")
        for method, path in [("GET", "/v1/nodes"), ("POST", "/v1/sources/x/push"),
                             ("POST", "/v1/impact"), ("GET", "/metrics")]:
            r = client.request(method, path, json={})
            assert r.status_code == 503, (method, path, r.status_code)
            assert str(tmp_path) not in r.text and "keys" in r.json()["detail"]
        assert client.get("/healthz").status_code == 200
    errors = [r for r in caplog.records if "keys file" in r.getMessage()]
    assert len(errors) == 1 and str(tmp_path / "keys.json") in errors[0].getMessage()


def test_a_served_process_refuses_other_machines_once_its_keys_are_revoked(
        tmp_path: Path) -> None:
    """The reported case, end to end: a real server on 0.0.0.0, every key revoked. The
    server runs in a network namespace of the test's own, so the test's requests come
    from another address than loopback, as another machine's would."""
    import subprocess
    import sys

    import httpx

    from servers import namespace, serve

    key = add_key(tmp_path, "feed", Scope.INGEST)
    push = {"nodes": [{"id": "x1", "kind": "ci", "name": "X1"}], "edges": []}
    with namespace() as net, \
            serve(tmp_path, str(tmp_path / "g.db"), host="0.0.0.0", inside=net) as server:
        r = httpx.post(f"{server.url}/v1/sources/x/push", json=push, headers=bearer(key))
        assert r.status_code == 200
        runner = CliRunner()
        revoked = runner.invoke(cli, ["keys", "revoke", "feed", "--keys-file",
                                      str(tmp_path / "keys.json")])
        assert revoked.exit_code == 0
        r = httpx.post(f"{server.url}/v1/sources/x/push", json=push)
        assert r.status_code == 403, r.text
        # On the machine itself (its loopback, inside the namespace) the open API still
        # answers, as documented.
        local = subprocess.run(net.run(
            sys.executable, "-c", "import httpx, json, sys; print(httpx.post("
            f"'http://127.0.0.1:{server.port}/v1/sources/x/push', "
            "json=json.loads(sys.argv[1])).status_code)", json.dumps(push)),
            capture_output=True, text=True, check=True)
        assert local.stdout.strip() == "200", local.stderr


def test_serve_refuses_to_start_on_a_corrupt_keys_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("[1, 2")
    result = CliRunner().invoke(cli, ["serve", "--keys-file", str(path),
                                      "--store", str(tmp_path / "g.db")])
    assert result.exit_code == 1 and "not a valid keys file" in result.output


# --- requests a browser was tricked into sending ---------------------------------------------

PUSH = {"nodes": [{"id": "b1", "kind": "ci", "name": "B1"}]}


@pytest.mark.parametrize("headers", [
    {"Origin": "http://127.0.0.1:9999"},                       # another port: another origin
    {"Origin": "null"},                                        # a sandboxed frame, a file
    {"Origin": "http://evil.example"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:8000"},
    {"Sec-Fetch-Site": "cross-site"},
])
def test_a_browsers_write_from_another_origin_is_refused(
        tmp_path: Path, headers: dict[str, str]) -> None:
    from servicegraph.store import SqliteStore

    from apikit import example_graph

    store = SqliteStore(tmp_path / "g.db")
    app = create_app(settings_for(tmp_path), graph=example_graph(store))
    with local_client(app) as c:
        r = c.post("/v1/sources/x/push", json=PUSH, headers=headers)
        assert r.status_code == 403 and "another web origin" in r.json()["detail"]
        assert c.get("/v1/nodes/b1").status_code == 404  # nothing written
        # Reads stay open to any page (it cannot read the answer without CORS).
        assert c.get("/v1/nodes", headers=headers).status_code == 200
    store.close()


@pytest.mark.parametrize("headers", [
    {},                                                        # curl, scripts, integrators
    {"Origin": "http://127.0.0.1:8000"},                       # the page itself, older browser
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8000"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "https://portal.example.org"},  # trusted
])
def test_writes_from_the_servers_own_origin_tools_and_trusted_origins_pass(
        tmp_path: Path, headers: dict[str, str]) -> None:
    from servicegraph.store import SqliteStore

    from apikit import example_graph

    store = SqliteStore(tmp_path / "g.db")
    app = create_app(settings_for(tmp_path, trusted_origins=["https://portal.example.org"]),
                     graph=example_graph(store))
    with local_client(app) as c:
        assert c.post("/v1/sources/x/push", json=PUSH, headers=headers).status_code == 200
    store.close()


def test_with_keys_a_cross_origin_write_is_refused_too(store: GraphStore,
                                                       tmp_path: Path) -> None:
    key = add_key(tmp_path, "feed", Scope.INGEST)
    with api_client(store, tmp_path) as c:
        r = c.post("/v1/sources/x/push", json=PUSH,
                   headers={**bearer(key), "Origin": "http://evil.example"})
        assert r.status_code == 403
        # Keys configured and no host list: any Host is served, as before.
        assert c.get("/v1/nodes", headers={**bearer(key), "Host": "sg.example.org"}
                     ).status_code == 200


def test_without_keys_only_loopback_host_names_are_answered(tmp_path: Path) -> None:
    from servicegraph.store import SqliteStore

    from apikit import example_graph

    store = SqliteStore(tmp_path / "g.db")
    app = create_app(settings_for(tmp_path), graph=example_graph(store))
    with local_client(app) as c:
        for host in ("localhost:8000", "127.0.0.1", "[::1]:8000", "127.0.0.2:1", "LOCALHOST."):
            assert c.get("/v1/nodes", headers={"Host": host}).status_code == 200, host
        for host in ("rebind.attacker.test:8000", "localhost.evil.example", "0.0.0.0:8000"):
            r = c.get("/v1/nodes", headers={"Host": host})
            assert r.status_code == 421, host
            assert "does not answer for the host" in r.json()["detail"]
        assert c.get("/healthz", headers={"Host": "rebind.attacker.test"}).status_code == 421
    store.close()
