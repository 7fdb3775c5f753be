"""The dependency explorer page at ``/``, its static files, and the one read it adds.

The page and its files hold no data, so they are served without a key: the page
asks for one when the API answers 401 and sends it with every call. With no key
configured the API answers only this machine (loopback), and so does the page.

``POST /v1/views/export/{format}`` exports the part of the graph the page has
drawn (the ids it sends) with the library's own exporters, so a drawn view
downloads in the same GraphML, DOT and Mermaid as ``GET /v1/export/{format}``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from servicegraph.views.export import EXPORTS
from servicegraph_api.auth import KeyFileError, is_loopback
from servicegraph_api.deps import KeysDep, QuestionsDep
from servicegraph_api.errors import responses
from servicegraph_api.page import asset, media_type
from servicegraph_api.routing import ModelRoute


def page_access(request: Request, keys: KeysDep) -> None:
    """Open to anyone when keys are configured (the data behind the page needs one),
    else to loopback clients only, as the API is."""
    try:
        configured = keys.configured()
    except KeyFileError:
        configured = False  # unknown: keep to the stricter rule
    client = request.client.host if request.client is not None else None
    if not configured and not is_loopback(client):
        raise HTTPException(403, "no API key is configured on this server, so it answers "
                                 "only requests from its own machine (loopback)")


#: The page and its files: no key, the loopback rule when no key is configured.
router = APIRouter(include_in_schema=False, dependencies=[Depends(page_access)],
                   route_class=ModelRoute)

#: The read the page adds to the API (mounted under ``/v1`` with the ``read`` scope).
api_router = APIRouter(tags=["exports"], route_class=ModelRoute)


def _file(name: str) -> FileResponse:
    path = asset(name)
    if path is None:
        raise HTTPException(404, f"no page file {name!r}")
    # Revalidated on each load (ETag), so an upgraded server never serves a stale page.
    return FileResponse(path, media_type=media_type(path), headers={"Cache-Control": "no-cache"})


@router.get("/")
def page() -> FileResponse:
    """The dependency explorer."""
    return _file("index.html")


@router.get("/page/{name:path}")
def page_file(name: str) -> FileResponse:
    """One of the page's static files (scripts, styles, vendored libraries)."""
    return _file(name)


class ViewFormat(StrEnum):
    """The formats a drawn view exports to."""

    GRAPHML = "graphml"
    DOT = "dot"
    MERMAID = "mermaid"


#: One small example per format: the web tier and one of its servers.
_VIEW_EXAMPLES = {
    ViewFormat.GRAPHML: '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph '
                        'edgedefault="directed"><node id="web-tier"/><node id="web-1"/>'
                        '<edge source="web-tier" target="web-1"/></graph></graphml>',
    ViewFormat.DOT: 'digraph servicegraph {\n  "web-tier" -> "web-1" [label="web"];\n}\n',
    ViewFormat.MERMAID: 'flowchart TD\n  n_web_tier["Web tier"] --> n_web_1["Web server 1"]\n',
}


class ViewIn(BaseModel):
    """The nodes of a view; the edges among them come along."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"ids": ["web-tier", "web-1", "web-2", "web-3"]}]})

    ids: list[str] = Field(min_length=1, max_length=100_000,
                           description="the ids of the drawn nodes")


@api_router.post(
    "/views/export/{format}", summary="Export a view (some nodes and the edges among them)",
    description="The given nodes of the live graph and every dependency among them, as "
                "GraphML, DOT or Mermaid, in the same form as `GET /v1/export/{format}`: "
                "what the explorer page downloads for the view it has drawn. Unknown (or "
                "retired) ids answer 404 naming them.",
    response_class=Response,
    responses={200: {"description": "The view in the requested format.",
                     "content": {EXPORTS[f.value][0]: {"schema": {"type": "string"},
                                                       "example": _VIEW_EXAMPLES[f]}
                                 for f in ViewFormat}},
               **responses(404, 413)},
)
def export_view(
    fmt: Annotated[ViewFormat, Path(alias="format", description="the export format",
                                    examples=["mermaid"])],
    body: Annotated[ViewIn, Body()],
    questions: QuestionsDep,
) -> Response:
    return Response(questions.export_view(fmt.value, body.ids),
                    media_type=EXPORTS[fmt.value][0])
