"""The alert lifecycle held to a naive reading of its rules, on random sequences of
deliveries (batched at random, out of order, resent, with unmatched alerts).

The naive reading: each delivery of an alert has a time (when it started firing, or when
it ended) and the alert is what its latest delivery says, an ending winning over a start
at the same moment; a node's observed state is the worst state of its firing alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.ingest.alerts import Delivery
from servicegraph.live.alert_plan import plan_alerts
from servicegraph.live.state import LiveGraph
from servicegraph.model.alerts import Alert, Status, severity_state
from servicegraph.model.graph import Edge, Node
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.times import iso
from servicegraph.runtime.questions import observed_failures
from servicegraph.store.rows import edge_row, node_row

NODES = [f"ci-{i}" for i in range(4)]
SEVERITIES = ["critical", "warning", "info", None]
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def graph() -> LiveGraph:
    nodes = [Node("p", NodeKind.PROMISE, "P"), *(Node(n, NodeKind.CI, n) for n in NODES)]
    edges = [Edge("p", n) for n in NODES]
    return LiveGraph.build(1, (node_row(n) for n in nodes), (edge_row(e) for e in edges))


#: Per fingerprint: the node its labels name (None: a node that does not exist) and
#: its severity. Labels are fixed per fingerprint, as a sender's are.
alert_kinds = st.lists(st.tuples(st.sampled_from([*NODES, None]), st.sampled_from(SEVERITIES)),
                       min_size=1, max_size=4)


@st.composite
def stories(draw: st.DrawFn) -> tuple[list[tuple[str | None, str | None]],
                                      list[list[tuple[int, bool, int]]]]:
    kinds = draw(alert_kinds)
    deliveries = draw(st.lists(st.tuples(st.integers(0, len(kinds) - 1), st.booleans(),
                                         st.integers(0, 6)), min_size=1, max_size=25))
    cuts = sorted(draw(st.lists(st.integers(0, len(deliveries)), max_size=6)))
    batches, start = [], 0
    for cut in [*cuts, len(deliveries)]:
        if cut > start:
            batches.append(deliveries[start:cut])
            start = cut
    return kinds, batches


def delivery(kinds: list[tuple[str | None, str | None]], which: int, resolved: bool,
             minute: int) -> Delivery:
    node, severity = kinds[which]
    labels = {"alertname": f"a{which}", "servicegraph_id": node or "nowhere"}
    if severity is not None:
        labels["severity"] = severity
    moment = iso(T0 + timedelta(minutes=minute))
    if resolved:
        # It started a little before it ended, as a real alert does.
        started = iso(T0 + timedelta(minutes=minute) - timedelta(seconds=30))
        return Delivery(f"fp{which}", Status.RESOLVED, started, moment, labels, {})
    return Delivery(f"fp{which}", Status.FIRING, moment, None, labels, {})


@settings(max_examples=300, deadline=None)
@given(stories())
def test_observed_states_follow_the_naive_lifecycle(
        story: tuple[list[tuple[str | None, str | None]], list[list[tuple[int, bool, int]]]]
) -> None:
    kinds, batches = story
    live = graph()
    latest: dict[int, tuple[tuple[str, int], bool]] = {}
    version = live.version
    for batch in batches:
        found = [delivery(kinds, *d) for d in batch]
        _, written = plan_alerts(live, "am", found, "2030-01-02T00:00:00.000000Z")
        version += 1
        live.apply(version, {"alerts": [a.to_dict() for a in written]})
        for which, resolved, minute in batch:
            d = delivery(kinds, which, resolved, minute)
            key = (d.ends_at if resolved else d.starts_at, int(resolved))
            held = latest.get(which)
            if held is None or (key[0], key[1]) >= held[0]:
                latest[which] = ((key[0], key[1]), resolved)
    naive: dict[str, State] = {}
    for which, (_, resolved) in latest.items():
        node, severity = kinds[which]
        state = severity_state(severity)
        if not resolved and node is not None and state > State.OK:
            naive[node] = max(naive.get(node, State.OK), state)
    assert observed_failures(live) == naive
    # Every alert is held, matched or not, with the status its latest delivery gave.
    held = {a.fingerprint: a for a in live.alerts.values()}
    assert {f"fp{w}" for w in latest} == set(held)
    for which, (_, resolved) in latest.items():
        alert: Alert = held[f"fp{which}"]
        assert (alert.status is Status.RESOLVED) == resolved
        assert alert.node == kinds[which][0]
