"""The outbox in both stores: the lease, the fenced append, the order of delivery."""

from __future__ import annotations

from dataclasses import replace

from servicegraph.store import GraphStore
from servicegraph.store.base import OutboxItem, OutboxStore

T0, T1, T2 = "2030-01-01T00:00:00.000000Z", "2030-01-01T00:00:05.000000Z", \
    "2030-01-01T00:00:20.000000Z"


def outbox(store: GraphStore) -> OutboxStore:
    assert isinstance(store, OutboxStore)
    store.outbox_reset()
    return store


def subscribe(store: OutboxStore, sid: str) -> None:
    store.add_subscription({"id": sid, "url": "http://127.0.0.1:1/", "secret": "s" * 16,
                            "format": "native", "filter": "{}", "created_at": T0})


def item(event: str) -> OutboxItem:
    return OutboxItem("", 0, event, "broken", T0, '{"promise": "p"}')


def test_one_holder_at_a_time_until_the_lease_expires(store: GraphStore) -> None:
    box = outbox(store)
    lease = box.outbox_lease("a", T0, T1)
    assert lease is not None and lease.cursor == -1
    assert box.outbox_lease("b", T0, T1) is None
    assert box.outbox_lease("a", T0, T1) is not None  # renewed by its holder
    assert box.outbox_lease("b", T2, "2030-01-01T00:01:00.000000Z") is not None  # expired
    assert box.outbox_lease("a", T2, T2) is None
    box.outbox_release("b", T2)
    assert box.outbox_lease("a", T2, "2030-01-01T00:01:00.000000Z") is not None


def test_the_append_is_fenced_by_the_lease_and_the_cursor(store: GraphStore) -> None:
    box = outbox(store)
    subscribe(box, "s1")
    subscribe(box, "s2")
    assert box.outbox_lease("a", T0, T1) is not None
    assert box.outbox_append("a", -1, 3, '{"p": "down"}', [("s1", item("e1")),
                                                           ("s2", item("e1"))])
    # The same derivation again (from the cursor it started at) writes nothing.
    assert not box.outbox_append("a", -1, 3, '{"p": "down"}', [("s1", item("e1"))])
    # Neither does a process that does not hold the lease.
    assert not box.outbox_append("b", 3, 4, "{}", [("s1", item("e2"))])
    assert box.outbox_append("a", 3, 5, "{}", [("s1", item("e2")), ("s1", item("e3"))])
    lease = box.outbox_lease("a", T0, T1)
    assert lease is not None and (lease.cursor, lease.states) == (5, "{}")
    heads = box.outbox_heads()
    assert [(h.subscription, h.seq, h.event_id) for h in heads] == [("s1", 1, "e1"),
                                                                    ("s2", 1, "e1")]
    assert box.subscription("s1")["next_seq"] == 3  # type: ignore[index]
    # A round takes several of each subscription's events, in order, and settles them
    # in one go.
    first = box.outbox_heads(each=5)
    assert [(h.subscription, h.seq) for h in first] == [("s1", 1), ("s1", 2), ("s1", 3),
                                                        ("s2", 1)]
    assert [h.seq for h in box.outbox_heads(each=2)] == [1, 2, 1]
    box.outbox_settle(*(replace(h, state="delivered", attempts=1) for h in first[:2]))
    assert [(h.subscription, h.seq) for h in box.outbox_heads(each=5)] == [("s1", 3),
                                                                           ("s2", 1)]
    box.outbox_settle()  # nothing to settle: nothing written


def test_a_failing_event_holds_back_the_later_ones_until_dead(store: GraphStore) -> None:
    box = outbox(store)
    subscribe(box, "s1")
    assert box.outbox_lease("a", T0, T1) is not None
    assert box.outbox_append("a", -1, 1, "{}", [("s1", item("e1")), ("s1", item("e2"))])
    (head,) = box.outbox_heads()
    box.outbox_settle(replace(head, attempts=1, next_at=T2, error="refused"))
    (head,) = box.outbox_heads()
    assert (head.event_id, head.attempts, head.next_at, head.error) == ("e1", 1, T2, "refused")
    box.outbox_settle(replace(head, state="dead", attempts=2))
    (head,) = box.outbox_heads()
    assert head.event_id == "e2"
    box.outbox_settle(replace(head, state="delivered"))
    assert box.outbox_heads() == []
    assert [d.event_id for d in box.outbox_dead("s1")] == ["e1"]
    assert not box.outbox_redeliver("s1", "e2", T2)  # delivered, not dead
    assert box.outbox_redeliver("s1", "e1", T2)
    (head,) = box.outbox_heads()
    assert (head.event_id, head.attempts, head.state) == ("e1", 0, "pending")
    assert box.outbox_dead("s1") == []


def test_removing_a_subscription_drops_its_outbox(store: GraphStore) -> None:
    box = outbox(store)
    subscribe(box, "s1")
    assert box.outbox_lease("a", T0, T1) is not None
    assert box.outbox_append("a", -1, 1, "{}", [("s1", item("e1"))])
    assert box.remove_subscription("s1")
    assert not box.remove_subscription("s1")
    assert box.outbox_heads() == [] and box.subscriptions() == []
    # An event for a subscription removed meanwhile is dropped, the cursor still moves.
    assert box.outbox_append("a", 1, 2, "{}", [("s1", item("e2"))])
    assert box.outbox_heads() == []


def test_delivered_events_are_trimmed_dead_letters_kept(store: GraphStore) -> None:
    box = outbox(store)
    subscribe(box, "s1")
    assert box.outbox_lease("a", T0, T1) is not None
    assert box.outbox_append("a", -1, 1, "{}", [("s1", item("e1")), ("s1", item("e2")),
                                                ("s1", item("e3"))])
    first, = box.outbox_heads()
    box.outbox_settle(replace(first, state="delivered"))
    second, = box.outbox_heads()
    box.outbox_settle(replace(second, state="dead"))
    assert box.outbox_trim(T0) == 0  # nothing before the time given
    assert box.outbox_trim(T2) == 1
    assert [d.event_id for d in box.outbox_dead("s1")] == ["e2"]
    assert [h.event_id for h in box.outbox_heads()] == ["e3"]
    # Numbering goes on after a trim: never a number given twice.
    assert box.outbox_append("a", 1, 2, "{}", [("s1", item("e4"))])
    assert box.subscription("s1")["next_seq"] == 4  # type: ignore[index]
