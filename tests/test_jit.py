"""Kernels run as Python below a bound give the answers the compiled kernels give, and
a process that stays below it never loads numba."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings

from servicegraph.impact import GraphIndex, analyse, jit, root_cause_candidates, spof_ranking
from servicegraph.model import GraphData, State

from graphs import graphs_with_scenario


@pytest.fixture(autouse=True)
def compiled_after() -> Iterator[None]:
    yield
    jit.interpret_below(0)


def both(ask: Callable[[], Any]) -> tuple[Any, Any]:
    """``ask`` answered by the compiled kernels, then by the kernels run as Python."""
    jit.interpret_below(0)
    compiled = ask()
    jit.interpret_below(10**9)
    try:
        interpreted = ask()
    finally:
        jit.interpret_below(0)
    return compiled, interpreted


@settings(max_examples=150, deadline=None)
@given(graphs_with_scenario())
def test_impact_answers_are_the_same_run_as_python(
        case: tuple[GraphData, dict[str, State]]) -> None:
    g, scenario = case

    def ask() -> Any:
        # A fresh index: nothing of one mode's run left for the other.
        return analyse(GraphIndex.from_graph(g), scenario).answer()

    compiled, interpreted = both(ask)
    assert interpreted == compiled


@settings(max_examples=100, deadline=None)
@given(graphs_with_scenario())
def test_spof_and_root_cause_are_the_same_run_as_python(
        case: tuple[GraphData, dict[str, State]]) -> None:
    g, scenario = case

    def ask() -> Any:
        index = GraphIndex.from_graph(g)
        ranking = [sp.to_dict() for sp in spof_ranking(index)]
        causes = ([c.to_dict() for c in root_cause_candidates(index, scenario, limit=50)]
                  if scenario else [])
        return ranking, causes

    compiled, interpreted = both(ask)
    assert interpreted == compiled


def test_the_bound_is_the_size_of_the_first_array(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from servicegraph.impact import kernels

    ran_as_python: list[str] = []
    plain = jit.Kernel._interpret

    def spy(self: jit.Kernel, args: tuple[Any, ...]) -> Any:
        ran_as_python.append(self.__name__)
        return plain(self, args)

    monkeypatch.setattr(jit.Kernel, "_interpret", spy)
    n = 3
    empty = np.zeros(0, dtype=np.int64)

    def reach() -> int:
        return int(kernels.reach(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
                                 empty, empty, np.zeros(0, dtype=np.bool_),
                                 np.array([1], dtype=np.int64), np.zeros(n, dtype=np.bool_),
                                 np.zeros(n, dtype=np.int64)))

    jit.interpret_below(n + 1)
    assert jit.interpreting() == n + 1
    assert reach() == 1 and ran_as_python == ["reach"]
    jit.interpret_below(n)
    assert reach() == 1 and ran_as_python == ["reach"]  # compiled this time
    jit.interpret_below(-5)
    assert jit.interpreting() == 0


def test_below_the_bound_numba_is_never_imported() -> None:
    script = (
        "import sys\n"
        "from servicegraph.impact import analyse, GraphIndex, jit, spof_ranking\n"
        "from servicegraph.examples import example_graph\n"
        "jit.interpret_below(10_000)\n"
        "index = GraphIndex.from_graph(example_graph())\n"
        "answer = analyse(index, {'feed-job': __import__('servicegraph').State.DOWN})\n"
        "assert answer.broken_promises, answer.broken_promises\n"
        "assert spof_ranking(index)\n"
        "print(sorted(m for m in ('numba', 'neo4j', 'networkx') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stderr
