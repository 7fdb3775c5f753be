"""The promise record over HTTP and on the command line, on the example enterprise,
with transitions constructed here and handed in at the Questions boundary (a double
of ``Questions.record_transitions``; the store and its driver are real)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from servicegraph.cli import app as cli
from servicegraph.model.kinds import State
from servicegraph.model.record import Cause, Transition
from servicegraph.runtime import Questions
from servicegraph.store import SqliteStore
from servicegraph_api import create_app
from servicegraph_api.record_schemas import PromiseRecordOut, RecordOut

from apikit import example_graph, local_client, settings_for

EVIL = "<b>Evil</b> | *Corp*"
RECORDED = [
    # onboarding: broken 42 minutes by the feed job (IT) on 2 March, Berlin time 10:00
    Transition("2026-03-02T09:00:00.000000Z", "onboarding", "promise", State.DOWN,
               causes=(Cause("feed-job", State.DOWN, provider="IT"),)),
    Transition("2026-03-02T09:42:00.000000Z", "onboarding", "promise", State.OK),
    # order-anytime: broken an hour by two providers' web servers, then at risk
    Transition("2026-03-03T12:00:00.000000Z", "order-anytime", "promise", State.DOWN,
               causes=(Cause("web-1", State.DOWN, provider="Northwind Hosting"),
                       Cause("erp", State.DOWN, provider=EVIL))),
    Transition("2026-03-03T13:00:00.000000Z", "order-anytime", "promise", State.DEGRADED),
    Transition("2026-03-03T14:00:00.000000Z", "order-anytime", "promise", State.OK),
    Transition("2026-03-03T12:00:00.000000Z", "online-ordering", "business_service",
               State.DOWN, causes=(Cause("web-1", State.DOWN, provider="Northwind Hosting"),)),
    Transition("2026-03-03T13:00:00.000000Z", "online-ordering", "business_service",
               State.OK),
    # an observed state: not a figure of the record
    Transition("2026-03-03T12:00:00.000000Z", "web-1", "observed", State.DOWN),
]


def recorded(transitions: Sequence[Transition]):  # type: ignore[no-untyped-def]
    """A double of ``Questions.record_transitions`` over ``transitions``, keeping its
    contract: per node its last transition before ``start``, then those in the period."""
    asked: list[dict[str, object]] = []

    def record_transitions(self: Questions, *, start: str, end: str,
                           nodes: Sequence[str] | None = None,
                           layers: Sequence[str] | None = None) -> list[Transition]:
        asked.append({"start": start, "end": end, "nodes": nodes, "layers": layers})
        chosen = [t for t in transitions if (nodes is None or t.node in nodes)
                  and (layers is None or t.layer in layers)]
        before: dict[str, Transition] = {}
        for t in sorted(chosen, key=lambda t: t.at):
            if t.at < start:
                before[t.node] = t
        within = sorted((t for t in chosen if start <= t.at < end), key=lambda t: t.at)
        return [*before.values(), *within]

    record_transitions.asked = asked  # type: ignore[attr-defined]
    return record_transitions


@pytest.fixture()
def double(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    found = recorded(RECORDED)
    monkeypatch.setattr(Questions, "record_transitions", found, raising=False)
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    where = tmp_path_factory.mktemp("record")
    store = SqliteStore(where / "graph.db")
    with local_client(create_app(settings_for(where), graph=example_graph(store))) as client:
        yield client
    store.close()


MARCH = {"from": "2026-03", "to": "2026-04", "tz": "Europe/Berlin"}


def test_one_promise_record(served: TestClient, double) -> None:  # type: ignore[no-untyped-def]
    answer = served.get("/v1/promises/onboarding/record", params=MARCH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    PromiseRecordOut.model_validate(body)
    period = body["period"]
    assert (period["from"], period["to"]) == ("2026-03-01T00:00:00+01:00",
                                              "2026-04-01T00:00:00+02:00")
    assert period["counted_seconds"] == (31 * 24 - 1) * 3600  # the clocks went forward
    rec = body["record"]
    assert rec["name"] == "New staff are productive on day one" and rec["owner"] == "HR"
    assert rec["broken_seconds"] == 42 * 60 and rec["break_count"] == 1
    assert rec["kept_seconds"] + rec["at_risk_seconds"] + rec["broken_seconds"] == \
        period["counted_seconds"]
    (brk,) = rec["breaks"]
    assert (brk["start"], brk["end"]) == ("2026-03-02T10:00:00+01:00",
                                          "2026-03-02T10:42:00+01:00")
    assert brk["providers"] == [{"provider": "IT", "seconds": 2520.0}]
    assert body["providers"][0]["provider"] == "IT"
    assert body["providers"][0]["broken_minutes"] == 42.0
    assert rec["target"] is None  # the example's promise states no target
    (asked,) = double.asked
    assert asked["nodes"] == ["onboarding"] and asked["start"] == "2026-02-28T23:00:00.000000Z"


def test_every_promise_by_each_roll_up(served: TestClient, double) -> None:  # type: ignore[no-untyped-def]
    nodes = served.get("/v1/record", params=MARCH).json()
    RecordOut.model_validate(nodes)
    assert nodes["by"] == "promise" and "providers" not in nodes
    layers = {n["id"]: n["layer"] for n in nodes["nodes"]}
    assert layers["onboarding"] == "promise" and layers["online-ordering"] == \
        "business_service" and layers["act-new-employee"] == "service_act"
    assert "web-1" not in layers
    fun = next(n for n in nodes["nodes"] if n["id"] == "fun-day")
    assert fun["share_kept"] == 1.0 and fun["break_count"] == 0
    providers = served.get("/v1/record", params={**MARCH, "by": "provider"}).json()
    shares = {p["provider"]: p["broken_seconds"] for p in providers["providers"]}
    assert shares == {"IT": 2520.0, "Northwind Hosting": 1800.0, EVIL: 1800.0}
    owners = served.get("/v1/record", params={**MARCH, "by": "owner"}).json()["owners"]
    sales = next(o for o in owners if o["name"] == "Sales")
    assert sales["broken_seconds"] == 3600.0 and sales["at_risk_seconds"] == 3600.0
    services = served.get("/v1/record", params={**MARCH, "by": "business_service"}).json()
    ordering = next(s for s in services["business_services"] if s["name"] == "online-ordering")
    assert ordering["promises"] == ["order-anytime"] and ordering["broken_seconds"] == 3600.0


def test_business_hours_count_alone(served: TestClient, double) -> None:  # type: ignore[no-untyped-def]
    # 2 March 2026 is a Monday: the 42 minutes fall inside 08:00-18:00 Berlin time
    answer = served.get("/v1/promises/onboarding/record",
                        params={**MARCH, "hours": "mon-fri 08:00-18:00"}).json()
    assert answer["period"]["counted_seconds"] == 22 * 10 * 3600
    assert answer["record"]["broken_seconds"] == 2520.0
    evening = served.get("/v1/promises/onboarding/record",
                         params={**MARCH, "hours": "mon-fri 11:00-18:00"}).json()
    assert evening["record"]["broken_seconds"] == 0.0 and evening["record"]["breaks"] == []


def test_formats_by_parameter_or_accept(served: TestClient, double) -> None:  # type: ignore[no-untyped-def]
    path = "/v1/promises/order-anytime/record"
    table = served.get(path, params={**MARCH, "format": "csv"})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert len(rows) == 1 and rows[0]["duration_seconds"] == "3600.0"
    assert json.loads(rows[0]["providers"]) == {EVIL: 1800.0, "Northwind Hosting": 1800.0}
    text = served.get(path, params={**MARCH, "format": "markdown"})
    assert text.headers["content-type"].startswith("text/markdown")
    assert text.text.startswith("# Promise record") and "<b>" not in text.text
    assert "&lt;b&gt;Evil&lt;/b&gt; \\| \\*Corp\\*" in text.text
    page = served.get(path, params=MARCH, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "<b>Evil" not in page.text and "&lt;b&gt;Evil&lt;/b&gt; | *Corp*" in page.text
    assert served.get("/v1/record", params={**MARCH, "by": "provider"},
                      headers={"Accept": "text/csv"}).text.startswith("provider,")
    assert served.get(path, params={**MARCH, "format": "json"},
                      headers={"Accept": "text/html"}).json()["record"]["id"] == "order-anytime"


@pytest.mark.parametrize(("params", "named"), [
    ({"from": "2026-04", "to": "2026-03"}, "to:"),
    ({"from": "2026-03", "to": "2026-03"}, "to:"),
    ({"from": "last tuesday"}, "from:"),
    ({"from": "0001-01"}, "from:"),
    ({"from": "2026-01", "to": "9999-12-31T23:59:59"}, "to:"),
    ({"from": "1990-01", "to": "2026-01"}, "to:"),
    ({"tz": "Mars/Olympus"}, "tz:"),
    ({"tz": "../etc/passwd"}, "tz:"),
    ({"hours": "weekdays 9 to 5"}, "hours:"),
    ({"hours": "mon-fri 18:00-08:00"}, "hours:"),
])
def test_bad_parameters_are_named(served: TestClient, double, params: dict[str, str],  # type: ignore[no-untyped-def]
                                  named: str) -> None:
    for path in ("/v1/promises/onboarding/record", "/v1/record"):
        answer = served.get(path, params=params)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"].startswith(named)


def test_unknown_and_other_nodes(served: TestClient, double) -> None:  # type: ignore[no-untyped-def]
    answer = served.get("/v1/promises/onbaording/record", params=MARCH)
    assert answer.status_code == 404 and answer.json()["ids"] == ["onbaording"]
    assert answer.json()["suggestions"]["onbaording"][0] == "onboarding"
    answer = served.get("/v1/promises/web-1/record", params=MARCH)
    assert answer.status_code == 422 and "'web-1' is a ci" in answer.json()["detail"]
    act = served.get("/v1/promises/online-ordering/record", params=MARCH).json()
    assert act["record"]["layer"] == "business_service"
    assert act["record"]["broken_seconds"] == 3600.0
    answer = served.get("/v1/record", params={"by": "customer"})
    assert answer.status_code == 422 and answer.json()["problems"][0]["field"] == "by"


def test_time_not_yet_lived_is_not_counted(served: TestClient, double) -> None:  # type: ignore[no-untyped-def]
    future = served.get("/v1/promises/onboarding/record",
                        params={"from": "2999-01", "tz": "Europe/Berlin"}).json()
    assert future["period"]["counted_seconds"] == 0.0
    assert future["record"]["share_kept"] is None
    assert future["period"]["as_of"] < "2999"  # now: nothing after it counts
    past = served.get("/v1/promises/onboarding/record", params=MARCH).json()
    assert past["period"]["as_of"] is None


def test_the_both_stores_answer_the_same(client: TestClient, double) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/v1/record", params={**MARCH, "by": "provider", "format": "csv"})
    assert answer.status_code == 200
    assert answer.text.splitlines()[1].startswith("IT,2520.0,42.0,")


# --- the command line --------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def local_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("cli-record") / "g.db")
    assert runner.invoke(cli, ["demo", "--store", db]).exit_code == 0
    return db


def test_the_command_line_record(local_db: str, double) -> None:  # type: ignore[no-untyped-def]
    where = ["--store", local_db, "--from", "2026-03", "--to", "2026-04",
             "--tz", "Europe/Berlin"]
    out = runner.invoke(cli, ["record", "onboarding", *where])
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("# Promise record") and "| feed-job |" in out.stdout
    out = runner.invoke(cli, ["record", "onboarding", "--format", "json", *where])
    assert json.loads(out.stdout)["record"]["broken_seconds"] == 2520.0
    out = runner.invoke(cli, ["record", "--by", "provider", "--format", "csv", *where])
    assert out.exit_code == 0 and out.stdout.splitlines()[1].startswith("IT,2520.0,")
    out = runner.invoke(cli, ["record", "--by", "owner", "--format", "html", *where])
    assert out.stdout.startswith("<!DOCTYPE html>") and "<td>HR</td>" in out.stdout


def test_the_command_line_names_what_is_wrong(local_db: str, double) -> None:  # type: ignore[no-untyped-def]
    out = runner.invoke(cli, ["record", "onboarding", "--store", local_db, "--tz", "Nowhere"])
    assert out.exit_code == 2 and "tz: 'Nowhere' is not an IANA time zone" in out.output
    out = runner.invoke(cli, ["record", "onbaording", "--store", local_db])
    assert out.exit_code == 2 and "onboarding" in out.output
    out = runner.invoke(cli, ["record", "onboarding", "--by", "owner", "--store", local_db])
    assert out.exit_code == 2 and "--by" in out.output


def test_the_command_line_asks_a_server_the_same(tmp_path: Path, local_db: str,  # type: ignore[no-untyped-def]
                                                  served: TestClient, double,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from servicegraph.client import ServiceGraphClient

    # The server is the in-process app: its transport stands in for the network.
    original = ServiceGraphClient.__init__

    def through_app(self, url, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["transport"] = served._transport
        original(self, url, **kwargs)

    monkeypatch.setattr(ServiceGraphClient, "__init__", through_app)
    args = ["record", "--by", "provider", "--format", "json", "--from", "2026-03",
            "--to", "2026-04", "--tz", "Europe/Berlin"]
    remote = runner.invoke(cli, [*args, "--server", "http://127.0.0.1:8000"])
    local = runner.invoke(cli, [*args, "--store", local_db])
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.stdout)["providers"] == json.loads(local.stdout)["providers"]
