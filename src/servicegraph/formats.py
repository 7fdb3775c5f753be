"""The formats servicegraph writes and reads, named once for the library, the command
line and the HTTP API (a light module: the command line imports it to build its help)."""

from __future__ import annotations

from enum import StrEnum


class ExportFormat(StrEnum):
    """What the whole graph exports to."""

    GRAPHML = "graphml"
    DOT = "dot"
    MERMAID = "mermaid"
    CYTOSCAPE = "cytoscape"
    JSON = "json"
    YAML = "yaml"


#: The export formats that are the interchange document itself (what a load reads).
INTERCHANGE = frozenset({ExportFormat.JSON, ExportFormat.YAML})


class ImportKind(StrEnum):
    """The formats an import reads."""

    BACKSTAGE = "backstage"
    KUBERNETES = "kubernetes"
    COMPOSE = "compose"
    JAEGER = "jaeger"
    OTEL = "otel"
    CSV = "csv"
