"""The promise record on both stores: what is recorded, when, once; time travel held to
the naive evaluator on random graphs and random sequences of statuses, alerts and
maintenance windows; the timeline and the clock's edges."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_text
from servicegraph.impact.analysis import failed_behind
from servicegraph.impact.reference import naive_states, to_networkx
from servicegraph.ingest.alerts import Delivery
from servicegraph.ingest.status import StatusUpdate
from servicegraph.model import GraphData, loads
from servicegraph.model.alerts import Status
from servicegraph.model.errors import ValidationError
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.maintenance import Window
from servicegraph.model.record import OBSERVED, Transition
from servicegraph.model.times import iso, utc_now
from servicegraph.runtime.recorder import failed_behind_all, kept_causes_all, record_states
from servicegraph.store import GraphStore

from graphs import graphs

CUSTOMER = (NodeKind.PROMISE, NodeKind.BUSINESS_SERVICE, NodeKind.SERVICE_ACT)


def _now() -> datetime:
    return datetime.now(UTC)


def _first_of_each(live: object, failed: list[str], kept: int) -> list[str]:
    """What a transition names of ``failed`` (in id order), read off the whole list:
    all when at most ``kept``, else the first of each provider's (else owner's)."""
    if len(failed) <= kept:
        return failed
    firsts: dict[str | None, str] = {}
    for component in failed:
        node = live.node(component)  # type: ignore[attr-defined]
        firsts.setdefault(node.provider or node.owner, component)
    return sorted(firsts.values())


def _everything(store: GraphStore) -> list[Transition]:
    rows, total = store.record_between(None, None)
    assert len(rows) == total
    return rows


@pytest.fixture()
def example(store: GraphStore) -> Iterator[ServiceGraph]:
    """The example enterprise on each store, its record empty."""
    sg = ServiceGraph(store)
    sg.writes.load(loads(example_text()), replace=True)
    yield sg


def test_a_status_records_the_promises_acts_services_and_the_observed_state(
        example: ServiceGraph) -> None:
    start = utc_now()
    answer = example.writes.push_status("mon", [StatusUpdate(State.DOWN, _now(), id="feed-job")])
    assert answer["broken_promises"] == ["onboarding"]
    rows = [t for t in _everything(example.store) if t.at >= start]
    by_key = {(t.node, t.layer): t for t in rows}
    promise = by_key[("onboarding", "promise")]
    assert promise.state is State.DOWN and promise.version == answer["version"]
    assert [c.component for c in promise.causes] == ["feed-job"]
    assert promise.causes[0].owner == "IT"
    observed = by_key[("feed-job", OBSERVED)]
    assert observed.state is State.DOWN
    assert observed.inputs == {"status": {"source": "mon", "state": "down"}}
    # Every transition of that version is its own: one per node and layer.
    assert len(by_key) == len(rows)
    assert {t.version for t in rows} == {answer["version"]}
    assert example.store.record_reach() == example.store.version()

    # The same state again (a later observation) changes nothing in the record.
    before = len(_everything(example.store))
    example.writes.push_status("mon", [StatusUpdate(State.DOWN, _now(), id="feed-job")])
    assert len(_everything(example.store)) == before

    # A late status (older than the one held) is ignored, and records nothing.
    late = example.writes.push_status(
        "mon", [StatusUpdate(State.OK, _now() - timedelta(hours=1), id="feed-job")])
    assert late["stale"] == 1
    assert len(_everything(example.store)) == before

    # Recovery: every node back to ok, no causes.
    back = example.writes.push_status("mon", [StatusUpdate(State.OK, _now(), id="feed-job")])
    last = [t for t in _everything(example.store) if t.version == back["version"]]
    assert {(t.node, t.layer) for t in last} == set(by_key)
    assert all(t.state is State.OK and not t.causes for t in last)


def test_time_travel_answers_what_current_answered(example: ServiceGraph) -> None:
    example.writes.push_status("mon", [StatusUpdate(State.DOWN, _now(), id="feed-job")])
    then = utc_now()
    now_answer = example.questions.current()
    time.sleep(0.002)
    example.writes.push_status("mon", [StatusUpdate(State.OK, _now(), id="feed-job")])
    past = example.questions.current_at(then)
    assert past["structure"]["used"] == "record"
    assert past["broken_promises"] == now_answer["broken_promises"] == ["onboarding"]
    assert past["service_acts"] == now_answer["service_acts"]
    assert past["business_services"] == now_answer["business_services"]
    assert set(past["observed"]) == {"feed-job"}
    assert past["explanations"]["onboarding"]["causes"][0]["component"] == "feed-job"
    assert example.questions.current_at(utc_now())["broken_promises"] == []


def test_time_travel_refuses_the_future_and_what_the_record_no_longer_keeps(
        example: ServiceGraph) -> None:
    future = iso(_now() + timedelta(hours=1))
    with pytest.raises(ValidationError, match="in the future"):
        example.questions.current_at(future)
    with pytest.raises(ValidationError, match="older than the record keeps"):
        example.questions.current_at(iso(_now() - timedelta(days=401)))
    with pytest.raises(ValidationError, match="time zone"):
        example.questions.current_at("2026-01-01T00:00:00")


def test_a_maintenance_window_marks_planned_and_its_start_is_recorded_by_the_clock(
        example: ServiceGraph) -> None:
    example.writes.push_status("mon", [StatusUpdate(State.DOWN, _now(), id="feed-job")])
    starts = _now() + timedelta(seconds=1.5)
    example.writes.save_window(Window.plan("w1", "feed work", ["feed-job"], starts,
                                           starts + timedelta(hours=1)))
    assert not example.questions.current_at(utc_now())["planned"]["promises"]
    time.sleep(max(0.0, (starts - _now()).total_seconds()) + 0.05)
    example.writes.record_due()  # the background tick's call
    rows = [t for t in _everything(example.store) if t.version is None]
    promise = next(t for t in rows if t.node == "onboarding")
    assert promise.planned and promise.at == iso(starts)
    assert example.questions.current_at(utc_now())["planned"]["promises"] == ["onboarding"]
    before = len(_everything(example.store))
    example.writes.record_due()
    example.writes.record()
    assert len(_everything(example.store)) == before  # nothing twice


def test_the_history_filters_and_pages(example: ServiceGraph) -> None:
    start = utc_now()
    for state in (State.DOWN, State.OK, State.DEGRADED):
        example.writes.push_status("mon", [StatusUpdate(state, _now(), id="feed-job")])
    every = example.questions.history(start=start)
    assert every["page"]["total"] == len(every["transitions"]) > 0
    ats = [t["at"] for t in every["transitions"]]
    assert ats == sorted(ats)
    page = example.questions.history(start=start, limit=2, offset=1)
    assert page["transitions"] == every["transitions"][1:3]
    promise = example.questions.history(nodes=["onboarding"], layers=["promise"], start=start)
    assert [t["state"] for t in promise["transitions"]] == ["down", "ok", "degraded"]
    owned = example.questions.history(owners=["IT"], layers=["promise"], start=start)
    assert [t["state"] for t in owned["transitions"]] == ["down", "ok", "degraded"]
    assert example.questions.history(providers=["Nobody"], start=start)["page"]["total"] == 0
    with pytest.raises(ValidationError, match="from"):
        example.questions.history(start="yesterday")


def test_record_transitions_gives_the_state_at_the_start_first(
        example: ServiceGraph) -> None:
    example.writes.push_status("mon", [StatusUpdate(State.DOWN, _now(), id="feed-job")])
    start = utc_now()
    example.writes.push_status("mon", [StatusUpdate(State.OK, _now(), id="feed-job")])
    end = iso(_now() + timedelta(seconds=1))
    found = example.questions.record_transitions(start=start, end=end, nodes=["onboarding"])
    rows = sorted(range(len(found)), key=lambda i: (found.at[i], found.order[i]))
    assert [(found.at[i] < start, found.state[i]) for i in rows] == [(True, State.DOWN),
                                                                     (False, State.OK)]
    # Named nodes: their causes are read too, and the providers beside them.
    assert found.causes is not None
    assert [c.component for c in found.causes[rows[0]]] == ["feed-job"]
    assert found.providers[rows[0]] == ("IT",) and found.providers[rows[1]] == ()
    layers = example.questions.record_transitions(start=start, end=end, layers=[OBSERVED])
    assert set(layers.layer) == {OBSERVED} and layers.causes is None


def test_a_change_left_unrecorded_is_recorded_by_the_next_write_once(
        example: ServiceGraph) -> None:
    # As if the process died between the change and its record: the store's own write.
    from servicegraph.model.graph import Observation
    from servicegraph.store.base import Change, ChangeInfo

    version = example.store.apply(Change(observe=(
        ("feed-job", Observation(State.DOWN, utc_now(), "mon")),)), ChangeInfo(utc_now(), "status"))
    assert example.store.record_reach() < version
    other = ServiceGraph(example.store)  # another process
    other.writes.record_due()
    example.writes.record()
    rows = [t for t in _everything(example.store) if t.version == version]
    assert {(t.node, t.layer) for t in rows} >= {("onboarding", "promise"),
                                                 ("feed-job", OBSERVED)}
    assert len({(t.node, t.layer) for t in rows}) == len(rows)


# --- the property: time travel equals the naive evaluator ---------------------------------

#: One step: ("status", node, state, late), ("alert", node, severity, firing),
#: ("window", nodes, active).
steps = st.lists(st.one_of(
    st.tuples(st.just("status"), st.integers(0, 7), st.sampled_from(list(State)),
              st.booleans()),
    st.tuples(st.just("alert"), st.integers(0, 7), st.sampled_from([0, 1]), st.booleans()),
    st.tuples(st.just("window"), st.lists(st.integers(0, 7), max_size=3), st.booleans()),
), min_size=1, max_size=8)


def _expected(g: GraphData, given: dict[str, State], covered: set[str]
              ) -> tuple[dict[str, State], set[str]]:
    nx_graph = to_networkx(g)
    full = naive_states(nx_graph, given)
    alone = naive_states(nx_graph, {n: s for n, s in given.items() if n not in covered})
    kinds = {n.id: n.kind for n in g.nodes}
    shown = {n: s for n, s in full.items() if kinds[n] in CUSTOMER and s > State.OK}
    planned = {n for n in shown if kinds[n] is NodeKind.PROMISE and alone[n] is State.OK
               and any(c in given for c in covered)}
    return shown, planned


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(g=graphs(max_nodes=8), story=steps)
def test_time_travel_at_every_step_equals_the_naive_evaluator(
        store: GraphStore, tmp_path: Path, g: GraphData,
        story: list[tuple[object, ...]]) -> None:
    store.clear()
    sg = ServiceGraph(store)
    sg.writes.load(g, replace=True)
    ids = [n.id for n in g.nodes]
    status: dict[str, tuple[State, datetime]] = {}
    alerts: dict[str, dict[str, State]] = {}
    window: list[str] = []
    marks = []
    for step in story:
        time.sleep(0.001)  # each step's moment after the previous mark
        if step[0] == "status":
            _, i, state, late = step
            node = ids[int(i) % len(ids)]
            at = _now() - (timedelta(hours=1) if late else timedelta(0))
            sg.writes.push_status("mon", [StatusUpdate(state, at, id=node)])
            if node not in status or status[node][1] <= at:
                status[node] = (state, at)
        elif step[0] == "alert":
            _, i, severity, firing = step
            node = ids[int(i) % len(ids)]
            fp = f"{node}-{severity}"
            labels = {"alertname": fp, "servicegraph_id": node,
                      "severity": "critical" if severity == 0 else "warning"}
            moment = utc_now()
            sg.writes.push_alerts("am", [
                Delivery(fp, Status.FIRING, moment, None, labels, {}) if firing else
                Delivery(fp, Status.RESOLVED, iso(_now() - timedelta(hours=2)), moment,
                         labels, {})])
            held = alerts.setdefault(node, {})
            if firing:
                held[fp] = State.DOWN if severity == 0 else State.DEGRADED
            else:
                held.pop(fp, None)
        else:
            _, picked, active = step
            components = sorted({ids[int(i) % len(ids)] for i in picked})
            if active and components:
                sg.writes.save_window(Window.plan("w", "work", components,
                                                  _now() - timedelta(hours=1),
                                                  _now() + timedelta(hours=1)))
                window = components
            else:
                sg.writes.cancel_window("w")
                window = []
        given = {n: s for n, s in ((n, max([*alerts.get(n, {}).values(),
                                            status.get(n, (State.OK, None))[0]]))
                                   for n in ids) if s > State.OK}
        marks.append((utc_now(), given, set(window)))
        # Each step's record holds the causes a whole explanation gives now (a status
        # push explains again only what lies above what it changed).
        with sg.replica.reading() as live:
            result = sg.questions.current_on(live)
            whole = record_states(live, result, marks[-1][0])
        # The causes of all at once are those of each explanation followed alone.
        facing = [n for n, s in result.impacted.items() if live.node(n) is not None]
        assert failed_behind_all(result, facing) == {
            n: failed_behind(result, n) for n in facing}
        # Beyond a few, a transition names the first of each provider's: the same
        # carried up the cause edges all at once as read off each node's whole list.
        for kept in (0, 1, 2):
            assert kept_causes_all(result, facing, kept) == {
                n: _first_of_each(live, failed_behind(result, n), kept) for n in facing}
        held = {(t.node, t.layer): t for t in store.record_last(marks[-1][0])  # type: ignore[attr-defined]
                if t.state is not State.OK}
        assert {k: (t.state, t.planned, t.causes) for k, t in held.items()} == {
            k: (t.state, t.planned, t.causes) for k, t in whole.items()}, step

    for moment, given, covered in marks:
        answer = sg.questions.current_at(moment)
        shown, planned = _expected(g, given, covered)
        recorded = {**{p: State.DOWN for p in answer["broken_promises"]},
                    **{p: State.DEGRADED for p in answer["at_risk_promises"]},
                    **{n: State.parse(s) for n, s in answer["service_acts"].items()},
                    **{n: State.parse(s) for n, s in answer["business_services"].items()}}
        assert recorded == shown, (moment, given)
        assert {n: State.parse(o["state"]) for n, o in answer["observed"].items()} == given
        assert set(answer["planned"]["promises"]) == planned

    # The transitions handed to the record's figures (the state at the period's start,
    # then the period's) replay to the same states as time travel, at every step.
    period = sg.questions.record_transitions(start=marks[0][0],
                                             end=iso(_now() + timedelta(seconds=1)))
    rows = sorted(range(len(period)), key=lambda i: (period.at[i], period.order[i]))
    for moment, _, _ in marks:
        replayed: dict[tuple[str, str], State] = {}
        for i in rows:
            if period.at[i] <= moment:
                replayed[(period.node[i], period.layer[i])] = State(period.state[i])
        answer = sg.questions.current_at(moment)
        told = {**{(p, "promise"): State.DOWN for p in answer["broken_promises"]},
                **{(p, "promise"): State.DEGRADED for p in answer["at_risk_promises"]},
                **{(n, "service_act"): State.parse(w)
                   for n, w in answer["service_acts"].items()},
                **{(n, "business_service"): State.parse(w)
                   for n, w in answer["business_services"].items()},
                **{(n, OBSERVED): State.parse(o["state"])
                   for n, o in answer["observed"].items()}}
        assert {k: v for k, v in replayed.items() if v > State.OK} == told

    # Compact, nothing twice: consecutive transitions of a node differ, and no version
    # records a node twice.
    rows = _everything(store)
    seen: dict[tuple[str, str], Transition] = {}
    versions: set[tuple[int | None, str, str]] = set()
    for t in rows:
        key = (t.node, t.layer)
        old = seen.get(key)
        assert old is None or (old.state, old.planned, old.causes, old.inputs) != (
            t.state, t.planned, t.causes, t.inputs), t
        assert old is None or old.at <= t.at
        if t.version is not None:
            assert (t.version, *key) not in versions
            versions.add((t.version, *key))
        seen[key] = t


def test_structural_changes_and_removals_are_recorded(store: GraphStore) -> None:
    from servicegraph.model import Edge, Node

    sg = ServiceGraph(store)
    sg.writes.load(GraphData.of([Node("p", NodeKind.PROMISE, "P"),
                                 Node("s", NodeKind.SERVICE_SYSTEM, "S"),
                                 Node("c1", NodeKind.CI, "C1"),
                                 Node("c2", NodeKind.CI, "C2", provider="Acme")],
                                [Edge("p", "s"), Edge("s", "c1")]), replace=True)
    sg.writes.push_status("mon", [StatusUpdate(State.DOWN, _now(), id="c2")])
    assert sg.questions.current_at(utc_now())["broken_promises"] == []
    pushed = sg.writes.push("disc", GraphData.of([], [Edge("s", "c2")]))
    (broken,) = [t for t in _everything(store) if t.version == pushed["version"]]
    assert (broken.node, broken.state, broken.providers) == ("p", State.DOWN, ("Acme",))
    sg.writes.remove(edge_keys=[("s", "c2")])
    last = sg.questions.record_transitions(start=utc_now(), end=utc_now(), nodes=["p"])
    assert last.state == [State.OK]


def test_the_command_line_travels_in_time(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from servicegraph.cli import app

    runner = CliRunner()
    db = str(tmp_path / "g.db")
    assert runner.invoke(app, ["demo", "--store", db]).exit_code == 0
    assert runner.invoke(app, ["status", "mon", "automation-host=down",
                               "--store", db]).exit_code == 0
    then = utc_now()
    time.sleep(0.002)
    assert runner.invoke(app, ["status", "mon", "automation-host=ok",
                               "--store", db]).exit_code == 0
    out = runner.invoke(app, ["current", "--at", then, "--store", db])
    assert out.exit_code == 0, out.output
    assert "broken: onboarding (caused by automation-host)" in out.output
    assert "Northwind Hosting (automation-host)" in out.output
    now = runner.invoke(app, ["current", "--store", db, "--format", "json"])
    assert json.loads(now.output)["broken_promises"] == []
    future = runner.invoke(app, ["current", "--at", "2999-01-01T00:00:00Z", "--store", db])
    assert future.exit_code != 0 and "in the future" in future.output


def test_statuses_alerts_and_windows_are_recorded_in_their_own_transaction(
        example: ServiceGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_second_transaction() -> None:
        raise AssertionError("a status, an alert or a window needs no record transaction")

    monkeypatch.setattr(example.writes, "record", no_second_transaction)
    down = example.writes.push_status("mon", [StatusUpdate(State.DOWN, _now(), id="feed-job")])
    labels = {"alertname": "HostDown", "servicegraph_id": "automation-host",
              "severity": "warning"}
    example.writes.push_alerts("am", [Delivery("fp1", Status.FIRING, utc_now(), None,
                                               labels, {})])
    fired = example.store.version()
    assert example.store.record_reach() == fired
    rows = _everything(example.store)
    assert ("onboarding", "promise", State.DOWN) in {
        (t.node, t.layer, t.state) for t in rows if t.version == down["version"]}
    alerted = {(t.node, t.layer): t for t in rows if t.version == fired}
    assert alerted[("automation-host", OBSERVED)].inputs == {"alerts": {"am": ["fp1"]}}
    assert alerted[("automation-host", OBSERVED)].state is State.DEGRADED
    example.writes.save_window(Window.plan("w", "work", ["feed-job", "automation-host"],
                                           _now() - timedelta(minutes=5),
                                           _now() + timedelta(hours=1)))
    planned = {(t.node, t.layer): t for t in _everything(example.store)
               if t.version == example.store.version()}
    assert planned[("onboarding", "promise")].planned
    assert planned[("feed-job", OBSERVED)].causes[0].window == "w"


def test_a_transition_behind_many_failures_names_the_first_of_each_provider(
        store: GraphStore) -> None:
    """A promise behind more failed components than a transition names one by one keeps
    the first (by id) of each provider's: the row stays small, and the providers a
    break is shared among are those of the whole set."""
    from servicegraph.model import parse_document
    from servicegraph.runtime.recorder import CAUSES_KEPT

    cis = [f"ci-{k:02d}" for k in range(CAUSES_KEPT + 5)]
    nodes = [{"id": "p", "kind": "promise", "name": "P"},
             {"id": "act", "kind": "service_act", "name": "Act"},
             {"id": "sys", "kind": "service_system", "name": "Sys", "provider": "Hosting"},
             {"id": "db", "kind": "ci", "name": "DB", "owner": "Data"},
             *({"id": c, "kind": "ci", "name": c, "provider": "Hosting"} for c in cis)]
    edges = [{"from": "p", "to": "sys"}, {"from": "act", "to": "sys"},
             {"from": "sys", "to": "db"}, *({"from": "sys", "to": c} for c in cis)]
    sg = ServiceGraph(store)
    sg.writes.load(parse_document({"nodes": nodes, "edges": edges}), replace=True)
    few = sg.writes.push_status("mon", [StatusUpdate(State.DOWN, _now(), id=n)
                                        for n in cis[:3]])
    (promise,) = [t for t in _everything(store) if t.node == "p" and t.version == few["version"]]
    assert [c.component for c in promise.causes] == cis[:3]  # few: every one named
    many = sg.writes.push_status("mon", [StatusUpdate(State.DOWN, _now(), id=n)
                                         for n in [*reversed(cis), "db"]])
    assert many["broken_promises"] == ["p"]
    (promise,) = [t for t in _everything(store)
                  if t.node == "p" and t.version == many["version"]]
    assert [c.component for c in promise.causes] == ["ci-00", "db"]
    assert promise.providers == ("Data", "Hosting")
    # Every failed component keeps its own observed transition.
    observed = {t.node for t in _everything(store) if t.layer == OBSERVED}
    assert observed == {*cis, "db"}
