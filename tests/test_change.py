"""Planned changes: impact alone, conflicts of overlapping changes, and validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.examples import example_text
from servicegraph.impact import (
    GraphIndex,
    PlannedChange,
    assess_changes,
    naive_states,
    to_networkx,
)
from servicegraph.model import GraphData, State, UnknownNodeError, loads

from graphs import graphs

DOWN, DEGRADED, OK = State.DOWN, State.DEGRADED, State.OK


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 3, 1, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def example() -> GraphIndex:
    return GraphIndex.from_graph(loads(example_text()))


def test_two_overlapping_web_patches_break_ordering_together(example: GraphIndex) -> None:
    result = assess_changes(example, [
        PlannedChange("patch-web-1", ("web-1",), at(22), at(23)),
        PlannedChange("patch-web-2", ("web-2",), at(22, 30), at(23, 30)),
    ])
    for change_id in ("patch-web-1", "patch-web-2"):
        alone = result.impacts[change_id]
        assert alone.broken_promises == []
        assert alone.at_risk_promises == ["fun-day", "order-anytime"]
    (conflict,) = result.conflicts
    assert conflict.changes == ("patch-web-1", "patch-web-2")
    assert (conflict.start, conflict.end) == (at(22, 30), at(23))
    assert conflict.broken_promises == ("order-anytime",)
    # The park's ticket shop only loses a soft need: it stays at risk, as alone.
    assert conflict.at_risk_promises == ()
    assert "fun-day" not in conflict.worse
    assert conflict.worse["web-tier"] is DOWN and conflict.worse["order-anytime"] is DOWN
    assert "web-1" not in conflict.worse  # down alone already


def test_windows_that_only_touch_do_not_conflict(example: GraphIndex) -> None:
    result = assess_changes(example, [
        PlannedChange("a", ("web-1",), at(20), at(22)),
        PlannedChange("b", ("web-2",), at(22), at(23)),
    ])
    assert result.conflicts == ()
    assert set(result.impacts) == {"a", "b"}


def test_overlapping_but_independent_changes_do_not_conflict(example: GraphIndex) -> None:
    result = assess_changes(example, [
        PlannedChange("storage", ("san",), at(1), at(3)),
        PlannedChange("feed", ("feed-job",), at(2), at(4)),
        PlannedChange("same-server", ("web-1", "san"), at(2), at(5)),
    ])
    assert result.conflicts == ()
    assert result.impacts["storage"].broken_promises == ["order-anytime"]
    assert result.impacts["feed"].broken_promises == ["onboarding"]


def test_gate_maintenance_on_both_turnstiles_spoils_the_day(example: GraphIndex) -> None:
    result = assess_changes(example, [
        PlannedChange("east", ("gate-1",), at(6), at(8)),
        PlannedChange("west", ("gate-2",), at(7), at(9), state=DOWN),
        PlannedChange("slow-wan", ("wan-a",), at(7), at(8), state=DEGRADED),
    ])
    assert [c.changes for c in result.conflicts] == [("east", "west")]
    assert result.conflicts[0].broken_promises == ("fun-day",)


def test_later_overlaps_come_later_and_pairs_are_judged_pairwise(example: GraphIndex) -> None:
    result = assess_changes(example, [
        PlannedChange("w3", ("web-3",), at(10), at(12)),
        PlannedChange("w1", ("web-1",), at(1), at(11)),
        PlannedChange("w2", ("web-2",), at(0), at(2)),
    ])
    assert [(c.changes, c.start) for c in result.conflicts] == [
        (("w1", "w2"), at(1)), (("w3", "w1"), at(10))]


def test_to_dict_is_json_with_iso_times(example: GraphIndex) -> None:
    result = assess_changes(example, [
        PlannedChange("a", ("web-1",), at(22), at(23)),
        PlannedChange("b", ("web-2",), at(22, 30), at(23, 30)),
    ])
    doc = json.loads(json.dumps(result.to_dict()))
    assert list(doc["changes"]) == ["a", "b"]
    a = doc["changes"]["a"]
    assert a["window"] == {"start": "2030-03-01T22:00:00+00:00", "end": "2030-03-01T23:00:00+00:00"}
    assert a["broken_promises"] == [] and a["at_risk_promises"] == ["fun-day", "order-anytime"]
    assert a["impacted"]["web-1"] == "down" and a["impacted"]["web-tier"] == "degraded"
    (conflict,) = doc["conflicts"]
    assert conflict["changes"] == ["a", "b"] and conflict["start"] == "2030-03-01T22:30:00+00:00"
    assert conflict["broken_promises"] == ["order-anytime"]
    assert conflict["worse"]["web-tier"] == "down"


def test_no_changes_no_answer(example: GraphIndex) -> None:
    assert assess_changes(example, []).to_dict() == {"changes": {}, "conflicts": []}


def test_a_change_validates_itself() -> None:
    with pytest.raises(ValueError, match=r"'c7'.*not after"):
        PlannedChange("c7", ("san",), at(3), at(3))
    with pytest.raises(ValueError, match=r"'c8'.*no components"):
        PlannedChange("c8", (), at(3), at(4))
    with pytest.raises(ValueError, match=r"'c9'.*aware"):
        PlannedChange("c9", ("san",), datetime(2030, 1, 1), at(4))
    with pytest.raises(ValueError, match=r"'c10'.*degraded or down"):
        PlannedChange("c10", ("san",), at(3), at(4), state=OK)
    assert PlannedChange("c11", ["san"], at(3), at(4)).components == ("san",)  # type: ignore[arg-type]


def test_a_batch_of_changes_is_validated_whole(example: GraphIndex) -> None:
    with pytest.raises(ValueError, match=r"duplicate change id.*: a"):
        assess_changes(example, [PlannedChange("a", ("san",), at(1), at(2)),
                                 PlannedChange("a", ("lb",), at(3), at(4))])
    naive = datetime(2030, 3, 1, 1)
    with pytest.raises(ValueError, match="mix"):
        assess_changes(example, [PlannedChange("a", ("san",), at(1), at(2)),
                                 PlannedChange("b", ("lb",), naive, naive + timedelta(hours=1))])
    with pytest.raises(UnknownNodeError) as err:
        assess_changes(example, [PlannedChange("a", ("san", "nas"), at(1), at(2)),
                                 PlannedChange("b", ("tape", "nas"), at(3), at(4))])
    assert err.value.ids == ("nas", "tape")


def test_naive_times_work_when_all_are_naive(example: GraphIndex) -> None:
    t = datetime(2030, 3, 1, 1)
    result = assess_changes(example, [
        PlannedChange("a", ("gate-1",), t, t + timedelta(hours=2)),
        PlannedChange("b", ("gate-2",), t + timedelta(hours=1), t + timedelta(hours=3)),
    ])
    assert result.conflicts[0].to_dict()["end"] == "2030-03-01T03:00:00"


@settings(max_examples=200, deadline=None)
@given(graphs(), st.data())
def test_conflicts_agree_with_the_naive_oracle(g: GraphData, data: st.DataObject) -> None:
    ids = [n.id for n in g.nodes]
    picks = st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True)
    states = st.sampled_from([DOWN, DEGRADED])
    a = PlannedChange("a", tuple(data.draw(picks)), at(1), at(3), data.draw(states))
    b = PlannedChange("b", tuple(data.draw(picks)), at(2), at(4), data.draw(states))
    result = assess_changes(GraphIndex.from_graph(g), [a, b])
    nxg = to_networkx(g)

    def run(*changes: PlannedChange) -> dict[str, State]:
        given: dict[str, State] = {}
        for c in changes:
            for n in c.components:
                given[n] = max(given.get(n, OK), c.state)
        return naive_states(nxg, given)

    alone_a, alone_b, both = run(a), run(b), run(a, b)
    assert dict(result.impacts["a"].impacted) == {n: s for n, s in alone_a.items() if s > OK}
    worse = {n: s for n, s in both.items() if s > max(alone_a[n], alone_b[n])}
    if worse:
        (conflict,) = result.conflicts
        assert dict(conflict.worse) == worse
        promises = {n.id for n in g.nodes if n.kind.value == "promise"}
        assert set(conflict.broken_promises) == {n for n in promises & set(worse)
                                                 if worse[n] is DOWN}
    else:
        assert result.conflicts == ()
