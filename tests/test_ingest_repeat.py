"""An NDJSON push that repeats what its source claims is recognised on the decoded lines
(``Writer.push_read``): it must answer, and leave the store, exactly as the full way
(every line read into the model, then ``Writer.push``), on every store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicegraph import ServiceGraph, ValidationError
from servicegraph.ingest.ndjson import NdjsonReader
from servicegraph.model.graph import GraphData
from servicegraph.store import GraphStore, SqliteStore

from apikit import api_client

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

NODES: list[dict[str, Any]] = [
    {"id": "app", "kind": "service_system", "name": "App", "owner": "Apps",
     "redundancy": {"web": 2}},
    {"id": "db", "kind": "service_system", "name": "Database", "visible": False,
     "description": "the orders\tdatabase", "redundancy": {"disk": {"min_ok": 1, "ok_at": 2}}},
    {"id": "web-1", "kind": "ci", "name": "srv-web-01", "silo": "compute",
     "provider": "Northwind", "external_id": "vm-101", "properties": {"rack": 4, "tags": ["a"]}},
    {"id": "web-2", "kind": "ci", "name": "srv-web-02", "silo": "compute",
     "external_id": "vm-102", "properties": {"rack": 5}},
    {"id": "web-3", "kind": "ci", "name": "srv-web-03", "silo": "compute"},
    {"id": "disk-1", "kind": "ci", "name": "Disk 1", "visible": True},
    {"id": "disk-2", "kind": "ci"},
]
EDGES: list[dict[str, Any]] = [
    {"from": "app", "to": "web-1", "group": "web"},
    {"from": "app", "to": "web-2", "group": "web"},
    {"from": "app", "to": "web-3", "group": "web"},
    {"from": "app", "to": "db"},
    {"from": "db", "to": "disk-1", "group": "disk"},
    {"from": "db", "to": "disk-2", "group": "disk"},
    {"from": "web-3", "to": "disk-2", "impact": "soft"},
]


def body(nodes: list[Any], edges: list[Any], bad: dict[int, bytes] | None = None) -> bytes:
    """An NDJSON body; ``bad`` puts raw lines at those (0-based) places."""
    lines = [json.dumps({"node": n}).encode() for n in nodes]
    lines += [json.dumps({"edge": e}).encode() for e in edges]
    for at, line in sorted((bad or {}).items()):
        lines.insert(at, line)
    return b"\n".join(lines) + b"\n"


def read(data: bytes) -> NdjsonReader:
    reader = NdjsonReader()
    # In two parts, cut inside a line: the reader is fed as the body streams in.
    reader.feed(data[:len(data) // 2])
    reader.feed(data[len(data) // 2:])
    return reader


def fast(sg: ServiceGraph, data: bytes, **kw: Any) -> dict[str, Any]:
    reader = read(data)
    try:
        return sg.writes.push_read("cmdb", reader, now=T1, **kw)
    except ValidationError as exc:  # restated by line, as the route does
        raise ValidationError([reader.by_line(p) for p in exc.problems]) from None


def slow(sg: ServiceGraph, data: bytes, **kw: Any) -> dict[str, Any]:
    reader = read(data)
    try:
        return sg.writes.push("cmdb", reader.finish(), now=T1, **kw)
    except ValidationError as exc:
        raise ValidationError([reader.by_line(p) for p in exc.problems]) from None


def stored(store: GraphStore) -> GraphData:
    graph = store.read()
    return GraphData(tuple(sorted(graph.nodes, key=lambda n: n.id)),
                     tuple(sorted(graph.edges, key=lambda e: e.key)))


def without_version(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "version"}


def changed(nodes: list[dict[str, Any]], i: int, **fields: Any) -> list[dict[str, Any]]:
    out = [dict(n) for n in nodes]
    out[i].update(fields)
    return out


#: Pages pushed after the first, each against the full way: the same page, one field
#: changed, a property only, a dependency left out (and, as a full sync, retired), the
#: wire's look-alikes of stored values, and fields the fast path leaves to the full way.
VARIANTS: dict[str, tuple[bytes, dict[str, Any]]] = {
    "same": (body(NODES, EDGES), {}),
    "same, keys reordered": (body([dict(reversed(list(n.items()))) for n in NODES],
                                  [dict(reversed(list(e.items()))) for e in EDGES]), {}),
    "a name": (body(changed(NODES, 4, name="srv-web-03b"), EDGES), {}),
    "a property only": (body(changed(NODES, 2, properties={"rack": 4, "tags": ["b"]}),
                             EDGES), {}),
    "1.0 for 1": (body(changed(NODES, 3, properties={"rack": 5.0}), EDGES), {}),
    "true for a count": (body(changed(NODES, 0, redundancy={"web": True}), EDGES), {}),
    "1 for true": (body(changed(NODES, 5, visible=1), EDGES), {}),
    "an edge left out": (body(NODES, EDGES[:-1]), {}),
    "an edge left out, full sync": (body(NODES, EDGES[:-1]), {"full_sync": True}),
    "soft for hard": (body(NODES, [*EDGES[:-1], {"from": "web-3", "to": "disk-2"}]), {}),
    "a group dropped": (body(NODES, [{"from": "app", "to": "web-1"}, *EDGES[1:]]), {}),
    "a source field": (body(changed(NODES, 6, source="cmdb"), EDGES), {}),
    "an external id given as the id": (body(changed(NODES, 4, external_id="web-3"),
                                            EDGES), {}),
    "a new node": (body([*NODES, {"id": "web-4", "kind": "ci"}], EDGES), {}),
    "a node twice": (body([*NODES, NODES[4]], EDGES), {}),
    "an edge twice": (body(NODES, [*EDGES, EDGES[0]]), {}),
    "an external id twice": (body(changed(NODES, 3, external_id="vm-101"), EDGES), {}),
    "an unknown field": (body(changed(NODES, 4, colour="red"), EDGES), {}),
    "a bad kind": (body(changed(NODES, 4, kind="server"), EDGES), {}),
    "a bad name": (body(changed(NODES, 4, name="a\x00b"), EDGES), {}),
    "a long integer": (body(changed(NODES, 3, properties={"rack": 2**70}), EDGES), {}),
    "not JSON in the middle": (body(NODES, EDGES, bad={5: b'{"node": {"id": "x",'}), {}),
    "a line neither node nor edge": (body(NODES, EDGES, bad={9: b'{"nodes": []}'}), {}),
    "empty": (b"", {}),
    "dry run": (body(NODES, EDGES), {"dry_run": True}),
}


@pytest.fixture()
def pair(store: GraphStore, tmp_path: Path) -> tuple[ServiceGraph, ServiceGraph]:
    """The store under test pushed to the fast way, and a SQLite store beside it pushed
    to the full way, both holding the first page."""
    subject = ServiceGraph(store)
    reference = ServiceGraph(SqliteStore(tmp_path / "reference.db"))
    first = body(NODES, EDGES)
    assert without_version(fast(subject, first)) == without_version(slow(reference, first))
    return subject, reference


@pytest.mark.parametrize("name", list(VARIANTS))
def test_a_push_answers_and_stores_as_the_full_way(
        pair: tuple[ServiceGraph, ServiceGraph], name: str) -> None:
    subject, reference = pair
    data, options = VARIANTS[name]
    try:
        want: dict[str, Any] | ValidationError = slow(reference, data, **options)
    except ValidationError as exc:
        want = exc
    before = subject.store.version()
    if isinstance(want, ValidationError):
        with pytest.raises(ValidationError) as got:
            fast(subject, data, **options)
        assert [str(p) for p in got.value.problems] == [str(p) for p in want.problems]
        assert subject.store.version() == before  # nothing written
    else:
        answer = fast(subject, data, **options)
        assert without_version(answer) == without_version(want)
        if not answer["changed"] and not options.get("full_sync"):
            assert subject.store.version() == before
    assert stored(subject.store) == stored(reference.store)


def test_an_unchanged_page_is_known_on_its_lines(
        pair: tuple[ServiceGraph, ServiceGraph], monkeypatch: pytest.MonkeyPatch) -> None:
    """The unchanged page never reaches the model: reading it into the model fails the
    test; a page that changes one field is read the full way."""
    subject, _ = pair
    finish = NdjsonReader.finish

    def refused(self: NdjsonReader) -> GraphData:
        raise AssertionError("the unchanged page was read into the model")

    monkeypatch.setattr(NdjsonReader, "finish", refused)
    for data in (body(NODES, EDGES), body(NODES, EDGES).rstrip(b"\n")):
        answer = fast(subject, data)  # the last line ended by a line break or not
        assert (answer["unchanged"], answer["changed"]) == (len(NODES) + len(EDGES), False)
    monkeypatch.setattr(NdjsonReader, "finish", finish)
    answer = fast(subject, body(changed(NODES, 5, silo="storage"), EDGES))
    assert (answer["updated"], answer["unchanged"]) == (1, len(NODES) + len(EDGES) - 1)


def test_a_bad_line_in_an_unchanged_page_is_422_naming_it(store: GraphStore,
                                                          tmp_path: Path) -> None:
    ndjson = {"Content-Type": "application/x-ndjson"}
    with api_client(store, tmp_path) as client:
        first = client.post("/v1/sources/cmdb/push.ndjson", content=body(NODES, EDGES),
                            headers=ndjson)
        assert first.status_code == 200, first.text
        again = client.post("/v1/sources/cmdb/push.ndjson", content=body(NODES, EDGES),
                            headers=ndjson)
        assert again.status_code == 200
        assert (again.json()["changed"], again.json()["unchanged"]) == (False, 14)
        version = again.json()["version"]
        bad = body(NODES, EDGES, bad={6: b'{"node": {"id": "zz", "kind": "server"}}'})
        refused = client.post("/v1/sources/cmdb/push.ndjson", content=bad, headers=ndjson)
        assert refused.status_code == 422
        problems = refused.json()["problems"]
        assert [(p["section"], p["index"], p["field"]) for p in problems] == [
            ("lines", 7, "kind")]
        # Nothing written: the graph's version did not move.
        after = client.post("/v1/sources/cmdb/push.ndjson", content=body(NODES, EDGES),
                            headers=ndjson)
        assert (after.json()["changed"], after.json()["version"]) == (False, version)
        assert client.get("/v1/nodes/zz").status_code == 404


_WORDS = st.sampled_from(["a", "b", "srv", "x y", ""])
_MUTATIONS = st.one_of(
    st.tuples(st.just("name"), _WORDS),
    st.tuples(st.just("owner"), st.one_of(st.none(), _WORDS)),
    st.tuples(st.just("silo"), st.one_of(st.none(), _WORDS)),
    st.tuples(st.just("visible"), st.sampled_from([None, True, False, 0, 1])),
    st.tuples(st.just("kind"), st.sampled_from(["ci", "service_system", "promise", "vm"])),
    st.tuples(st.just("properties"), st.one_of(
        st.none(), st.dictionaries(st.sampled_from(["rack", "tags"]),
                                   st.one_of(st.integers(0, 5), st.floats(0, 5),
                                             st.booleans()), max_size=2))),
    st.tuples(st.just("external_id"), st.sampled_from([None, "vm-101", "vm-9", ""])),
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, len(NODES) - 1), _MUTATIONS), max_size=3),
       drop=st.sets(st.integers(0, len(EDGES) - 1), max_size=2),
       impact=st.sets(st.integers(0, len(EDGES) - 1), max_size=2))
def test_fast_and_full_ways_agree_on_random_pages(
        pair: tuple[ServiceGraph, ServiceGraph], edits: list[tuple[int, tuple[str, Any]]],
        drop: set[int], impact: set[int]) -> None:
    """Dry runs on the same graph: the fast way answers (or refuses) as the full way."""
    subject, _ = pair
    nodes = [dict(n) for n in NODES]
    for i, (name, value) in edits:
        nodes[i][name] = value
    edges = [dict(e, impact="soft") if i in impact else dict(e)
             for i, e in enumerate(EDGES) if i not in drop]
    data = body(nodes, edges)
    try:
        want: Any = slow(subject, data, dry_run=True)
    except ValidationError as exc:
        want = [str(p) for p in exc.problems]
    try:
        got: Any = fast(subject, data, dry_run=True)
    except ValidationError as exc:
        got = [str(p) for p in exc.problems]
    assert got == want
