# mypy: disallow-untyped-decorators=False
"""Compiled kernels of the single-point-of-failure computation (numba, cached on disk).

Graphs here are plain CSR arrays: node ``v``'s neighbours are
``adj[start[v]:start[v + 1]]``. *Lanes*: up to 64 components (or promises) travel
through a graph together, one bit each of a 64-bit word, so one walk answers for 64
of them at once, for about the price of a walk over the union of what they reach.
Walks go level by level (see :func:`levels`), so that a node outside a cycle is
looked at once per walk, with every lane that reaches it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from servicegraph.impact.jit import kernel

# Compiled on first use, or run as Python for small work (see servicegraph.impact.jit).
_jit: Any = kernel

_ONE = np.uint64(1)
_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@_jit
def popcount(x: Any) -> int:
    """Set bits of a 64-bit word (SWAR; numba has no intrinsic for it)."""
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return int((x * _H01) >> np.uint64(56))


@_jit
def group_by(keys: Any, values: Any, n: int) -> tuple[Any, Any]:
    """``values`` grouped by ``keys`` (each in 0..n-1), in their order within a key:
    (start, adj) with key ``v``'s values at ``adj[start[v]:start[v + 1]]`` (a counting
    sort, linear)."""
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(keys.shape[0]):
        start[keys[i] + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    adj = np.empty(keys.shape[0], dtype=np.int64)
    for i in range(keys.shape[0]):
        k = keys[i]
        adj[fill[k]] = values[i]
        fill[k] += 1
    return start, adj


@_jit
def strong_components(start: Any, adj: Any) -> tuple[Any, int]:
    """Strongly connected components (Tarjan's, iterative).

    Returns each node's component number and how many there are. Components are
    numbered in the order Tarjan's algorithm closes them: every component reachable
    from component ``a`` has a number below ``a``'s, so descending numbers are a
    topological order of the condensation.
    """
    n = start.shape[0] - 1
    order = np.full(n, -1, dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    on_stack = np.zeros(n, dtype=np.bool_)
    comp = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    call_node = np.empty(n, dtype=np.int64)
    call_next = np.empty(n, dtype=np.int64)
    sp = 0
    counter = 0
    count = 0
    for root in range(n):
        if order[root] >= 0:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack[sp] = root
        sp += 1
        on_stack[root] = True
        call_node[0] = root
        call_next[0] = start[root]
        depth = 1
        while depth > 0:
            v = call_node[depth - 1]
            k = call_next[depth - 1]
            if k < start[v + 1]:
                call_next[depth - 1] = k + 1
                w = adj[k]
                if order[w] < 0:
                    order[w] = low[w] = counter
                    counter += 1
                    stack[sp] = w
                    sp += 1
                    on_stack[w] = True
                    call_node[depth] = w
                    call_next[depth] = start[w]
                    depth += 1
                elif on_stack[w] and order[w] < low[v]:
                    low[v] = order[w]
                continue
            depth -= 1
            if depth > 0:
                u = call_node[depth - 1]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == order[v]:
                while True:
                    sp -= 1
                    w = stack[sp]
                    on_stack[w] = False
                    comp[w] = count
                    if w == v:
                        break
                count += 1
    return comp, count


@_jit
def levels(start: Any, adj: Any, comp: Any, count: int) -> Any:
    """Per node, the length of the longest path of components reaching its own (0 for
    a component nothing reaches): an edge between two components always climbs, an
    edge within one stays on its level."""
    n = start.shape[0] - 1
    by_comp = np.argsort(-comp, kind="mergesort")  # a topological order of the components
    level = np.zeros(count, dtype=np.int64)
    for i in range(n):
        v = by_comp[i]
        cv = comp[v]
        for k in range(start[v], start[v + 1]):
            cw = comp[adj[k]]
            if cw != cv and level[cw] < level[cv] + 1:
                level[cw] = level[cv] + 1
    out = np.empty(n, dtype=np.int64)
    for v in range(n):
        out[v] = level[comp[v]]
    return out


@_jit
def post_order(start: Any, adj: Any, roots: Any) -> Any:
    """The nodes reachable from ``roots`` (included), in depth-first post-order."""
    n = start.shape[0] - 1
    seen = np.zeros(n, dtype=np.bool_)
    out = np.empty(n, dtype=np.int64)
    call_node = np.empty(n, dtype=np.int64)
    call_next = np.empty(n, dtype=np.int64)
    found = 0
    for i in range(roots.shape[0]):
        r = roots[i]
        if seen[r]:
            continue
        seen[r] = True
        call_node[0] = r
        call_next[0] = start[r]
        depth = 1
        while depth > 0:
            v = call_node[depth - 1]
            k = call_next[depth - 1]
            if k < start[v + 1]:
                call_next[depth - 1] = k + 1
                w = adj[k]
                if not seen[w]:
                    seen[w] = True
                    call_node[depth] = w
                    call_next[depth] = start[w]
                    depth += 1
                continue
            depth -= 1
            out[found] = v
            found += 1
    return out[:found]


@_jit
def reach(start: Any, adj: Any, roots: Any) -> Any:
    """The nodes reachable from ``roots`` (included), in breadth-first order."""
    n = start.shape[0] - 1
    seen = np.zeros(n, dtype=np.bool_)
    out = np.empty(n, dtype=np.int64)
    found = 0
    for i in range(roots.shape[0]):
        r = roots[i]
        if not seen[r]:
            seen[r] = True
            out[found] = r
            found += 1
    head = 0
    while head < found:
        v = out[head]
        head += 1
        for k in range(start[v], start[v + 1]):
            w = adj[k]
            if not seen[w]:
                seen[w] = True
                out[found] = w
                found += 1
    return out[:found]


@_jit
def reach_lanes(start: Any, adj: Any, level: Any, sources: Any, target: Any, mask: Any,
                sent: Any, queued: Any, head: Any, nxt: Any, touched: Any
                ) -> tuple[Any, Any]:
    """Which ``target`` nodes each of up to 64 ``sources`` reaches, in one walk.

    ``level`` must climb along every edge between two cycles (and stay level within
    one), as :func:`levels` gives: nodes are taken level by level, so a node outside
    a cycle is looked at once, with every lane that reaches it. Returns aligned
    arrays (source index, target node), one row per pair. The scratch arrays
    (``head`` one entry per level) are all zero (``head`` all -1) on entry and on
    return.
    """
    n_levels = head.shape[0]
    n_touched = 0
    lo = n_levels
    hi = -1
    for i in range(sources.shape[0]):
        s = sources[i]
        if mask[s] == 0:
            touched[n_touched] = s
            n_touched += 1
        mask[s] |= _ONE << np.uint64(i)
        if not queued[s]:
            queued[s] = True
            lv = level[s]
            nxt[s] = head[lv]
            head[lv] = s
            lo = min(lo, lv)
            hi = max(hi, lv)
    lv = lo
    while lv <= hi:
        v = head[lv]
        if v < 0:
            lv += 1
            continue
        head[lv] = nxt[v]
        queued[v] = False
        d = mask[v] & ~sent[v]
        sent[v] |= d
        for k in range(start[v], start[v + 1]):
            w = adj[k]
            new = d & ~mask[w]
            if new == 0:
                continue
            if mask[w] == 0:
                touched[n_touched] = w
                n_touched += 1
            mask[w] |= new
            if not queued[w]:
                queued[w] = True
                lw = level[w]
                nxt[w] = head[lw]
                head[lw] = w
                hi = max(hi, lw)
    total = 0
    for i in range(n_touched):
        if target[touched[i]]:
            total += popcount(mask[touched[i]])
    lane = np.empty(total, dtype=np.int64)
    node = np.empty(total, dtype=np.int64)
    row = 0
    for i in range(n_touched):
        v = touched[i]
        m = mask[v]
        mask[v] = 0
        sent[v] = 0
        if not target[v]:
            continue
        while m != 0:
            low = m & (~m + _ONE)
            lane[row] = popcount(low - _ONE)
            node[row] = v
            row += 1
            m ^= low
    return lane, node


@_jit
def spread(comps: Any, up_start: Any, up_node: Any, up_gate: Any, g_need: Any, g_off: Any,
           level: Any, region: Any, rec_comp: Any, rec_node: Any, n_rec: int, mask: Any,
           sent: Any, queued: Any, touched: Any, head: Any, nxt: Any, tally: Any,
           g_seen: Any, g_touched: Any) -> tuple[int, int]:
    """Take each component of ``comps`` down alone, 64 at a time, and record which nodes
    a voting gate takes down under it.

    The graph is the *down graph*, in the direction impact flows: ``up_node`` holds
    the dependants of each node, ``up_gate`` -1 for a dependency that passes "down" on
    by itself (hard and ungrouped, or a member of a group that needs every member)
    and else the voting gate (redundancy group) it is a member of; gate ``g`` goes
    down once ``g_need[g]`` of its members are down. Lane ``i`` of node ``v``'s word
    says whether ``v`` is down when component ``comps[c0 + i]`` alone is down. Nodes
    are taken in order of ``level``, so a node outside a cycle is looked at once per
    batch, after everything it depends on; the nodes of a cycle share a level and go
    round until nothing changes (the least fixpoint). A gate keeps, per lane, "at
    least j members down" words at ``tally[g_off[g] + j - 1]``.

    Only nodes of ``region`` are followed: those from which a gate member can be
    reached, the only ones whose state matters to a gate. Every (component, node)
    pair where a gate took the node down before anything else did is recorded in
    ``rec_comp``/``rec_node`` from ``n_rec`` on (a node outside the region is recorded
    whenever one of its gates falls: such a record is true, if not needed).

    Scratch arrays are all zero (``head`` all -1) on entry and on return. Returns
    (comps processed, records written): when the record arrays fill up, the batch
    under way is undone and the caller grows them and calls again from there.
    """
    # The walk repeats reach_lanes' queueing, written out as there: as a shared helper
    # (even inlined) it measured slower in both kernels.
    cap = rec_comp.shape[0]
    total = comps.shape[0]
    n_levels = head.shape[0]
    for c0 in range(0, total, 64):
        c1 = min(total, c0 + 64)
        rec_start = n_rec
        n_touched = 0
        n_gates = 0
        lo = n_levels
        hi = -1
        for i in range(c0, c1):
            c = comps[i]
            if mask[c] == 0:
                touched[n_touched] = c
                n_touched += 1
            mask[c] |= _ONE << np.uint64(i - c0)
            if not queued[c]:
                queued[c] = True
                lv = level[c]
                nxt[c] = head[lv]
                head[lv] = c
                lo = min(lo, lv)
                hi = max(hi, lv)
        full = False
        lv = lo
        while lv <= hi and not full:
            v = head[lv]
            if v < 0:
                lv += 1
                continue
            head[lv] = nxt[v]
            queued[v] = False
            d = mask[v] & ~sent[v]
            sent[v] |= d
            for k in range(up_start[v], up_start[v + 1]):
                w = up_node[k]
                g = up_gate[k]
                if g < 0:
                    if not region[w]:
                        continue
                    new = d & ~mask[w]
                else:
                    if not g_seen[g]:
                        g_seen[g] = True
                        g_touched[n_gates] = g
                        n_gates += 1
                    b = g_off[g]
                    t = g_need[g]
                    before = tally[b + t - 1]
                    # Each member arrives once per lane: "at least j down" gains the
                    # lanes that had at least j - 1 before this member.
                    for j in range(t - 1, 0, -1):
                        tally[b + j] |= tally[b + j - 1] & d
                    tally[b] |= d
                    new = tally[b + t - 1] & ~before & ~mask[w]
                    x = new
                    while x != 0:
                        if n_rec >= cap:
                            full = True
                            break
                        low = x & (~x + _ONE)
                        rec_comp[n_rec] = comps[c0 + popcount(low - _ONE)]
                        rec_node[n_rec] = w
                        n_rec += 1
                        x ^= low
                    if full:
                        break
                    if not region[w]:
                        continue
                if new == 0:
                    continue
                if mask[w] == 0:
                    touched[n_touched] = w
                    n_touched += 1
                mask[w] |= new
                if not queued[w]:
                    queued[w] = True
                    lw = level[w]
                    nxt[w] = head[lw]
                    head[lw] = w
                    hi = max(hi, lw)
        for i in range(n_touched):
            v = touched[i]
            mask[v] = 0
            sent[v] = 0
            queued[v] = False
        for i in range(n_gates):
            g = g_touched[i]
            g_seen[g] = False
            for j in range(g_need[g]):
                tally[g_off[g] + j] = 0
        if full:
            for i in range(lo, min(hi + 1, n_levels)):
                head[i] = -1
            return c0, rec_start
    return total, n_rec


@_jit
def count_reached(start: Any, adj: Any, targets: Any, words: int, first: int,
                  last: int, counts: Any) -> None:
    """Add to ``counts[v]`` how many of ``targets[first:last]`` node ``v`` reaches.

    The graph must be acyclic with every edge going to a smaller number (a
    condensation numbered as :func:`strong_components` numbers it), so one sweep in
    ascending order sees every node after all it reaches. ``64 * words`` targets
    travel together, one bit each.
    """
    n = start.shape[0] - 1
    width = 64 * words
    mask = np.zeros((n, words), dtype=np.uint64)
    for lo in range(first, last, width):
        hi = min(last, lo + width)
        mask[:, :] = 0
        for j in range(lo, hi):
            bit = j - lo
            mask[targets[j], bit // 64] |= _ONE << np.uint64(bit % 64)
        for v in range(n):
            for k in range(start[v], start[v + 1]):
                u = adj[k]
                for w in range(words):
                    mask[v, w] |= mask[u, w]
            reached = 0
            for w in range(words):
                reached += popcount(mask[v, w])
            counts[v] += reached
