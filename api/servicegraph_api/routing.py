"""The route class every router uses.

Handlers return plain objects (dicts from the questions service, mostly) and the
route's ``response_model`` validates them. What a handler leaves out stays out of
the answer: an optional field the library did not set is not sent as ``null``.
The large and frequent answers skip that step: their handlers return a
:class:`~servicegraph_api.answers.JsonAnswer`, sent as it is.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute


class ModelRoute(APIRoute):
    """An :class:`~fastapi.routing.APIRoute` whose answers keep only the fields the
    handler set (``response_model_exclude_unset``)."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        # The router passes every option explicitly, so this one is set, not defaulted.
        kwargs["response_model_exclude_unset"] = True
        super().__init__(path, endpoint, **kwargs)
