"""The description of the model (``docs/model.md``), served beside the API docs."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Response

from servicegraph_api.routing import ModelRoute

router = APIRouter(tags=["operations"], route_class=ModelRoute)


def model_text() -> str:
    """``docs/model.md``: shipped inside the wheel, or read from the source tree."""
    shipped = resources.files("servicegraph") / "docs" / "model.md"
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    import servicegraph

    return (Path(servicegraph.__file__).resolve().parents[2] / "docs" / "model.md").read_text(
        encoding="utf-8")


@router.get(
    "/model.md", response_class=Response, summary="The model, described",
    description="The node kinds, the layer table, the propagation rules, the interchange "
                "format and the answer format, as Markdown.",
    responses={200: {"description": "The model, as Markdown.", "content": {"text/markdown": {
        "schema": {"type": "string"}, "example": "# The servicegraph model\n..."}}}},
)
def model() -> Response:
    return Response(model_text(), media_type="text/markdown")
