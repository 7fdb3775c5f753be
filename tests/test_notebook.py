"""The architects' notebook runs top to bottom, without Jupyter, and shows what it says."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore.ipynb"


@pytest.fixture(scope="module")
def notebook() -> dict[str, Any]:
    """The notebook as JSON."""
    data: dict[str, Any] = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def namespace(notebook: dict[str, Any]) -> dict[str, Any]:
    """Every code cell executed in order in one namespace, as a kernel would; what the
    cells printed is kept under ``__stdout__``."""
    ns: dict[str, Any] = {"__name__": "__notebook__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                exec(compile(source, f"{NOTEBOOK.name}[{cell['id']}]", "exec"), ns)
    ns["__stdout__"] = printed.getvalue()
    return ns


def test_is_a_clean_nbformat_4_notebook(notebook: dict[str, Any]) -> None:
    assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] >= 5
    assert notebook["metadata"]["kernelspec"]["language"] == "python"
    ids = [cell["id"] for cell in notebook["cells"]]
    assert len(ids) == len(set(ids))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert len(code) >= 8
    # Stored without outputs, so the diff of a change is the change.
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


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
