"""Exports of the graph: GraphML, DOT, Mermaid, Cytoscape JSON, and the interchange format."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from servicegraph.formats import ExportFormat
from servicegraph.views.export import EXPORTS
from servicegraph_api.deps import QuestionsDep
from servicegraph_api.routing import ModelRoute

router = APIRouter(tags=["exports"], route_class=ModelRoute)

#: The media types of the interchange document, as ``servicegraph load`` reads it.
INTERCHANGE_MEDIA = {"json": "application/json", "yaml": "application/yaml"}


def media_type(fmt: ExportFormat) -> str:
    """The media type of an export format."""
    return INTERCHANGE_MEDIA.get(fmt.value) or EXPORTS[fmt.value][0]


_CONTENT: dict[str, Any] = {}
for _fmt in ExportFormat:
    _CONTENT.setdefault(media_type(_fmt), {"schema": {"type": "string"}})
# The interchange document (JSON or YAML) and Cytoscape's `elements` are objects.
for _structured in ("application/json", "application/yaml"):
    _CONTENT[_structured] = {"schema": {"type": "object"}}
# One small example per media type (the example enterprise's web tier).
_EXAMPLES = {
    "application/graphml+xml": '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
                               '<graph edgedefault="directed"><node id="web-tier"/>'
                               '<node id="web-1"/><edge source="web-tier" target="web-1"/>'
                               "</graph></graphml>",
    "text/vnd.graphviz": 'digraph servicegraph {\n  "web-tier" -> "web-1" [label="web"];\n}\n',
    "text/plain": "flowchart TD\n  n_web_tier[\"Web tier\"] --> n_web_1[\"Web server 1\"]\n",
    "application/json": {"nodes": [{"id": "web-1", "kind": "ci", "name": "Web server 1"}],
                         "edges": [{"from": "web-tier", "to": "web-1", "group": "web"}]},
    "application/yaml": "nodes:\n- {id: web-1, kind: ci, name: Web server 1}\nedges: []\n",
}
for _media, _example in _EXAMPLES.items():
    if _media in _CONTENT:
        _CONTENT[_media]["example"] = _example


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
    fmt: Annotated[ExportFormat, Path(alias="format", description="the export format",
                                          examples=["mermaid"])],
    questions: QuestionsDep,
) -> Response:
    return Response(questions.export(fmt), media_type=media_type(fmt))
