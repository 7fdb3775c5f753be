"""The OpenTelemetry demo as people would bring it in: its Compose file (vendored) and
a tracing service graph of it (Jaeger's dependencies format). The two meet in one
connected graph, and a failed backend breaks the promise on top."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from servicegraph.core import ServiceGraph
from servicegraph.importers import SourceFile, run_import
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.kinds import NodeKind
from servicegraph.store import GraphStore

DEMO = Path(__file__).resolve().parent / "data" / "opentelemetry-demo"


def test_compose_and_traces_make_one_graph_and_a_backend_breaks_the_promise(
        store: GraphStore) -> None:
    sg = ServiceGraph(store)
    compose = run_import(sg.writes, "compose", "compose",
                         [SourceFile("compose.yaml", (DEMO / "compose.yaml").read_text())])
    traces = run_import(sg.writes, "traces", "jaeger", [SourceFile(
        "dependencies.json", (DEMO / "dependencies.json").read_text())])
    # The traces' services are the Compose services: no node of their own.
    assert traces["nodes"]["created"] == 0, traces
    assert compose["nodes"]["created"] > 0
    on_top = GraphData.of(
        [Node("shop-open", NodeKind.PROMISE, "Customers can shop at any hour", owner="Sales"),
         Node("online-shop", NodeKind.BUSINESS_SERVICE, "Online shop"),
         Node("buy", NodeKind.SERVICE_ACT, "Buy something")],
        [Edge("shop-open", "online-shop"), Edge("online-shop", "buy"),
         Edge("buy", "frontend-proxy")])
    sg.writes.push("catalogue", on_top)
    whole = sg.questions.whole_graph().live()
    g = nx.DiGraph()
    g.add_nodes_from(n.id for n in whole.nodes)
    g.add_edges_from(e.key for e in whole.edges)
    # Observability parts nothing calls (the collector, its docs) stand apart or not;
    # every service the traces name is in the promise's component.
    reached = nx.descendants(g, "shop-open")
    for service in ("frontend", "cart", "checkout", "product-catalog", "valkey-cart",
                    "payment", "quote", "flagd"):
        assert service in reached, service
    assert nx.number_weakly_connected_components(g) == 1
    for backend in ("product-catalog", "valkey-cart", "quote"):
        answer = sg.questions.impact([backend], limit=10)
        assert answer["broken_promises"] == ["shop-open"], (backend, answer["counts"])
