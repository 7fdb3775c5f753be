"""Loading the Cypher statements under ``cypher/`` by name.

In an installed wheel they sit in ``servicegraph/cypher``; in a source
checkout they are the repository's top-level ``cypher/`` folder.

A statement may name a projection derived from the fields' declaration
(:mod:`servicegraph.model.fields`) as ``{{name}}``: it is filled in when the statement
is loaded, so a field added there reaches every statement that lists the fields.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from servicegraph.model import fields

#: The projections statements may name: what a process loading the whole graph reads
#: of each node and dependency (the claims' full text stays in the store).
TEMPLATES = {
    "node_load": fields.cypher_projection(
        (*(c for c in fields.NODE_COLUMNS if c != "claims"), *fields.OBSERVED_COLUMNS)),
    "edge_load": fields.cypher_projection(
        tuple(c for c in fields.EDGE_COLUMNS if c not in ("source", "target", "claims"))),
}


def _root() -> Path:
    packaged = resources.files("servicegraph") / "cypher"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "cypher"


@cache
def statement(name: str) -> str:
    """The statement ``cypher/<name>.cypher``, e.g. ``statement("nodes/upsert")``.

    Names are fixed strings in the code; an unknown name is a programming error.
    """
    path = _root() / f"{name}.cypher"
    if not path.is_file():
        raise LookupError(f"no Cypher statement named {name!r} (looked for {path})")
    text = path.read_text(encoding="utf-8")
    for key, value in TEMPLATES.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def names() -> list[str]:
    """Every statement name, e.g. ``["edges/delete", ...]``."""
    root = _root()
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.cypher"))
