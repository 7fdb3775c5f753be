"""Schemathesis against the API as it runs: a real ``servicegraph serve`` process with
API keys, on each store, over real sockets.

Every operation is called with generated requests, valid and invalid, then in
stateful sequences along the schema's links, for a fixed time per store: no answer
may be a 5xx, and every answer must have a documented status, content type, headers
and schema; OPTIONS and unsupported methods must list the path's methods. The run
prints how many cases it made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from servicegraph.store import GraphStore, Neo4jStore, SqliteStore
from servicegraph_api.auth import Scope

from apikit import add_key, example_graph
from servers import serve

#: Seconds of generated requests per store.
SECONDS = 8
CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance", "unsupported_method",
    "allow_header_conformance"])
# The CLI, with NDJSON bodies sent as the raw bytes generated for them (the schema
# says binary).
RUN = ("import schemathesis; from schemathesis.cli import schemathesis as main; "
       "schemathesis.serializer.alias('application/x-ndjson', 'application/octet-stream'); "
       "main()")
#: Deterministic by default; SERVICEGRAPH_FUZZ_RANDOM=1 explores new inputs each run.
SEED = [] if os.environ.get("SERVICEGRAPH_FUZZ_RANDOM") == "1" else ["--seed", "1"]


def where(store: GraphStore) -> str:
    """The ``SERVICEGRAPH_STORE`` of a store."""
    if isinstance(store, SqliteStore):
        return store.path
    assert isinstance(store, Neo4jStore)
    return store.uri


def test_the_running_api_conforms_to_its_schema(store: GraphStore, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    example_graph(store)
    key = add_key(tmp_path, "fuzzer", Scope.ADMIN)
    # A token the store does not show is answered 412 at once (generated ones mostly are).
    env = {"SERVICEGRAPH_NEO4J_USER": os.environ.get("NEO4J_USER", "neo4j"),
           "SERVICEGRAPH_MIN_VERSION_WAIT": "0"}
    if os.environ.get("NEO4J_PASSWORD"):
        env["SERVICEGRAPH_NEO4J_PASSWORD"] = os.environ["NEO4J_PASSWORD"]
    config = tmp_path / "schemathesis.toml"
    # The live event stream never ends by itself: its first event is enough.
    config.write_text("max-stream-events = 1\n")
    report = tmp_path / "report.json"
    with serve(tmp_path, where(store), env=env) as server:
        done = subprocess.run(
            [sys.executable, "-c", RUN, "--config-file", str(config), "run",
             f"{server.url}/openapi.json", "-H", f"Authorization: Bearer {key}",
             "--checks", CHECKS, "--max-time", str(SECONDS), *SEED, "--workers", "1",
             "--report", "json", "--report-json-path", str(report)],
            capture_output=True, text=True, timeout=SECONDS * 4, cwd=tmp_path)
        log = server.output()
    summary = json.loads(report.read_text())
    cases = summary["test_cases"]
    with capsys.disabled():
        print(f"\nschemathesis against a live server on {store.description.split(':')[0]}: "
              f"{cases['generated']} cases, {summary['operations']['tested']} operations, "
              f"{cases['with_failures']} with failures, {cases['errored']} errored, "
              f"in {summary['running_time']:.0f} s")
    assert done.returncode == 0, done.stdout[-6000:]
    assert summary["failures"] == [] and summary["errors"] == []
    # It ran: cases for every operation (how many fit in the time is the machine's).
    assert cases["generated"] >= summary["operations"]["tested"] >= 30
    errors = [line for line in log.splitlines() if '"level": "error"' in line]
    assert errors == [], errors[:5]
