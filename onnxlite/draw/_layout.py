"""A layered (Sugiyama-style) top-to-bottom layout, deterministic and about linear in the graph.

1. Layers: longest path from the sources over a stable topological order (edges closing a cycle are
   set aside), then each node whose outputs outnumber its inputs is pulled down next to its first
   consumer (a one-pass relative of network simplex: constants and graph inputs sit beside their use).
2. Long edges get dummy nodes, shared per source as one trunk, within a budget proportional to the
   graph (beyond it an edge is drawn directly).
3. Order within layers: a few barycenter sweeps down and up, O(E) plus a sort per layer; boxes of
   one scope stay contiguous (sort keys are the scopes' mean barycenters, outermost first).
4. x: per layer, the positions closest (least squares) to the barycenter of the neighbours that keep
   every box apart: an isotonic regression solved by pool-adjacent-violators, O(n) per layer.
   Boxes never overlap: boxes of one layer are apart by construction, layers are stacked.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from functools import partial
from typing import Protocol

HGAP = 18.0  # between neighbouring boxes of a layer
GROUP_GAP = 10.0  # more per scope boundary between them (room for frames)
VGAP = 46.0  # between layers: room for edge labels
MARGIN = 20.0
DUMMY_W = 6.0
SWEEPS = 4


class LayoutBox(Protocol):
    W: float  # extent used for spacing (box plus anything drawn beside it)
    H: float
    w: float  # the box itself, where edges attach
    h: float
    x: float
    y: float
    group: tuple[str, ...]


Point = tuple[float, float]


def layout(
    boxes: list[LayoutBox], pairs: list[tuple[int, int]]
) -> tuple[dict[tuple[int, int], list[Point]], float, float]:
    """Place ``boxes`` (sets .x/.y) for the directed ``pairs`` (src, dst) of box indices.
    Returns the route of each pair (a polyline from the bottom of src to the top of dst) and the size."""
    n = len(boxes)
    if n == 0:
        return {}, 2 * MARGIN, 2 * MARGIN
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    for s, t in pairs:
        succ[s].append(t)
        pred[t].append(s)
    rank = _topo_rank(n, succ, pred)
    layer = _layers(n, succ, pred, rank)

    # Dummy chains: node ids >= n; width DUMMY_W, group shared by the source and its targets.
    groups: list[tuple[str, ...]] = [b.group for b in boxes]
    widths: list[float] = [b.W for b in boxes]
    anchors: list[float] = [b.w / 2 for b in boxes]  # where edges attach: the middle of the box itself
    heights: list[float] = [b.H for b in boxes]
    trunks: dict[int, list[int]] = {}  # source -> its dummies, one per layer below it
    uses: dict[tuple[int, int], int] = {}  # (src, dst) -> how many of the source's dummies it runs through
    budget = max(2000, 3 * n)
    for s in range(n):
        far = [t for t in succ[s] if layer[t] - layer[s] > 1]
        if not far:
            continue
        top = max(layer[t] for t in far)
        need = top - layer[s] - 1
        if need > budget:
            continue
        budget -= need
        g = groups[s]
        for t in far:
            g = _common(g, groups[t])
        trunk = list(range(len(widths), len(widths) + need))
        for d in trunk:
            widths.append(DUMMY_W)
            anchors.append(DUMMY_W / 2)
            heights.append(0.0)
            groups.append(g)
            layer.append(layer[s] + 1 + (d - trunk[0]))
        trunks[s] = trunk
        for t in far:
            uses[(s, t)] = layer[t] - layer[s] - 1
    total = len(widths)
    down: list[list[int]] = [[] for _ in range(total)]
    up: list[list[int]] = [[] for _ in range(total)]

    def link(a: int, b: int) -> None:
        down[a].append(b)
        up[b].append(a)

    for s, trunk in trunks.items():
        for a, b in zip([s, *trunk], trunk, strict=False):
            link(a, b)
    for s, t in pairs:
        m = uses.get((s, t))
        if m is not None:
            link(trunks[s][m - 1], t)
        elif layer[t] - layer[s] == 1:
            link(s, t)
        # else: a cycle's closing edge or an edge beyond the dummy budget, drawn directly

    nlayers = max(layer) + 1
    layers: list[list[int]] = [[] for _ in range(nlayers)]
    for v in sorted(range(total), key=lambda v: rank[v] if v < n else n + v):
        layers[layer[v]].append(v)
    _order(layers, up, down, groups, total)

    xs = _coordinates(layers, up, down, widths, anchors, groups, total)
    ys = [0.0] * total
    tops: list[float] = []
    y = MARGIN
    for members in layers:
        tops.append(y)
        h = max((heights[v] for v in members), default=0.0)
        for v in members:
            ys[v] = y
        y += h + VGAP
    height = y - VGAP + MARGIN
    layer_h = [max((heights[v] for v in members), default=0.0) for members in layers]
    for v in range(n):
        boxes[v].x = xs[v]
        boxes[v].y = ys[v]
    width = max(x + w for x, w in zip(xs, widths, strict=True)) + MARGIN

    # Routes: ports spread along the bottom of the source and the top of the target.
    # A trunk is drawn through the dummies where it bends only (a vertical run is one segment),
    # so a route costs its bends, not its length.
    bends: dict[int, list[int]] = {}
    for s, trunk in trunks.items():
        cx = [xs[d] for d in trunk]
        k = len(trunk)
        bends[s] = [
            j
            for j in range(k)
            if j == 0 or j == k - 1 or abs(cx[j] - cx[j - 1]) > 0.5 or abs(cx[j + 1] - cx[j]) > 0.5
        ]
    raw: dict[tuple[int, int], list[Point]] = {}
    for s, t in pairs:
        m = uses.get((s, t))
        mids: list[Point] = []
        if m is not None:
            trunk = trunks[s]
            keep = bends[s]
            picked = keep[: bisect_left(keep, m - 1)]
            picked.append(m - 1)
            for j in picked:
                d = trunk[j]
                mx = xs[d] + DUMMY_W / 2
                mids.append((mx, tops[layer[d]]))
                mids.append((mx, tops[layer[d]] + layer_h[layer[d]]))
        raw[(s, t)] = mids
    outs: dict[int, list[tuple[float, int, tuple[int, int]]]] = {}
    ins: dict[int, list[tuple[float, int, tuple[int, int]]]] = {}
    for s, t in pairs:
        mids = raw[(s, t)]
        first = mids[0][0] if mids else xs[t] + boxes[t].w / 2
        last = mids[-1][0] if mids else xs[s] + boxes[s].w / 2
        outs.setdefault(s, []).append((first, t, (s, t)))
        ins.setdefault(t, []).append((last, s, (s, t)))
    start: dict[tuple[int, int], float] = {}
    end: dict[tuple[int, int], float] = {}
    for s, items in outs.items():
        items.sort()
        sw = boxes[s].w
        for k, (_, _, key) in enumerate(items):
            start[key] = xs[s] + sw * (k + 1) / (len(items) + 1)
    for t, items in ins.items():
        items.sort()
        tw = boxes[t].w
        for k, (_, _, key) in enumerate(items):
            end[key] = xs[t] + tw * (k + 1) / (len(items) + 1)
    routes: dict[tuple[int, int], list[Point]] = {}
    for s, t in pairs:
        routes[(s, t)] = [(start[(s, t)], ys[s] + boxes[s].h), *raw[(s, t)], (end[(s, t)], ys[t])]
    return routes, width, height


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    k = 0
    while k < len(a) and k < len(b) and a[k] == b[k]:
        k += 1
    return a[:k]


def _topo_rank(n: int, succ: list[list[int]], pred: list[list[int]]) -> list[int]:
    """Position in a stable topological order (Kahn, ready nodes by index); a cycle is broken at
    its lowest-index node, whose remaining in-edges then point backwards."""
    indeg = [len(p) for p in pred]
    rank = [-1] * n
    ready = deque(v for v in range(n) if indeg[v] == 0)
    nxt = 0
    k = 0
    while k < n:
        if not ready:
            while rank[nxt] >= 0:
                nxt += 1
            ready.append(nxt)
            indeg[nxt] = 0
        v = ready.popleft()
        if rank[v] >= 0:
            continue
        rank[v] = k
        k += 1
        for t in succ[v]:
            if rank[t] < 0:
                indeg[t] -= 1
                if indeg[t] == 0:
                    ready.append(t)
    return rank


def _layers(n: int, succ: list[list[int]], pred: list[list[int]], rank: list[int]) -> list[int]:
    order = sorted(range(n), key=rank.__getitem__)
    layer = [0] * n
    for v in order:
        r = rank[v]
        best = 0
        for p in pred[v]:
            if rank[p] < r and layer[p] + 1 > best:
                best = layer[p] + 1
        layer[v] = best
    for v in reversed(order):
        r = rank[v]
        fwd = [layer[t] for t in succ[v] if rank[t] > r]
        if not fwd:
            continue
        ins = sum(1 for p in pred[v] if rank[p] < r)
        if ins == 0 or len(fwd) > ins:
            layer[v] = max(layer[v], min(fwd) - 1)
    return layer


def _order(
    layers: list[list[int]],
    up: list[list[int]],
    down: list[list[int]],
    groups: list[tuple[str, ...]],
    total: int,
) -> None:
    pos = [0.0] * total
    for members in layers:
        for i, v in enumerate(members):
            pos[v] = float(i)
    grouped = any(groups)
    sweeps = SWEEPS if total < 50_000 else 2
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        seq = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        adj = up if downward else down
        for li in seq:
            members = layers[li]
            if len(members) < 2:
                continue
            bc: dict[int, float] = {}
            for v in members:
                ns = adj[v]
                bc[v] = sum(pos[u] for u in ns) / len(ns) if ns else pos[v]
            if grouped:
                means: dict[tuple[str, ...], list[float]] = {}
                for v in members:
                    g = groups[v]
                    for k in range(1, len(g) + 1):
                        acc = means.setdefault(g[:k], [0.0, 0.0])
                        acc[0] += bc[v]
                        acc[1] += 1
                avg = {g: s / c for g, (s, c) in means.items()}

                members.sort(key=partial(_group_key, groups, avg, bc, pos))
            else:
                members.sort(key=lambda v: (bc[v], pos[v]))
            for i, v in enumerate(members):
                pos[v] = float(i)


def _group_key(groups: list[tuple[str, ...]], avg: dict[tuple[str, ...], float], bc: dict[int, float],
               pos: list[float], v: int) -> tuple[tuple[float, int, object], ...]:
    """Outermost scope first, by its mean barycenter in the layer; then the box's own."""
    g = groups[v]
    return (*((avg[g[:k]], 0, g[k - 1]) for k in range(1, len(g) + 1)), (bc[v], 1, pos[v]))


def _gap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if a == b:
        return HGAP
    k = len(_common(a, b))
    return HGAP + GROUP_GAP * (len(a) + len(b) - 2 * k)


def _coordinates(
    layers: list[list[int]],
    up: list[list[int]],
    down: list[list[int]],
    widths: list[float],
    anchors: list[float],
    groups: list[tuple[str, ...]],
    total: int,
) -> list[float]:
    xs = [0.0] * total
    gaps: list[list[float]] = []
    for members in layers:
        x = MARGIN
        row: list[float] = []
        for i, v in enumerate(members):
            xs[v] = x
            gap = _gap(groups[v], groups[members[i + 1]]) if i + 1 < len(members) else 0.0
            row.append(gap)
            x += widths[v] + gap
        gaps.append(row)
    for sweep in range(2 * 3):
        downward = sweep % 2 == 0
        seq = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        adj = up if downward else down
        moved = 0.0
        for li in seq:
            members = layers[li]
            if len(members) == 1:  # nothing to keep apart: straight to the neighbours' mean
                v = members[0]
                ns = adj[v]
                if ns:
                    x = sum(xs[u] + anchors[u] for u in ns) / len(ns) - anchors[v]
                    moved = max(moved, abs(x - xs[v]))
                    xs[v] = x
                continue
            desired = []
            for v in members:
                ns = adj[v]
                if ns:
                    c = sum(xs[u] + anchors[u] for u in ns) / len(ns)
                    desired.append(c - anchors[v])
                else:
                    desired.append(xs[v])
            placed = _isotonic(desired, [widths[v] for v in members], gaps[li])
            for v, x in zip(members, placed, strict=True):
                moved = max(moved, abs(x - xs[v]))
                xs[v] = x
        if moved < 0.01:  # a fixed point: further sweeps would change nothing
            break
    low = min(xs) if xs else 0.0
    shift = MARGIN - low
    return [x + shift for x in xs]


def _isotonic(desired: list[float], widths: list[float], gaps: list[float]) -> list[float]:
    """Positions closest to ``desired`` (least squares) with x[i+1] >= x[i] + widths[i] + gaps[i]."""
    offsets = []
    off = 0.0
    for w, g in zip(widths, gaps, strict=True):
        offsets.append(off)
        off += w + g
    sums: list[float] = []
    counts: list[int] = []
    for d, o in zip(desired, offsets, strict=True):
        sums.append(d - o)
        counts.append(1)
        while len(sums) > 1 and sums[-2] * counts[-1] >= sums[-1] * counts[-2]:
            s = sums.pop()
            c = counts.pop()
            sums[-1] += s
            counts[-1] += c
    out: list[float] = []
    i = 0
    for s, c in zip(sums, counts, strict=True):
        value = s / c
        for _ in range(c):
            out.append(value + offsets[i])
            i += 1
    return out
