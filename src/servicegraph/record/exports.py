"""The promise record as documents: JSON, CSV, and a Markdown or HTML report a
service owner can send.

The JSON documents are what the HTTP API answers and the command line prints; the
other formats are rendered from them, so that every format says the same. Durations
are seconds (rounded to the microsecond), shares kept fractions of 1; times are ISO
8601 with the offset of the caller's time zone. Everything taken from the graph
(ids, names, owners, providers) is escaped for the format it goes into: HTML
entities in the HTML report, Markdown punctuation and HTML in the Markdown report,
and a leading ``'`` before text a spreadsheet would read as a formula in CSV.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from servicegraph.record.clock import SECOND, show
from servicegraph.record.figures import (
    Break,
    NodeRecord,
    ProviderShare,
    Record,
    RollUp,
    seconds,
)

#: What ``by`` may ask for, and the key of the list the answer holds.
BY = {"promise": "nodes", "provider": "providers", "owner": "owners",
      "business_service": "business_services"}
#: The export formats and their media types.
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
         "markdown": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


def _share(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 8)


def period_dict(rec: Record) -> dict[str, Any]:
    """The period of a record: its bounds, time zone, business hours and counted time."""
    where = rec.span.where
    return {"from": show(rec.span.start, where), "to": show(rec.span.end, where),
            "as_of": None if rec.as_of is None else show(rec.as_of, where),
            "tz": where.key, "hours": None if rec.hours is None else str(rec.hours),
            "counted_seconds": seconds(rec.counted)}


def break_dict(brk: Break, rec: Record) -> dict[str, Any]:
    """One break, JSON-ready."""
    where = rec.span.where
    return {"start": show(brk.start, where),
            "end": None if brk.end is None else show(brk.end, where),
            "open": brk.end is None, "duration_seconds": seconds(brk.duration),
            "planned_seconds": seconds(brk.planned), "planned": brk.is_planned,
            "time_to_recover_seconds": seconds(brk.time_to_recover),
            "causes": [c.to_dict() for c in brk.causes],
            "providers": [{"provider": p, "seconds": seconds(s)} for p, s in brk.shares.items()]}


def _recovery(node: NodeRecord, planned: bool | None) -> dict[str, Any]:
    mean, longest, count = node.recovery(planned)
    return {"mean_seconds": seconds(mean), "longest_seconds": seconds(longest),
            "breaks": count}


def node_dict(node: NodeRecord, rec: Record, *, breaks: bool = False) -> dict[str, Any]:
    """One node's record, JSON-ready (with its breaks when ``breaks``)."""
    target = None
    if node.target is not None:
        left = node.budget_left
        assert left is not None
        target = {"kept": float(node.target),
                  "allowed_broken_seconds": seconds(node.allowed_broken),
                  "budget_left_seconds": seconds(left), "met": left >= 0,
                  "share_kept_unplanned": _share(node.share_kept_unplanned)}
    out: dict[str, Any] = {
        "id": node.node, "layer": node.layer, "name": node.name, "owner": node.owner,
        "period_seconds": seconds(node.period), "kept_seconds": seconds(node.kept),
        "at_risk_seconds": seconds(node.at_risk), "broken_seconds": seconds(node.broken),
        "share_kept": _share(node.share_kept),
        "planned": {"at_risk_seconds": seconds(node.planned_at_risk),
                    "broken_seconds": seconds(node.planned_broken)},
        "unplanned": {"at_risk_seconds": seconds(node.at_risk - node.planned_at_risk),
                      "broken_seconds": seconds(node.unplanned_broken)},
        "break_count": len(node.breaks),
        "recovery": {"all": _recovery(node, None), "planned": _recovery(node, True),
                     "unplanned": _recovery(node, False)},
        "target": target}
    if breaks:
        out["breaks"] = [break_dict(b, rec) for b in node.breaks]
    return out


def provider_dict(found: ProviderShare) -> dict[str, Any]:
    """A provider's part, JSON-ready."""
    return {"provider": found.provider, "broken_seconds": seconds(found.broken),
            "broken_minutes": round(found.broken / (60 * SECOND), 2),
            "planned_seconds": seconds(found.planned),
            "unplanned_seconds": seconds(found.broken - found.planned),
            "breaks": found.breaks, "promises": list(found.promises)}


def roll_up_dict(found: RollUp) -> dict[str, Any]:
    """A roll-up (per owner or business service), JSON-ready."""
    return {"name": found.key, "promises": list(found.promises),
            "period_seconds": seconds(found.period), "kept_seconds": seconds(found.kept),
            "at_risk_seconds": seconds(found.at_risk), "broken_seconds": seconds(found.broken),
            "planned_broken_seconds": seconds(found.planned_broken),
            "unplanned_broken_seconds": seconds(found.broken - found.planned_broken),
            "breaks": found.breaks, "share_kept": _share(found.share_kept)}


def document(rec: Record, by: str = "promise") -> dict[str, Any]:
    """The record of every node (``by`` promise: each promise, business service and
    service act, without their breaks) or a roll-up of the promises (``by`` provider,
    owner or business_service), JSON-ready."""
    if by not in BY:
        raise ValueError(f"by: {by!r} is not one of {', '.join(BY)}")
    items: list[dict[str, Any]]
    if by == "promise":
        items = [node_dict(n, rec) for n in rec.nodes]
    elif by == "provider":
        items = [provider_dict(p) for p in rec.providers]
    else:
        rolled = rec.owners if by == "owner" else rec.business_services
        items = [roll_up_dict(r) for r in rolled]
    return {"period": period_dict(rec), "by": by, BY[by]: items}


def promise_document(rec: Record, node_id: str) -> dict[str, Any]:
    """One node's record with its breaks, and the providers' part in them, JSON-ready."""
    return {"period": period_dict(rec), "record": node_dict(rec.node(node_id), rec, breaks=True),
            "providers": [provider_dict(p) for p in rec.providers_of(node_id)]}


# --- rendering -------------------------------------------------------------------------------

def duration_text(value: float | None) -> str:
    """Seconds as a person reads them, to the second.

    >>> duration_text(93784.4), duration_text(59.6), duration_text(0), duration_text(None)
    ('1 d 2 h 3 min 4 s', '1 min', '0 s', '-')
    """
    if value is None:
        return "-"
    sign, total = ("-" if value < 0 else ""), round(abs(value))
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount} {unit}")
    return sign + (" ".join(parts) or "0 s")


def percent_text(value: float | None) -> str:
    """A share as a percentage to three places, rounded down (so that a promise broken
    for a moment never shows 100%).

    >>> percent_text(0.9999996), percent_text(1.0), percent_text(None)
    ('99.999%', '100.000%', '-')
    """
    if value is None:
        return "-"
    return f"{math.floor(round(value * 100_000, 6)) / 1000:.3f}%"


def time_text(value: str | None) -> str:
    """An ISO time of a document, shortened for a report.

    >>> time_text("2026-03-02T10:00:00+01:00"), time_text(None)
    ('2026-03-02 10:00:00 +01:00', 'open')
    """
    if value is None:
        return "open"
    return value[:19].replace("T", " ") + " " + value[len(value) - 6:] if len(value) >= 25 \
        else value.replace("T", " ")


def _line(text: object) -> str:
    return " ".join(str(text).split())


_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")
_LEADING = re.compile(r"^([#+\-=]|\d+[.)])")


def md(text: object) -> str:
    """Text safe in Markdown, inline or at the start of a line (a table cell, a
    heading): one line, the punctuation that makes emphasis, code, links, tables or
    blocks escaped, and HTML escaped.

    >>> md("a|b <script>*x*")
    'a\\\\|b &lt;script&gt;\\\\*x\\\\*'
    >>> md("# not a heading"), md("1. not a list")
    ('\\\\# not a heading', '1\\\\. not a list')
    """
    escaped = _MARKDOWN.sub(r"\\\1", _line(text))
    escaped = _LEADING.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], escaped)
    return html.escape(escaped, quote=False)


def h(text: object) -> str:
    """Text safe in HTML."""
    return html.escape(str(text), quote=True)


def _formula_safe(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The table of a document: one row per node, provider, roll-up or (for one
    promise's record) break."""
    if "record" in doc:
        head = ["promise", "start", "end", "duration_seconds", "planned_seconds", "planned",
                "time_to_recover_seconds", "causes", "providers"]
        node = doc["record"]
        return head, [[node["id"], b["start"], b["end"] or "", b["duration_seconds"],
                       b["planned_seconds"], b["planned"], b["time_to_recover_seconds"],
                       json.dumps([c["component"] for c in b["causes"]]),
                       json.dumps({p["provider"]: p["seconds"] for p in b["providers"]})]
                      for b in node["breaks"]]
    items = doc[BY[doc["by"]]]
    if doc["by"] == "promise":
        head = ["id", "layer", "name", "owner", "period_seconds", "kept_seconds",
                "at_risk_seconds", "broken_seconds", "planned_broken_seconds",
                "unplanned_broken_seconds", "share_kept", "breaks",
                "mean_time_to_recover_seconds", "longest_time_to_recover_seconds",
                "target_kept", "budget_left_seconds"]
        return head, [[n["id"], n["layer"], n["name"], n["owner"], n["period_seconds"],
                       n["kept_seconds"], n["at_risk_seconds"], n["broken_seconds"],
                       n["planned"]["broken_seconds"], n["unplanned"]["broken_seconds"],
                       n["share_kept"], n["break_count"], n["recovery"]["all"]["mean_seconds"],
                       n["recovery"]["all"]["longest_seconds"],
                       (n["target"] or {}).get("kept"),
                       (n["target"] or {}).get("budget_left_seconds")] for n in items]
    if doc["by"] == "provider":
        head = ["provider", "broken_seconds", "broken_minutes", "planned_seconds",
                "unplanned_seconds", "breaks", "promises"]
        return head, [[p[k] for k in head[:-1]] + [json.dumps(p["promises"])] for p in items]
    head = [doc["by"], "promises", "period_seconds", "kept_seconds", "at_risk_seconds",
            "broken_seconds", "planned_broken_seconds", "unplanned_broken_seconds",
            "breaks", "share_kept"]
    return head, [[r["name"], json.dumps(r["promises"])] + [r[k] for k in head[2:]]
                  for r in items]


def to_csv(doc: Mapping[str, Any]) -> str:
    """A record document as CSV (RFC 4180, a header row first)."""
    head, rows = _rows(doc)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(head)
    for row in rows:
        writer.writerow(["" if v is None else _formula_safe(v) for v in row])
    return out.getvalue()


def to_json(doc: Mapping[str, Any]) -> str:
    """A record document as JSON text."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# The report's tables: (heading, cells of a row).
_Table = tuple[list[str], list[list[str]]]


def _title(doc: Mapping[str, Any]) -> str:
    p = doc["period"]
    return f"Promise record, {time_text(p['from'])} to {time_text(p['to'])} ({p['tz']})"


def _about(doc: Mapping[str, Any]) -> list[str]:
    p = doc["period"]
    lines = [f"Period: from {time_text(p['from'])} to {time_text(p['to'])}, time zone "
             f"{p['tz']}."]
    if p["as_of"] is not None:
        lines.append(f"As of {time_text(p['as_of'])}: later time is not counted.")
    if p["hours"] is not None:
        lines.append(f"Business hours: {p['hours']} (only time inside them counts).")
    lines.append(f"Counted time: {duration_text(p['counted_seconds'])}.")
    return lines


def _node_row(n: Mapping[str, Any]) -> list[str]:
    target = n["target"]
    return [n["id"], n["name"] or "", n["owner"] or "", duration_text(n["kept_seconds"]),
            duration_text(n["at_risk_seconds"]), duration_text(n["broken_seconds"]),
            duration_text(n["planned"]["broken_seconds"]), percent_text(n["share_kept"]),
            "-" if target is None else f"{target['kept']:g}%",
            "-" if target is None else duration_text(target["budget_left_seconds"]),
            str(n["break_count"]), duration_text(n["recovery"]["all"]["mean_seconds"]),
            duration_text(n["recovery"]["all"]["longest_seconds"])]


_NODE_HEAD = ["id", "name", "owner", "kept", "at risk", "broken", "of which planned",
              "share kept", "target", "budget left", "breaks", "mean time to recover",
              "longest"]
_PROVIDER_HEAD = ["provider", "minutes broken", "of which planned", "breaks", "promises"]


def _provider_row(p: Mapping[str, Any]) -> list[str]:
    return [p["provider"], f"{p['broken_minutes']:.2f}",
            f"{p['planned_seconds'] / 60:.2f}", str(p["breaks"]), ", ".join(p["promises"])]


def _tables(doc: Mapping[str, Any]) -> list[tuple[str, _Table]]:
    if "record" in doc:
        node = doc["record"]
        breaks = [[time_text(b["start"]), time_text(b["end"]),
                   duration_text(b["duration_seconds"]),
                   "yes" if b["planned"] else ("partly" if b["planned_seconds"] else "no"),
                   duration_text(b["time_to_recover_seconds"]),
                   ", ".join(c["component"] for c in b["causes"]) or "-",
                   ", ".join(f"{p['provider']} ({duration_text(p['seconds'])})"
                             for p in b["providers"])] for b in node["breaks"]]
        layer = node["layer"].replace("_", " ").capitalize()
        named = f": {node['name']}" if node["name"] and node["name"] != node["id"] else ""
        return [(f"{layer} {node['id']}{named}",
                 (_NODE_HEAD, [_node_row(node)])),
                ("Breaks", (["start", "end", "broken", "planned", "time to recover",
                             "causes", "providers"], breaks)),
                ("Providers", (_PROVIDER_HEAD, [_provider_row(p) for p in doc["providers"]]))]
    by, items = doc["by"], doc[BY[doc["by"]]]
    if by == "promise":
        tables = []
        for layer, heading in (("promise", "Promises"), ("business_service",
                               "Business services"), ("service_act", "Service acts")):
            rows = [_node_row(n) for n in items if n["layer"] == layer]
            if rows:
                tables.append((heading, (_NODE_HEAD, rows)))
        return tables
    if by == "provider":
        return [("Providers", (_PROVIDER_HEAD, [_provider_row(p) for p in items]))]
    heading = "Owners" if by == "owner" else "Business services"
    return [(heading, ([by.replace("_", " "), "promises", "kept", "at risk", "broken",
                        "of which planned", "share kept", "breaks"],
                       [[r["name"], ", ".join(r["promises"]), duration_text(r["kept_seconds"]),
                         duration_text(r["at_risk_seconds"]),
                         duration_text(r["broken_seconds"]),
                         duration_text(r["planned_broken_seconds"]),
                         percent_text(r["share_kept"]), str(r["breaks"])] for r in items]))]


def to_markdown(doc: Mapping[str, Any]) -> str:
    """A record document as a Markdown report."""
    out = [f"# {md(_title(doc))}", "", *(md(line) for line in _about(doc))]
    for heading, (head, rows) in _tables(doc):
        out += ["", f"## {md(heading)}", ""]
        if not rows:
            out.append("None.")
            continue
        out.append("| " + " | ".join(md(c) for c in head) + " |")
        out.append("|" + "|".join("---" for _ in head) + "|")
        out += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def to_html(doc: Mapping[str, Any]) -> str:
    """A record document as a standalone HTML report (everything escaped)."""
    title = h(_title(doc))
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{title}</title>", "</head>", "<body>", f"<h1>{title}</h1>"]
    out += [f"<p>{h(line)}</p>" for line in _about(doc)]
    for heading, (head, rows) in _tables(doc):
        out.append(f"<h2>{h(heading)}</h2>")
        if not rows:
            out.append("<p>None.</p>")
            continue
        # Attributes rather than a style sheet: mail readers keep them, and the page
        # needs nothing inline under a strict content security policy.
        out.append('<table border="1" cellspacing="0" cellpadding="4">')
        out.append("<thead><tr>" + "".join(f"<th>{h(c)}</th>" for c in head)
                   + "</tr></thead>")
        out.append("<tbody>")
        out += ["<tr>" + "".join(f"<td>{h(c)}</td>" for c in row) + "</tr>" for row in rows]
        out.append("</tbody></table>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


#: Format -> how a record document is written in it.
RENDER: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "json": to_json, "csv": to_csv, "markdown": to_markdown, "html": to_html}


def render(doc: Mapping[str, Any], fmt: str) -> str:
    """A record document in ``fmt`` (json, csv, markdown or html)."""
    if fmt not in RENDER:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(RENDER)}")
    return RENDER[fmt](doc)

