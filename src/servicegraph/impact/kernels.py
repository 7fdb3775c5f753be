"""Compiled kernels over the index's arrays (numba, cached on disk after the first run).

Adjacency is kept in *blocks*: node ``v``'s edges are ``pool[start[v]:start[v]+len[v]]``
(edge numbers), and an edge counts only while ``active[e]``. Every kernel takes
plain arrays and scratch space, so the index can grow and change between calls
without a rebuild, and a query costs what it reaches, not what the graph holds.

State codes: 0 ok, 1 degraded, 2 down.
"""

from __future__ import annotations

from typing import Any

from servicegraph.impact.jit import kernel

_OK, _DEGRADED, _DOWN = 0, 1, 2

# Kernels are compiled on first use and cached beside this file when it is writable;
# small work runs as Python (see servicegraph.impact.jit).
_jit: Any = kernel


@_jit
def group_state(g: int, g_size: Any, g_min: Any, g_ok: Any, g_notok: Any,
                g_down: Any) -> int:
    """What redundancy group ``g`` contributes under its member counters: down with
    fewer than ``g_min`` members up, degraded with fewer than ``g_ok`` members ok."""
    if g_size[g] - g_down[g] < g_min[g]:
        return _DOWN
    if g_size[g] - g_notok[g] < g_ok[g]:
        return _DEGRADED
    return _OK


_LOW = 0xFFFFFFFF


@_jit
def propagate(in_start: Any, in_len: Any, in_link: Any, g_size: Any,
              g_min: Any, g_ok: Any, given_nodes: Any, given_states: Any,
              state: Any, done: Any, downs: Any, degradeds: Any,
              g_notok: Any, g_down: Any, g_seen: Any,
              touched: Any, touched_groups: Any) -> tuple[int, int]:
    """The least fixpoint of the impact rules from the given states, by worklist.

    States only rise (ok -> degraded -> down). Nodes that go down are worked off
    before any that is only degraded: a degraded dependency never puts its dependant
    down (only down members put a group down), so once no node waits down, every node
    that ends down is down, and each node's dependants are walked once, as a
    breadth-first search walks them. A node is pushed on ``downs`` when it goes down
    and on ``degradeds`` when it goes degraded from ok, so each stack holds every
    node at most once; ``done`` holds the state a node's dependants last saw.
    Each edge is read as one ``link`` word (its dependant and how it counts, see the
    index), from ``in_link`` beside the dependants' blocks: a node's dependants are
    read in order. ``state``, ``done``, ``g_notok``, ``g_down`` and ``g_seen`` must be
    all zero on entry; the caller resets the entries listed in ``touched[:k]`` and
    ``touched_groups[:j]`` (the two counts returned) after reading them.
    """
    n_touched = 0
    n_groups = 0
    n_down = 0
    n_deg = 0
    for i in range(given_nodes.shape[0]):
        v = given_nodes[i]
        s = given_states[i]
        if s > state[v]:
            if state[v] == _OK:
                touched[n_touched] = v
                n_touched += 1
                if s == _DEGRADED:
                    degradeds[n_deg] = v
                    n_deg += 1
            if s == _DOWN:
                downs[n_down] = v
                n_down += 1
            state[v] = s
    while n_down > 0 or n_deg > 0:
        if n_down > 0:
            n_down -= 1
            v = downs[n_down]
        else:
            n_deg -= 1
            v = degradeds[n_deg]
        old = done[v]
        new = state[v]
        if old == new:
            continue  # already walked at this state (pushed on both stacks)
        done[v] = new
        for k in range(in_start[v], in_start[v] + in_len[v]):
            link = in_link[k]
            code = link & _LOW
            if code == 0:
                continue
            if code >= 3:
                g = code - 3
                if not g_seen[g]:
                    g_seen[g] = True
                    touched_groups[n_groups] = g
                    n_groups += 1
                if old == _OK:
                    g_notok[g] += 1
                if new == _DOWN and old < _DOWN:
                    g_down[g] += 1
                cand = group_state(g, g_size, g_min, g_ok, g_notok, g_down)
            elif code == 2:
                cand = _DEGRADED
            else:
                cand = new
            u = link >> 32
            # The same rise as for the given states above, written out: as a helper
            # (even inlined) it made propagation about twice as slow when measured.
            was = state[u]
            if cand > was:
                if was == _OK:
                    touched[n_touched] = u
                    n_touched += 1
                    if cand == _DEGRADED:
                        degradeds[n_deg] = u
                        n_deg += 1
                if cand == _DOWN:
                    downs[n_down] = u
                    n_down += 1
                state[u] = cand
    return n_touched, n_groups


@_jit
def contribution(e: int, state: Any, e_dst: Any, e_soft: Any, e_grp: Any, g_size: Any,
                 g_min: Any, g_ok: Any, g_notok: Any, g_down: Any) -> int:
    """What edge ``e`` contributes to its dependant under final states."""
    g = e_grp[e]
    if g >= 0:
        return group_state(g, g_size, g_min, g_ok, g_notok, g_down)
    dep = state[e_dst[e]]
    if e_soft[e]:
        return _DEGRADED if dep > _OK else _OK
    return dep


@_jit
def is_cause(e: int, final: int, state: Any, e_dst: Any, e_soft: Any, e_grp: Any,
             g_size: Any, g_min: Any, g_ok: Any, g_notok: Any, g_down: Any) -> bool:
    """Whether edge ``e``'s dependency is among the causes of its dependant's ``final``
    state: its contribution is that state, and (for a group that is down) the member
    itself is down."""
    if contribution(e, state, e_dst, e_soft, e_grp, g_size, g_min, g_ok, g_notok,
                    g_down) != final:
        return False
    dep = state[e_dst[e]]
    if e_grp[e] >= 0 and final == _DOWN:
        return dep == _DOWN
    return dep > _OK


@_jit
def parents(in_start: Any, in_len: Any, in_link: Any, g_size: Any, g_min: Any,
            g_ok: Any, g_notok: Any, g_down: Any, state: Any, rank: Any, roots: Any, parent: Any,
            depth: Any, frontier: Any, following: Any) -> None:
    """Breadth-first parent pointers from the ``roots`` along cause edges (see
    :func:`is_cause`).

    ``parent`` must be -1 for every node on entry and holds, on exit, for every
    node reached its next hop towards a root (a root points at itself). Among the
    causes one level nearer the roots, the next hop is the one first in ``rank``
    order (the ids' order), so among equally short chains the one chosen depends on
    the ids only; no level needs sorting. ``depth`` is scratch (read only where
    ``parent`` is set).
    """
    n_front = 0
    for i in range(roots.shape[0]):
        r = roots[i]
        if parent[r] < 0:
            parent[r] = r
            depth[r] = 0
            frontier[n_front] = r
            n_front += 1
    level = 0
    while n_front > 0:
        n_next = 0
        for i in range(n_front):
            dep = frontier[i]
            below = state[dep]
            for k in range(in_start[dep], in_start[dep] + in_len[dep]):
                link = in_link[k]
                code = link & _LOW
                if code == 0:
                    continue
                a = link >> 32
                final = state[a]
                if final == _OK:
                    continue
                held = parent[a]
                if held >= 0 and not (depth[a] == level + 1 and rank[dep] < rank[held]):
                    continue
                # is_cause, with the dependency's state at hand
                if code >= 3:
                    if group_state(code - 3, g_size, g_min, g_ok, g_notok, g_down) != final:
                        continue
                    if not (below == _DOWN if final == _DOWN else below > _OK):
                        continue
                elif code == 2:
                    if final != _DEGRADED or below == _OK:
                        continue
                elif below != final:
                    continue
                parent[a] = dep
                if held < 0:
                    depth[a] = level + 1
                    following[n_next] = a
                    n_next += 1
        for i in range(n_next):
            frontier[i] = following[i]
        n_front = n_next
        level += 1


@_jit
def causes(out_start: Any, out_len: Any, out_pool: Any, e_dst: Any, e_soft: Any, e_grp: Any,
           e_active: Any, g_size: Any, g_min: Any, g_ok: Any, g_notok: Any, g_down: Any,
           state: Any,
           nodes: Any, found: Any, ends: Any) -> int:
    """The cause edges of each of ``nodes`` (see :func:`is_cause`), in ``found``; the
    causes of ``nodes[i]`` end at ``ends[i]``. Returns how many were written (when
    ``found`` is too small, the count needed, and ``ends`` is not complete)."""
    k = 0
    cap = found.shape[0]
    for i in range(nodes.shape[0]):
        v = nodes[i]
        final = state[v]
        if final != _OK:
            for j in range(out_start[v], out_start[v] + out_len[v]):
                e = out_pool[j]
                if e_active[e] and is_cause(e, final, state, e_dst, e_soft, e_grp, g_size,
                                            g_min, g_ok, g_notok, g_down):
                    if k < cap:
                        found[k] = e
                    k += 1
        ends[i] = k
    return k


@_jit
def reach(out_start: Any, out_len: Any, out_pool: Any, e_dst: Any, e_active: Any,
          starts: Any, seen: Any, found: Any) -> int:
    """Nodes reachable from ``starts`` along dependencies (``starts`` included):
    written to ``found``, their count returned. ``seen`` must be all False on entry;
    the caller resets the entries it lists."""
    n = 0
    for i in range(starts.shape[0]):
        v = starts[i]
        if not seen[v]:
            seen[v] = True
            found[n] = v
            n += 1
    head = 0
    while head < n:
        v = found[head]
        head += 1
        for k in range(out_start[v], out_start[v] + out_len[v]):
            e = out_pool[k]
            if not e_active[e]:
                continue
            t = e_dst[e]
            if not seen[t]:
                seen[t] = True
                found[n] = t
                n += 1
    return n


@_jit
def find_edges(out_start: Any, out_len: Any, out_pool: Any, e_dst: Any, e_alive: Any,
               sources: Any, targets: Any, found: Any) -> None:
    """For each (source, target) pair, the number of the edge between them, or -1."""
    for i in range(sources.shape[0]):
        s = sources[i]
        t = targets[i]
        found[i] = -1
        for k in range(out_start[s], out_start[s] + out_len[s]):
            e = out_pool[k]
            if e_alive[e] and e_dst[e] == t:
                found[i] = e
                break


@_jit
def chains(out_start: Any, out_len: Any, out_pool: Any, e_dst: Any, e_soft: Any,
           e_grp: Any, e_active: Any, g_size: Any, g_min: Any, g_ok: Any, g_notok: Any,
           g_down: Any, state: Any, root: Any, rank: Any, targets: Any, budget: int,
           stamp: Any, level: Any, good: Any, seen: Any, found: Any, ends: Any) -> int:
    """The chain of causes from each of ``targets`` back to a root (a node given a
    state), searched backwards from the target alone: the same chain as following
    :func:`parents` from the roots, without a search over the whole reach.

    From a target, cause edges (see :func:`is_cause`) are followed level by level
    along dependencies until a level holds a root: that level is the target's
    distance to the roots. The nodes of each level that reach a root in the levels
    left are marked, from the last level back, and the chain steps each time to
    the marked cause one level further that is first in ``rank`` order, which is
    the next hop :func:`parents` picks. The chain of ``targets[i]`` (the target
    first, a root last; the target alone for a root or a target that traces to no
    root, nothing for a target that is ok) is ``found[ends[i - 1]:ends[i]]``.

    ``root`` flags the roots; ``stamp`` must be -1 everywhere and ``good`` False
    (both left so); ``level`` and ``seen`` are scratch. Returns the entries written
    to ``found``, or -1 when the searches visit more than ``budget`` nodes in all or
    ``found`` is too small (the caller then follows :func:`parents`).
    """
    k = 0
    visited = 0
    cap = found.shape[0]
    for i in range(targets.shape[0]):
        v = targets[i]
        if state[v] == _OK:
            ends[i] = k
            continue
        if root[v]:
            if k >= cap:
                return -1
            found[k] = v
            k += 1
            ends[i] = k
            continue
        stamp[v] = i
        level[v] = 0
        seen[0] = v
        n_seen = 1
        head = 0
        depth = 0
        reached = False
        while head < n_seen and not reached:
            stop = n_seen
            for j in range(head, stop):
                a = seen[j]
                final = state[a]
                for q in range(out_start[a], out_start[a] + out_len[a]):
                    e = out_pool[q]
                    if not e_active[e]:
                        continue
                    w = e_dst[e]
                    if stamp[w] == i:
                        continue
                    if not is_cause(e, final, state, e_dst, e_soft, e_grp, g_size, g_min,
                                    g_ok, g_notok, g_down):
                        continue
                    stamp[w] = i
                    level[w] = depth + 1
                    seen[n_seen] = w
                    n_seen += 1
                    if root[w]:
                        reached = True
            head = stop
            depth += 1
        visited += n_seen
        if reached:
            # Mark, from the last level back, the nodes that reach a root in time.
            for j in range(n_seen - 1, -1, -1):
                a = seen[j]
                if level[a] == depth:
                    good[a] = root[a] != 0
                    continue
                final = state[a]
                for q in range(out_start[a], out_start[a] + out_len[a]):
                    e = out_pool[q]
                    w = e_dst[e]
                    if (e_active[e] and stamp[w] == i and level[w] == level[a] + 1
                            and good[w] and is_cause(e, final, state, e_dst, e_soft, e_grp,
                                                     g_size, g_min, g_ok, g_notok, g_down)):
                        good[a] = True
                        break
            here = v
            while True:
                if k >= cap:
                    break
                found[k] = here
                k += 1
                if level[here] == depth:
                    break
                final = state[here]
                best = -1
                for q in range(out_start[here], out_start[here] + out_len[here]):
                    e = out_pool[q]
                    w = e_dst[e]
                    if (e_active[e] and stamp[w] == i and level[w] == level[here] + 1
                            and good[w] and (best < 0 or rank[w] < rank[best])
                            and is_cause(e, final, state, e_dst, e_soft, e_grp, g_size,
                                         g_min, g_ok, g_notok, g_down)):
                        best = w
                if best < 0:
                    break  # not reached: every marked node has a next hop
                here = best
        elif k < cap:
            found[k] = v  # traces to no root: the chain is the target alone
            k += 1
        for j in range(n_seen):
            stamp[seen[j]] = -1
            good[seen[j]] = False
        if k >= cap or visited > budget:
            return -1
        ends[i] = k
    return k


@_jit
def walk_chains(parent: Any, targets: Any, found: Any, ends: Any) -> int:
    """The chains that ``parent`` pointers (see :func:`parents`, by node; -1 for a node
    that is ok) give from each of ``targets``, laid out as :func:`chains` lays them.
    Returns the entries written, or the count needed when ``found`` is too small."""
    k = 0
    cap = found.shape[0]
    for i in range(targets.shape[0]):
        here = targets[i]
        if parent[here] >= 0:
            while True:
                if k < cap:
                    found[k] = here
                k += 1
                hop = parent[here]
                if hop == here or hop < 0:
                    break
                here = hop
        ends[i] = k
    return k


@_jit
def carry_firsts(firsts: Any, start: Any, below: Any) -> int:
    """Carry each column's least value up the edges until nothing changes: afterwards
    ``firsts[v, k]`` is the least of ``firsts[u, k]`` over every ``u`` reachable from
    ``v`` (``v`` included) through ``below[start[v]:start[v + 1]]``, cycles included.
    Nodes are visited from the last to the first, so that when they are numbered in
    the order a search from the top found them one pass settles most of a graph
    without cycles. Answers the passes made.

    >>> import numpy as np
    >>> f = np.array([[9.0], [5.0], [7.0]])
    >>> carry_firsts(f, np.array([0, 1, 2, 3]), np.array([1, 2, 1])), f.ravel().tolist()
    (2, [5.0, 5.0, 5.0])
    """
    n, width = firsts.shape
    passes = 0
    changed = True
    while changed:
        changed = False
        passes += 1
        for v in range(n - 1, -1, -1):
            for e in range(start[v], start[v + 1]):
                u = below[e]
                for k in range(width):
                    if firsts[u, k] < firsts[v, k]:
                        firsts[v, k] = firsts[u, k]
                        changed = True
    return passes
