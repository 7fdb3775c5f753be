"""Media types of request bodies: JSON everywhere, and YAML where pushes are sent.

Files and pushes speak one interchange format, in YAML or JSON. The push routes
use :class:`YamlBodyRoute` (``APIRouter(route_class=YamlBodyRoute)``): a body
sent as YAML is read, bounded like any input, and handed on as the JSON it
stands for, so the route's model checks it exactly as it checks JSON; the
OpenAPI document lists YAML beside JSON with the same schema.
"""

from __future__ import annotations

import datetime
import email.message
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from starlette.types import Receive, Scope

from servicegraph.model.errors import Problem, ValidationError
from servicegraph.model.interchange import decode
from servicegraph_api.routing import ModelRoute

#: The YAML media types a push is read as; the first is the one the schema names.
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")


def _media(content_type: str) -> str:
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_type()


def is_json(content_type: str) -> bool:
    """Whether FastAPI reads a body of this type as JSON.

    >>> is_json("application/json; charset=utf-8"), is_json("application/ld+json")
    (True, True)
    >>> is_json("text/plain")
    False
    """
    media = _media(content_type)
    return media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json"))


def is_yaml(content_type: str) -> bool:
    """Whether a body of this type is YAML.

    >>> is_yaml("application/yaml"), is_yaml("text/yaml; charset=utf-8"), is_yaml("text/plain")
    (True, True, False)
    """
    return _media(content_type) in YAML_TYPES


def accepted_media(route: Any) -> str:
    """What a route reads besides JSON, as the end of a sentence ("" for nothing)."""
    if isinstance(route, YamlBodyRoute):
        return ", or as YAML with `Content-Type: application/yaml`"
    return ""


def _json_default(value: Any) -> Any:
    # YAML has dates and timestamps; JSON has their ISO 8601 text.
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    raise TypeError(f"a YAML {type(value).__name__} has no JSON form")


def yaml_as_json(body: bytes) -> bytes:
    """A YAML body as the JSON text it stands for; :class:`ValidationError` (one
    ``document`` problem) when it cannot be read or has no JSON form.

    >>> yaml_as_json(b"nodes: [{id: a, kind: ci}]")
    b'{"nodes": [{"id": "a", "kind": "ci"}]}'
    """
    doc = decode(body, "yaml")
    try:
        return json.dumps(doc, default=_json_default).encode("utf-8")
    except RecursionError:
        message = "not valid YAML: nested too deeply to read"
    except (TypeError, ValueError) as exc:
        message = f"YAML without a JSON form: {exc}"
    raise ValidationError([Problem("document", None, "document", "", message)])


class _ConvertedRequest(Request):
    """A request whose body was converted to JSON before the route read it."""

    def __init__(self, scope: Scope, receive: Receive, body: bytes) -> None:
        super().__init__(scope, receive)
        self._converted = body

    async def body(self) -> bytes:
        return self._converted


class YamlBodyRoute(ModelRoute):
    """A route whose JSON body may also be sent as YAML (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self.body_field.field_info.annotation if self.body_field else None
        if isinstance(model, type):
            # The same schema as the JSON body, for generated clients.
            yaml = {YAML_TYPES[0]: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
            extra = dict(self.openapi_extra or {})
            body = dict(extra.get("requestBody", {}))
            body["content"] = {**body.get("content", {}), **yaml}
            extra["requestBody"] = body
            self.openapi_extra = extra

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            given = request.headers.get("content-type")
            if given and is_yaml(given):
                converted = yaml_as_json(await request.body())
                scope = request.scope
                scope["headers"] = [*((k, v) for k, v in scope["headers"]
                                      if k not in (b"content-type", b"content-length")),
                                    (b"content-type", b"application/json"),
                                    (b"content-length", str(len(converted)).encode())]
                request = _ConvertedRequest(scope, request.receive, converted)
            return await handler(request)

        return handle
