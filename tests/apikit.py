"""Helpers of the HTTP API tests: the example enterprise served by an app over a store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_text
from servicegraph.model import loads
from servicegraph.settings import Settings
from servicegraph.store import GraphStore
from servicegraph_api import create_app
from servicegraph_api.auth import KeyFile, Scope


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings that ignore the environment's ``.env`` and keep keys in ``tmp_path``."""
    values: dict[str, Any] = {"store": str(tmp_path / "unused.db"),
                              "api_keys_file": tmp_path / "keys.json"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def example_graph(store: GraphStore) -> ServiceGraph:
    """The bundled example enterprise, loaded into ``store``."""
    graph = ServiceGraph(store)
    graph.writes.load(loads(example_text()), replace=True)
    return graph


#: Where test requests come from: this machine, as for a local operator.
LOCAL = ("127.0.0.1", 50000)


def local_client(app: Any, **kwargs: Any) -> TestClient:
    """A test client whose requests come from loopback (the API's rule without keys)."""
    # A loopback Host too: without keys the API answers only for loopback names.
    return TestClient(app, client=LOCAL, base_url="http://127.0.0.1:8000", **kwargs)


@contextmanager
def api_client(store: GraphStore, tmp_path: Path, **overrides: Any) -> Iterator[TestClient]:
    """A client of an app serving the example enterprise from ``store``."""
    app = create_app(settings_for(tmp_path, **overrides), graph=example_graph(store))
    with local_client(app) as client:
        yield client


def add_key(tmp_path: Path, name: str, *scopes: Scope) -> str:
    """Create a key in the test's keys file; returns it."""
    return KeyFile(tmp_path / "keys.json").add(name, list(scopes))
