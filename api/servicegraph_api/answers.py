"""Answers encoded once: the library's documents written straight to JSON bytes.

The frequent and the large answers (an impact, the current impact, the catalogues,
the silo x service matrix) are plain documents the library already built. Handed
back as they are, FastAPI would build the route's ``response_model`` from each of
them (validating every row, a model object per explanation and per cause) and then
dump that model to JSON: two passes over the answer, the first the costlier by far.
These routes return :class:`JsonAnswer` instead, which orjson writes in one pass.

The routes keep their ``response_model``: it documents the answer in OpenAPI, and
the tests validate these answers against it. A handler therefore hands over the
library's document unchanged: no field the model lacks, none of another type.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

#: numpy scalars and arrays as JSON numbers and lists, should the library leave one in.
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def encode(document: Any) -> bytes:
    """``document`` as compact UTF-8 JSON (what :class:`JsonAnswer` sends)."""
    return orjson.dumps(document, option=_OPTIONS)


class JsonAnswer(Response):
    """A JSON answer written by orjson from the library's document, unvalidated."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return encode(content)


__all__ = ["JsonAnswer", "encode"]
