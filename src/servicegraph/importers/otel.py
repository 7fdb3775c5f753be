"""The OpenTelemetry collector's service graph (``servicegraph`` connector) as service
systems, read from its metrics in the Prometheus text format.

Each sample of ``traces_service_graph_request_total{client="a",server="b"}`` says
``a`` called ``b``: both become service systems, and ``a`` needs ``b``. Samples of one
pair (e.g. one per ``connection_type``) are added up; the count is recorded in the
client's ``properties.inferred_edges`` (``trace: N requests``). Samples with an empty
``client`` or ``server`` (spans whose other side was not seen) and a service calling
itself are left out; every other metric in the text is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from servicegraph.importers.common import (
    Builder,
    Imported,
    Inference,
    SourceFile,
    at_line,
    merge_inferred,
)
from servicegraph.importers.jaeger import service_node

METRIC = "traces_service_graph_request_total"
#: Longer sample lines are refused rather than matched (no real sample comes near).
MAX_LINE = 64 * 1024
_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+"
                     r"(?P<value>\S+)(?:\s+\S+)?\s*$")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def labels(text: str) -> dict[str, str] | None:
    """The labels of a sample (``None`` when they do not parse).

    >>> labels('client="lb",server="app"')
    {'client': 'lb', 'server': 'app'}
    """
    out: dict[str, str] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _LABEL.match(text, pos)
        if match is None:
            return None
        value = match.group(2).replace(r"\"", '"').replace(r"\n", "\n").replace("\\\\", "\\")
        out[match.group(1)] = value
        pos = match.end()
    return out


def import_otel(files: Sequence[SourceFile]) -> Imported:
    """Read service-graph metrics (Prometheus text format).

    Examples
    --------
    >>> scrape = '''# TYPE traces_service_graph_request_total counter
    ... traces_service_graph_request_total{client="lb",server="app"} 3
    ... traces_service_graph_request_total{client="app",server="db"} 3
    ... '''
    >>> imp = import_otel([SourceFile("metrics.prom", scrape)])
    >>> [e.key for e in imp.graph.edges], imp.edge_origins
    ([('lb', 'app'), ('app', 'db')], ('metrics.prom line 2', 'metrics.prom line 3'))
    """
    builder = Builder()
    for file in files:
        calls: dict[tuple[str, str], float] = {}
        for number, raw in enumerate(file.text.splitlines(), start=1):
            line = raw.strip()
            if not line.startswith(METRIC):
                continue
            where = at_line(file.name, number)
            if len(line) > MAX_LINE:
                builder.problem(where, METRIC, "", f"line longer than {MAX_LINE} characters")
                continue
            match = _SAMPLE.match(line)
            found = labels(match.group("labels") or "") if match else None
            if match is None or found is None or match.group("name") != METRIC:
                if match is None or match.group("name") == METRIC:
                    builder.problem(where, METRIC, "", "not a Prometheus sample: "
                                    'expected traces_service_graph_request_total{client="...",'
                                    'server="..."} <count>')
                continue
            try:
                value = float(match.group("value"))
            except ValueError:
                builder.problem(where, METRIC, "value",
                                f"not a number: {match.group('value')!r}")
                continue
            client, server = found.get("client", ""), found.get("server", "")
            if not client or not server or client == server:
                continue
            service_node(client, where, builder, "service graph metrics")
            service_node(server, where, builder, "service graph metrics")
            builder.edge(client, server, where)
            calls[(client, server)] = calls.get((client, server), 0.0) + value
        if not calls and not builder.problems:
            builder.problem(file.name, METRIC, "",
                            f"no {METRIC} samples with a client and a server")
        for (client, server), count in calls.items():
            builder.replace(merge_inferred(builder.nodes[client][0], server,
                                           f"trace: {count:g} requests"))
            builder.inferred.append(Inference(client, server,
                                              builder.edges[(client, server)][1], METRIC,
                                              f"{count:g} requests"))
    return builder.result()
