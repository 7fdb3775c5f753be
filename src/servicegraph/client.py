"""A Python client for the servicegraph HTTP API, for integrators.

Pushes are idempotent on the server (keyed by source + external id), so the
client may safely retry them: it does so on connection errors, 429 and 502-504,
with exponential back-off, honouring ``Retry-After``.

>>> client = ServiceGraphClient("http://127.0.0.1:8000")
>>> client.base_url
'http://127.0.0.1:8000'
>>> client.close()
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from servicegraph.model.graph import GraphData

RETRY_STATUSES = frozenset({429, 502, 503, 504})


class ServiceGraphError(RuntimeError):
    """The server refused a request (4xx) or kept failing; ``body`` says why."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}: {body}")

    @property
    def problems(self) -> list[dict[str, Any]]:
        """The offending items of a 422 (index, field, message), if any."""
        if isinstance(self.body, dict):
            return list(self.body.get("problems", []))
        return []


def _line(kind: str, item: Mapping[str, Any]) -> bytes:
    return json.dumps({kind: dict(item)}).encode() + b"\n"


class ServiceGraphClient:
    """Talks to one servicegraph server.

    Parameters
    ----------
    base_url : str
        e.g. ``http://127.0.0.1:8000``.
    api_key : str, optional
        Sent as ``Authorization: Bearer``.
    retries : int
        Further attempts after a retryable failure.
    backoff : float
        First wait in seconds; doubled each attempt.
    transport : httpx.BaseTransport, optional
        For tests (e.g. an ASGI or mock transport).
    """

    def __init__(self, base_url: str, *, api_key: str | None = None, retries: int = 3,
                 backoff: float = 0.5, timeout: float = 60.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                  transport=transport)

    def __enter__(self) -> ServiceGraphClient:
        return self

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType]) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _request(self, method: str, path: str, *, raw: bool = False, **kwargs: Any) -> Any:
        wait = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError:
                if last:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    return self._answer(response, raw=raw)
                after = response.headers.get("retry-after", "")
                wait = float(after) if after.isdigit() else wait
            time.sleep(wait)
            wait *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _answer(response: httpx.Response, *, raw: bool = False) -> Any:
        if raw and not response.is_error:
            return response.text
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.is_error:
            raise ServiceGraphError(response.status_code, body)
        return body

    # --- integrators ---------------------------------------------------------

    def push(self, source: str, graph: GraphData | Mapping[str, Any], *,
             full_sync: bool = False, dry_run: bool = False,
             allow_empty: bool = False) -> dict[str, Any]:
        """Push a batch (interchange form) from ``source``; answers the counts.

        ``allow_empty`` must be set for a full sync that asserts nothing (it retires
        everything the source pushed before).
        """
        doc = graph.to_dict() if isinstance(graph, GraphData) else dict(graph)
        result: dict[str, Any] = self._request(
            "POST", f"/v1/sources/{source}/push", json=doc,
            params={"full_sync": full_sync, "dry_run": dry_run, "allow_empty": allow_empty})
        return result

    def push_ndjson(self, source: str, nodes: Iterable[Mapping[str, Any]] = (),
                    edges: Iterable[Mapping[str, Any]] = (), *, full_sync: bool = False,
                    dry_run: bool = False, allow_empty: bool = False) -> dict[str, Any]:
        """Send a sync as NDJSON (one ``{"node": ...}`` or ``{"edge": ...}`` a line).

        The body is encoded once, before the first attempt, so a retry resends exactly
        the same bytes even when ``nodes`` and ``edges`` are one-shot generators.
        ``allow_empty`` must be set for a full sync that asserts nothing.
        """
        body = b"".join([*(_line("node", n) for n in nodes), *(_line("edge", e) for e in edges)])
        result: dict[str, Any] = self._request(
            "POST", f"/v1/sources/{source}/push.ndjson", content=body,
            params={"full_sync": full_sync, "dry_run": dry_run, "allow_empty": allow_empty},
            headers={"Content-Type": "application/x-ndjson"})
        return result

    def sync(self, source: str, nodes: Iterable[Mapping[str, Any]] = (),
             edges: Iterable[Mapping[str, Any]] = (), *, page_size: int = 10_000,
             allow_empty: bool = False) -> dict[str, Any]:
        """A full sync of ``source`` of any size, in a sync session: nodes first, then
        edges, ``page_size`` items a page, then the commit (which retires what the
        source claims and did not send). On any failure the session is abandoned, so
        nothing is retired; the commit's answer is returned.

        Each page is encoded once before it is sent, so a retried page resends the
        same bytes; pages are idempotent on the server, and so is a retry.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        opened = self._request("POST", f"/v1/sources/{source}/syncs")
        base = f"/v1/sources/{source}/syncs/{opened['id']}"
        try:
            page: list[bytes] = []
            items = [*(_line("node", n) for n in nodes), *(_line("edge", e) for e in edges)]
            for start in range(0, len(items), page_size):
                page = items[start:start + page_size]
                self._request("POST", f"{base}/push.ndjson", content=b"".join(page),
                              headers={"Content-Type": "application/x-ndjson"})
            result: dict[str, Any] = self._request(
                "POST", f"{base}/commit", params={"allow_empty": allow_empty})
        except BaseException:
            with contextlib.suppress(httpx.HTTPError, ServiceGraphError):
                self._request("DELETE", base)
            raise
        return result

    def push_status(self, source: str,
                    statuses: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Push observed states: ``[{"id": ..., "state": "down", "at": iso-time}]``."""
        result: dict[str, Any] = self._request(
            "POST", f"/v1/sources/{source}/status", json={"statuses": list(statuses)})
        return result

    def import_files(self, source: str, kind: str, files: Sequence[tuple[str, str]], *,
                     full_sync: bool = False, dry_run: bool = False,
                     allow_empty: bool = False) -> dict[str, Any]:
        """Import files (name, text) of one kind (``backstage``, ``kubernetes``,
        ``compose``, ``jaeger``, ``otel``, ``csv``) as a push from ``source``.

        The files go as one ``multipart/form-data`` request, so references between
        them resolve and problems name the file and line.
        """
        result: dict[str, Any] = self._request(
            "POST", f"/v1/sources/{source}/import/{kind}",
            files=[("files", (name, text.encode(), "text/plain")) for name, text in files],
            params={"full_sync": full_sync, "dry_run": dry_run, "allow_empty": allow_empty})
        return result

    # --- everyone ------------------------------------------------------------

    def impact(self, down: Sequence[str] = (), degraded: Sequence[str] = (), *,
               limit: int | None = None) -> dict[str, Any]:
        """What-if: the impact of these components failing (lists capped at ``limit``)."""
        params = {"limit": limit} if limit is not None else {}
        result: dict[str, Any] = self._request(
            "POST", "/v1/impact", json={"down": list(down), "degraded": list(degraded)},
            params=params)
        return result

    def spof(self, promise: str | None = None, *, limit: int | None = None) -> dict[str, Any]:
        """Single points of failure of one promise, or ranked across the catalogue (the
        first ``limit``; the server's default page when ``None``)."""
        path = "/v1/spof" if promise is None else f"/v1/promises/{promise}/spof"
        params = {"limit": limit} if limit is not None else {}
        result: dict[str, Any] = self._request("GET", path, params=params)
        return result

    def root_cause(self, observed: Mapping[str, str], *, limit: int = 10) -> dict[str, Any]:
        """Single components whose failure alone would explain the observed states."""
        result: dict[str, Any] = self._request(
            "POST", "/v1/root-cause", json={"observed": dict(observed), "limit": limit})
        return result

    def assess_changes(self, changes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Planned changes (id, components, start, end, state) judged before they happen."""
        result: dict[str, Any] = self._request(
            "POST", "/v1/changes/assess", json={"changes": [dict(c) for c in changes]})
        return result

    def catalogue(self, which: str, *, visible: bool | None = None) -> dict[str, Any]:
        """A catalogue: ``promises``, ``service-systems`` or ``service-acts``."""
        params = {"visible": visible} if visible is not None else {}
        result: dict[str, Any] = self._request("GET", f"/v1/catalogue/{which}", params=params)
        return result

    def matrix(self, columns: str = "business_service") -> dict[str, Any]:
        """The silo x service matrix."""
        result: dict[str, Any] = self._request("GET", "/v1/matrix",
                                               params={"columns": columns})
        return result

    def export(self, fmt: str) -> str:
        """The live graph as text: graphml, dot, mermaid, cytoscape, json or yaml."""
        result: str = self._request("GET", f"/v1/export/{fmt}", raw=True)
        return result

    def nodes(self, *, kind: str | None = None, limit: int = 1000,
              offset: int = 0) -> dict[str, Any]:
        """One page of nodes (``items``, ``total``), ordered by id."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if kind is not None:
            params["kind"] = kind
        result: dict[str, Any] = self._request("GET", "/v1/nodes", params=params)
        return result

    def current(self) -> dict[str, Any]:
        """The impact of the states observed now."""
        result: dict[str, Any] = self._request("GET", "/v1/current")
        return result

    def node(self, node_id: str) -> dict[str, Any]:
        """One node."""
        result: dict[str, Any] = self._request("GET", f"/v1/nodes/{node_id}")
        return result
