"""The impact answer as a text report a service owner reads top to bottom:
promises first, then acts, business services and the providers to call,
each with its why.

The report is drawn from the answer document (:meth:`ImpactResult.answer`, which
is also what the HTTP API answers), so the command line prints the same report
whether it asked the library or a server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servicegraph.impact.analysis import ImpactResult

#: What a report needs to know of a node: its name and whom to name beside it.
Describe = Callable[[str], tuple[str, str | None]]


def why(expl: Mapping[str, Any]) -> str:
    """One line saying why a node is in its state, from its explanation document.

    Causes of the same rule and group are told together, e.g.
    ``web-1, web-2 down in group web (1 of 3 up, needs 2)``.

    >>> why({"rule": "group", "state": "down", "causes": [
    ...     {"dependency": "web-1", "state": "down", "rule": "group", "group": "web",
    ...      "headroom": "1 of 3 up, needs 2"},
    ...     {"dependency": "web-2", "state": "down", "rule": "group", "group": "web",
    ...      "headroom": "1 of 3 up, needs 2"}]})
    'web-1 down, web-2 down in group web (1 of 3 up, needs 2)'
    """
    if expl.get("rule") == "failed":
        return f"failed: {expl['state']} in the scenario"
    parts: list[str] = []
    groups: dict[tuple[str, str | None, str | None], list[str]] = {}
    for c in expl.get("causes", []):
        groups.setdefault((c["rule"], c.get("group"), c.get("headroom")), []).append(
            f"{c['dependency']} {c['state']}")
    for (rule, group, headroom), deps in groups.items():
        if rule == "group":
            parts.append(f"{', '.join(deps)} in group {group} ({headroom})")
        elif rule == "soft":
            parts.append(f"{', '.join(deps)} (soft dependency: degrades only)")
        else:
            parts.append(", ".join(deps))
    return "; ".join(parts)


def render_answer(answer: Mapping[str, Any], given: Sequence[tuple[str, str]],
                  describe: Describe) -> str:
    """The full text report of an impact answer.

    Parameters
    ----------
    answer : mapping
        The answer document, explained (``explain=True``).
    given : sequence of (id, state)
        The scenario, as asked.
    describe : callable
        Node id -> (name, owner or provider), for labels.
    """
    def label(node_id: str) -> str:
        name = describe(node_id)[0]
        return f"{node_id} ({name})" if name and name != node_id else node_id

    expl: Mapping[str, Any] = answer.get("explanations", {})
    head = ", ".join(f"{label(n)} {s}" for n, s in given)
    lines = [f"Impact of: {head or 'nothing'}", ""]

    def block(title: str, states: Mapping[str, str], total: int, *, chain: bool) -> None:
        lines.append(f"{title} ({total})")
        if not states:
            lines.append("  none")
        for node_id, state in states.items():
            who = describe(node_id)[1]
            lines.append(f"  [{state:^8}] {label(node_id)}" + (f"  (owner: {who})" if who else ""))
            if node_id in expl:
                lines.append(f"             why: {why(expl[node_id])}")
                whole = expl[node_id].get("chain")
                if chain and whole and len(whole) > 1:
                    lines.append(f"             chain: {' <- '.join(whole)}")
        if len(states) < total:
            lines.append(f"  ... and {total - len(states)} more")
        lines.append("")

    counts = answer["counts"]
    block("BROKEN PROMISES", dict.fromkeys(answer["broken_promises"], "down"),
          counts["broken_promises"], chain=True)
    block("PROMISES AT RISK", dict.fromkeys(answer["at_risk_promises"], "degraded"),
          counts["at_risk_promises"], chain=True)
    block("SERVICE ACTS AFFECTED", answer["service_acts"], counts["service_acts"], chain=False)
    block("BUSINESS SERVICES AFFECTED", answer["business_services"],
          counts["business_services"], chain=False)
    calls = answer["providers"]
    lines.append(f"PROVIDERS TO CALL ({counts['providers']})")
    if not calls:
        lines.append("  none named on the impacted systems")
    for call in calls:
        if call["failed"]:
            lines.append(f"  {call['provider']}: must act on {', '.join(call['failed'])}"
                         + (f"; also affected: {', '.join(call['affected'])}"
                            if call["affected"] else ""))
        else:
            lines.append(f"  {call['provider']}: affected: {', '.join(call['affected'])}")
    if len(calls) < counts["providers"]:
        lines.append(f"  ... and {counts['providers'] - len(calls)} more")
    lines += ["", f"{counts['impacted']} node(s) impacted: {counts['down']} down, "
              f"{counts['degraded']} degraded."]
    return "\n".join(lines)


def render(result: ImpactResult) -> str:
    """The full text report of an impact result."""
    nodes = result.index.nodes

    def describe(node_id: str) -> tuple[str, str | None]:
        node = nodes.get(node_id)
        return (node.name, node.owner or node.provider) if node else (node_id, None)

    given = [(n, s.word) for n, s in result.given.items()]
    return render_answer(result.answer(), given, describe)
