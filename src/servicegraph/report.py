"""The impact answer as a text report a service owner reads top to bottom:
promises first, then acts, business services and the providers to call,
each with its why."""

from __future__ import annotations

from servicegraph.impact.analysis import ImpactResult
from servicegraph.impact.explain import Explanation
from servicegraph.model.kinds import NodeKind, State


def _label(result: ImpactResult, node_id: str) -> str:
    node = result.index.nodes.get(node_id)
    return f"{node_id} ({node.name})" if node and node.name != node_id else node_id


def why(expl: Explanation) -> str:
    """One line saying why a node is in its state.

    Causes of the same rule and group are told together, e.g.
    ``web-1, web-2 down in group web (1 of 3 up, needs 2)``.
    """
    if expl.rule == "failed":
        return f"failed: {expl.state.word} in the scenario"
    parts: list[str] = []
    groups: dict[tuple[str, str | None, str | None], list[str]] = {}
    for c in expl.causes:
        groups.setdefault((c.rule, c.group, c.headroom), []).append(
            f"{c.dependency} {c.state.word}")
    for (rule, group, headroom), deps in groups.items():
        if rule == "group":
            parts.append(f"{', '.join(deps)} in group {group} ({headroom})")
        elif rule == "soft":
            parts.append(f"{', '.join(deps)} (soft dependency: degrades only)")
        else:
            parts.append(", ".join(deps))
    return "; ".join(parts)


def render(result: ImpactResult) -> str:
    """The full text report."""
    idx = result.index
    expl = result.explanations
    given = ", ".join(f"{_label(result, n)} {s.word}" for n, s in result.given.items())
    lines = [f"Impact of: {given or 'nothing'}", ""]

    def block(title: str, ids: list[str], *, chain: bool) -> None:
        lines.append(f"{title} ({len(ids)})")
        if not ids:
            lines.append("  none")
        for node_id in ids:
            node = idx.nodes.get(node_id)
            who = node.owner or node.provider if node else None
            state = result.impacted[node_id].word
            lines.append(f"  [{state:^8}] {_label(result, node_id)}"
                         + (f"  (owner: {who})" if who else ""))
            lines.append(f"             why: {why(expl[node_id])}")
            whole = expl[node_id].chain
            if chain and whole is not None and len(whole) > 1:
                lines.append(f"             chain: {' <- '.join(whole)}")
        lines.append("")

    block("BROKEN PROMISES", result.broken_promises, chain=True)
    block("PROMISES AT RISK", result.at_risk_promises, chain=True)
    block("SERVICE ACTS AFFECTED", list(result.of_kind(NodeKind.SERVICE_ACT)), chain=False)
    block("BUSINESS SERVICES AFFECTED", list(result.of_kind(NodeKind.BUSINESS_SERVICE)),
          chain=False)
    calls = result.providers()
    lines.append(f"PROVIDERS TO CALL ({len(calls)})")
    if not calls:
        lines.append("  none named on the impacted systems")
    for call in calls:
        if call.failed:
            lines.append(f"  {call.provider}: must act on {', '.join(call.failed)}"
                         + (f"; also affected: {', '.join(call.affected)}"
                            if call.affected else ""))
        else:
            lines.append(f"  {call.provider}: affected: {', '.join(call.affected)}")
    down = sum(1 for s in result.impacted.values() if s == State.DOWN)
    lines += ["", f"{len(result.impacted)} node(s) impacted: {down} down, "
              f"{len(result.impacted) - down} degraded."]
    return "\n".join(lines)
