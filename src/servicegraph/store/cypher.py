"""Loading the Cypher statements under ``cypher/`` by name.

In an installed wheel they sit in ``servicegraph/cypher``; in a source
checkout they are the repository's top-level ``cypher/`` folder.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


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
    return path.read_text(encoding="utf-8")


def names() -> list[str]:
    """Every statement name, e.g. ``["edges/delete", ...]``."""
    root = _root()
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.cypher"))
