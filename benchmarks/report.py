"""The table of figures against their targets, the machine, and the page written."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata


@dataclass
class Row:
    """One figure: what was measured, against what target, and why it falls short."""

    figure: str
    size: str
    value: str
    target: str = ""
    met: bool | None = None  # None: reported only
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**not met**", None: "reported"}[self.met]


def human(n: int) -> str:
    return f"{n:,}"


def mib(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine(neo4j_version: str | None) -> list[str]:
    """The machine and the versions, as list items."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
        memory = f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    versions = ", ".join(f"{p} {_version(p)}" for p in (
        "numpy", "numba", "scipy", "networkx", "neo4j", "neo4j-rust-ext", "fastapi",
        "uvicorn"))
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu}, {os.cpu_count()} cores ({usable} usable), {memory} memory; "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); "
        f"{versions}; Neo4j {neo4j_version or 'not run'} Community",
    ]


def table(rows: Sequence[Row]) -> list[str]:
    out = ["| figure | size | measured | target | verdict | notes |",
           "|---|---|---|---|---|---|"]
    out += [f"| {r.figure} | {r.size} | {r.value} | {r.target} | {r.verdict} | {r.note} |"
            for r in rows]
    return out


def shortfall(rows: Sequence[Row]) -> str:
    """The line under a section's table: how many of its targets were not met, and which."""
    short = [r.figure for r in rows if r.met is False]
    return (f"{len(short)} of {sum(r.met is not None for r in rows)} targets not met"
            + (": " + "; ".join(short) if short else "") + ".")


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())
