"""The dependency explorer page: static files shipped in the package, no build step.

The page is plain HTML, CSS and JavaScript modules plus vendored libraries
(``static/vendor/``, with their licences and origin). :func:`asset` finds one
file by its path below ``static/``, refusing anything that is not one of the
shipped files, so a request path can never reach outside the folder.
"""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"

#: Media types by suffix; set here so the answer does not depend on the host's tables.
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
          ".png": "image/png", ".md": "text/markdown; charset=utf-8",
          # licence files and checksums
          ".LICENSE": "text/plain; charset=utf-8", "": "text/plain; charset=utf-8"}


@cache
def assets() -> dict[str, Path]:
    """Every shipped file, by its path below ``static/`` (``/``-separated)."""
    return {p.relative_to(STATIC).as_posix(): p for p in sorted(STATIC.rglob("*"))
            if p.is_file()}


def asset(name: str) -> Path | None:
    """The shipped file ``name`` (e.g. ``"app/main.js"``), or None when there is none.

    >>> asset("index.html").name
    'index.html'
    >>> asset("vendor") is None  # a folder, not a shipped file
    True
    """
    return assets().get(name)


def media_type(path: Path) -> str:
    """The media type a file is served with.

    >>> media_type(Path("main.js"))
    'text/javascript; charset=utf-8'
    """
    found = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    return found or "application/octet-stream"
