"""What an event says and who receives it: derived by the dispatcher from the changes of
the graph, filtered per subscription, written to the outbox (both stores)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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
    assert broken["providers"] == [{"provider": "IT", "failed": ["feed-job"], "affected": []}]
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
    assert [(w["id"], w["owner"]) for w in event["windows"]] == [("chg-1", "IT operations")]
