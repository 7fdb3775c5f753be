"""What to say of ids a question named that the live graph does not hold: which are
retired nodes (stored, but no part of impact), and which ids an unknown one likely
meant. The command line and the HTTP API's 404 answer both say it."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servicegraph.runtime.questions import Questions

#: Suggestions per unknown id.
SUGGESTIONS = 3
#: Above this many stored nodes the close-spelling search is skipped (it looks at every
#: id); the ids that contain the one asked still come.
CLOSE_SEARCH_MAX = 200_000


def suggest(wanted: str, containing: Callable[[str], Sequence[str]],
            known: Sequence[str]) -> list[str]:
    """The ids ``wanted`` most likely meant: those containing it (``productpage`` ->
    ``service/productpage``), then those spelled closely, at most :data:`SUGGESTIONS`.

    Parameters
    ----------
    wanted : str
        The id asked for.
    containing : callable
        A text -> the ids that contain it (in id or name), best first.
    known : sequence of str
        The ids to look among for close spellings (none: no such search).

    Examples
    --------
    >>> ids = ["service/productpage", "service/reviews", "web-1"]
    >>> suggest("productpage", lambda q: [i for i in ids if q in i], ids)
    ['service/productpage']
    >>> suggest("web1", lambda q: [], ids)
    ['web-1']
    """
    found = [i for i in containing(wanted) if i != wanted][:SUGGESTIONS]
    if len(found) < SUGGESTIONS and known:
        for close in difflib.get_close_matches(wanted, known, n=SUGGESTIONS, cutoff=0.75):
            if close not in found and close != wanted:
                found.append(close)
    return found[:SUGGESTIONS]


def hints(questions: Questions, ids: Sequence[str], *, suggest_max_nodes: int | None = None
          ) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """For each of ``ids``: when it names a retired node, since when (``retired``); else
    the live ids it likely meant (``suggestions``, only the ids some are found for).

    Parameters
    ----------
    questions : Questions
        The questions service whose live graph is asked.
    ids : sequence of str
        Ids the live graph did not hold (keep it short: each costs a look at every id).
    suggest_max_nodes : int, optional
        Above this many stored nodes, no suggestions at all (a bound on what one
        refusal costs); no bound when ``None``.
    """
    retired: dict[str, str | None] = {}
    missing: list[str] = []
    for node_id in ids:
        node = questions.node(node_id) if questions.has_node(node_id) else None
        if node is not None and node.retired_at is not None:
            retired[node_id] = node.retired_at
        else:
            missing.append(node_id)
    if not missing:
        return retired, {}
    with questions.reading() as live:
        stored = live.node_count
        known = list(live.index.ids) if stored <= CLOSE_SEARCH_MAX else []
    if suggest_max_nodes is not None and stored > suggest_max_nodes:
        return retired, {}

    def live_id(node_id: str) -> bool:
        return questions.has_node(node_id) and questions.node(node_id).retired_at is None

    def containing(text: str) -> list[str]:
        page, _ = questions.node_page(query=text, limit=SUGGESTIONS + 1)
        return [n.id for n in page if n.retired_at is None]

    suggestions: dict[str, list[str]] = {}
    for node_id in missing:
        # A retired id is no better an answer than the one asked.
        found = [s for s in suggest(node_id, containing, known) if live_id(s)]
        if found:
            suggestions[node_id] = found
    return retired, suggestions
