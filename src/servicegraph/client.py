"""A Python client for the servicegraph HTTP API, for integrators.

Pushes are idempotent on the server (keyed by source + external id), so the
client may safely retry them: it does so on connection errors, 429 and 502-504,
with exponential back-off, honouring ``Retry-After``.

What comes back is checked before it is returned: an answer that is not JSON, or
not the document asked for, raises :class:`UnexpectedAnswerError` (the URL may not be
a servicegraph server), and with a ``deadline`` a call that has no whole answer in
time, however slowly the server sends, raises :class:`DeadlineError`.

>>> client = ServiceGraphClient("http://127.0.0.1:8000")
>>> client.base_url
'http://127.0.0.1:8000'
>>> client.close()
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from servicegraph.deadline import deadline, expired, keep_deadlines, left
from servicegraph.model.graph import GraphData

RETRY_STATUSES = frozenset({429, 502, 503, 504})

#: What an API key may hold: printable ASCII, no space (it goes into a header line).
KEY = re.compile(r"[\x21-\x7e]+")

#: The longest part of an unexpected answer quoted in an error.
QUOTE = 200


class ServiceGraphError(RuntimeError):
    """The server refused a request (4xx) or kept failing; ``body`` says why."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}: {_quote(body)}")

    @property
    def problems(self) -> list[dict[str, Any]]:
        """The offending items of a 422 (index, field, message), if any."""
        if isinstance(self.body, dict):
            return list(self.body.get("problems", []))
        return []


class UnexpectedAnswerError(RuntimeError):
    """The server answered, but not as a servicegraph server does: not JSON, or not
    the document the request asks for."""


class DeadlineError(TimeoutError):
    """No whole answer within the client's ``deadline`` (retries included)."""


def _quote(body: Any) -> str:
    """``body`` as text, cut short: an error message, not a dump of a page."""
    text = body if isinstance(body, str) else json.dumps(body)
    text = " ".join(text.split())
    return text if len(text) <= QUOTE else text[:QUOTE] + "…"


#: The fields of an impact answer every reader relies on.
IMPACT: dict[str, type] = {"counts": dict, "broken_promises": list, "at_risk_promises": list,
                           "service_acts": dict, "business_services": dict,
                           "providers": list}


def _time_for(wait: float) -> bool:
    """Whether a wait of ``wait`` seconds still ends before the deadline."""
    remaining = left()
    return remaining is None or remaining > wait


def _line(kind: str, item: Mapping[str, Any]) -> bytes:
    return json.dumps({kind: dict(item)}).encode() + b"\n"


def check_url(url: str) -> str:
    """``url`` without its trailing slash, if it can name a server; ValueError if not.

    >>> check_url("http://[::1")
    Traceback (most recent call last):
    ...
    ValueError: 'http://[::1' is not a URL (Invalid port: ':1'): give the server as http://HOST:PORT
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{url!r} is not a URL ({exc}): give the server as "
                         "http://HOST:PORT") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{url!r} is not an http:// or https:// URL with a host: give the "
                         "server as http://HOST:PORT")
    return url.rstrip("/")


def check_key(api_key: str) -> str:
    """``api_key`` if it can go into a header; ValueError (not quoting it) if not."""
    if not KEY.fullmatch(api_key):
        raise ValueError("the API key holds a space, a line break, a control or a non-ASCII "
                         "character: keys are printable ASCII, as `servicegraph keys add` "
                         "prints them")
    return api_key


def _shaped(answer: Any, what: str, **fields: type) -> dict[str, Any]:
    """``answer`` if it is a JSON object with ``fields`` of those types."""
    if not isinstance(answer, dict):
        raise UnexpectedAnswerError(f"the answer to {what} is not a JSON object but "
                                    f"{_quote(answer)}: is it a servicegraph server?")
    # (True is an int to Python, not to JSON.)
    wrong = [f"{name} ({'missing' if name not in answer else 'not a ' + kind.__name__})"
             for name, kind in fields.items()
             if not isinstance(answer.get(name), kind)
             or (isinstance(answer[name], bool) and kind is not bool)]
    if wrong:
        raise UnexpectedAnswerError(f"the answer to {what} is not the document a "
                                    f"servicegraph server gives: {', '.join(wrong)}")
    return answer


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
    timeout : float
        Seconds each connect, read or write may wait.
    deadline : float, optional
        Seconds a call may take in all, retries and back-off included, however slowly
        the server sends (``None``: only ``timeout`` bounds it); then
        :class:`DeadlineError`.
    transport : httpx.BaseTransport, optional
        For tests (e.g. an ASGI or mock transport).

    Raises
    ------
    ValueError
        ``base_url`` is not an http(s) URL with a host, or ``api_key`` cannot go into a
        header (a space, a line break, a non-ASCII character).
    """

    def __init__(self, base_url: str, *, api_key: str | None = None, retries: int = 3,
                 backoff: float = 0.5, timeout: float = 60.0, deadline: float | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = check_url(base_url)
        self.retries = retries
        self.backoff = backoff
        self.deadline = deadline
        headers = {"Authorization": f"Bearer {check_key(api_key)}"} if api_key else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                  transport=keep_deadlines(transport or httpx.HTTPTransport()))
        # Proxies from the environment get transports of their own (httpx keeps them
        # here): they keep the deadline too.
        for mounted in getattr(self._http, "_mounts", {}).values():
            if mounted is not None:
                keep_deadlines(mounted)

    def __enter__(self) -> ServiceGraphClient:
        return self

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType]) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _request(self, method: str, path: str, *, raw: bool = False, **kwargs: Any) -> Any:
        with deadline(self.deadline):
            try:
                return self._attempts(method, path, raw=raw, **kwargs)
            except httpx.TransportError:
                if not expired():
                    raise
        raise DeadlineError(f"no whole answer to {method} {path} from {self.base_url} "
                            f"within {self.deadline:g} s")

    def _attempts(self, method: str, path: str, *, raw: bool, **kwargs: Any) -> Any:
        wait = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError:
                if last or not _time_for(wait):
                    raise
            else:
                after = response.headers.get("retry-after", "")
                wait = float(after) if after.isdigit() else wait
                if response.status_code not in RETRY_STATUSES or last or not _time_for(wait):
                    return self._answer(response, raw=raw)
            time.sleep(wait)
            wait *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _answer(response: httpx.Response, *, raw: bool = False) -> Any:
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        what = f"{response.request.method} {response.request.url.path}"
        if raw and not response.is_error:
            if media == "text/html":  # a web page: whatever answered is no servicegraph
                raise UnexpectedAnswerError(
                    f"the answer to {what} is a web page (text/html), not an export: is it "
                    "a servicegraph server?")
            return response.text
        json_like = media == "application/json" or media.endswith("+json")
        try:
            body = response.json() if json_like else response.text
        except ValueError:
            body = response.text
            json_like = False
        if response.is_error:
            raise ServiceGraphError(response.status_code, body)
        if not json_like:
            raise UnexpectedAnswerError(
                f"the answer to {what} is HTTP {response.status_code} "
                f"{media or 'without a content type'}, not JSON: is it a servicegraph "
                f"server? It begins: {_quote(response.text) or '(nothing)'}")
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
        # A write's answer is checked to be a JSON object only: its counts are read
        # by whoever wants them.
        return _shaped(self._request(
            "POST", f"/v1/sources/{source}/push", json=doc,
            params={"full_sync": full_sync, "dry_run": dry_run, "allow_empty": allow_empty}),
            "a push")

    def push_ndjson(self, source: str, nodes: Iterable[Mapping[str, Any]] = (),
                    edges: Iterable[Mapping[str, Any]] = (), *, full_sync: bool = False,
                    dry_run: bool = False, allow_empty: bool = False) -> dict[str, Any]:
        """Send a sync as NDJSON (one ``{"node": ...}`` or ``{"edge": ...}`` a line).

        The body is encoded once, before the first attempt, so a retry resends exactly
        the same bytes even when ``nodes`` and ``edges`` are one-shot generators.
        ``allow_empty`` must be set for a full sync that asserts nothing.
        """
        body = b"".join([*(_line("node", n) for n in nodes), *(_line("edge", e) for e in edges)])
        return _shaped(self._request(
            "POST", f"/v1/sources/{source}/push.ndjson", content=body,
            params={"full_sync": full_sync, "dry_run": dry_run, "allow_empty": allow_empty},
            headers={"Content-Type": "application/x-ndjson"}), "a push")

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
        opened = _shaped(self._request("POST", f"/v1/sources/{source}/syncs"),
                         "opening a sync", id=str)
        base = f"/v1/sources/{source}/syncs/{opened['id']}"
        try:
            page: list[bytes] = []
            items = [*(_line("node", n) for n in nodes), *(_line("edge", e) for e in edges)]
            for start in range(0, len(items), page_size):
                page = items[start:start + page_size]
                self._request("POST", f"{base}/push.ndjson", content=b"".join(page),
                              headers={"Content-Type": "application/x-ndjson"})
            result = _shaped(self._request(
                "POST", f"{base}/commit", params={"allow_empty": allow_empty}),
                "a sync's commit")
        except BaseException:
            with contextlib.suppress(httpx.HTTPError, ServiceGraphError, UnexpectedAnswerError,
                                     DeadlineError):
                self._request("DELETE", base)
            raise
        return result

    def push_status(self, source: str,
                    statuses: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Push observed states: ``[{"id": ..., "state": "down", "at": iso-time}]``."""
        return _shaped(self._request(
            "POST", f"/v1/sources/{source}/status", json={"statuses": list(statuses)}),
            "a status push", applied=int, stale=int, broken_promises=list,
            at_risk_promises=list)

    def send_alerts(self, source: str, payload: Mapping[str, Any], *,
                    kind: str = "alertmanager") -> dict[str, Any]:
        """Deliver alerts as Alertmanager's webhook (payload version 4) would, or in the
        generic format (``kind="generic"``)."""
        path = f"/v1/sources/{source}/alerts" + ("" if kind == "generic" else "/alertmanager")
        return _shaped(self._request("POST", path, json=dict(payload)),
                       "an alert delivery", received=int, firing=int, resolved=int,
                       unchanged=int, stale=int, broken_promises=list)

    def alert_mapping(self, source: str) -> dict[str, Any]:
        """``source``'s alert mapping, with its version (0: the default)."""
        return _shaped(self._request("GET", f"/v1/sources/{source}/alerts/mapping"),
                       "an alert mapping", version=int, rules=list, severity=dict)

    def set_alert_mapping(self, source: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        """Set ``source``'s alert mapping; answers it as stored and what it re-matched."""
        return _shaped(self._request("PUT", f"/v1/sources/{source}/alerts/mapping",
                                     json=dict(doc)),
                       "a set alert mapping", version=int, rematched=int,
                       broken_promises=list)

    def alerts(self, source: str, *, unmatched: bool = False, limit: int = 1000,
               offset: int = 0) -> dict[str, Any]:
        """A page of the alerts ``source`` sent (only those that match no node, with
        ``unmatched``)."""
        path = f"/v1/sources/{source}/alerts" + ("/unmatched" if unmatched else "")
        return _shaped(self._request("GET", path, params={"limit": limit, "offset": offset}),
                       "a page of alerts", alerts=list, total=int)

    def register_window(self, window: Mapping[str, Any]) -> dict[str, Any]:
        """Register (or replace) a maintenance window; answers it with its assessment."""
        return _shaped(self._request("POST", "/v1/maintenance", json=dict(window)),
                       "a registered window", window=dict, assessment=dict)

    def windows(self, phase: str | None = None) -> dict[str, Any]:
        """The maintenance windows (of one phase: upcoming, active, ended, cancelled)."""
        params = {"phase": phase} if phase else {}
        return _shaped(self._request("GET", "/v1/maintenance", params=params),
                       "the maintenance windows", windows=list)

    def cancel_window(self, window_id: str) -> dict[str, Any]:
        """Cancel a maintenance window."""
        return _shaped(self._request("DELETE", f"/v1/maintenance/{window_id}"),
                       "a cancelled window", id=str, state=str)

    def acknowledge(self, node: str, by: str, comment: str | None = None) -> dict[str, Any]:
        """Acknowledge a failing node (someone is on it)."""
        return _shaped(self._request("POST", "/v1/acknowledgements",
                                     json={"node": node, "by": by, "comment": comment}),
                       "an acknowledgement", node=str, by=str, at=str)

    def acknowledgements(self) -> dict[str, Any]:
        """The acknowledgements that hold."""
        return _shaped(self._request("GET", "/v1/acknowledgements"),
                       "the acknowledgements", acknowledgements=list)

    def clear_ack(self, node: str) -> dict[str, Any]:
        """Withdraw a node's acknowledgement."""
        return _shaped(self._request("DELETE", f"/v1/acknowledgements/{node}"),
                       "a withdrawn acknowledgement", node=str, ended=str)

    def subscribe(self, url: str, *, filter: Mapping[str, Sequence[str]] | None = None,
                  secret: str | None = None, fmt: str = "native") -> dict[str, Any]:
        """Subscribe a receiver to promise events (scope ``admin``); answers it with its
        secret, shown only here."""
        body: dict[str, Any] = {"url": url, "filter": dict(filter or {}), "format": fmt}
        if secret is not None:
            body["secret"] = secret
        return _shaped(self._request("POST", "/v1/subscriptions", json=body),
                       "a subscription", id=str, url=str)

    def subscriptions(self) -> list[dict[str, Any]]:
        """Every subscription, without its secret."""
        found = self._request("GET", "/v1/subscriptions")
        if not isinstance(found, list):
            raise UnexpectedAnswerError(f"the subscriptions: not a list: {_quote(found)}")
        return found

    def unsubscribe(self, subscription: str) -> None:
        """Remove a subscription."""
        self._request("DELETE", f"/v1/subscriptions/{subscription}", raw=True)

    def dead_letters(self, subscription: str) -> list[dict[str, Any]]:
        """A subscription's dead letters, in order."""
        found = self._request("GET", f"/v1/subscriptions/{subscription}/dead")
        if not isinstance(found, list):
            raise UnexpectedAnswerError(f"the dead letters: not a list: {_quote(found)}")
        return found

    def redeliver(self, subscription: str, event: str) -> None:
        """Queue a dead letter again."""
        self._request("POST", f"/v1/subscriptions/{subscription}/dead/{event}/redeliver",
                      raw=True)

    def import_files(self, source: str, kind: str, files: Sequence[tuple[str, str]], *,
                     full_sync: bool = False, dry_run: bool = False,
                     allow_empty: bool = False) -> dict[str, Any]:
        """Import files (name, text) of one kind (``backstage``, ``kubernetes``,
        ``compose``, ``jaeger``, ``otel``, ``csv``) as a push from ``source``.

        The files go as one ``multipart/form-data`` request, so references between
        them resolve and problems name the file and line.
        """
        return _shaped(self._request(
            "POST", f"/v1/sources/{source}/import/{kind}",
            files=[("files", (name, text.encode(), "text/plain")) for name, text in files],
            params={"full_sync": full_sync, "dry_run": dry_run, "allow_empty": allow_empty}),
            "an import")

    # --- everyone ------------------------------------------------------------

    def impact(self, down: Sequence[str] = (), degraded: Sequence[str] = (), *,
               limit: int | None = None) -> dict[str, Any]:
        """What-if: the impact of these components failing (lists capped at ``limit``)."""
        params = {"limit": limit} if limit is not None else {}
        return _shaped(self._request(
            "POST", "/v1/impact", json={"down": list(down), "degraded": list(degraded)},
            params=params), "an impact question", **IMPACT)

    def spof(self, promise: str | None = None, *, limit: int | None = None) -> dict[str, Any]:
        """Single points of failure of one promise, or ranked across the catalogue (the
        first ``limit``; the server's default page when ``None``)."""
        path = "/v1/spof" if promise is None else f"/v1/promises/{promise}/spof"
        params = {"limit": limit} if limit is not None else {}
        return _shaped(self._request("GET", path, params=params),
                       "a single-points-of-failure question", single_points=list)

    def root_cause(self, observed: Mapping[str, str], *, limit: int = 10) -> dict[str, Any]:
        """Single components whose failure alone would explain the observed states."""
        return _shaped(self._request(
            "POST", "/v1/root-cause", json={"observed": dict(observed), "limit": limit}),
            "a root-cause question", candidates=list)

    def assess_changes(self, changes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Planned changes (id, components, start, end, state) judged before they happen."""
        return _shaped(self._request(
            "POST", "/v1/changes/assess", json={"changes": [dict(c) for c in changes]}),
            "a change assessment", changes=dict, conflicts=list)

    def record(self, promise: str | None = None, *, start: str | None = None,
               end: str | None = None, tz: str = "UTC", hours: str | None = None,
               by: str = "promise") -> dict[str, Any]:
        """The promise record as JSON: one promise's (with its breaks), or every
        promise's listed ``by`` promise, provider, owner or business_service."""
        params = {k: v for k, v in (("from", start), ("to", end), ("tz", tz),
                                    ("hours", hours)) if v is not None}
        if promise is not None:
            return _shaped(self._request("GET", f"/v1/promises/{promise}/record",
                                         params=params), "a promise record",
                           period=dict, record=dict, providers=list)
        return _shaped(self._request("GET", "/v1/record", params={**params, "by": by}),
                       "the promise record", period=dict, by=str)

    def catalogue(self, which: str, *, visible: bool | None = None) -> dict[str, Any]:
        """A catalogue: ``promises``, ``service-systems`` or ``service-acts``."""
        params = {"visible": visible} if visible is not None else {}
        return _shaped(self._request("GET", f"/v1/catalogue/{which}", params=params),
                       f"the {which} catalogue", items=list)

    def matrix(self, columns: str = "business_service") -> dict[str, Any]:
        """The silo x service matrix."""
        return _shaped(self._request("GET", "/v1/matrix", params={"columns": columns}),
                       "the matrix", silos=list, services=list, cells=list)

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
        return _shaped(self._request("GET", "/v1/nodes", params=params), "the node list",
                       items=list, total=int)

    def current(self, at: str | None = None) -> dict[str, Any]:
        """The impact of the states observed now, or (``at``, ISO 8601 with a time zone)
        what it was at that moment, from the promise record."""
        params = {"at": at} if at is not None else {}
        return _shaped(self._request("GET", "/v1/current", params=params),
                       "the current impact", **IMPACT)

    def history(self, **filters: Any) -> dict[str, Any]:
        """A page of the promise record's timeline (``node``, ``layer``, ``owner``,
        ``provider``: lists; ``from``, ``to``: ISO 8601; ``limit``, ``offset``)."""
        params = {k: v for k, v in filters.items() if v is not None}
        return _shaped(self._request("GET", "/v1/history", params=params),
                       "the record's timeline", transitions=list, page=dict)

    def node(self, node_id: str) -> dict[str, Any]:
        """One node."""
        return _shaped(self._request("GET", f"/v1/nodes/{node_id}"), "a node", id=str)
