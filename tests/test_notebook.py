"""The notebooks run top to bottom, without Jupyter, and show what they say: the
walkthrough on the embedded store, and the Neo4j notebook against the test Neo4j."""

from __future__ import annotations

import contextlib
import io
import json
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib
import pytest

from servicegraph import ServiceGraph, SqliteStore, State, example_graph
from servicegraph.impact import spof_ranking
from servicegraph.ingest.status import StatusUpdate
from servicegraph.store import Neo4jStore

from graphs import what_if

matplotlib.use("Agg")  # no display here: figures are drawn, not shown

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    return data


def execute(name: str) -> dict[str, Any]:
    """Every code cell executed in order in one namespace, as a kernel would; what the
    cells printed is kept under ``__stdout__``."""
    ns: dict[str, Any] = {"__name__": "__notebook__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for cell in read(name)["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                exec(compile(source, f"{name}[{cell['id']}]", "exec"), ns)
    ns["__stdout__"] = printed.getvalue()
    return ns


def test_the_notebooks_are_here() -> None:
    assert ALL == ["explore.ipynb", "neo4j.ipynb", "record.ipynb"]


@pytest.mark.parametrize("name", ALL)
def test_is_a_clean_nbformat_4_notebook(name: str) -> None:
    notebook = read(name)
    assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] >= 5
    assert notebook["metadata"]["kernelspec"]["language"] == "python"
    ids = [cell["id"] for cell in notebook["cells"]]
    assert len(ids) == len(set(ids))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert len(code) >= 5
    # Stored without outputs, so the diff of a change is the change.
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    # The library's public API only: not the command line.
    sources = "".join("".join(cell["source"]) for cell in code)
    assert "servicegraph.cli" not in sources and "servicegraph" in sources


# --- the walkthrough on the embedded store -------------------------------------------


@pytest.fixture(scope="module")
def namespace() -> dict[str, Any]:
    return execute("explore.ipynb")


def test_impact_of_the_feed_job_breaks_onboarding(namespace: dict[str, Any]) -> None:
    assert namespace["broken"] == ["onboarding"]
    assert namespace["at_risk"] == []
    assert "broken promises: ['onboarding']" in namespace["__stdout__"]


def test_explanations_trace_back_to_the_failed_job(namespace: dict[str, Any]) -> None:
    why = namespace["result"].explanations["onboarding"]
    assert why.chain == ("onboarding", "employee-onboarding", "act-new-employee", "hr-app",
                         "recruiting-feed", "feed-job")


def test_one_web_server_down_only_puts_promises_at_risk(namespace: dict[str, Any]) -> None:
    web = namespace["web"]
    assert web.broken_promises == []
    assert "order-anytime" in web.at_risk_promises
    assert web.explanations["web-tier"].causes[0].headroom == "2 of 3 up, needs 2"


def test_single_points_of_failure(namespace: dict[str, Any]) -> None:
    ranking = namespace["ranking"]
    assert 0 < len(ranking) <= 5
    assert [len(p.breaks) for p in ranking] == sorted((len(p.breaks) for p in ranking),
                                                      reverse=True)
    # Each one alone breaks what it says, by the engine itself.
    store = SqliteStore(namespace["workdir"] / "explore.db")
    try:
        check = ServiceGraph(store)
        for point in ranking:
            assert what_if(check, down=[point.component]).broken_promises == list(point.breaks)
    finally:
        store.close()
    assert "feed-job" in namespace["onboarding_spofs"]


def test_the_impacted_part_is_drawn_layered_and_coloured(namespace: dict[str, Any]) -> None:
    outage = namespace["outage"]
    assert namespace["drawn"] == set(outage.impacted)
    ax = namespace["ax"]
    texts = {t.get_text().replace("\n", " "): t for t in ax.texts}
    names = {n.id: n.name for n in namespace["graph"].nodes}

    def box(node_id: str) -> Any:
        (text,) = [t for label, t in texts.items() if label == names[node_id]
                   or names[node_id].startswith(label)]
        return text

    # Promises on top, CIs at the bottom.
    assert box("order-anytime").get_position()[1] > box("web-tier").get_position()[1]
    assert box("web-tier").get_position()[1] > box("web-1").get_position()[1]
    colour = {i: matplotlib.colors.to_hex(box(i).get_bbox_patch().get_facecolor())
              for i in ("order-anytime", "fun-day")}
    assert outage.impacted["order-anytime"] == State.DOWN and colour["order-anytime"] == "#d62828"
    assert outage.impacted["fun-day"] == State.DEGRADED and colour["fun-day"] == "#f4a100"


def test_the_drawing_is_exported(namespace: dict[str, Any]) -> None:
    exported = namespace["exported"]
    assert exported["impact.png"].read_bytes().startswith(b"\x89PNG")
    graphml = ET.parse(exported["impact.graphml"]).getroot()
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert {n.get("id") for n in graphml.iterfind(".//g:node", ns)} == namespace["drawn"]
    assert exported["impact.dot"].read_text().startswith("digraph")


def test_networkx_bridge(namespace: dict[str, Any]) -> None:
    assert namespace["paths"] == [["onboarding", "employee-onboarding", "act-new-employee",
                                   "hr-app", "recruiting-feed", "feed-job"]]
    assert namespace["top"][0][0] == "san"  # the most depended-on node of the example
    assert "feed-job" in namespace["needed_cis"]


def test_views(namespace: dict[str, Any]) -> None:
    matrix = namespace["matrix"]
    assert "integration" in matrix.silos
    assert matrix.cells[("integration", "employee-onboarding")] == ("feed-job",)
    assert namespace["mermaid"].startswith("flowchart TD\n")


# --- a month of a promise's record ----------------------------------------------------


@pytest.fixture(scope="module")
def month() -> dict[str, Any]:
    return execute("record.ipynb")


def test_the_record_notebook_draws_the_library_figures(month: dict[str, Any]) -> None:
    """The timeline's bands and the providers' bars are the library's figures."""
    from servicegraph.runtime import record as the_record

    recorded = month["recorded"]
    store = SqliteStore(month["workdir"] / "record.db")
    try:
        check = ServiceGraph(store)
        one = the_record.promise_record(check.questions, recorded, "onboarding",
                                        start="2026-03", end="2026-04", tz="Europe/Berlin")
        by = the_record.records(check.questions, recorded, by="provider", start="2026-03",
                                end="2026-04", tz="Europe/Berlin")
    finally:
        store.close()
    rec = one["record"]
    # The timeline: the bars of each colour span the library's seconds, and cover the month.
    day = 86400.0
    widths: dict[str, float] = {}
    for bars in month["timeline"].collections:
        word = bars.get_label()
        widths[word] = sum(path.get_extents().width for path in bars.get_paths()) * day
    assert widths["broken"] + widths["planned"] == pytest.approx(rec["broken_seconds"])
    assert widths["planned"] == pytest.approx(rec["planned"]["broken_seconds"]) == 90 * 60
    assert widths["at risk"] == pytest.approx(rec["at_risk_seconds"]) == 15 * 60
    assert sum(widths.values()) == pytest.approx(one["period"]["counted_seconds"])
    # The bar chart: one bar pair per provider, their heights the library's minutes.
    ax = month["bars"]
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert names == [p["provider"] for p in by["providers"]]
    n = len(names)
    heights = [r.get_height() for r in ax.patches]
    totals = [heights[i] + heights[n + i] for i in range(n)]
    assert totals == pytest.approx([p["broken_minutes"] for p in by["providers"]])
    assert dict(zip(names, totals, strict=True)) == pytest.approx(
        {"Contoso Cloud": 105.0, "IT": 42.0, "Northwind Hosting": 75.0})
    assert "kept 99.637%" in month["__stdout__"]


# --- against Neo4j ---------------------------------------------------------------------


@pytest.mark.neo4j
def test_the_neo4j_notebook_reads_and_draws_the_graph(neo4j_store: Neo4jStore, neo4j_uri: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    loaded = ServiceGraph(neo4j_store)
    loaded.writes.load(example_graph(), replace=True)
    loaded.writes.push_status("monitoring",
                              [StatusUpdate(State.DOWN, datetime.now(UTC), id="feed-job")])
    monkeypatch.setenv("SERVICEGRAPH_STORE", neo4j_uri)
    # The test Neo4j's credentials, if it has any, in the names the notebook reads.
    for ours, theirs in (("SERVICEGRAPH_NEO4J_USER", "NEO4J_USER"),
                         ("SERVICEGRAPH_NEO4J_PASSWORD", "NEO4J_PASSWORD")):
        monkeypatch.delenv(ours, raising=False)
        if os.environ.get(theirs):
            monkeypatch.setenv(ours, os.environ[theirs])
    monkeypatch.chdir(tmp_path)  # no stray .env of the working tree
    ns = execute("neo4j.ipynb")

    example = example_graph()
    assert {n.id for n in ns["graph"].nodes} == {n.id for n in example.nodes}
    assert len(ns["graph"].edges) == len(example.edges)
    # The reported status is read: the feed job's failure breaks onboarding.
    assert ns["now"].broken_promises == ["onboarding"]
    html = ns["view"].data
    assert '"onboarding"' in html and '"feed-job"' in html
    colours = {n.id: str(n.color) for n in ns["nodes"]}
    assert colours["onboarding"] != colours["order-anytime"]
    # The what-if is the engine's on the same graph in the embedded store.
    store = SqliteStore(tmp_path / "check.db")
    try:
        check = ServiceGraph(store)
        check.writes.load(example)
        worst = spof_ranking(check.questions.index(), limit=1)[0].component
        assert ns["component"] == worst
        assert ns["outage"].broken_promises == what_if(check, down=[worst]).broken_promises
    finally:
        store.close()
    assert ns["ax"].texts and f"{worst} down" in ns["__stdout__"] + ns["ax"].get_title()
