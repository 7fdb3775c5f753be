"""The command line, end to end on an embedded store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from servicegraph.cli import app

runner = CliRunner()


def test_demo_prints_the_report(tmp_path: Path) -> None:
    out = runner.invoke(app, ["demo", "--store", str(tmp_path / "d.db")])
    assert out.exit_code == 0, out.output
    assert "BROKEN PROMISES (1)" in out.output
    assert "onboarding (New staff are productive on day one)" in out.output
    assert "chain: onboarding <- employee-onboarding <- act-new-employee <- hr-app" in out.output
    assert "IT: must act on feed-job" in out.output


def test_load_then_impact_json(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    assert runner.invoke(app, ["demo", "--store", db]).exit_code == 0
    out = runner.invoke(app, ["impact", "web-1", "web-2", "--degrade", "gate-1",
                              "--format", "json", "--store", db])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["broken_promises"] == ["order-anytime"]
    assert doc["at_risk_promises"] == ["fun-day"]
    assert doc["impacted"]["web-tier"] == "down" and doc["impacted"]["gate-1"] == "degraded"
    assert doc["explanations"]["web-tier"]["causes"][0]["headroom"] == "1 of 3 up, needs 2"


def test_impact_of_unknown_id_is_a_clear_error(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    runner.invoke(app, ["demo", "--store", db])
    out = runner.invoke(app, ["impact", "web-1", "no-such-thing", "--store", db])
    assert out.exit_code == 2
    assert "unknown node id(s): no-such-thing" in out.output


def test_bad_file_names_the_item_and_writes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"nodes": [{"id": "a", "kind": "ci", "name": "A"}]}))
    assert runner.invoke(app, ["load", str(good), "--store", db]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - {id: b, kind: ci, name: B}\n  - {id: c, kind: gadget, name: C}\n")
    out = runner.invoke(app, ["load", str(bad), "--store", db])
    assert out.exit_code == 2
    assert "nodes[1] ('c'): kind: unknown kind 'gadget'" in out.output
    listed = runner.invoke(app, ["nodes", "--store", db])
    assert listed.output.split() == ["a", "ci", "A"]
