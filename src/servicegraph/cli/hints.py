"""What the command line says about ids a question named and the graph does not answer
for: a retired node is said to be retired (it is stored, and listed by ``servicegraph
nodes``, but impact is computed on the live graph only), and an unknown id comes with
the ids it most likely meant (found by :mod:`servicegraph.runtime.unknown`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


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
