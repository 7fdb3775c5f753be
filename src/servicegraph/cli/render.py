"""Text forms of the answers other than impact (which :mod:`servicegraph.report`
draws): single points of failure, root causes, change assessments, catalogues, the
silo matrix and the counts of writes. Each leads with what a service owner asks
first: the promises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def spof_scope(promise: str | None) -> str:
    """What a list of single points of failure holds, and how it differs from the other
    list: a promise's names nodes of every kind, the ranking only components.

    >>> spof_scope(None).split(";")[0]
    'service systems and CIs whose failure alone breaks at least one promise'
    """
    if promise:
        return (f"every node of any kind whose failure alone breaks {promise}: service "
                "acts and business services included; the ranking (`servicegraph spof` "
                "without a promise) lists only service systems and CIs")
    return ("service systems and CIs whose failure alone breaks at least one promise; a "
            "promise's own list (`servicegraph spof PROMISE`) also names the service acts "
            "and business services it needs, so it can be longer")


def spof(answer: Mapping[str, Any]) -> str:
    """Single points of failure, most promises broken first, under what the list holds."""
    points = answer["single_points"]
    promise = answer.get("promise")
    title = (f"SINGLE POINTS OF FAILURE OF {promise} ({len(points)})" if promise
             else f"SINGLE POINTS OF FAILURE ({len(points)}), most promises broken first")
    lines = [title, f"  ({answer.get('scope') or spof_scope(promise)})"]
    if not points:
        lines.append("  none: no single component breaks "
                     + (promise if promise else "any promise") + " alone")
    for p in points:
        line = f"  {p['component']} ({p['kind']}): breaks {', '.join(p['breaks'])}"
        if p["at_risk"]:
            line += f"; puts at risk {', '.join(p['at_risk'])}"
        lines.append(line)
    return "\n".join(lines)


def root_cause(answer: Mapping[str, Any], observed: Mapping[str, str]) -> str:
    """Candidates, best first."""
    seen = ", ".join(f"{n} {s}" for n, s in observed.items())
    found = answer["candidates"]
    lines = [f"ROOT-CAUSE CANDIDATES for {seen} ({len(found)})"]
    if not found:
        lines.append("  none: no single component explains any of it")
    for rank, c in enumerate(found, start=1):
        what = "explains all" if c["explains_all"] else (
            f"explains {', '.join(c['explains'])}; not {', '.join(c['unexplained'])}")
        lines.append(f"  {rank}. {c['component']}: {what}; {c['extra']} other node(s) "
                     "would be impacted")
    return "\n".join(lines)


def changes(answer: Mapping[str, Any]) -> str:
    """Each change alone, then the conflicts."""
    lines: list[str] = []
    for change_id, c in answer["changes"].items():
        window = c.get("window") or {}
        lines.append(f"CHANGE {change_id}: {', '.join(c.get('components', []))} "
                     f"{c.get('state', 'down')} from {window.get('start')} to {window.get('end')}")
        lines.append(f"  breaks: {', '.join(c['broken_promises']) or 'no promise'}")
        lines.append(f"  puts at risk: {', '.join(c['at_risk_promises']) or 'no promise'}")
        lines.append(f"  impacts {len(c['impacted'])} node(s)")
    conflicts = answer["conflicts"]
    lines.append(f"CONFLICTS ({len(conflicts)})")
    if not conflicts:
        lines.append("  none: no overlapping changes do worse together than alone")
    for c in conflicts:
        worse = ", ".join(f"{n} {s}" for n, s in c["worse"].items())
        lines.append(f"  {' + '.join(c['changes'])} overlap from {c['start']} to {c['end']}")
        if c["broken_promises"] or c["at_risk_promises"]:
            lines.append(f"    together break: {', '.join(c['broken_promises']) or '-'}; "
                         f"put at risk: {', '.join(c['at_risk_promises']) or '-'}")
        lines.append(f"    worse together: {worse}")
    return "\n".join(lines)


def catalogue(which: str, answer: Mapping[str, Any]) -> str:
    """One entry a line or two: id, name, who, and how it is kept or performed."""
    items = answer["items"]
    title = {"promises": "PROMISES", "systems": "SERVICE SYSTEMS", "acts": "SERVICE ACTS"}[which]
    lines = [f"{title} ({len(items)})"]
    for item in items:
        who = item.get("owner") or item.get("provider")
        lines.append(f"  {item['id']} ({item['name']})" + (f"  (owner: {who})" if who else ""))
        if which == "promises":
            lines.append(f"      kept through: {', '.join(item['kept_through']) or '-'}")
        elif which == "acts":
            lines.append(f"      performed by: {', '.join(item['performed_by']) or '-'}; "
                         f"serves: {', '.join(item['serves']) or '-'}")
        else:
            lines.append(f"      performs: {', '.join(item.get('performs', [])) or '-'}; "
                         f"depends on: {', '.join(item.get('depends_on', [])) or '-'}")
    return "\n".join(lines)


def matrix(answer: Mapping[str, Any]) -> str:
    """Silos down, services across; each cell counts the silo's CIs the service needs."""
    silos, services = answer["silos"], answer["services"]
    cells = {(c["silo"], c["service"]): len(c["cis"]) for c in answer["cells"]}
    first = max([len("silo"), *(len(s) for s in silos)])
    widths = [max(len(s), 3) for s in services]
    lines = ["  ".join(["silo".ljust(first), *(s.rjust(w) for s, w in zip(services, widths,
                                                                         strict=True))])]
    for silo in silos:
        row = [str(cells.get((silo, s), "")).rjust(w) for s, w in zip(services, widths,
                                                                        strict=True)]
        lines.append("  ".join([silo.ljust(first), *row]))
    lines.append("(each cell: how many CIs of the silo the service needs, directly or not)")
    return "\n".join(lines)


def write(answer: Mapping[str, Any], what: str) -> str:
    """The counts of a push or import."""
    verb = "would change" if answer.get("dry_run") else "changed"
    nodes, edges = answer["nodes"], answer["edges"]
    line = (f"{what} from source {answer['source']!r}: "
            f"nodes {nodes['created']} created, {nodes['updated']} updated, "
            f"{nodes['unchanged']} unchanged, {nodes['retired']} retired; "
            f"edges {edges['created']} created, {edges['updated']} updated, "
            f"{edges['unchanged']} unchanged, {edges['retired']} retired")
    if not answer.get("changed"):
        line += " (nothing changed)"
    elif answer.get("dry_run"):
        line += f" (dry run: nothing written; the push {verb} the graph)"
    return line


def node_line(node: Mapping[str, Any]) -> str:
    """One node of the list: id, kind and name, tab-separated, and ``retired SINCE``
    for a retired node.

    >>> print(node_line({"id": "vm-1", "kind": "ci", "name": "VM 1",
    ...                  "retired_at": "2030-01-01T00:00:00Z"}))
    vm-1    ci    VM 1    retired 2030-01-01T00:00:00Z
    """
    line = f"{node['id']}\t{node['kind']}\t{node['name']}"
    if node.get("retired_at"):
        line += f"\tretired {node['retired_at']}"
    return line


#: The most notes of an import the text shows (the JSON answer holds them all).
NOTES_SHOWN = 50


def left_out(notes: Sequence[str]) -> str:
    """The notes of an import (the items it left out, the decisions it took, what the
    files do not say), one a line, at most :data:`NOTES_SHOWN` of them and how many
    more; empty when there is none.

    >>> print(left_out(["Secret db-pass left out (no place in the model)",
    ...                 "service debug has profiles (debug): imported like the others"]))
    <BLANKLINE>
    2 note(s):
      Secret db-pass left out (no place in the model)
      service debug has profiles (debug): imported like the others
    >>> left_out([])
    ''
    """
    if not notes:
        return ""
    # Each note says what it is about: an item left out and why, or a decision taken
    # (profiles imported, start-up order read as a dependency), so one heading fits all.
    lines = ["", f"{len(notes)} note(s):"]
    lines += [f"  {note}" for note in notes[:NOTES_SHOWN]]
    if len(notes) > NOTES_SHOWN:
        lines.append(f"  ... and {len(notes) - NOTES_SHOWN} more (--format json lists them "
                     "all)")
    return "\n".join(lines)


def unseen(imported: Mapping[str, Any]) -> str:
    """What an import could not see, after its notes: the addresses naming nothing the
    files hold, and the services needing nothing they show, each with its count and at
    most :data:`NOTES_SHOWN` of them; empty when there is neither.

    >>> print(unseen({"unresolved": {"count": 1, "first": [
    ...     {"item": "deployment/web", "where": "app.yaml document 2", "field": "env",
    ...      "text": "ZIPKIN=zipkin.jaeger.svc", "host": "zipkin.jaeger.svc"}]},
    ...     "without_dependencies": {"count": 2, "first": ["redis", "visualizer"]}}))
    <BLANKLINE>
    1 address(es) naming nothing in these files:
      app.yaml document 2: deployment/web env: ZIPKIN=zipkin.jaeger.svc
    2 service(s) needing nothing these files show (leaves, or calls the files hide):
      redis
      visualizer
    """
    lines: list[str] = []
    unresolved = imported.get("unresolved") or {}
    if unresolved.get("count"):
        lines.append(f"{unresolved['count']} address(es) naming nothing in these files:")
        lines += [f"  {u['where']}: {u['item']} {u['field']}: {u['text']}"
                  for u in unresolved["first"][:NOTES_SHOWN]]
        lines += _more(unresolved["count"], NOTES_SHOWN)
    without = imported.get("without_dependencies") or {}
    if without.get("count"):
        lines.append(f"{without['count']} service(s) needing nothing these files show "
                     "(leaves, or calls the files hide):")
        lines += [f"  {node}" for node in without["first"][:NOTES_SHOWN]]
        lines += _more(without["count"], NOTES_SHOWN)
    # Each line after the notes' (or the counts', when no note was).
    return "".join(f"\n{line}" for line in lines)


def _more(count: int, shown: int) -> list[str]:
    # The JSON answer lists the first hundred; the counts are always whole.
    return [f"  ... and {count - shown} more (--format json lists the first 100)"] \
        if count > shown else []


def current(answer: Mapping[str, Any]) -> str:
    """The current impact, or what it was at a past moment (``at``, from the record):
    the promises first, then the acts and business services, who had to act, and what
    was observed failing.

    >>> print(current({"at": "2030-01-01T00:00:00.000000Z", "broken_promises": ["p"],
    ...                "at_risk_promises": [], "service_acts": {}, "business_services": {},
    ...                "providers": [{"provider": "Acme", "failed": ["db"]}],
    ...                "explanations": {"p": {"causes": [{"component": "db"}],
    ...                                       "planned": False}},
    ...                "planned": {"promises": []}, "observed": {"db": {"state": "down"}},
    ...                "structure": {"used": "record"}}))
    AT 2030-01-01T00:00:00.000000Z (from the promise record)
      broken: p (caused by db)
      at risk: none
      service acts: none
      business services: none
      providers who had to act: Acme (db)
      observed failing: db down
    """
    at = answer.get("at")
    planned = set(answer.get("planned", {}).get("promises", []))
    explained = answer.get("explanations", {})

    def promise(p: str) -> str:
        causes = [c.get("component") or c.get("dependency")
                  for c in explained.get(p, {}).get("causes", [])]
        mark = " [planned]" if p in planned else ""
        return f"{p}{mark} (caused by {', '.join(causes)})" if causes and at else p + mark

    def listed(items: Sequence[str]) -> str:
        return ", ".join(items) if items else "none"

    lines = [f"AT {at} (from the promise record)" if at else "NOW"]
    lines.append(f"  broken: {listed([promise(p) for p in answer['broken_promises']])}")
    lines.append(f"  at risk: {listed([promise(p) for p in answer['at_risk_promises']])}")
    lines.append("  service acts: " + listed(
        [f"{a} {s}" for a, s in answer["service_acts"].items()]))
    lines.append("  business services: " + listed(
        [f"{b} {s}" for b, s in answer["business_services"].items()]))
    lines.append("  providers who had to act: " + listed(
        [f"{c['provider']} ({', '.join(c['failed'])})" for c in answer["providers"]
         if c.get("failed")]))
    if "observed" in answer:
        lines.append("  observed failing: " + listed(
            [f"{n} {o['state']}" for n, o in answer["observed"].items()]))
    return "\n".join(lines)
