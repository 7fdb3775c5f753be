"""Sync sessions over HTTP, on both stores: a full sync in many requests, and what is
left when a source retires a node another source still needs."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from servicegraph import ServiceGraph
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore
from servicegraph_api.ingest_schemas import PushOut, SyncSessionOut


def vm(i: int) -> dict[str, Any]:
    return {"id": f"vm-{i}", "kind": "ci", "name": f"VM {i}", "silo": "compute"}


def ndjson(*items: tuple[str, dict[str, Any]]) -> bytes:
    return b"".join(json.dumps({kind: item}).encode() + b"\n" for kind, item in items)


def opened(client: TestClient, source: str = "cmdb") -> str:
    r = client.post(f"/v1/sources/{source}/syncs")
    assert r.status_code == 201, r.text
    session = SyncSessionOut.model_validate(r.json())
    assert session.state == "open" and session.source == source
    return session.id


def live_ids(client: TestClient) -> set[str]:
    items = client.get("/v1/nodes?kind=ci&limit=1000").json()["items"]
    return {n["id"] for n in items if "retired_at" not in n}


def test_a_full_sync_in_pages_retires_only_what_no_page_asserted(client: TestClient) -> None:
    client.post("/v1/sources/cmdb/push", json={"nodes": [vm(i) for i in range(6)]})
    client.post("/v1/sources/other/push", json={"nodes": [vm(99)]})
    session = opened(client)
    one = client.post(f"/v1/sources/cmdb/syncs/{session}/push",
                      json={"nodes": [vm(0), vm(1), {**vm(2), "name": "VM two"}]})
    assert one.status_code == 200, one.text
    assert one.json()["unchanged"] == 2 and one.json()["updated"] == 1
    two = client.post(f"/v1/sources/cmdb/syncs/{session}/push.ndjson",
                      content=ndjson(("node", vm(3)), ("node", vm(7))),
                      headers={"Content-Type": "application/x-ndjson"})
    assert two.status_code == 200 and two.json()["created"] == 1
    # Nothing is retired before the commit.
    assert {"vm-4", "vm-5"} <= live_ids(client)
    state = client.get(f"/v1/sources/cmdb/syncs/{session}").json()
    assert state["pages"] == 2 and state["items"] == 5
    done = client.post(f"/v1/sources/cmdb/syncs/{session}/commit")
    assert done.status_code == 200, done.text
    answer = PushOut.model_validate(done.json())
    assert answer.full_sync and answer.nodes.retired == 2
    assert live_ids(client) >= {"vm-0", "vm-1", "vm-2", "vm-3", "vm-7", "vm-99"}
    assert not live_ids(client) & {"vm-4", "vm-5"}
    assert client.get(f"/v1/sources/cmdb/syncs/{session}").json()["state"] == "committed"
    late = client.post(f"/v1/sources/cmdb/syncs/{session}/push", json={"nodes": [vm(8)]})
    assert late.status_code == 409 and "committed" in late.json()["detail"]


def test_an_abandoned_or_expired_session_retires_nothing(store: GraphStore,
                                                         client: TestClient) -> None:
    client.post("/v1/sources/cmdb/push", json={"nodes": [vm(i) for i in range(3)]})
    session = opened(client)
    client.post(f"/v1/sources/cmdb/syncs/{session}/push", json={"nodes": [vm(0)]})
    r = client.delete(f"/v1/sources/cmdb/syncs/{session}")
    assert r.status_code == 200 and r.json()["state"] == "abandoned"
    assert client.post(f"/v1/sources/cmdb/syncs/{session}/commit").status_code == 409
    assert {"vm-1", "vm-2"} <= live_ids(client)
    # A session past its time: the library opens one that expired an hour ago.
    graph: ServiceGraph = client.app.state.graph  # type: ignore[attr-defined]
    stale = graph.writes.open_sync("cmdb", ttl=timedelta(seconds=10),
                            now=datetime.now(UTC) - timedelta(hours=1))
    client.post(f"/v1/sources/cmdb/syncs/{stale.id}/push", json={"nodes": [vm(0)]})
    r = client.post(f"/v1/sources/cmdb/syncs/{stale.id}/commit")
    assert r.status_code == 409 and r.json()["state"] == "expired"
    assert {"vm-1", "vm-2"} <= live_ids(client)


def test_a_bad_page_writes_nothing_and_the_session_goes_on(client: TestClient) -> None:
    session = opened(client)
    bad = client.post(f"/v1/sources/cmdb/syncs/{session}/push",
                      json={"nodes": [vm(1)], "edges": [{"from": "vm-1", "to": "nowhere"}]})
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["item"] == "vm-1 -> nowhere"
    assert client.get("/v1/nodes/vm-1").status_code == 404
    good = client.post(f"/v1/sources/cmdb/syncs/{session}/push", json={"nodes": [vm(1)]})
    assert good.status_code == 200
    assert client.post(f"/v1/sources/cmdb/syncs/{session}/commit").status_code == 200


def test_an_empty_commit_is_refused_unless_said(client: TestClient) -> None:
    client.post("/v1/sources/cmdb/push", json={"nodes": [vm(1)]})
    session = opened(client)
    r = client.post(f"/v1/sources/cmdb/syncs/{session}/commit")
    assert r.status_code == 422 and "allow_empty" in r.json()["problems"][0]["message"]
    assert "vm-1" in live_ids(client)
    r = client.post(f"/v1/sources/cmdb/syncs/{session}/commit?allow_empty=true")
    assert r.status_code == 200 and r.json()["retired"] == 1


def test_unknown_sessions_and_other_sources_sessions_answer_404(client: TestClient) -> None:
    session = opened(client, "cmdb")
    assert client.post("/v1/sources/cmdb/syncs/nope/commit").status_code == 404
    assert client.post(f"/v1/sources/other/syncs/{session}/push",
                       json={"nodes": [vm(1)]}).status_code == 404
    assert client.get(f"/v1/sources/other/syncs/{session}").status_code == 404


def test_a_node_retired_by_one_source_but_needed_by_another_is_named_and_kept(
        client: TestClient) -> None:
    """Under-reporting impact is the worst error: the dependency keeps working."""
    client.post("/v1/sources/discovery/push", json={"nodes": [vm(1)]})
    client.post("/v1/sources/apps/push", json={
        "nodes": [{"id": "billing", "kind": "service_system", "name": "Billing"}],
        "edges": [{"from": "billing", "to": "vm-1"}]})
    before = client.post("/v1/impact", json={"down": ["vm-1"]}).json()["impacted"]
    assert before == {"billing": "down", "vm-1": "down"}
    answer = client.post("/v1/sources/discovery/push?full_sync=true&allow_empty=true",
                         json={"nodes": []}).json()
    assert answer["retired"] == 1
    assert answer["dangling"] == [{"from": "billing", "to": "vm-1", "retired": ["vm-1"]}]
    (edge,) = client.get("/v1/edges?from=billing").json()["items"]
    assert edge["dangling"] is True
    assert client.get("/v1/checks/dangling").json()["items"] == answer["dangling"]
    # Impact still flows through the retired node.
    after = client.post("/v1/impact", json={"down": ["vm-1"]}).json()["impacted"]
    assert after == before
    # Once the dependency goes, the retired node leaves impact answers.
    client.request("DELETE", "/v1/edges", params={"from": "billing", "to": "vm-1"})
    assert client.get("/v1/checks/dangling").json()["items"] == []
    assert client.post("/v1/impact", json={"down": ["vm-1"]}).status_code == 404


# --- two full syncs of one source ----------------------------------------------------------


def t(name: str) -> dict[str, Any]:
    return {"id": f"t-{name}", "kind": "ci", "name": f"T {name}", "silo": "compute"}


def retired_at(client: TestClient, node_id: str) -> str | None:
    r = client.get(f"/v1/nodes/{node_id}")
    assert r.status_code == 200, r.text
    found: str | None = r.json().get("retired_at")
    return found


def claimed(client: TestClient, *names: str) -> None:
    """The source claims exactly these items (a full sync of its own)."""
    r = client.post("/v1/sources/cmdb/push?full_sync=true",
                    json={"nodes": [t(n) for n in names]})
    assert r.status_code == 200, r.text


def paged(client: TestClient, session: str, *names: str) -> None:
    r = client.post(f"/v1/sources/cmdb/syncs/{session}/push",
                    json={"nodes": [t(n) for n in names]})
    assert r.status_code == 200, r.text


def test_an_older_session_committed_after_a_newer_one_is_superseded(
        client: TestClient) -> None:
    """The report: S2 commits, then S1 (opened first) commits. Before, both answered
    200 and the survivor was neither snapshot; now S1 answers 409 and retires nothing."""
    claimed(client, "a", "b", "c")
    s1, s2 = opened(client), opened(client)
    paged(client, s1, "a", "b")
    paged(client, s2, "b", "c")
    newer = client.post(f"/v1/sources/cmdb/syncs/{s2}/commit")
    assert newer.status_code == 200, newer.text
    assert newer.json()["nodes"]["retired"] == 1
    gone = retired_at(client, "t-a")
    assert gone is not None
    older = client.post(f"/v1/sources/cmdb/syncs/{s1}/commit")
    assert older.status_code == 409, older.text
    assert older.json()["state"] == "superseded"
    assert s1 in older.json()["detail"] and "superseded" in older.json()["detail"]
    # Nothing more retired: the live set is S2's snapshot, t-a retired by S2 alone.
    assert {"t-b", "t-c"} <= live_ids(client) and "t-a" not in live_ids(client)
    assert retired_at(client, "t-a") == gone
    assert client.get(f"/v1/sources/cmdb/syncs/{s1}").json()["state"] == "superseded"
    assert client.get(f"/v1/sources/cmdb/syncs/{s2}").json()["state"] == "committed"
    # A superseded session takes no more pages, and abandoning it says what it is.
    late = client.post(f"/v1/sources/cmdb/syncs/{s1}/push", json={"nodes": [t("d")]})
    assert late.status_code == 409 and late.json()["state"] == "superseded"
    assert client.get("/v1/nodes/t-d").status_code == 404
    gone_too = client.delete(f"/v1/sources/cmdb/syncs/{s1}")
    assert gone_too.status_code == 409 and gone_too.json()["state"] == "superseded"


def test_a_newer_session_committed_after_an_older_one_wins(client: TestClient) -> None:
    """The other order is two snapshots in turn: each retires what it did not assert."""
    claimed(client, "a", "b", "c")
    s1, s2 = opened(client), opened(client)
    paged(client, s1, "a", "b")
    paged(client, s2, "b", "c")
    first = client.post(f"/v1/sources/cmdb/syncs/{s1}/commit")
    assert first.status_code == 200 and first.json()["nodes"]["retired"] == 1
    # S2 opened before S1 committed: S1's commit supersedes it too.
    second = client.post(f"/v1/sources/cmdb/syncs/{s2}/commit")
    assert second.status_code == 409 and second.json()["state"] == "superseded"
    assert {"t-a", "t-b"} <= live_ids(client) and "t-c" not in live_ids(client)


def test_a_session_opened_after_a_commit_is_not_superseded_by_it(client: TestClient) -> None:
    claimed(client, "a", "b", "c")
    s1 = opened(client)
    paged(client, s1, "a", "b")
    assert client.post(f"/v1/sources/cmdb/syncs/{s1}/commit").status_code == 200
    s2 = opened(client)
    paged(client, s2, "b", "c")
    done = client.post(f"/v1/sources/cmdb/syncs/{s2}/commit")
    assert done.status_code == 200, done.text
    assert {"t-b", "t-c"} <= live_ids(client) and "t-a" not in live_ids(client)


@pytest.mark.parametrize("changes", [True, False], ids=["changing", "repeating"])
def test_a_full_sync_push_after_a_session_opened_supersedes_it(client: TestClient,
                                                               changes: bool) -> None:
    """A full-sync push is another full sync of the source: it supersedes sessions
    opened before it, even when it repeats exactly what is stored."""
    claimed(client, "a", "b", "c")
    session = opened(client)
    paged(client, session, "a")
    if changes:
        claimed(client, "b", "c")
    else:
        claimed(client, "a", "b", "c")
    before = live_ids(client)
    r = client.post(f"/v1/sources/cmdb/syncs/{session}/commit")
    assert r.status_code == 409, r.text
    assert r.json()["state"] == "superseded" and session in r.json()["detail"]
    assert live_ids(client) == before
    # Another source's full sync supersedes nothing of this one.
    other = opened(client)
    paged(client, other, "a", "b", "c")
    r = client.post("/v1/sources/elsewhere/push?full_sync=true", json={"nodes": [vm(5)]})
    assert r.status_code == 200, r.text
    assert client.post(f"/v1/sources/cmdb/syncs/{other}/commit").status_code == 200


def backdated(store: GraphStore, session: str, version: int) -> None:
    """Make ``session`` look opened at ``version``: as if it opened while a full sync was
    being committed (on Neo4j opening does not wait for the write lock), so that sync
    did not see it open."""
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE sync_sessions SET opened_version = ? WHERE id = ?",
                       (version, session))
        return
    assert isinstance(store, Neo4jStore)
    store.driver.execute_query("MATCH (s:ServiceGraphSync {id: $id}) "
                               "SET s.opened_version = $version", id=session,
                               version=version, database_=store.database)


def test_a_session_opened_during_a_full_sync_is_superseded_at_its_commit(
        store: GraphStore, client: TestClient) -> None:
    claimed(client, "a", "b", "c")
    before = client.post("/v1/sources/cmdb/push?full_sync=true",
                         json={"nodes": [t("b"), t("c")]}).json()["version"]
    session = opened(client)
    paged(client, session, "b")
    backdated(store, session, before - 1)
    r = client.post(f"/v1/sources/cmdb/syncs/{session}/commit")
    assert r.status_code == 409, r.text
    assert r.json()["state"] == "superseded" and f"version {before}" in r.json()["detail"]
    assert {"t-b", "t-c"} <= live_ids(client)
    assert client.get(f"/v1/sources/cmdb/syncs/{session}").json()["state"] == "superseded"


def test_a_dry_run_full_sync_supersedes_nothing(client: TestClient) -> None:
    claimed(client, "a", "b", "c")
    session = opened(client)
    paged(client, session, "a", "b")
    r = client.post("/v1/sources/cmdb/push?full_sync=true&dry_run=true",
                    json={"nodes": [t("c")]})
    assert r.status_code == 200, r.text
    done = client.post(f"/v1/sources/cmdb/syncs/{session}/commit")
    assert done.status_code == 200 and done.json()["nodes"]["retired"] == 1


def test_abandon_after_commit_and_commit_after_abandon_name_the_real_state(
        client: TestClient) -> None:
    claimed(client, "a", "b", "c")
    committed = opened(client)
    paged(client, committed, "a", "b")
    assert client.post(f"/v1/sources/cmdb/syncs/{committed}/commit").status_code == 200
    r = client.delete(f"/v1/sources/cmdb/syncs/{committed}")
    assert r.status_code == 409, r.text
    assert r.json()["state"] == "committed" and "committed" in r.json()["detail"]
    assert client.get(f"/v1/sources/cmdb/syncs/{committed}").json()["state"] == "committed"

    abandoned = opened(client)
    paged(client, abandoned, "a")
    r = client.delete(f"/v1/sources/cmdb/syncs/{abandoned}")
    assert r.status_code == 200 and r.json()["state"] == "abandoned"
    # Its pages' keys are forgotten, but the commit says why it cannot go on (not
    # "a full sync with no items").
    for query in ("", "?allow_empty=true"):
        r = client.post(f"/v1/sources/cmdb/syncs/{abandoned}/commit{query}")
        assert r.status_code == 409, r.text
        assert r.json()["state"] == "abandoned" and "abandoned" in r.json()["detail"]
    assert {"t-a", "t-b"} <= live_ids(client)
    again = client.delete(f"/v1/sources/cmdb/syncs/{abandoned}")
    assert again.status_code == 409 and again.json()["state"] == "abandoned"
