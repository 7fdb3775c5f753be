"""What an event says and who receives it: derived by the dispatcher from the changes of
the graph, filtered per subscription, written to the outbox (both stores)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from servicegraph import ServiceGraph
from servicegraph.examples import example_graph
from servicegraph.ingest.status import StatusUpdate
from servicegraph.model.kinds import State
from servicegraph.notify import DeliveryPolicy, Dispatcher, NewSubscription, Subscriptions
from servicegraph.store import GraphStore
from servicegraph.store.base import OutboxStore


def status(sg: ServiceGraph, node: str, state: State) -> None:
    sg.writes.push_status("mon", [StatusUpdate(state, datetime.now(UTC), id=node)])


def test_events_are_derived_filtered_and_numbered(store: GraphStore) -> None:
    assert isinstance(store, OutboxStore)
    store.outbox_reset()
    sg = ServiceGraph(store)
    sg.writes.load(example_graph())
    subs = Subscriptions(store, ["127.0.0.1/32"])
    url = "http://127.0.0.1:9/hook"
    every = subs.create(NewSubscription(url))["id"]
    hr = subs.create(NewSubscription(url, {"owners": ["HR"]}))["id"]
    it = subs.create(NewSubscription(url, {"providers": ["IT"], "kinds": ["broken"]}))["id"]
    ordering = subs.create(NewSubscription(url, {"business_services": ["online-ordering"]}))["id"]
    recoveries = subs.create(NewSubscription(url, {"promises": ["onboarding"],
                                                   "kinds": ["recovered"]}))["id"]
    dispatcher = Dispatcher(store, sg.replica, sg.questions, DeliveryPolicy())
    try:
        def derive() -> int:
            lease = store.outbox_lease(dispatcher.owner, "2000-01-01T00:00:00.000000Z",
                                       "2999-01-01T00:00:00.000000Z")
            assert lease is not None
            return dispatcher.derive(lease)

        assert derive() == 0  # the first derivation only records where it starts
        status(sg, "feed-job", State.DOWN)
        assert derive() == 3  # onboarding broken: every, HR, IT
        assert derive() == 0  # nothing new: nothing told twice
        status(sg, "feed-job", State.OK)
        assert derive() == 3  # onboarding recovered: every, HR, recoveries
    finally:
        dispatcher.close()
    heads = {h.subscription: h for h in store.outbox_heads()}
    assert set(heads) == {every, hr, it, recoveries}
    assert ordering not in heads
    broken = json.loads(heads[every].payload)
    assert (broken["promise"], broken["kind"], broken["previous"], broken["state"]) == (
        "onboarding", "broken", "ok", "down")
    assert broken["owner"] == "HR" and broken["business_services"] == ["employee-onboarding"]
    assert broken["explanation"]["chain"][-1] == "feed-job"
    assert broken["providers"] == [{"provider": "IT", "failed": ["feed-job"], "failed_omitted": 0,
                                    "affected": [], "affected_omitted": 0}]
    assert heads[recoveries].kind == "recovered"
    assert json.loads(heads[recoveries].payload)["explanation"] is None
    assert heads[it].event_id == heads[every].event_id == heads[hr].event_id
    numbered = {s["id"]: s["sequence"] for s in subs.all()}
    assert numbered == {every: 2, hr: 2, it: 1, ordering: 0, recoveries: 1}


def test_an_event_of_planned_work_says_so_with_its_window(store: GraphStore) -> None:
    from datetime import timedelta

    from servicegraph.model.maintenance import Window

    assert isinstance(store, OutboxStore)
    store.outbox_reset()
    sg = ServiceGraph(store)
    sg.writes.load(example_graph())
    now = datetime.now(UTC)
    sg.writes.save_window(Window(
        "chg-1", "new feed job", ("feed-job",),
        (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"), owner="IT operations"))
    subs = Subscriptions(store, ["127.0.0.1/32"])
    every = subs.create(NewSubscription("http://127.0.0.1:9/hook"))["id"]
    dispatcher = Dispatcher(store, sg.replica, sg.questions, DeliveryPolicy())
    try:
        def derive() -> int:
            lease = store.outbox_lease(dispatcher.owner, "2000-01-01T00:00:00.000000Z",
                                       "2999-01-01T00:00:00.000000Z")
            assert lease is not None
            return dispatcher.derive(lease)

        derive()
        status(sg, "feed-job", State.DOWN)
        assert derive() == 1
    finally:
        dispatcher.close()
    (head,) = [h for h in store.outbox_heads() if h.subscription == every]
    event = json.loads(head.payload)
    assert (event["promise"], event["state"], event["planned"]) == ("onboarding", "down", True)
    assert event["kind"] == head.kind == "planned"  # told as planned, not as broken
    assert [(w["id"], w["owner"]) for w in event["windows"]] == [("chg-1", "IT operations")]


class Derived:
    """A dispatcher's derivations over one graph, and what each subscription got."""

    def __init__(self, store: GraphStore, **filters: dict[str, list[str]]) -> None:
        assert isinstance(store, OutboxStore)
        store.outbox_reset()
        self.store = store
        self.sg = ServiceGraph(store)
        self.sg.writes.load(example_graph())
        subs = Subscriptions(store, ["127.0.0.1/32"])
        self.ids = {name: subs.create(NewSubscription("http://127.0.0.1:9/hook", flt))["id"]
                    for name, flt in filters.items()}
        self.dispatcher = Dispatcher(store, self.sg.replica, self.sg.questions,
                                     DeliveryPolicy())
        self.derive()

    def derive(self) -> int:
        lease = self.store.outbox_lease(self.dispatcher.owner, "2000-01-01T00:00:00.000000Z",
                                        "2999-01-01T00:00:00.000000Z")
        assert lease is not None
        return self.dispatcher.derive(lease)

    def told(self, name: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(promise, kind, data) of every event of the subscription, in order (read
        from the outbox: none is delivered, the receiver is not there)."""
        out = []
        sub = self.ids[name]
        while True:
            heads = [h for h in self.store.outbox_heads() if h.subscription == sub]
            if not heads:
                return out
            data = json.loads(heads[0].payload)
            out.append((data["promise"], heads[0].kind, data))
            self.store.outbox_settle(replace(heads[0], state="delivered", attempts=1))


def test_an_acknowledgement_is_told_and_ends_with_the_recovery(store: GraphStore) -> None:
    d = Derived(store, every={}, acks={"kinds": ["acknowledged"]})
    try:
        status(d.sg, "feed-job", State.DOWN)
        d.derive()
        d.sg.writes.acknowledge("feed-job", "alice", "on it")
        d.derive()
        assert d.derive() == 0  # told once
        status(d.sg, "feed-job", State.OK)
        d.derive()
        status(d.sg, "feed-job", State.DOWN)  # broken again: unacknowledged
        d.derive()
    finally:
        d.dispatcher.close()
    every = d.told("every")
    assert [(p, k) for p, k, _ in every] == [
        ("onboarding", "broken"), ("onboarding", "acknowledged"),
        ("onboarding", "recovered"), ("onboarding", "broken")]
    acked = every[1][2]
    assert acked["acknowledged"] is True
    assert acked["acknowledgements"]["feed-job"]["by"] == "alice"
    assert acked["acknowledgements"]["feed-job"]["comment"] == "on it"
    assert every[3][2]["acknowledged"] is False and every[3][2]["acknowledgements"] == {}
    # The filter by kind: only the acknowledgement.
    assert [(p, k) for p, k, _ in d.told("acks")] == [("onboarding", "acknowledged")]


@pytest.mark.parametrize("taken_over", [False, True], ids=["same", "taken-over"])
def test_a_new_cause_under_a_broken_promise_is_told(store: GraphStore, taken_over: bool) -> None:
    d = Derived(store, every={}, causes={"kinds": ["new_cause"], "promises": ["order-anytime"]})
    try:
        status(d.sg, "erp-db", State.DOWN)
        d.derive()
        status(d.sg, "feed-job", State.DOWN)  # elsewhere: no new cause of order-anytime
        d.derive()
        if taken_over:  # another process derives next: it finds every cause again
            d.dispatcher.close()
            d.dispatcher = Dispatcher(store, d.sg.replica, d.sg.questions, DeliveryPolicy())
        d.sg.writes.push_status("mon", [StatusUpdate(State.DOWN, datetime.now(UTC), id=n)
                                        for n in ("web-1", "web-2")])
        d.derive()
        status(d.sg, "web-1", State.OK)  # a cause fewer: nothing new
        d.derive()
        status(d.sg, "web-1", State.DOWN)  # back: a new cause again
        d.derive()
    finally:
        d.dispatcher.close()
    told = d.told("causes")
    assert [(p, k) for p, k, _ in told] == [("order-anytime", "new_cause")] * 2
    assert told[1][2]["new_causes"] == ["web-1"]
    data = told[0][2]
    assert data["new_causes"] == ["web-1", "web-2"]
    assert (data["previous"], data["state"]) == ("down", "down")
    every = [(p, k) for p, k, _ in d.told("every")]
    assert every[0] == ("order-anytime", "broken")
    assert ("order-anytime", "new_cause") in every and ("fun-day", "at_risk") in every


def test_planned_work_that_outlives_its_window_is_told_as_broken(store: GraphStore) -> None:
    from servicegraph.model.maintenance import Window

    d = Derived(store, every={}, pages={"kinds": ["broken"]})
    now = datetime.now(UTC)
    try:
        d.sg.writes.save_window(Window(
            "chg-1", "new feed job", ("feed-job",),
            (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z")))
        status(d.sg, "feed-job", State.DOWN)
        d.derive()
        d.sg.writes.cancel_window("chg-1")  # the work is off, the job still down
        d.derive()
    finally:
        d.dispatcher.close()
    assert [(p, k) for p, k, _ in d.told("every")] == [
        ("onboarding", "planned"), ("onboarding", "broken")]
    (page,) = d.told("pages")
    assert (page[1], page[2]["planned"], page[2]["windows"]) == ("broken", False, [])


def test_an_event_lists_a_few_components_of_each_provider_and_counts_the_rest(
        store: GraphStore) -> None:
    """In a storm a provider can have thousands of failed components behind one promise:
    the event names the first by id and counts the others, for each provider apart;
    the affected ones are those the promise's causes pass through, not every one of
    the provider's in the incident."""
    from servicegraph.model import parse_document
    from servicegraph.notify.events import LISTED

    assert isinstance(store, OutboxStore)
    store.outbox_reset()
    cis = [f"ci-{k:02d}" for k in range(LISTED + 5)]
    nodes = [{"id": "p", "kind": "promise", "name": "P", "owner": "Sales"},
             {"id": "sys", "kind": "service_system", "name": "Sys", "provider": "Hosting"},
             {"id": "other", "kind": "service_system", "name": "Other", "provider": "Hosting"},
             {"id": "db", "kind": "ci", "name": "DB", "provider": "Data"},
             *({"id": c, "kind": "ci", "name": c, "provider": "Hosting"} for c in cis)]
    edges = [{"from": "p", "to": "sys"}, {"from": "sys", "to": "db"},
             {"from": "other", "to": "db"}, *({"from": "sys", "to": c} for c in cis)]
    sg = ServiceGraph(store)
    sg.writes.load(parse_document({"nodes": nodes, "edges": edges}))
    subs = Subscriptions(store, ["127.0.0.1/32"])
    every = subs.create(NewSubscription("http://127.0.0.1:9/hook"))["id"]
    dispatcher = Dispatcher(store, sg.replica, sg.questions, DeliveryPolicy())
    try:
        lease = store.outbox_lease(dispatcher.owner, "2000-01-01T00:00:00.000000Z",
                                   "2999-01-01T00:00:00.000000Z")
        assert lease is not None
        assert dispatcher.derive(lease) == 0
        now = datetime.now(UTC)
        sg.writes.push_status("mon", [StatusUpdate(State.DOWN, now, id=n)
                                      for n in [*reversed(cis), "db"]])
        lease = store.outbox_lease(dispatcher.owner, "2000-01-01T00:00:00.000000Z",
                                   "2999-01-01T00:00:00.000000Z")
        assert lease is not None
        assert dispatcher.derive(lease) == 1
    finally:
        dispatcher.close()
    (head,) = [h for h in store.outbox_heads() if h.subscription == every]
    calls = {c["provider"]: c for c in json.loads(head.payload)["providers"]}
    assert set(calls) == {"Hosting", "Data"}
    assert calls["Hosting"]["failed"] == cis[:LISTED]
    assert calls["Hosting"]["failed_omitted"] == 5
    # "other" is impacted too (it needs db) but is not behind the promise.
    assert calls["Hosting"]["affected"] == ["sys"]
    assert calls["Data"]["failed"] == ["db"] and calls["Data"]["failed_omitted"] == 0
