"""Pairing the nodes and values of two graphs by structure.

Stages, each only over nodes still unpaired:

1. nodes whose full signature (forward and backward) is unique and equal on both sides;
2. unique equal forward signature (the whole upstream cone is the same: matches everything
   above a change), then unique equal backward signature (everything below a change);
3. propagation: from a paired node (or a paired graph input, outer value, graph output) to its
   unpaired consumers and producers along the same output/input slot, when exactly one
   candidate with the same local label (op, domain, attributes) lies on each side, or several
   that the signatures tell apart;
4. groups of nodes with equal full signatures that are still unpaired (identical parallel
   branches): the first of each side in topological order is paired and step 3 runs again, so
   the rest of the branch follows that choice consistently;
5. relaxed propagation: as step 3, but the candidates need only the same op type (these are
   the changed nodes: attributes, domain, rewired inputs...);
6. skipping one removed or added node: candidates of the same op type up to two steps away
   from a paired node through unpaired nodes (a node fused away between them, e.g. a
   BatchNormalization folded into the Conv before it), paired when unique on both sides.

Steps repeat until nothing new pairs. Whatever is left is added (B) or removed (A).
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

from onnxlite.diff._graphinfo import GraphInfo, constant_value
from onnxlite.diff._signature import backward, forward, value_sig
from onnxlite.diff._tensorbytes import TensorRef, digest


class Matching:
    """The result: ``pa[i]`` is the B node paired with A node ``i`` (-1: removed), ``pb`` the
    reverse; ``va``/``vb`` the same for value ids."""

    def __init__(self, a: GraphInfo, b: GraphInfo, leaves_a: dict[int, int],
                 leaves_b: dict[int, int]) -> None:
        self.a, self.b = a, b
        self.la, self.lb = leaves_a, leaves_b
        self.sfa, self.sfb = forward(a, leaves_a), forward(b, leaves_b)
        self.sba, self.sbb = backward(a), backward(b)
        self.pa = [-1] * len(a.protos)
        self.pb = [-1] * len(b.protos)
        self.va: dict[int, int] = {}
        self.vb: dict[int, int] = {}
        self._exact: deque[tuple[int, int]] = deque()
        self._relaxed: deque[tuple[int, int]] = deque()
        self._leaf_pairs: list[tuple[int, int]] = []
        self._pos_a = _positions(a)
        self._pos_b = _positions(b)
        self._digests_a: dict[int, Any] = {}
        self._digests_b: dict[int, Any] = {}
        self._deferred: list[tuple[list[int], list[int]]] = []
        self._paired = 0
        #: (A value, B value) constants of equal content read at a paired slot whose one-to-one
        #: pairing went elsewhere: optimizers share one initializer among equal constants
        self.shared: set[tuple[int, int]] = set()

    # --- the stages --------------------------------------------------------------------------

    def run(self) -> Matching:
        self._pair_leaves()
        self._unique("full")
        if self._paired == len(self.pa) == len(self.pb):  # the common case: nothing left to find
            self._pair_values()
            return self
        self._drain()
        for (va, vb) in self._leaf_pairs:
            self._consumers(va, vb, relaxed=False)
        self._outputs(relaxed=False)
        self._drain()
        swept = False
        while True:
            before = self._count()
            self._unique("forward")
            self._unique("backward")
            self._drain()
            self._ambiguous()
            if self._count() != before:
                continue
            self._relax()
            if self._count() != before:
                continue
            self._skip()
            if self._count() != before:
                continue
            self._resolve_deferred()
            if self._count() != before:
                continue
            if swept:
                break
            swept = True  # one more relaxed sweep over every pair, now that more are paired
            self._relaxed.extend((i, j) for i, j in enumerate(self.pa) if j >= 0)
            for (va, vb) in self._leaf_pairs:
                self._consumers(va, vb, relaxed=True)
            self._outputs(relaxed=True)
            self._drain()
        self._pair_values()
        return self

    def _count(self) -> int:
        return self._paired

    def _pair(self, i: int, j: int) -> None:
        if self.pa[i] >= 0 or self.pb[j] >= 0:
            return
        self.pa[i] = j
        self.pb[j] = i
        self._paired += 1
        self._exact.append((i, j))
        self._relaxed.append((i, j))

    def _pair_leaves(self) -> None:
        """Graph inputs and outer values whose label is unique and shared (the interface)."""
        by_label: dict[int, list[list[int]]] = {}
        for side, info, leaves in ((0, self.a, self.la), (1, self.b, self.lb)):
            for vid, leaf in info.leaf.items():
                if leaf.kind in ("input", "outer"):
                    by_label.setdefault(leaves[vid], [[], []])[side].append(vid)
        for la, lb in by_label.values():
            if len(la) == 1 and len(lb) == 1:
                self._leaf_pairs.append((la[0], lb[0]))
                self.va[la[0]] = lb[0]
                self.vb[lb[0]] = la[0]

    def _unique(self, which: str) -> None:
        """Pair nodes whose signature (``which``: 'full', 'forward', 'backward') is unique and
        equal among the unpaired nodes of both sides."""
        def keys(sf: list[int], sb: list[int], p: list[int]) -> dict[Any, int]:
            seq = zip(sf, sb, strict=True) if which == "full" else (sf if which == "forward" else sb)
            found: dict[Any, int] = {}
            for i, k in enumerate(seq):
                if p[i] < 0:
                    found[k] = -1 if k in found else i
            return found
        ka = keys(self.sfa, self.sba, self.pa)
        kb = keys(self.sfb, self.sbb, self.pb)
        for k, i in ka.items():
            if i >= 0:
                j = kb.get(k, -1)
                if j >= 0:
                    self._pair(i, j)

    def _ambiguous(self) -> None:
        groups: dict[Any, list[list[int]]] = {}
        for side, sf, sb, p, info in ((0, self.sfa, self.sba, self.pa, self.a),
                                      (1, self.sfb, self.sbb, self.pb, self.b)):
            for i in info.order:
                if p[i] < 0:
                    groups.setdefault((sf[i], sb[i]), [[], []])[side].append(i)
        for la, lb in groups.values():
            ra = [i for i in la if self.pa[i] < 0]
            rb = [j for j in lb if self.pb[j] < 0]
            if ra and rb:
                if len(ra) > 1 or len(rb) > 1:
                    ka = {c: self._content(self.a, c, self._digests_a) for c in ra}
                    kb = {c: self._content(self.b, c, self._digests_b) for c in rb}
                    match = next(((x, y) for x in ra for y in rb if ka[x] == kb[y]), (ra[0], rb[0]))
                else:
                    match = (ra[0], rb[0])
                self._pair(*match)
                self._drain()

    def _drain(self) -> None:
        while self._exact:
            i, j = self._exact.popleft()
            self._propagate(i, j, relaxed=False)

    def _relax(self) -> None:
        while self._relaxed:
            i, j = self._relaxed.popleft()
            before = self._count()
            self._propagate(i, j, relaxed=True)
            if self._count() != before:
                self._drain()

    def _skip(self) -> None:
        for i, j in enumerate(self.pa):
            if j < 0:
                continue
            for direction in (0, 1):
                ca = self._near(self.a, self.pa, i, direction)
                cb = self._near(self.b, self.pb, j, direction)
                if not ca or not cb:
                    continue
                ga: dict[str, list[int]] = {}
                gb: dict[str, list[int]] = {}
                for c in ca:
                    ga.setdefault(self.a.ops[c][1], []).append(c)
                for c in cb:
                    gb.setdefault(self.b.ops[c][1], []).append(c)
                found = [(xs[0], gb[op][0]) for op, xs in ga.items()
                         if len(xs) == 1 and len(gb.get(op, ())) == 1]
                for x, y in self._uncrossed(found, ca, cb):
                    if self.pa[x] < 0 and self.pb[y] < 0:
                        self._pair(x, y)
                        self._drain()

    def _uncrossed(self, found: list[tuple[int, int]], ca: dict[int, int],
                   cb: dict[int, int]) -> list[tuple[int, int]]:
        """Drop candidate pairs that contradict each other's order in the dataflow: x1 lies between
        the anchor and x2 in A while y2 lies between the anchor and y1 in B (A: anchor-T-M,
        B: anchor-M-T'). Of two such pairs the one whose neighbours agree better stays; a tie
        drops both (later stages decide)."""
        dropped: set[tuple[int, int]] = set()
        for k, (x1, y1) in enumerate(found):
            for x2, y2 in found[k + 1:]:
                if not ((ca[x2] == x1 and cb[y1] == y2) or (ca[x1] == x2 and cb[y2] == y1)):
                    continue
                s1, s2 = self._agreement(x1, y1), self._agreement(x2, y2)
                if s1 <= s2:
                    dropped.add((x1, y1))
                if s2 <= s1:
                    dropped.add((x2, y2))
        return [p for p in found if p not in dropped]

    def _agreement(self, x: int, y: int) -> int:
        """How many neighbours of A node ``x`` and B node ``y`` look alike: producers with the same
        local label at the same input slot, consumers with the same local label and slot."""
        a, b = self.a, self.b
        score = 0
        for vx, vy in zip(a.ins[x], b.ins[y], strict=False):
            if vx >= 0 and vy >= 0:
                px, py = a.producer[vx][0], b.producer[vy][0]
                if px >= 0 and py >= 0 and a.local[px] == b.local[py]:
                    score += 1
        for vx, vy in zip(a.outs[x], b.outs[y], strict=False):
            if vx >= 0 and vy >= 0:
                users = Counter((b.local[c], s) for c, s in b.consumers[vy])
                for c, s in a.consumers[vx]:
                    if users[(a.local[c], s)] > 0:
                        users[(a.local[c], s)] -= 1
                        score += 1
        return score

    @staticmethod
    def _near(info: GraphInfo, p: list[int], i: int, direction: int) -> dict[int, int]:
        """Unpaired nodes one or two steps from ``i`` (downstream: 0, upstream: 1) through an
        unpaired node, each with the node it was reached through (-1: a direct neighbour)."""
        def step(k: int) -> list[int]:
            if direction == 0:
                return [c for v in info.outs[k] if v >= 0 for c, _ in info.consumers[v]]
            return [info.producer[v][0] for v in info.ins[k] + info.implicit[k]
                    if v >= 0 and info.producer[v][0] >= 0]
        found: dict[int, int] = {}
        for c in step(i):
            if p[c] >= 0 or c in found:
                continue
            found[c] = -1
            for d in step(c):
                if p[d] < 0 and d not in found and d != i:
                    found[d] = c
        return found

    # --- propagation -------------------------------------------------------------------------

    def _propagate(self, i: int, j: int, *, relaxed: bool) -> None:
        a, b = self.a, self.b
        for va, vb in zip(a.outs[i], b.outs[j], strict=False):
            if va >= 0 and vb >= 0:
                self._consumers(va, vb, relaxed=relaxed)
        for va, vb in self.input_pairs(i, j):
            pna, sa = a.producer[va]
            pnb, sb = b.producer[vb]
            if pna < 0 or pnb < 0 or sa != sb or self.pa[pna] >= 0 or self.pb[pnb] >= 0:
                continue
            if a.local[pna] == b.local[pnb] or (relaxed and a.ops[pna][1] == b.ops[pnb][1]):
                self._pair(pna, pnb)

    def _consumers(self, va: int, vb: int, *, relaxed: bool) -> None:
        ca = [(c, s) for c, s in self.a.consumers[va] if self.pa[c] < 0]
        if not ca:
            return
        cb = [(c, s) for c, s in self.b.consumers[vb] if self.pb[c] < 0]
        if not cb:
            return
        ga = _group(self.a, ca, relaxed)
        gb = _group(self.b, cb, relaxed)
        for key, la in ga.items():
            lb = gb.get(key)
            if not lb:
                continue
            la = [c for c in la if self.pa[c] < 0]
            lb = [c for c in lb if self.pb[c] < 0]
            if len(la) == 1 and len(lb) == 1:
                self._pair(la[0], lb[0])
                continue
            for sa, sb in ((self.sba, self.sbb), (self.sfa, self.sfb)):
                _pair_unique(la, lb, sa, sb, self)
                la = [c for c in la if self.pa[c] < 0]
                lb = [c for c in lb if self.pb[c] < 0]
            if la and len(la) == len(lb):
                labels = [self.sfa, self.sfb] if not relaxed else [self.a.local, self.b.local]
                if len({labels[0][c] for c in la} | {labels[1][c] for c in lb}) == 1:
                    self._deferred.append((la, lb))  # interchangeable so far: decided later

    def _resolve_deferred(self) -> None:
        """Groups of interchangeable candidates: paired by the neighbours paired since, then
        by the content of the initializers they read, then in topological order."""
        groups, self._deferred = self._deferred, []
        for la, lb in groups:
            la = [c for c in la if self.pa[c] < 0]
            lb = [c for c in lb if self.pb[c] < 0]
            if la and lb:
                self._tiebreak(la, lb)
                self._drain()

    def _neighbours(self, x: int, y: int) -> int:
        a, b = self.a, self.b
        score = 0
        for vx, vy in zip(a.outs[x], b.outs[y], strict=False):
            if vx < 0 or vy < 0:
                continue
            users_y = {(c, s) for c, s in b.consumers[vy]}
            score += sum(1 for c, s in a.consumers[vx] if self.pa[c] >= 0 and (self.pa[c], s) in users_y)
        for vx, vy in zip(a.ins[x], b.ins[y], strict=False):
            if vx >= 0 and vy >= 0 and a.producer[vx][0] >= 0 and self.values_paired(vx, vy):
                score += 1
        return score

    def _tiebreak(self, la: list[int], lb: list[int]) -> None:
        """Pair equally good candidates: by the content of the initializers they read (so
        parallel identical branches keep their own weights), then in topological order."""
        score = {(x, y): self._neighbours(x, y) for x in la for y in lb}
        for x in la:  # a pair whose paired neighbours agree better than any rival's
            best = max(score[x, y] for y in lb)
            ys = [y for y in lb if score[x, y] == best]
            if len(ys) == 1 and [z for z in la if score[z, ys[0]] >= best] == [x]:
                self._pair(x, ys[0])
        la = [c for c in la if self.pa[c] < 0]
        lb = [c for c in lb if self.pb[c] < 0]
        if not la or not lb:
            return
        ka = {c: self._content(self.a, c, self._digests_a) for c in la}
        kb = {c: self._content(self.b, c, self._digests_b) for c in lb}
        _pair_unique(la, lb, [ka.get(c, 0) for c in range(max(la) + 1)],
                     [kb.get(c, 0) for c in range(max(lb) + 1)], self)
        ra = sorted((c for c in la if self.pa[c] < 0), key=self._pos_a.__getitem__)
        rb = sorted((c for c in lb if self.pb[c] < 0), key=self._pos_b.__getitem__)
        for x, y in zip(ra, rb, strict=False):
            self._pair(x, y)

    @staticmethod
    def _content(info: GraphInfo, node: int, cache: dict[int, Any], value: int = -1) -> Any:
        """The contents of the initializers and Constant outputs a node reads (or of ``value``),
        as one key."""
        keys = []
        for vid in info.ins[node] if node >= 0 else (value,):
            if vid not in cache:
                tensor = constant_value(info, vid) if vid >= 0 else None
                if tensor is None:
                    continue
                cache[vid] = digest(TensorRef(tensor, info.store, f"initializer '{info.names[vid]}'"))
            keys.append(cache[vid])
        return hash(tuple(sorted(keys) if node >= 0 and info.commutative[node] else keys))

    def _outputs(self, *, relaxed: bool) -> None:
        a, b = self.a, self.b
        for va, vb in zip(a.outputs, b.outputs, strict=False):
            pna, sa = a.producer[va]
            pnb, sb = b.producer[vb]
            if pna < 0 or pnb < 0 or sa != sb or self.pa[pna] >= 0 or self.pb[pnb] >= 0:
                continue
            if a.local[pna] == b.local[pnb] or (relaxed and a.ops[pna][1] == b.ops[pnb][1]):
                self._pair(pna, pnb)

    def input_pairs(self, i: int, j: int) -> list[tuple[int, int]]:
        """The inputs of paired nodes ``i`` (A) and ``j`` (B) aligned: slot by slot, or for a
        commutative op by pairing first, then by signature, then in order. Implicit inputs of
        bodies likewise."""
        a, b = self.a, self.b
        out = []
        if a.commutative[i] and b.commutative[j]:
            out.extend(self._align([v for v in a.ins[i] if v >= 0], [v for v in b.ins[j] if v >= 0], True))
        else:
            out.extend((x, y) for x, y in zip(a.ins[i], b.ins[j], strict=False) if x >= 0 and y >= 0)
        if a.implicit[i] and b.implicit[j]:
            out.extend(self._align(list(a.implicit[i]), list(b.implicit[j]), False))
        return out

    def _align(self, xs: list[int], ys: list[int], in_order: bool) -> list[tuple[int, int]]:
        out = []
        left = list(ys)
        rest = []
        for x in xs:
            y = next((y for y in left if self.values_paired(x, y)), None)
            if y is None:
                rest.append(x)
                continue
            left.remove(y)
            out.append((x, y))
        if rest and left:
            sig_b = {y: value_sig(self.b, self.sfb, self.lb, y) for y in left}
            sig_a = {x: value_sig(self.a, self.sfa, self.la, x) for x in rest}
            count_a = Counter(sig_a.values())
            count_b = Counter(sig_b.values())
            rest2 = []
            for x in rest:
                sx = sig_a[x]
                y = next((y for y in left if sig_b[y] == sx), None)
                if y is None or count_a[sx] != 1 or count_b[sx] != 1:  # only an unambiguous match
                    rest2.append(x)
                    continue
                left.remove(y)
                out.append((x, y))
            if in_order:
                out.extend(zip(rest2, left, strict=False))
        return out

    def values_paired(self, x: int, y: int) -> bool:
        pna, sa = self.a.producer[x]
        pnb, sb = self.b.producer[y]
        if pna >= 0 and pnb >= 0 and self.pa[pna] == pnb and sa == sb:
            return True
        return self.va.get(x) == y or (x, y) in self.shared  # leaves, constants

    # --- values ------------------------------------------------------------------------------

    def _pair_values(self) -> None:
        """Values follow their producers; initializers follow the inputs of paired readers."""
        a, b = self.a, self.b
        for i in a.order:
            j = self.pa[i]
            if j < 0:
                continue
            for x, y in zip(a.outs[i], b.outs[j], strict=False):
                if x >= 0 and y >= 0:
                    self.va[x] = y
                    self.vb[y] = x
        consts_a = a.leaf.keys() | a.constant.keys()
        for i in a.order:
            j = self.pa[i]
            if j < 0 or not (a.implicit[i] or any(v in consts_a for v in a.ins[i])):
                continue
            for x, y in self.input_pairs(i, j):
                if x in self.va or y in self.vb:
                    continue
                lx, ly = a.leaf.get(x), b.leaf.get(y)
                if lx is not None and ly is not None:
                    if lx.kind in ("initializer", "sparse") and ly.kind == lx.kind:
                        self.va[x] = y
                        self.vb[y] = x
                    continue
                # a constant either way: an initializer on one side, a Constant node's output on the
                # other (onnxruntime's optimizer turns Constant nodes into initializers)
                kx = "initializer" if lx is not None and lx.kind == "initializer" else \
                    "constant" if x in a.constant and self.pa[a.constant[x][2]] < 0 else ""
                ky = "initializer" if ly is not None and ly.kind == "initializer" else \
                    "constant" if y in b.constant and self.pb[b.constant[y][2]] < 0 else ""
                if {kx, ky} == {"initializer", "constant"}:
                    self.va[x] = y
                    self.vb[y] = x
        for i in a.order:  # constants shared by several readers on one side, not on the other
            j = self.pa[i]
            if j < 0 or not (a.implicit[i] or any(v in consts_a for v in a.ins[i])):
                continue
            for x, y in self.input_pairs(i, j):
                if not self.values_paired(x, y) and self._same_constant(x, y):
                    self.shared.add((x, y))

    def _same_constant(self, x: int, y: int) -> bool:
        a, b = self.a, self.b
        ta, tb = constant_value(a, x), constant_value(b, y)
        if ta is None or tb is None or ta.data_type != tb.data_type or list(ta.dims) != list(tb.dims):
            return False
        if (x in a.constant and self.pa[a.constant[x][2]] >= 0) \
                or (y in b.constant and self.pb[b.constant[y][2]] >= 0):
            return False  # a paired Constant node: its own pairing says what it is
        return bool(self._content(a, -1, self._digests_a, x) == self._content(b, -1, self._digests_b, y))


def _positions(info: GraphInfo) -> list[int]:
    pos = [0] * len(info.protos)
    for k, i in enumerate(info.order):
        pos[i] = k
    return pos


def _group(info: GraphInfo, consumers: list[tuple[int, int]], relaxed: bool) -> dict[Any, list[int]]:
    out: dict[Any, list[int]] = {}
    for c, slot in consumers:
        label = info.ops[c][1] if relaxed else info.local[c]
        key = (label, -2 if slot >= 0 and info.commutative[c] else slot)
        group = out.setdefault(key, [])
        if c not in group:
            group.append(c)
    return out


def _pair_unique(la: list[int], lb: list[int], sa: list[int], sb: list[int], m: Matching) -> None:
    by: dict[int, list[list[int]]] = {}
    for c in la:
        by.setdefault(sa[c], [[], []])[0].append(c)
    for c in lb:
        by.setdefault(sb[c], [[], []])[1].append(c)
    for xs, ys in by.values():
        if len(xs) == 1 and len(ys) == 1:
            m._pair(xs[0], ys[0])
