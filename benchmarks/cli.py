"""The command line from the shell: each question's wall clock on an embedded store of
100 and of 10,000 nodes, each run a new process, as a person runs it.

Against two baselines: the bare start of Python with the command line's package
imported (``python -c "import servicegraph.cli"``), the floor no command goes below;
and the *eager* way, the same command with the Neo4j driver, numba and networkx
imported first and the kernels compiled, which is what every command loaded before
they were imported on first use.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.enterprise import Enterprise, generate
from benchmarks.report import Row, human
from benchmarks.timing import ms

#: The store sizes, and the target of the small one.
SIZES = (100, 10_000)
TARGET = 0.5
HELP_TARGET = 0.3
#: The eager way: what a command imported before, then the command itself.
EAGER = ("import neo4j, numba, networkx\n"
         "import servicegraph.cli.backend as b\n"
         "b.INTERPRET_BELOW = 0\n"
         "from servicegraph.cli import app\n"
         "app(prog_name='servicegraph')\n")


#: Where the commands keep what they cache (set by :func:`cli_rows`: the run's own folder).
_CACHE: dict[str, str] = {}
#: A cache folder that cannot be made: the commands then keep nothing between runs.
NOWHERE = "/dev/null/servicegraph"


def _env(**extra: str) -> dict[str, str]:
    """The environment of a person's shell: byte code cached (a warm-up run writes it),
    no store or server named by the caller's environment; the commands' cache in the
    run's folder."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "SERVICEGRAPH_STORE", "SERVICEGRAPH_SERVER")}
    env.update(_CACHE)
    env.update(extra)
    return env


def _script() -> list[str]:
    found = Path(sys.executable).with_name("servicegraph")
    return [str(found)] if found.exists() else [sys.executable, "-m", "servicegraph.cli"]


@dataclass(frozen=True)
class Runs:
    """Runs of one command: wall clock (median and best) and processor time (median,
    user and system: what the command costs whatever else the machine runs)."""

    median: float
    best: float
    cpu: float

    def __str__(self) -> str:
        return ms(self.median)

    @property
    def detail(self) -> str:
        return f"best {ms(self.best)}, CPU {ms(self.cpu)}"


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def wall(argv: Sequence[str], reps: int, **extra: str) -> Runs:
    """``argv`` run ``reps`` times, after one warm-up run (``extra``: more environment)."""
    env = _env(**extra)
    samples: list[float] = []
    cpus: list[float] = []
    for i in range(reps + 1):
        c0, t0 = _cpu(), time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        took, cpu = time.perf_counter() - t0, _cpu() - c0
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-1000:]}")
        if i:
            samples.append(took)
            cpus.append(cpu)
    return Runs(statistics.median(samples), min(samples), statistics.median(cpus))


def load_store(ent: Enterprise, path: Path, seed: int) -> None:
    """The enterprise written into an embedded store, as ``servicegraph load`` writes it."""
    from servicegraph.core import ServiceGraph
    from servicegraph.store import SqliteStore

    graph = ServiceGraph(SqliteStore(str(path)))
    try:
        graph.writes.load(ent.graph_data(seed))
    finally:
        graph.close()


def questions(ent: Enterprise) -> list[tuple[str, list[str]]]:
    """The commands timed, each named: a CI that many things depend on fails."""
    ci = ent.ids[ent.blocks["platform"][0]]
    return [("nodes", ["nodes"]), ("impact", ["impact", ci]), ("spof", ["spof"]),
            ("root-cause", ["root-cause", ci]), ("export", ["export"])]


def cli_rows(work: Path, seed: int, reps: int = 5,
             sizes: Sequence[int] = SIZES) -> list[Row]:
    """The section's rows: ``--help``, the bare import, then each command at each size."""
    script = _script()
    _CACHE["SERVICEGRAPH_CLI_CACHE_DIR"] = str(work / "cache")
    rows: list[Row] = []
    floor = wall([sys.executable, "-c", "import servicegraph.cli"], reps)
    took = wall([*script, "--help"], reps)
    rows.append(Row("`servicegraph --help`", "-", str(took), f"≤ {HELP_TARGET} s",
                    took.median <= HELP_TARGET,
                    f"{took.detail}; bare `import servicegraph.cli`: {floor}"))
    timed: dict[str, list[tuple[Runs, Runs]]] = {}
    #: ``spof`` with nowhere to keep its table: computed by every command.
    every: list[Runs] = []
    for n in sizes:
        ent = generate(n, seed)
        db = work / f"cli-{n}.db"
        db.unlink(missing_ok=True)
        load_store(ent, db, seed)
        for name, args in questions(ent):
            where = ["--store", str(db)]
            now = wall([*script, *args, *where], reps)
            eager = wall([sys.executable, "-c", EAGER, *args, *where], reps)
            timed.setdefault(name, []).append((now, eager))
            if name == "spof":
                every.append(wall([*script, *args, *where], reps,
                                  SERVICEGRAPH_CLI_CACHE_DIR=NOWHERE))
    label = " / ".join(human(n) for n in sizes)
    for name, figures in timed.items():
        small = figures[0][0]
        kept = ("" if name != "spof" else
                "the table kept between commands (computed in the warm-up run); computed "
                "by every command (nowhere to keep it): "
                + " / ".join(str(r) for r in every) + "; ")
        rows.append(Row(f"`servicegraph {name}` on the embedded store", label,
                        " / ".join(str(now) for now, _ in figures),
                        f"≤ {TARGET} s at {human(sizes[0])}", small.median <= TARGET,
                        kept + "eager way: " + " / ".join(str(e) for _, e in figures) + "; "
                        + "; ".join(f"{human(n)}: {now.detail}, eager {e.detail}"
                                    for n, (now, e) in zip(sizes, figures, strict=True))))
    return rows


def section(rows: Sequence[Row], reps: int, started: float) -> list[str]:
    """The page's section for the command line."""
    from benchmarks.report import load, machine, table

    return [
        "## The command line from the shell",
        "",
        f"`python -m benchmarks --only cli`; median wall clock of {reps} runs after a "
        "warm-up, each a new process (the notes add the best run and the median processor "
        "time, user and system, which other work on the machine does not inflate); "
        f"whole run {time.perf_counter() - started:,.0f} s; load average "
        f"{load()} at the end (the machine may be shared). The eager way is the same "
        "command with the Neo4j driver, numba and networkx imported first and the "
        "kernels compiled: what every command loaded before they were imported on "
        "first use. Below 2,000 nodes the kernels run as Python; above, numba loads "
        "them compiled from its disk cache.",
        "",
        *machine(None),
        "",
        *table(rows),
        "",
    ]
