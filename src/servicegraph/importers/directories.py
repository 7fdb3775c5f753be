"""Files as people keep them: directories read recursively by kind, and the
Backstage ``Location`` entities that point at more catalogue files.

Only what a kind reads is taken from a directory (YAML for manifests and
catalogues, ``compose*.yaml`` and ``.env`` for Compose, ...); hidden folders
(``.git``, ``.github``) are skipped. A ``Location``'s targets are followed when they
are relative paths (globs allowed) that stay within the directory the import was
given (the folder of a file given alone); URLs and paths leading out of it are not
followed, and said so.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from servicegraph.model.yaml_bounds import AliasBudget, BoundedLoader, load_all

#: Names read from a directory, by import kind (shell patterns, matched without case).
PATTERNS: dict[str, tuple[str, ...]] = {
    "backstage": ("*.yaml", "*.yml"),
    "kubernetes": ("*.yaml", "*.yml", "Kustomization"),
    "compose": ("compose*.yaml", "compose*.yml", "docker-compose*.yaml",
                "docker-compose*.yml", ".env", "*.env"),
    "jaeger": ("*.json",),
    "otel": ("*.prom", "*.txt"),
    "csv": ("*.csv",),
}

#: The most files one import reads: a directory of more is more likely the wrong one
#: (a home folder, a whole monorepo) than a set of manifests.
MAX_FILES = 10_000


class TooManyFiles(ValueError):
    """A directory holds more files of the kind than :data:`MAX_FILES`."""


def wanted(kind: str, path: Path) -> bool:
    """Whether a file found in a directory is one ``kind`` reads.

    >>> wanted("compose", Path("app/compose.override.yaml")), wanted("compose", Path("x.yaml"))
    (True, False)
    """
    return any(fnmatch.fnmatch(path.name.lower(), p.lower()) for p in PATTERNS[kind])


def _walk(root: Path, kind: str) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).parts
        if any(part.startswith(".") for part in relative[:-1]) or not path.is_file():
            continue
        if wanted(kind, path):
            found.append(path)
    return found


def expand(kind: str, paths: Sequence[Path], read: Callable[[Path], str],
           ) -> tuple[list[Path], list[str]]:
    """The files to import for ``paths`` (files, and directories read recursively), and
    notes on what was not followed.

    Parameters
    ----------
    kind : str
        The import kind (a key of :data:`PATTERNS`).
    paths : sequence of Path
        What the user named.
    read : callable
        Reads a file's text (bounded by the caller); used for Backstage Locations.

    Raises
    ------
    TooManyFiles
        When more than :data:`MAX_FILES` files would be read.
    """
    out: list[Path] = []
    roots: dict[Path, Path] = {}  # file -> the directory its Locations must stay within
    for given in paths:
        if given.is_dir():
            for path in _walk(given, kind):
                roots.setdefault(path, given)
                out.append(path)
        else:
            roots.setdefault(given, given.parent)
            out.append(given)
        if len(out) > MAX_FILES:
            raise TooManyFiles(f"{given}: more than {MAX_FILES:,} files to import; name "
                               "the folders that hold the files")
    notes: list[str] = []
    if kind == "backstage":
        seen = {p.resolve() for p in out}
        queue = list(out)
        while queue:
            path = queue.pop(0)
            for target in _location_targets(path, read(path), notes):
                root = roots[path]
                for found in _resolve(path, target, root, notes):
                    if found.resolve() not in seen:
                        if len(out) >= MAX_FILES:
                            raise TooManyFiles(f"{path}: its Locations name more than "
                                               f"{MAX_FILES:,} files")
                        seen.add(found.resolve())
                        roots[found] = root
                        out.append(found)
                        queue.append(found)
    return out, notes


def _location_targets(path: Path, text: str, notes: list[str]) -> list[str]:
    """The targets of the ``Location`` entities of a catalogue file."""
    targets: list[str] = []
    try:
        docs = list(load_all(text, BoundedLoader, AliasBudget()))
    except (yaml.YAMLError, RecursionError, ValueError):
        return []  # the importer names the problem, with its line
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "Location":
            continue
        spec: Any = doc.get("spec") or {}
        if not isinstance(spec, dict):
            continue
        listed = spec.get("targets")
        given = [spec.get("target"), *(listed if isinstance(listed, list) else [])]
        for target in given:
            if not isinstance(target, str) or not target:
                continue
            if "://" in target:
                notes.append(f"{path}: Location target {target} not followed (a URL: "
                             "fetch it and import the file)")
            else:
                targets.append(target)
    return targets


def _resolve(path: Path, target: str, root: Path, notes: list[str]) -> list[Path]:
    """The files a relative target names, when they are within ``root``."""
    if Path(target).is_absolute():
        notes.append(f"{path}: Location target {target} not followed (an absolute path: "
                     "only paths within the given directory are)")
        return []
    base = path.parent
    matches = sorted(base.glob(target)) if any(c in target for c in "*?[") \
        else [base / target]
    inside = root.resolve()
    out = []
    for found in matches:
        if not found.resolve().is_relative_to(inside):
            notes.append(f"{path}: Location target {target} not followed (outside "
                         f"{root})")
        elif not found.is_file():
            notes.append(f"{path}: Location target {target} not found")
        else:
            out.append(found)
    return out
