"""The OpenAPI schema is complete: every route has examples for its body, its answer
and its parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from servicegraph_api import create_app

from apikit import settings_for


def _has_example(media: dict[str, Any], components: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    schema = media.get("schema", media)
    if "example" in schema or "examples" in schema:
        return True
    ref = schema.get("$ref")
    return bool(ref) and any(k in components[ref.rsplit("/", 1)[-1]]
                             for k in ("example", "examples"))


def test_every_route_has_examples(tmp_path: Path) -> None:
    spec = create_app(settings_for(tmp_path)).openapi()
    components = spec["components"]["schemas"]
    lacking = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            for media_type, media in op.get("requestBody", {}).get("content", {}).items():
                if not _has_example(media, components):
                    lacking.append(f"{where}: request {media_type}")
            ok = next((op["responses"][c] for c in ("200", "201", "204")
                       if c in op["responses"]), {})
            for media_type, media in ok.get("content", {}).items():
                if not _has_example(media, components):
                    lacking.append(f"{where}: answer {media_type}")
            for param in op.get("parameters", []):
                if not _has_example(param, components):
                    lacking.append(f"{where}: parameter {param['name']}")
            assert op.get("summary"), where
    assert lacking == []
    assert len([op for ops in spec["paths"].values() for op in ops]) >= 29
