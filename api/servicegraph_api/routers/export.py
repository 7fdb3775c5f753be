"""Exports of the graph: GraphML, DOT, Mermaid, Cytoscape JSON, and the interchange format."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from servicegraph.model.interchange import dumps
from servicegraph.views.export import EXPORTS
from servicegraph_api.deps import GraphDep

router = APIRouter(tags=["exports"])

#: The interchange format, as ``servicegraph load`` reads it.
INTERCHANGE = {"json": "application/json", "yaml": "application/yaml"}


class ExportFormat(StrEnum):
    """The formats ``GET /v1/export/{format}`` answers in."""

    GRAPHML = "graphml"
    DOT = "dot"
    MERMAID = "mermaid"
    CYTOSCAPE = "cytoscape"
    JSON = "json"
    YAML = "yaml"


def media_type(fmt: ExportFormat) -> str:
    """The media type of an export format."""
    return INTERCHANGE.get(fmt.value) or EXPORTS[fmt.value][0]


_CONTENT: dict[str, Any] = {}
for _fmt in ExportFormat:
    _CONTENT.setdefault(media_type(_fmt), {"schema": {"type": "string"}})
# The interchange document (JSON or YAML) and Cytoscape's `elements` are objects.
for _structured in ("application/json", "application/yaml"):
    _CONTENT[_structured] = {"schema": {"type": "object"}}


@router.get(
    "/export/{format}", summary="Export the graph",
    description="The live graph (retired items left out) as GraphML (yEd, Gephi), DOT "
                "(Graphviz), Mermaid (`graph LR`, renders in Markdown), Cytoscape.js JSON "
                "(`elements`), or the interchange format as JSON or YAML (what `servicegraph "
                "load` and the push routes accept).",
    response_class=Response,
    responses={200: {"description": "The graph in the requested format.",
                     "content": _CONTENT}},
)
def export(
    fmt: Annotated[ExportFormat, Path(alias="format", description="the export format")],
    graph: GraphDep,
) -> Response:
    live = graph.graph().live()
    text = dumps(live, fmt=fmt.value) if fmt.value in INTERCHANGE else EXPORTS[fmt.value][1](live)
    return Response(text, media_type=media_type(fmt))
