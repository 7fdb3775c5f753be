"""The integrator client: answers, errors and retries (over a scripted transport)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from servicegraph.client import ServiceGraphClient, ServiceGraphError
from servicegraph.ingest.ndjson import NdjsonReader
from servicegraph.model import ValidationError


def scripted(*answers: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    return httpx.MockTransport(handle), seen


def test_push_retries_on_503_then_answers() -> None:
    transport, seen = scripted(httpx.Response(503, headers={"Retry-After": "0"}),
                               httpx.Response(200, json={"created": 1}))
    with ServiceGraphClient("http://sg", transport=transport, backoff=0, api_key="k") as c:
        assert c.push("discovery", {"nodes": [], "edges": []}, full_sync=True) == {
            "created": 1}
    assert len(seen) == 2
    assert seen[0].url.path == "/v1/sources/discovery/push"
    assert seen[0].url.params["full_sync"] == "true"
    assert seen[0].headers["authorization"] == "Bearer k"


def test_422_is_not_retried_and_carries_the_problems() -> None:
    body = {"detail": "1 problem", "problems": [{"section": "nodes", "index": 0, "item": "'x'",
                                                 "field": "kind", "message": "unknown"}]}
    transport, seen = scripted(httpx.Response(422, json=body))
    with (ServiceGraphClient("http://sg", transport=transport, backoff=0) as c,
          pytest.raises(ServiceGraphError) as err):
        c.push_status("monitoring", [{"id": "x", "state": "down"}])
    assert err.value.status == 422 and err.value.problems[0]["field"] == "kind"
    assert len(seen) == 1


def test_gives_up_after_the_retries() -> None:
    transport, seen = scripted(*[httpx.Response(502) for _ in range(3)])
    with (ServiceGraphClient("http://sg", transport=transport, backoff=0, retries=2) as c,
          pytest.raises(ServiceGraphError) as err):
        c.impact(["web-1"])
    assert err.value.status == 502 and len(seen) == 3


def test_ndjson_push_streams_one_item_a_line() -> None:
    transport, seen = scripted(httpx.Response(200, json={"created": 2}))
    with ServiceGraphClient("http://sg", transport=transport) as c:
        c.push_ndjson("bulk", [{"id": "a", "kind": "ci", "name": "A"}],
                      [{"from": "a", "to": "b"}])
    lines = seen[0].read().decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"node": {"id": "a", "kind": "ci", "name": "A"}}, {"edge": {"from": "a", "to": "b"}}]


def test_ndjson_reader_names_bad_lines() -> None:
    reader = NdjsonReader()
    reader.feed(b'{"node": {"id": "a", "kind": "ci", "name": "A"}}\n')
    reader.feed(b'not json\n{"node": {"id": "b", "kind": "gadget", "name": "B"}}\n{"x": 1}')
    with pytest.raises(ValidationError) as err:
        reader.finish()
    found = [(p.section, p.index, p.field) for p in err.value.problems]
    assert found == [("lines", 2, ""), ("lines", 3, "kind"), ("lines", 4, "")]


def test_a_retried_ndjson_push_resends_the_same_bytes_from_a_generator() -> None:
    """A one-shot generator must not turn the retry into an empty (wiping) sync."""
    transport, seen = scripted(httpx.Response(503, headers={"Retry-After": "0"}),
                               httpx.Response(200, json={"created": 2}))
    nodes = ({"id": f"n{i}", "kind": "ci", "name": f"N{i}"} for i in range(2))
    with ServiceGraphClient("http://sg", transport=transport, backoff=0) as c:
        c.push_ndjson("bulk", nodes, full_sync=True)
    first, second = (r.read() for r in seen)
    assert first == second and first.count(b"\n") == 2
    assert seen[1].url.params["full_sync"] == "true"
    assert seen[1].url.params["allow_empty"] == "false"


def test_a_sync_in_pages_against_a_real_server(tmp_path: Path) -> None:
    """Pages of a session, then the commit: what the source no longer sends retires."""
    from servers import serve

    nodes = [{"id": f"vm-{i}", "kind": "ci", "name": f"VM {i}"} for i in range(25)]
    with serve(tmp_path, str(tmp_path / "g.db")) as server, \
            ServiceGraphClient(server.url) as client:
        client.push("cmdb", {"nodes": nodes})
        answer = client.sync("cmdb", nodes[5:], [], page_size=7)
        assert answer["retired"] == 5 and answer["full_sync"] and answer["session"]
        assert client.node("vm-0")["retired_at"] is not None
        assert "retired_at" not in client.node("vm-24")
        with pytest.raises(ServiceGraphError) as err:
            client.sync("cmdb", [{"id": "bad", "kind": "gadget"}])
        assert err.value.status == 422
        assert "retired_at" not in client.node("vm-24")  # the failed sync retired nothing
