"""Pushes from integrators, on every store: idempotence, full sync, precedence, status."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from servicegraph import ServiceGraph, State, UnknownNodeError, ValidationError, loads
from servicegraph.examples import example_text
from servicegraph.ingest import StatusUpdate, parse_updates
from servicegraph.model.maintenance import Window
from servicegraph.model.times import iso
from servicegraph.store import GraphStore

from graphs import observed, what_if

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

DISCOVERY = loads("""
nodes:
  - {id: web-tier, kind: service_system, name: Web tier, redundancy: {web: 2}}
  - {id: web-1, kind: ci, name: srv-web-01, silo: compute, external_id: "vm-101"}
  - {id: web-2, kind: ci, name: srv-web-02, silo: compute, external_id: "vm-102"}
  - {id: web-3, kind: ci, name: srv-web-03, silo: compute, external_id: "vm-103"}
edges:
  - {from: web-tier, to: web-1, group: web}
  - {from: web-tier, to: web-2, group: web}
  - {from: web-tier, to: web-3, group: web}
""")


def test_push_creates_then_a_repeat_changes_nothing(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    first = sg.writes.push("discovery", DISCOVERY, now=T0)
    assert (first["created"], first["updated"], first["unchanged"]) == (7, 0, 0)
    stored = store.read()
    again = sg.writes.push("discovery", DISCOVERY, now=T0 + timedelta(hours=1))
    assert (again["created"], again["updated"], again["unchanged"], again["changed"]) == (
        0, 0, 7, False)
    assert store.read() == stored
    web1 = sg.questions.provenance("web-1")["claims"]
    assert [(c["source"], c["key"], c["at"]) for c in web1] == [
        ("discovery", "vm-101", "2026-11-23T08:00:00.000000Z")]


def test_dry_run_answers_without_writing(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    answer = sg.writes.push("discovery", DISCOVERY, dry_run=True, now=T0)
    assert answer["created"] == 7 and answer["dry_run"] is True
    assert store.read().nodes == ()


def test_full_sync_retires_only_this_sources_missing_items(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(loads(example_text()))
    sg.writes.push("discovery", DISCOVERY, now=T0)
    sg.writes.push("cmdb", loads("nodes: [{id: lb, kind: ci, name: Load balancer LB-7}]"), now=T0)
    smaller = loads("""
nodes:
  - {id: web-tier, kind: service_system, name: Web tier, redundancy: {web: 2}}
  - {id: web-1, kind: ci, name: srv-web-01, silo: compute, external_id: "vm-101"}
  - {id: web-2, kind: ci, name: srv-web-02, silo: compute, external_id: "vm-102"}
edges:
  - {from: web-tier, to: web-1, group: web}
  - {from: web-tier, to: web-2, group: web}
""")
    answer = sg.writes.push("discovery", smaller, full_sync=True, now=T0 + timedelta(hours=1))
    # web-3 and its edge were also written by hand (the example): the "manual" claim
    # keeps them; only what discovery alone claimed can be retired.
    assert answer["retired"] == 0 and answer["updated"] == 2
    assert sg.questions.node("web-3").retired_at is None
    only_discovery = loads("nodes: [{id: vm-999, kind: ci, name: Temporary VM}]")
    sg.writes.push("discovery", only_discovery, now=T0 + timedelta(hours=2))
    answer = sg.writes.push("discovery", smaller, full_sync=True, now=T0 + timedelta(hours=3))
    assert answer["nodes"]["retired"] == 1
    node = sg.questions.node("vm-999")
    assert node.retired_at == "2026-11-23T11:00:00.000000Z"
    with pytest.raises(UnknownNodeError):
        what_if(sg, ["vm-999"])  # retired items leave impact answers
    assert sg.questions.node("lb").name == "Load balancer LB-7"  # other sources untouched
    assert sg.writes.purge(older_than=timedelta(days=1), now=T0 + timedelta(hours=4)) == {
        "nodes": 0, "edges": 0}
    assert sg.writes.purge() == {"nodes": 1, "edges": 0}
    assert "vm-999" not in store.read().node_map()


def test_retiring_a_group_member_below_min_ok_is_refused(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.push("discovery", DISCOVERY, now=T0)
    before = store.read()
    one_left = loads("""
nodes:
  - {id: web-tier, kind: service_system, name: Web tier, redundancy: {web: 2}}
  - {id: web-1, kind: ci, name: srv-web-01, silo: compute, external_id: "vm-101"}
edges:
  - {from: web-tier, to: web-1, group: web}
""")
    with pytest.raises(ValidationError) as err:
        sg.writes.push("discovery", one_left, full_sync=True, now=T0 + timedelta(hours=1))
    assert "min_ok 2 out of range 1..1" in str(err.value)
    assert store.read() == before


def test_precedence_decides_which_source_wins_per_attribute(store: GraphStore) -> None:
    sg = ServiceGraph(store, precedence=["cmdb", "discovery"])
    sg.writes.push("discovery", DISCOVERY, now=T0)
    sg.writes.push("cmdb", loads("""
nodes:
  - {id: web-1, kind: ci, name: Web server 1 (CMDB), provider: Northwind Hosting,
     external_id: "CI0001", properties: {tier: gold}}
"""), now=T0)
    node = sg.questions.node("web-1")
    assert node.name == "Web server 1 (CMDB)"  # cmdb outranks discovery
    assert node.silo == "compute"  # only discovery says it: kept
    assert node.provider == "Northwind Hosting" and node.properties == {"tier": "gold"}
    assert sorted(c["source"] for c in sg.questions.provenance("web-1")["claims"]) == ["cmdb",
                                                                            "discovery"]
    # Discovery renames it again: cmdb still wins the name.
    renamed = loads("nodes: [{id: web-1, kind: ci, name: srv-web-01b, silo: compute, "
                    "external_id: vm-101}]")
    assert sg.writes.push("discovery", renamed, now=T0)["updated"] == 1
    assert sg.questions.node("web-1").name == "Web server 1 (CMDB)"


def test_a_bad_batch_names_each_item_and_writes_nothing(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.push("discovery", DISCOVERY, now=T0)
    before = store.read()
    bad = loads("""
nodes:
  - {id: new-ci, kind: ci, name: Fine on its own}
  - {id: app, kind: service_system, name: App, redundancy: {pool: 3}}
edges:
  - {from: app, to: new-ci, group: pool}
  - {from: new-ci, to: app}
""")
    with pytest.raises(ValidationError) as err:
        sg.writes.push("discovery", bad, now=T0)
    text = str(err.value)
    assert "nodes[1] ('app'): redundancy.pool: min_ok 3 out of range 1..1" in text
    assert "edges[1] (new-ci -> app): to: a ci may not depend on a service_system" in text
    assert store.read() == before


def test_status_drives_the_current_impact(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(loads(example_text()))
    assert observed(sg).broken_promises == []
    now = T0
    answer = sg.writes.push_status("monitoring", parse_updates(
        [{"id": "web-1", "state": "down", "at": "2026-11-23T08:00:00Z"},
         {"id": "web-2", "state": "down", "at": "2026-11-23T08:00:01+00:00"}], now=now))
    assert answer["applied"] == 2 and answer["changed"] == ["web-1", "web-2"]
    assert observed(sg).broken_promises == ["order-anytime"]
    # An older observation arriving late does not roll the state back.
    late = sg.writes.push_status("monitoring", [StatusUpdate(State.OK, T0 - timedelta(minutes=5),
                                                      id="web-1")])
    assert late["stale"] == 1
    assert observed(sg).broken_promises == ["order-anytime"]
    sg.writes.push_status("monitoring", [StatusUpdate(State.OK, T0 + timedelta(minutes=5),
                                               id="web-2")])
    assert observed(sg).broken_promises == []
    assert observed(sg).at_risk_promises == ["fun-day", "order-anytime"]


def test_status_for_unknown_items_is_refused_whole(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(loads(example_text()))
    with pytest.raises(ValidationError) as err:
        sg.writes.push_status("monitoring", parse_updates(
            [{"id": "web-1", "state": "down"}, {"id": "nope", "state": "down"},
             {"id": "web-2", "state": "sideways"}, {"id": "web-3", "state": "ok",
                                                    "at": "yesterday"}], now=T0))
    found = [str(p) for p in err.value.problems]
    assert found == [
        "statuses[2] ('web-2'): state: unknown state 'sideways': use ok, degraded or down",
        "statuses[3] ('web-3'): at: not an ISO-8601 time: 'yesterday'"]
    with pytest.raises(ValidationError, match=r"statuses\[1\] \('nope'\): id: no node"):
        sg.writes.push_status("monitoring", parse_updates([{"id": "web-1", "state": "down"},
                                                    {"id": "nope", "state": "down"}], now=T0))
    assert all(n.observed is None for n in store.read().nodes)


def test_followers_hear_each_promise_change(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(loads(example_text()))
    sg.feed.start()

    async def follow() -> list[dict[str, object]]:
        sub = sg.feed.subscribe()
        await asyncio.to_thread(sg.writes.push_status, "monitoring",
                                [StatusUpdate(State.DOWN, T0, id="feed-job")])
        await asyncio.to_thread(sg.writes.push_status, "monitoring",
                                [StatusUpdate(State.OK, T0 + timedelta(minutes=1),
                                              id="feed-job")])
        got = [await asyncio.wait_for(sub.queue.get(), 5) for _ in range(2)]
        sub.close()
        return [e.to_dict() for e in got]

    events = asyncio.run(follow())
    assert [(e["promise"], e["previous"], e["state"]) for e in events] == [
        ("onboarding", "ok", "down"), ("onboarding", "down", "ok")]
    first = events[0]["explanation"]
    assert isinstance(first, dict) and first["chain"][-1] == "feed-job"


def test_pushes_purge_what_retired_longer_ago_than_the_retention(store: GraphStore) -> None:
    sg = ServiceGraph(store, retention=timedelta(days=1))
    sg.writes.push("discovery", loads("nodes: [{id: vm-1, kind: ci, name: VM}]"), now=T0)
    sg.writes.push("discovery", loads("nodes: []"), full_sync=True, allow_empty=True,
            now=T0 + timedelta(hours=1))
    assert sg.questions.node("vm-1").retired_at is not None
    other = loads("nodes: [{id: x, kind: ci, name: X}]")
    sg.writes.push("other", other, now=T0 + timedelta(hours=2))
    assert "vm-1" in store.read().node_map()  # retired, not yet past the retention
    sg.writes.push("other", other, now=T0 + timedelta(days=2))
    assert "vm-1" not in store.read().node_map()


def test_followers_hear_the_planned_and_acknowledged_marks(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(loads(example_text()))
    sg.feed.start()
    now = datetime.now(UTC)
    window = Window("patch", "feed job patch", ("feed-job",), iso(now - timedelta(hours=1)),
                    iso(now + timedelta(hours=1)))

    async def follow() -> list[dict[str, object]]:
        sub = sg.feed.subscribe()

        async def push(state: State, minutes: int) -> None:
            await asyncio.to_thread(sg.writes.push_status, "monitoring", [
                StatusUpdate(state, now + timedelta(minutes=minutes), id="feed-job")])

        sg.writes.save_window(window)
        await push(State.DOWN, 1)        # under the window: planned
        sg.writes.cancel_window("patch")
        await push(State.OK, 2)
        await push(State.DOWN, 3)        # no window now: unplanned, not acknowledged
        sg.writes.acknowledge("feed-job", "alice", "on it")
        await push(State.DEGRADED, 4)    # still failing, so still acknowledged
        got = [await asyncio.wait_for(sub.queue.get(), 5) for _ in range(4)]
        sub.close()
        return [e.to_dict() for e in got]

    events = asyncio.run(follow())
    assert [(e["promise"], e["state"], e["planned"], e["acknowledged"]) for e in events] == [
        ("onboarding", "down", True, False), ("onboarding", "ok", False, False),
        ("onboarding", "down", False, False), ("onboarding", "degraded", False, True)]
