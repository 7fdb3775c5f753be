"""``servicegraph alerts``, ``maintenance``, ``ack`` and ``subscriptions``, on the
embedded store and against a running server: the same answers either way."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicegraph.cli import app as cli

from servers import example_store, serve

NOW = datetime.now(UTC).replace(microsecond=0)


def stamp(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def payload(tmp_path: Path) -> Path:
    path = tmp_path / "alerts.json"
    path.write_text(json.dumps({"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "FeedDown", "servicegraph_id": "feed-job",
                                        "severity": "critical"},
         "startsAt": stamp(-1), "fingerprint": "f1"},
        {"status": "firing", "labels": {"alertname": "Elsewhere", "host": "db-9"},
         "startsAt": stamp(-1), "fingerprint": "f2"}]}), encoding="utf-8")
    return path


def run(*args: str) -> str:
    out = CliRunner().invoke(cli, list(args))
    assert out.exit_code == 0, (args, out.output)
    return out.output


def test_alerts_and_windows_on_the_embedded_store_and_a_server(tmp_path: Path) -> None:
    db = example_store(tmp_path)
    sent = run("alerts", "send", "am", str(payload(tmp_path)), "--store", db)
    assert "2 alert(s): 2 firing" in sent and "1 matching no node" in sent
    assert "broken promises now: onboarding" in sent
    assert "(no node)" in run("alerts", "list", "am", "--unmatched", "--store", db)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"rules": [{"label": "host", "table": {"db-9": "erp-db-a"}},
                                             {"label": "servicegraph_id", "to": "id"}]}))
    assert "am: the default mapping" in run("alerts", "mapping", "show", "am", "--store", db)
    matched = run("alerts", "mapping", "set", "am", str(mapping), "--store", db)
    assert "version 1" in matched and "1 matched now" in matched
    assert "no alerts" in run("alerts", "list", "am", "--unmatched", "--store", db)
    added = run("maintenance", "add", "chg-1", "--title", "Replace web servers",
                "--component", "web-1", "--component", "web-2", "--start", stamp(-1),
                "--end", stamp(1), "--owner", "IT operations", "--store", db)
    assert "chg-1" in added and "would break: order-anytime" in added
    assert "active" in run("maintenance", "list", "--phase", "active", "--store", db)
    bad = CliRunner().invoke(cli, ["maintenance", "add", "chg-2", "--title", "x", "--component",
                                   "web-1", "--start", stamp(1), "--end", stamp(-1),
                                   "--store", db])
    assert bad.exit_code == 2 and "after starts_at" in bad.output
    with serve(tmp_path, db) as server:
        listed = json.loads(run("alerts", "list", "am", "--format", "json",
                                "--server", server.url))
        assert listed["total"] == 2
        shown = run("alerts", "mapping", "show", "am", "--server", server.url)
        assert "version 1, set" in shown and "host -> table (1 entries)" in shown
        generic = tmp_path / "generic.json"
        generic.write_text(json.dumps({"alerts": [
            {"key": "zbx-1", "node": "web-1", "state": "down", "starts_at": stamp(-1)}]}))
        sent = run("alerts", "send", "zbx", str(generic), "--server", server.url)
        assert "1 alert(s): 1 firing" in sent
        mapping.write_text(json.dumps({"rules": [{"label": "host", "to": "colour"}]}))
        bad_mapping = CliRunner().invoke(cli, ["alerts", "mapping", "set", "am", str(mapping),
                                               "--server", server.url])
        assert bad_mapping.exit_code != 0 and "rules[0]" in bad_mapping.output
        assert "version 1," in run("alerts", "mapping", "show", "am", "--server", server.url)
        windows = json.loads(run("maintenance", "list", "--format", "json",
                                 "--server", server.url))
        assert [w["id"] for w in windows["windows"]] == ["chg-1"]
        cancelled = run("maintenance", "cancel", "chg-1", "--server", server.url)
        assert "cancelled" in cancelled
        missing = CliRunner().invoke(cli, ["maintenance", "cancel", "nope",
                                           "--server", server.url])
        assert missing.exit_code == 1 and "no maintenance window 'nope'" in missing.output
    assert "cancelled" in run("maintenance", "list", "--store", db)


def test_acks_and_subscriptions_on_the_embedded_store_and_a_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICEGRAPH_SUBSCRIPTION_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
    db = example_store(tmp_path)
    sent = run("alerts", "send", "am", str(payload(tmp_path)), "--store", db)
    assert "broken promises now: onboarding" in sent
    given = run("ack", "feed-job", "--by", "alice", "--comment", "restarting", "--store", db)
    assert "feed-job" in given and "alice" in given and "restarting" in given
    refused = CliRunner().invoke(cli, ["ack", "web-1", "--by", "alice", "--store", db])
    assert refused.exit_code == 2 and "'web-1' is not failing" in refused.output
    unknown = CliRunner().invoke(cli, ["ack", "nope", "--by", "alice", "--store", db])
    assert unknown.exit_code == 2 and "nope" in unknown.output
    made = json.loads(run("subscriptions", "add", "http://127.0.0.1:9/hook", "--kind",
                          "acknowledged", "--promise", "onboarding", "--format", "json",
                          "--store", db))
    assert made["filter"] == {"kinds": ["acknowledged"], "promises": ["onboarding"]}
    assert made["secret"]
    assert made["id"] in run("subscriptions", "list", "--store", db)
    assert run("subscriptions", "dead", made["id"], "--store", db).strip() == "no dead letters"
    with serve(tmp_path, db, env={"SERVICEGRAPH_SUBSCRIPTION_ALLOWED_NETWORKS":
                                  '["127.0.0.1/32"]'}) as server:
        listed = json.loads(run("ack", "list", "--format", "json", "--server", server.url))
        assert [(a["node"], a["by"]) for a in listed["acknowledgements"]] == [
            ("feed-job", "alice")]
        again = run("ack", "onboarding", "--by", "bob", "--server", server.url)
        assert "onboarding" in again and "bob" in again
        cleared = run("ack", "clear", "feed-job", "--server", server.url)
        assert "cleared" in cleared
        missing = CliRunner().invoke(cli, ["ack", "clear", "feed-job", "--server", server.url])
        assert missing.exit_code == 1 and "holds no acknowledgement" in missing.output
        remote = json.loads(run("subscriptions", "list", "--format", "json",
                                "--server", server.url))
        assert [s["id"] for s in remote] == [made["id"]]
        other = json.loads(run("subscriptions", "add", "http://127.0.0.1:9/other", "--format",
                               "json", "--server", server.url))
        run("subscriptions", "remove", other["id"], "--server", server.url)
        gone = CliRunner().invoke(cli, ["subscriptions", "redeliver", made["id"], "nope",
                                        "--server", server.url])
        assert gone.exit_code == 2 and "no dead letter" in gone.output
    left = run("ack", "list", "--store", db)
    assert "onboarding" in left and "feed-job" not in left
    run("subscriptions", "remove", made["id"], "--store", db)
    assert run("subscriptions", "list", "--store", db).strip() == "no subscriptions"
