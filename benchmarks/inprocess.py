"""The engine in process, against the naive ways over the same graph and failures.

The engine's answer is ``analyse(index, scenario).answer(limit=1000)``: the
promise-level answer a server sends (counts, broken and at-risk promises, acts,
services, providers, a page of 1,000 impacted nodes, each listed node
explained). The naive ways: scipy's compiled breadth-first search over the
reverse graph (the same reach, without the rules), ``nx.descendants``, and the
naive evaluator ``naive_states`` (every node recomputed from all its
dependencies until nothing changes). Every answer is checked against the others
before it is timed; the run aborts on a disagreement.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import psutil
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from benchmarks.enterprise import Enterprise
from benchmarks.report import Row, human, log, mib
from benchmarks.timing import Timing, bench, ms, mt, once
from servicegraph.impact import GraphIndex, analyse, naive_states, propagate, to_networkx
from servicegraph.impact.index import KINDS
from servicegraph.model import NodeKind, State

Scenario = dict[str, State]


class Disagreement(AssertionError):
    """Two ways of answering the same question gave different answers."""


def reverse_csr(ent: Enterprise) -> sp.csr_matrix:
    """The graph along impact: from each dependency to its dependants."""
    ones = np.ones(ent.m, dtype=np.int8)
    return sp.csr_matrix((ones, (ent.dst, ent.src)), shape=(ent.n, ent.n))


def scipy_reach(rev: sp.csr_matrix, start: int) -> Any:
    """Every node that depends on ``start``, directly or not, itself included."""
    return breadth_first_order(rev, start, directed=True, return_predecessors=False)


def impact_graph(ent: Enterprise) -> Any:
    """A networkx DiGraph along impact (dependency -> dependant)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(ent.n))
    g.add_edges_from(zip(ent.dst.tolist(), ent.src.tolist(), strict=True))
    return g


@dataclass(frozen=True)
class Worst:
    node: int
    reach: int
    candidates: int


def worst_single_failure(ent: Enterprise, rev: sp.csr_matrix, seed: int) -> Worst:
    """The node whose failure reaches the most nodes, among the 48 most depended-on
    nodes, 48 random CIs and up to 48 of the nodes the shape made special (its hub,
    its chains' ends), by exact reach of each (breadth-first search)."""
    rng = np.random.default_rng(seed)
    indeg = np.bincount(ent.dst, minlength=ent.n)
    hubs = np.argsort(-indeg, kind="stable")[:48]
    cis = np.flatnonzero(ent.kinds == KINDS.index(NodeKind.CI))
    special = ent.special
    if len(special) > 48:
        special = rng.choice(special, 48, replace=False)
    pool = np.unique(np.r_[hubs, rng.choice(cis, min(48, len(cis)), replace=False),
                           special]).astype(np.int64)
    reach = [len(scipy_reach(rev, int(c))) for c in pool]
    best = int(np.argmax(reach))
    return Worst(int(pool[best]), reach[best], len(pool))


def storm(ent: Enterprise, seed: int, size: int) -> Scenario:
    """``size`` random systems and CIs down at once."""
    rng = np.random.default_rng(seed)
    lower = np.flatnonzero(ent.kinds >= KINDS.index(NodeKind.SERVICE_SYSTEM))
    picks = rng.choice(lower, min(size, len(lower)), replace=False)
    return {ent.ids[int(v)]: State.DOWN for v in picks}


def random_cis(ent: Enterprise, seed: int, count: int) -> list[Scenario]:
    rng = np.random.default_rng(seed)
    cis = np.flatnonzero(ent.kinds == KINDS.index(NodeKind.CI))
    return [{ent.ids[int(c)]: State.DOWN} for c in rng.choice(cis, count, replace=False)]


def engine_answer(index: GraphIndex, s: Scenario) -> dict[str, Any]:
    return analyse(index, s).answer(limit=1000)


def check_reach(index: GraphIndex, ent: Enterprise, rev: sp.csr_matrix, node: int,
                nxg: Any | None) -> int:
    """Engine, scipy (and networkx) reach the same nodes from one failure."""
    p = propagate(index, {node: int(State.DOWN)})
    engine = set(p.nodes.tolist())
    bfs = set(scipy_reach(rev, node).tolist())
    if engine != bfs:
        raise Disagreement(f"engine and scipy reach differ from {ent.ids[node]}: "
                           f"{len(engine ^ bfs)} nodes")
    if nxg is not None and engine != nx.descendants(nxg, node) | {node}:
        raise Disagreement(f"engine and nx.descendants differ from {ent.ids[node]}")
    return len(engine)


def check_naive(index: GraphIndex, g: Any, s: Mapping[str, State]) -> int:
    """The engine's states equal the naive evaluator's on every node."""
    naive = {k: v for k, v in naive_states(g, s).items() if v > State.OK}
    engine = dict(analyse(index, s).impacted)
    if naive != engine:
        diff = sorted(k for k in naive.keys() | engine.keys() if naive.get(k) != engine.get(k))
        raise Disagreement(f"engine and naive evaluator differ on {diff[:10]} "
                           f"({len(diff)} nodes) for {s!r}")
    return len(naive)


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def engine_rows(ent: Enterprise, seed: int, *, budget: float, with_nx: bool,
                size: str) -> tuple[list[Row], dict[str, Any]]:
    """The in-process figures at one size; also what the API part reuses."""
    rows: list[Row] = []
    rev = reverse_csr(ent)
    gc.collect()
    before = rss()
    t_build, index = once(ent.index)
    gc.collect()
    grown = rss() - before
    rows.append(Row("index build from arrays (in process)", size, ms(t_build)))
    rows.append(Row("in-memory index (process growth while building it)", size, mib(grown),
                    "≤ 500 MiB", grown <= 500 * 2**20,
                    "arrays, ids, names, owners, providers, id -> number"))
    worst = worst_single_failure(ent, rev, seed)
    w_id = ent.ids[worst.node]
    log(f"  worst single failure {w_id}: reach {human(worst.reach)}")
    nxg = impact_graph(ent) if with_nx else None
    reach = check_reach(index, ent, rev, worst.node, nxg)
    s_worst: Scenario = {w_id: State.DOWN}
    t_ans = bench(lambda s: engine_answer(index, s), [s_worst], budget=budget, min_reps=10)
    t_prop = bench(lambda v: propagate(index, {v: 2}), [worst.node], budget=budget,
                   min_reps=10)
    t_bfs = bench(lambda v: scipy_reach(rev, v), [worst.node], budget=budget, min_reps=10)
    ratio = t_ans.median / t_bfs.median
    rows.append(Row(
        "worst single failure, promise-level answer (in process)", size,
        mt(t_ans), "≤ 50 ms and ≤ 2x scipy",
        t_ans.median <= 0.050 and ratio <= 2.0,
        f"`{w_id}`, reach {human(reach)} nodes ({100 * reach / ent.n:.0f} %); "
        f"propagation alone {mt(t_prop)}; {ratio:.2f}x scipy"))
    rows.append(Row("scipy `breadth_first_order`, same reach", size, mt(t_bfs)))
    if nxg is not None:
        t_nx = bench(lambda v: nx.descendants(nxg, v), [worst.node], budget=budget,
                     min_reps=3, max_reps=10)
        rows.append(Row("`nx.descendants`, same reach", size, mt(t_nx), "",
                        None, f"engine answer {t_nx.median / t_ans.median:,.1f}x faster"))
    nxg = None  # free it before the storm
    s_storm = storm(ent, seed + 2, 1000)
    t_storm = bench(lambda s: engine_answer(index, s), [s_storm], budget=budget, min_reps=10)
    t_storm_p = bench(lambda s: analyse(index, s), [s_storm], budget=budget, min_reps=10)
    impacted = len(analyse(index, s_storm).propagation.nodes)
    rows.append(Row("incident storm of 1,000 failures, one propagation (in process)", size,
                    mt(t_storm), "≤ 100 ms", t_storm.median <= 0.100,
                    f"{human(impacted)} impacted; propagation alone {mt(t_storm_p)}"))
    cis = random_cis(ent, seed + 3, 50)
    t_ci = bench(lambda s: engine_answer(index, s), cis, budget=budget, min_reps=20)
    rows.append(Row("ordinary failure (a random CI), answer in process", size, mt(t_ci)))
    facts = {"index": index, "worst": worst, "worst_id": w_id, "storm": s_storm,
             "engine_worst": t_ans, "cis": cis}
    return rows, facts


def naive_rows(ent: Enterprise, seed: int, size: str, budget: float) -> list[Row]:
    """Engine against the naive evaluator (small sizes: it sweeps the whole graph)."""
    index = ent.index()
    g = to_networkx(ent.graph_data(seed))
    rev = reverse_csr(ent)
    worst = worst_single_failure(ent, rev, seed)
    cases = {"worst single failure": [{ent.ids[worst.node]: State.DOWN}],
             "random CI failure": random_cis(ent, seed + 3, 3),
             "storm of 1,000 failures": [storm(ent, seed + 2, min(1000, ent.n // 10))]}
    rows = []
    for case, scenarios in cases.items():
        sizes = [check_naive(index, g, s) for s in scenarios]
        t_naive = bench(lambda s: naive_states(g, s), scenarios, budget=budget, min_reps=3,
                        max_reps=5, warm=False)
        t_eng = bench(lambda s: engine_answer(index, s), scenarios, budget=1.0)
        rows.append(Row(f"naive evaluator vs engine: {case}", size,
                        f"{mt(t_naive)} vs {mt(t_eng)}", "", None,
                        f"{human(max(sizes))} impacted; same states on every node; "
                        f"engine {t_naive.median / t_eng.median:,.0f}x faster"))
    return rows


def index_growth(ent: Enterprise) -> Timing:
    """Index build times (for the table's facts)."""
    return bench(lambda e: e.index(), [ent], budget=2.0, min_reps=1, max_reps=3, warm=False)


#: The page the shapes' answers are timed with (what a console asks for).
SHAPE_LIMIT = 100


def shape_rows(shapes: Mapping[str, Enterprise], seed: int, *, budget: float
               ) -> list[Row]:
    """The worst single failure on each shape of enterprise: propagation alone and the
    answer with ``limit=100`` (explained), each against scipy's breadth-first search
    over the same reach (checked equal to the engine's before timing)."""
    rows: list[Row] = []
    for name, ent in shapes.items():
        rows += shape_worst(name, ent, seed, budget=budget)
        gc.collect()
    return rows


def shape_worst(name: str, ent: Enterprise, seed: int, *, budget: float) -> list[Row]:
    """:func:`shape_rows` for one shape."""
    size = human(ent.n)
    rev = reverse_csr(ent)
    index = ent.index()
    worst = worst_single_failure(ent, rev, seed)
    reach = check_reach(index, ent, rev, worst.node, None)
    w_id = ent.ids[worst.node]
    log(f"  {name}: worst single failure {w_id}, reach {human(reach)}")
    s_worst: Scenario = {w_id: State.DOWN}
    t_bfs = bench(lambda v: scipy_reach(rev, v), [worst.node], budget=budget, min_reps=10)
    t_prop = bench(lambda v: propagate(index, {v: 2}), [worst.node], budget=budget,
                   min_reps=10)
    t_ans = bench(lambda s: analyse(index, s).answer(limit=SHAPE_LIMIT), [s_worst],
                  budget=budget, min_reps=10)
    bfs = t_bfs.median
    facts = (f"{human(ent.m)} edges; `{w_id}`, reach {human(reach)} nodes "
             f"({100 * reach / ent.n:.0f} %); scipy `breadth_first_order` over the "
             f"same reach {mt(t_bfs)}")
    return [
        Row(f"worst single failure on the {name} shape, propagation alone", size,
            f"{mt(t_prop)}, {t_prop.median / bfs:.2f}x scipy", "≤ 2x scipy",
            t_prop.median <= 2 * bfs, facts),
        Row(f"worst single failure on the {name} shape, answer with `limit={SHAPE_LIMIT}`",
            size, f"{mt(t_ans)}, {t_ans.median / bfs:.2f}x scipy", "≤ 3x scipy",
            t_ans.median <= 3 * bfs, "counts, lists and page, explained"),
    ]
