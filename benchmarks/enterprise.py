"""The synthetic enterprise the benchmark measures: seeded, vectorised, any size.

Layers: 1 % promises, 2 % business services, 5 % service acts, 22 % service
systems, 70 % CIs in four tiers (application components 35 %, platform 30 %,
compute 25 %, foundation 10 %). About 4 dependencies per node, downward along
the layer table; most stay within their own stack (a local target near the
source's position), 10-30 % go to shared nodes drawn with a power law (the
hubs: shared services, shared infrastructure). Same-layer edges among business
services, service systems and within each CI tier, plus two-node cycles, so the
graph has cycles. 10 % of edges are soft; 25 % of the systems and CIs with two
or more hard dependencies below them have a redundancy group over two or three
of those (1 of 2, 2 of 3, 1 of 3). Components have providers, promises and
services owners, drawn from small pools with a power law.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from servicegraph.impact import GraphIndex
from servicegraph.impact.index import KINDS
from servicegraph.model import Edge, GraphData, Impact, Node, NodeKind

I64 = npt.NDArray[np.int64]

#: Blocks of nodes, top to bottom: (name, kind, share of all nodes).
BLOCKS: tuple[tuple[str, NodeKind, float], ...] = (
    ("promise", NodeKind.PROMISE, 0.01),
    ("business", NodeKind.BUSINESS_SERVICE, 0.02),
    ("act", NodeKind.SERVICE_ACT, 0.05),
    ("system", NodeKind.SERVICE_SYSTEM, 0.22),
    ("app", NodeKind.CI, 0.70 * 0.35),  # application components, data feeds, jobs
    ("platform", NodeKind.CI, 0.70 * 0.30),  # databases, middleware, SaaS tenants
    ("compute", NodeKind.CI, 0.70 * 0.25),  # VMs, containers, hosts
    ("foundation", NodeKind.CI, 0.70 * 0.10),  # storage, network, hypervisor clusters, DNS
)

#: Dependencies: (from block, to block, relative mean out-degree, share of "global" targets).
#: A local target sits near the source's relative position in the target block (its own
#: application stack); a global target is drawn with a power law that favours the first
#: nodes of the block (the hubs). Same-block rows are the same-layer edges; with global
#: targets among systems they also close cycles. Degrees are scaled to ``avg_degree``.
EDGE_SPECS: tuple[tuple[str, str, float, float], ...] = (
    ("promise", "business", 2.0, 0.3),
    ("promise", "act", 0.7, 0.3),
    ("promise", "system", 0.3, 0.3),
    ("business", "act", 3.0, 0.2),
    ("business", "business", 0.3, 0.2),
    ("business", "system", 0.7, 0.3),
    ("act", "system", 3.5, 0.2),
    ("system", "system", 0.5, 0.3),
    ("system", "app", 3.0, 0.1),
    ("system", "platform", 1.2, 0.2),
    ("system", "compute", 0.3, 0.2),
    ("app", "app", 0.3, 0.0),
    ("app", "platform", 2.2, 0.1),
    ("app", "compute", 1.0, 0.1),
    ("platform", "platform", 0.3, 0.0),
    ("platform", "compute", 2.5, 0.1),
    ("platform", "foundation", 0.5, 0.2),
    ("compute", "compute", 0.2, 0.0),
    ("compute", "foundation", 2.0, 0.1),
    ("foundation", "foundation", 0.6, 0.2),
)
SKEW = 3.0  # global targets: u ** SKEW over the block, u uniform in [0, 1)
LOCAL_SPREAD = 0.002  # spread of a local target around the source's relative position
SOFT_SHARE = 0.10
GROUP_SHARE = 0.25
PAIR_SHARE = 0.005  # systems and CIs put in a two-node cycle with a neighbour
GROUP_NAME = "r"
PROVIDERS = 40
OWNERS = 25


@dataclass(frozen=True)
class Enterprise:
    """A synthetic enterprise as plain arrays (what ``GraphIndex.from_arrays`` takes).

    Positions follow the blocks top to bottom; a redundancy group's members always
    lie at higher positions than its node (below it), which lets a loader push the
    graph bottom-up with every group complete when its node arrives.
    """

    ids: tuple[str, ...]
    kinds: npt.NDArray[np.int8]
    src: I64
    dst: I64
    soft: I64
    grp: I64  # group number per edge, -1 when ungrouped
    group_node: I64
    group_min: I64
    who: npt.NDArray[np.int16]  # provider (components) or owner (the rest) number, -1: none
    blocks: Mapping[str, tuple[int, int]]
    #: Nodes the shape made special (its hub, its chains' ends): candidates for the
    #: worst single failure beside the most depended-on nodes.
    special: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def m(self) -> int:
        return len(self.src)

    def provider(self, v: int) -> str | None:
        """The provider of a component (service systems and CIs)."""
        if self.kinds[v] < KINDS.index(NodeKind.SERVICE_SYSTEM) or self.who[v] < 0:
            return None
        return f"Provider {int(self.who[v]):02d}"

    def owner(self, v: int) -> str | None:
        """The owner of a promise, business service or act."""
        if self.kinds[v] >= KINDS.index(NodeKind.SERVICE_SYSTEM) or self.who[v] < 0:
            return None
        return f"Owner {int(self.who[v]):02d}"

    def index(self) -> GraphIndex:
        """The engine's index, straight from the arrays (as the live graph builds it)."""
        rng = range(self.n)
        return GraphIndex.from_arrays(
            self.ids, self.kinds, self.src, self.dst, self.soft, self.grp,
            self.group_node.tolist(), (GROUP_NAME,) * len(self.group_node),
            self.group_min.tolist(), owners=[self.owner(v) for v in rng],
            providers=[self.provider(v) for v in rng])

    def node(self, v: int, need: Mapping[int, int]) -> dict[str, object]:
        """Node ``v`` in interchange form."""
        item: dict[str, object] = {"id": self.ids[v], "kind": KINDS[self.kinds[v]].value,
                                   "name": self.ids[v]}
        owner, provider = self.owner(v), self.provider(v)
        if owner is not None:
            item["owner"] = owner
        if provider is not None:
            item["provider"] = provider
        if v in need:
            item["redundancy"] = {GROUP_NAME: need[v]}
        return item

    def edge(self, e: int) -> dict[str, object]:
        """Edge ``e`` in interchange form."""
        item: dict[str, object] = {"from": self.ids[int(self.src[e])],
                                   "to": self.ids[int(self.dst[e])]}
        if self.grp[e] >= 0:
            item["group"] = GROUP_NAME
        if self.soft[e]:
            item["impact"] = "soft"
        return item

    def needs(self) -> dict[int, int]:
        """Node -> min_ok of its group."""
        return dict(zip(self.group_node.tolist(), self.group_min.tolist(), strict=True))

    def pages(self, size: int) -> Iterator[tuple[list[dict[str, object]],
                                                 list[dict[str, object]]]]:
        """The whole graph as pushes of at most ``size`` items, bottom-up: each page's
        edges end at nodes pushed before or in the page, and a node declaring a group
        comes with the group's edges."""
        need = self.needs()
        # An edge goes with the later of its two ends in bottom-up order (the smaller
        # position): the page where both exist.
        home = np.minimum(self.src, self.dst)
        by_home = np.argsort(home, kind="stable")[::-1]
        counts = np.bincount(home, minlength=self.n)
        e_at, hi = 0, self.n
        while hi > 0:
            lo, items = hi, 0
            while lo > 0 and (items == 0 or items + 1 + counts[lo - 1] <= size):
                lo -= 1
                items += 1 + int(counts[lo])
            nodes = [self.node(v, need) for v in range(hi - 1, lo - 1, -1)]
            end = e_at + int(counts[lo:hi].sum())
            edges = [self.edge(int(e)) for e in by_home[e_at:end]]
            e_at, hi = end, lo
            yield nodes, edges

    def graph_data(self, seed: int) -> GraphData:
        """The same graph as model objects, nodes and edges in a shuffled (seeded)
        order, as a store might return them."""
        rng = np.random.default_rng(seed)
        need = self.needs()
        nodes = [
            Node(self.ids[i], KINDS[self.kinds[i]], self.ids[i], owner=self.owner(i),
                 provider=self.provider(i),
                 redundancy={GROUP_NAME: need[i]} if i in need else {})
            for i in rng.permutation(self.n).tolist()
        ]
        ids, order = self.ids, rng.permutation(self.m)
        edges = [
            Edge(ids[s], ids[t], GROUP_NAME if g >= 0 else None,
                 Impact.SOFT if soft else Impact.HARD)
            for s, t, soft, g in zip(self.src[order].tolist(), self.dst[order].tolist(),
                                     self.soft[order].tolist(), self.grp[order].tolist(),
                                     strict=True)
        ]
        return GraphData(tuple(nodes), tuple(edges))


def ndjson(nodes: list[dict[str, object]], edges: list[dict[str, object]]) -> bytes:
    """A page as an NDJSON body."""
    lines = [json.dumps({"node": n}) for n in nodes] + [json.dumps({"edge": e}) for e in edges]
    return ("\n".join(lines) + "\n").encode()


def _block_sizes(n: int) -> list[int]:
    shares = np.array([share for _, _, share in BLOCKS])
    sizes = np.maximum(np.floor(shares * n).astype(np.int64), 1)
    sizes[-4] += n - sizes.sum()  # the remainder goes to the largest block (app CIs)
    return [int(x) for x in sizes]


def generate(n: int, seed: int = 7, avg_degree: float = 4.0,
             group_share: float = GROUP_SHARE) -> Enterprise:
    """A seeded synthetic enterprise of ``n`` nodes and about ``avg_degree * n`` edges
    (``group_share`` of the systems and CIs that can have a redundancy group have one)."""
    rng = np.random.default_rng(seed)
    blocks: dict[str, tuple[int, int]] = {}
    lo = 0
    for (name, _, _), count in zip(BLOCKS, _block_sizes(n), strict=True):
        blocks[name] = (lo, lo + count)
        lo += count
    kinds = np.empty(n, dtype=np.int8)
    for name, kind, _ in BLOCKS:
        kinds[slice(*blocks[name])] = KINDS.index(kind)

    size = {b: b_hi - b_lo for b, (b_lo, b_hi) in blocks.items()}
    wanted = sum(d * size[a] for a, _, d, _ in EDGE_SPECS)
    scale = avg_degree * n / wanted * 1.01  # duplicates and self-loops are dropped below
    srcs: list[I64] = []
    dsts: list[I64] = []
    for a, b, degree, global_share in EDGE_SPECS:
        (a_lo, a_hi), (b_lo, b_hi) = blocks[a], blocks[b]
        count = round(degree * scale * size[a])
        s = rng.integers(a_lo, a_hi, count)
        rel = (s - a_lo + rng.random(count)) / size[a] + rng.normal(0.0, LOCAL_SPREAD, count)
        hub = rng.random(count) < global_share
        rel[hub] = rng.random(int(hub.sum())) ** SKEW
        t = b_lo + np.floor(np.mod(rel, 1.0) * size[b]).astype(np.int64)
        srcs.append(s)
        dsts.append(np.minimum(t, b_hi - 1))
    for name in ("system", "app", "platform", "compute", "foundation"):
        b_lo, b_hi = blocks[name]
        if b_hi - b_lo < 2:
            continue
        first = rng.integers(b_lo, b_hi - 1, max(1, int(PAIR_SHARE * (b_hi - b_lo))))
        srcs += [first, first + 1]
        dsts += [first + 1, first]
    src = np.concatenate(srcs)
    dst = np.concatenate(dsts)
    keep = src != dst
    key = np.unique(src[keep] * n + dst[keep])  # one dependency per pair, sorted by source
    src, dst = key // n, key % n
    m = len(src)
    soft = (rng.random(m) < SOFT_SHARE).astype(np.int64)

    # Redundancy groups over the first two or three hard dependencies below the node.
    lower = blocks["system"][0]
    cand = np.flatnonzero((soft == 0) & (src >= lower) & (dst > src))
    cand_src = src[cand]
    starts = np.flatnonzero(np.r_[True, cand_src[1:] != cand_src[:-1]])
    counts = np.diff(np.r_[starts, len(cand)])
    owners = cand_src[starts]
    chosen = (counts >= 2) & (rng.random(len(owners)) < group_share)
    members = np.where((counts >= 3) & (rng.random(len(owners)) < 0.6), 3, 2)
    min_ok = np.where(members == 3, np.where(rng.random(len(owners)) < 0.7, 2, 1), 1)
    group_of_owner = np.where(chosen, np.cumsum(chosen) - 1, -1)
    rank = np.arange(len(cand)) - np.repeat(starts, counts)
    owner_pos = np.repeat(np.arange(len(owners)), counts)
    in_group = chosen[owner_pos] & (rank < members[owner_pos])
    grp = np.full(m, -1, dtype=np.int64)
    grp[cand[in_group]] = group_of_owner[owner_pos[in_group]]

    # Providers of components and owners of the rest: a few big ones, many small.
    components = kinds >= KINDS.index(NodeKind.SERVICE_SYSTEM)
    pool = np.where(components, PROVIDERS, OWNERS)
    who = np.floor(rng.random(n) ** 2 * pool).astype(np.int16)
    who[rng.random(n) < 0.05] = -1  # some have nobody named

    width = len(str(n))
    ids: list[str] = []
    for name, _, _ in BLOCKS:
        b_lo, b_hi = blocks[name]
        ids += [f"{name}-{i:0{width}d}" for i in range(b_lo, b_hi)]
    return Enterprise(tuple(ids), kinds, src, dst, soft, grp, owners[chosen],
                      min_ok[chosen], who, blocks)


def with_edges(ent: Enterprise, src: I64, dst: I64, special: I64) -> Enterprise:
    """``ent`` with more hard, ungrouped dependencies (pairs already there, and
    self-loops, are dropped), sorted by source as :func:`generate` leaves them."""
    n = ent.n
    old = ent.src * n + ent.dst
    new = np.asarray(src, dtype=np.int64) * n + np.asarray(dst, dtype=np.int64)
    new = np.setdiff1d(np.unique(new[(new // n) != (new % n)]), old)
    key = np.r_[old, new]
    order = np.argsort(key, kind="stable")
    extra = np.zeros(len(new), dtype=np.int64)
    return replace(ent, src=(key // n)[order], dst=(key % n)[order],
                   soft=np.r_[ent.soft, extra][order],
                   grp=np.r_[ent.grp, extra - 1][order],
                   special=np.asarray(special, dtype=np.int64))


def hub(n: int, seed: int = 7) -> Enterprise:
    """A near-universal hub: one foundation CI (a directory, a network core) that
    almost every system and CI depends on directly, on a sparser enterprise (about
    2.5 dependencies per node), so its failure reaches nearly every node."""
    ent = generate(n, seed, avg_degree=2.5)
    rng = np.random.default_rng(seed + 101)
    centre = ent.blocks["foundation"][0]
    lower = np.arange(ent.blocks["system"][0], n)
    lower = lower[rng.random(len(lower)) < 0.97]
    return with_edges(ent, lower, np.full(len(lower), centre), np.array([centre]))


#: Nodes per chain in :func:`chains` (chains run within a block, each node needing the next).
CHAIN = 500


def chains(n: int, seed: int = 7) -> Enterprise:
    """Deep chains: within each layer of systems and CIs, each node needs the next, in
    runs of :data:`CHAIN` nodes, so a failure at a run's end climbs hundreds of levels
    before it spreads upwards."""
    ent = generate(n, seed, avg_degree=3.0)
    srcs, ends = [], []
    for name in ("system", "app", "platform", "compute", "foundation"):
        lo, hi = ent.blocks[name]
        v = np.arange(lo, hi - 1)
        link = ((v - lo + 1) % CHAIN) != 0
        srcs.append(v[link])
        ends.append(np.arange(lo + CHAIN - 1, hi, CHAIN))
    src = np.concatenate(srcs)
    return with_edges(ent, src, src + 1, np.concatenate(ends))


#: Dependencies of each promise and business service in :func:`fan_in`.
FAN = 200


def fan_in(n: int, seed: int = 7) -> Enterprise:
    """Wide fan-in: every promise and business service needs :data:`FAN` acts and
    systems drawn at random, so a failure breaks promises with many causes each."""
    ent = generate(n, seed)
    rng = np.random.default_rng(seed + 103)
    top = np.arange(ent.blocks["promise"][0], ent.blocks["act"][0])
    lo, hi = ent.blocks["act"][0], ent.blocks["system"][1]
    src = np.repeat(top, FAN)
    dst = rng.integers(lo, hi, len(src))
    return with_edges(ent, src, dst, np.zeros(0, dtype=np.int64))


def groups(n: int, seed: int = 7) -> Enterprise:
    """Many redundancy groups: nearly every system and CI with two or more hard
    dependencies below it has a group over them."""
    return generate(n, seed, group_share=0.95)


#: The shapes the benchmark takes its worst single failure on, by name.
SHAPES = {"enterprise": generate, "hub": hub, "chains": chains, "fan-in": fan_in,
          "groups": groups}
