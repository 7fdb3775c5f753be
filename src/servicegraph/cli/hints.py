"""What the command line says about ids a question named and the graph does not answer
for: a retired node is said to be retired (it is stored, and listed by ``servicegraph
nodes``, but impact is computed on the live graph only), and an unknown id comes with
the ids it most likely meant."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence

#: Suggestions shown per unknown id.
SUGGESTIONS = 3
#: Above this many ids the close-spelling search is skipped (it looks at every id);
#: the ids that contain the one asked still come.
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
        Every id there is, for the close spellings.

    Examples
    --------
    >>> ids = ["service/productpage", "service/reviews", "web-1"]
    >>> suggest("productpage", lambda q: [i for i in ids if q in i], ids)
    ['service/productpage']
    >>> suggest("web1", lambda q: [], ids)
    ['web-1']
    """
    found = [i for i in containing(wanted) if i != wanted][:SUGGESTIONS]
    if len(found) < SUGGESTIONS and len(known) <= CLOSE_SEARCH_MAX:
        for close in difflib.get_close_matches(wanted, known, n=SUGGESTIONS, cutoff=0.75):
            if close not in found and close != wanted:
                found.append(close)
    return found[:SUGGESTIONS]


def unknown_ids(missing: Sequence[str], retired: Mapping[str, str | None],
                suggestions: Mapping[str, Iterable[str]]) -> str:
    """The message for ids a question named that the live graph does not hold.

    >>> print(unknown_ids(["prodpage"], {"web-1": "2030-01-01T00:00:00Z"},
    ...                   {"prodpage": ["service/productpage"]}))
    unknown node id(s): prodpage (did you mean service/productpage?)
      (see `servicegraph nodes` for the ids in the store)
    web-1 is retired (since 2030-01-01T00:00:00Z): it stays in the store, marked
      retired by `servicegraph nodes`, and takes no part in impact
    """
    lines: list[str] = []
    if missing:
        named = []
        for i in missing:
            meant = list(suggestions.get(i, ()))
            named.append(f"{i} (did you mean {' or '.join(meant)}?)" if meant else i)
        lines.append(f"unknown node id(s): {', '.join(named)} "
                     "(see `servicegraph nodes` for the ids in the store)")
    for i, since in retired.items():
        when = f" (since {since})" if since else ""
        lines.append(f"{i} is retired{when}: it stays in the store, marked retired by "
                     "`servicegraph nodes`, and takes no part in impact")
    return "\n".join(lines)
