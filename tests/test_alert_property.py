"""The alert lifecycle held to a naive reading of its rules, on random sequences of
deliveries (batched at random, out of order, resent, with unmatched alerts), and under
random mappings on random small graphs (a mapping may change midway).

The naive reading: each delivery of an alert has a time (when it started firing, or when
it ended) and the alert is what its latest delivery says, an ending winning over a start
at the same moment; a node's observed state is the worst state of its firing alerts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.ingest.alerts import Delivery
from servicegraph.live.alert_plan import plan_alerts, plan_mapping
from servicegraph.live.state import LiveGraph
from servicegraph.model.alert_mapping import AlertMapping
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


# --- under a mapping ---------------------------------------------------------------------

MAPPED = ["n0", "n1", "n2", "n3"]
NAMES = ["alpha", "beta"]
HOSTS = ["h1", "h2"]
KEYS = ["e1", "e2", "e3", "e4"]
#: Label values: ids, names, host names (some with a port), external keys, and junk.
VALUES = [*NAMES, *HOSTS, "h1:9100", "h2:80", *MAPPED, *KEYS, "zz", "n9"]
WORDS = ["critical", "warning", "info", "p1", None]
STATES = {"down": State.DOWN, "degraded": State.DEGRADED, "ok": State.OK}


@st.composite
def mapped_graphs(draw: st.DrawFn) -> list[dict[str, str | None]]:
    """Four nodes with a name (repeats allowed), maybe a host name (repeats allowed) and
    maybe an external id of the source ``cmdb`` (unique, as claims are)."""
    keys = draw(st.permutations(KEYS))
    return [{"id": n, "name": draw(st.sampled_from(NAMES)),
             "host": draw(st.sampled_from([None, *HOSTS])),
             "key": keys[i] if draw(st.booleans()) else None} for i, n in enumerate(MAPPED)]


rule_json = st.one_of(
    st.builds(lambda label, to, port: {"label": label, "to": to, "strip_port": port},
              st.sampled_from(["a", "b"]),
              st.sampled_from(["name", "properties.host", "external_id", "id"]),
              st.booleans()),
    st.builds(lambda label, table: {"label": label, "table": table},
              st.sampled_from(["a", "b"]),
              st.dictionaries(st.sampled_from(VALUES), st.sampled_from([*MAPPED, "n9"]),
                              min_size=1, max_size=4)))
mapping_json = st.fixed_dictionaries({
    "rules": st.lists(rule_json, min_size=1, max_size=4),
    "severity": st.fixed_dictionaries({
        "label": st.sampled_from(["severity", "sev"]),
        "states": st.dictionaries(st.sampled_from(["critical", "warning", "P1"]),
                                  st.sampled_from(list(STATES)), max_size=2),
        "default": st.sampled_from(list(STATES))})})
labelled = st.lists(st.fixed_dictionaries({
    "a": st.sampled_from(VALUES), "b": st.sampled_from([*reversed(VALUES)]),
    "severity": st.sampled_from(WORDS), "sev": st.sampled_from(WORDS)}),
    min_size=1, max_size=5)


def naive_node(graph: list[dict[str, str | None]], mapping: dict[str, Any],
               labels: dict[str, str]) -> str | None:
    """The rules read literally: the first rule whose value some node has, and of
    several such nodes the first by id."""
    for rule in mapping["rules"]:
        value = labels.get(rule["label"])
        if value and rule.get("strip_port") and re.search(r":\d+$", value):
            value = value[:value.rindex(":")]
        if not value:
            continue
        found = sorted(n["id"] for n in graph if (
            (rule.get("to", "table") == "table" and rule["table"].get(value) == n["id"])
            or (rule.get("to") == "id" and n["id"] == value)
            or (rule.get("to") == "external_id" and n["key"] == value)
            or (rule.get("to") == "name" and n["name"] == value)
            or (rule.get("to") == "properties.host" and n["host"] == value)))
        if found:
            return str(found[0])
    return None


def naive_state(mapping: dict[str, Any], labels: dict[str, str]) -> State:
    severity = mapping["severity"]
    word = (labels.get(severity["label"]) or "").lower()
    overrides = {k.lower(): v for k, v in severity["states"].items()}
    if word in overrides:
        return STATES[overrides[word]]
    return {"critical": State.DOWN, "warning": State.DEGRADED,
            "info": State.OK}.get(word, STATES[severity["default"]])


def mapped_live(graph: list[dict[str, str | None]]) -> LiveGraph:
    rows = []
    for n in [{"id": "p", "name": "P", "host": None, "key": None}, *graph]:
        node = Node(str(n["id"]), NodeKind.PROMISE if n["id"] == "p" else NodeKind.CI,
                    str(n["name"]), properties={"host": n["host"]} if n["host"] else {})
        row = node_row(node)
        row["claim_keys"] = [f"cmdb {n['key']}"] if n["key"] else []
        rows.append(row)
    return LiveGraph.build(1, rows, (edge_row(Edge("p", n)) for n in MAPPED))


@settings(max_examples=300, deadline=None)
@given(mapped_graphs(), mapping_json, st.one_of(st.none(), mapping_json), labelled,
       st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.integers(0, 6)),
                min_size=1, max_size=20), st.integers(0, 20))
def test_observed_states_follow_a_naive_reading_of_the_mapping(
        graph: list[dict[str, str | None]], first: dict[str, Any],
        second: dict[str, Any] | None, alerts: list[dict[str, str | None]],
        story: list[tuple[int, bool, int]], change_at: int) -> None:
    """Random graphs, mappings and alert sequences; a second mapping may be set midway.
    At the end every firing alert is where the last mapping, read literally, puts it."""
    live = mapped_live(graph)
    version = live.version

    def set_mapping(doc: dict[str, Any]) -> None:
        nonlocal version
        mapping = AlertMapping.parse("cmdb", doc)
        _, written = plan_mapping(live, mapping)
        version += 1
        live.apply(version, {"alerts": [a.to_dict() for a in written],
                             "mappings": [mapping.to_dict()]})

    set_mapping(first)
    latest: dict[int, tuple[tuple[str, int], bool]] = {}
    for step, (which, resolved, minute) in enumerate(story):
        if step == change_at and second is not None:
            set_mapping(second)
        which %= len(alerts)
        labels = {k: v for k, v in alerts[which].items() if v is not None}
        moment = iso(T0 + timedelta(minutes=minute))
        if resolved:
            started = iso(T0 + timedelta(minutes=minute) - timedelta(seconds=30))
            found = Delivery(f"fp{which}", Status.RESOLVED, started, moment, labels, {})
        else:
            found = Delivery(f"fp{which}", Status.FIRING, moment, None, labels, {})
        _, written = plan_alerts(live, "cmdb", [found], "2030-01-02T00:00:00.000000Z")
        version += 1
        live.apply(version, {"alerts": [a.to_dict() for a in written]})
        key = (moment, int(resolved))
        if which not in latest or key >= latest[which][0]:
            latest[which] = (key, resolved)
    final = second if second is not None and change_at < len(story) else first
    naive: dict[str, State] = {}
    for which, (_, resolved) in latest.items():
        labels = {k: v for k, v in alerts[which].items() if v is not None}
        node, state = naive_node(graph, final, labels), naive_state(final, labels)
        held = live.alerts[("cmdb", f"fp{which}")]
        if not resolved:
            assert (held.node, held.state) == (node, state)
            if node is not None and state > State.OK:
                naive[node] = max(naive.get(node, State.OK), state)
    assert observed_failures(live) == naive


def test_an_event_of_a_storm_lists_the_alerts_of_the_first_components_and_counts_the_rest(
) -> None:
    from servicegraph.impact.analysis import analyse
    from servicegraph.notify.events import ALERTED, event_data

    many = [f"c{i:03}" for i in range(ALERTED + 30)]
    nodes = [Node("p", NodeKind.PROMISE, "P"), *(Node(n, NodeKind.CI, n) for n in many)]
    live = LiveGraph.build(1, (node_row(n) for n in nodes),
                           (edge_row(Edge("p", n)) for n in many))
    found = [Delivery(f"fp-{n}", Status.FIRING, iso(T0), None,
                      {"servicegraph_id": n, "severity": "critical"}, {}) for n in many]
    _, written = plan_alerts(live, "am", found, iso(T0))
    live.apply(2, {"alerts": [a.to_dict() for a in written]})
    result = analyse(live.index, observed_failures(live))
    data = event_data(live, result, "p", State.OK, State.DOWN, 2, iso(T0))
    assert sorted(data["alerts"]) == many[:ALERTED]
    assert data["alerts_omitted"] == 30
