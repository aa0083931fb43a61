"""What gets drawn: views (a graph, or the inside of a scope) made of boxes and edges, laid out.

A view draws some nodes of one graph. Scopes below the view's base scope are either expanded
(their boxes drawn, framed), collapsed into one cluster box (``depth``), or folded: a run of
sibling scopes ``layers.0 .. layers.31`` with the same op/edge signature becomes one cluster box
"x 32". Graph inputs, outputs and values from outside the view are io boxes; initializers are io
boxes too on small graphs (under 200 nodes), else summarized inside the boxes that read them.
If/Loop/Scan bodies are views of their own, placed beside their node; model-local functions are
views of their own too (``fn:DOMAIN:NAME``), drawn once beside the main graph and linked from every
node that calls them. Bodies and labels come from onnxlite.model's walker and naming rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from onnxlite.draw._layout import layout
from onnxlite.draw._names import as_text, node_scope, scope_parts
from onnxlite.draw._types import tensor_type_text
from onnxlite.model import Body, function_path, normalize_domain

CHAR_W = 7.0
LINE_H = 14.0
BODY_GAP = 30.0
BODY_TITLE = 18.0
MAX_INIT_LINES = 3
FOLD_MIN_NODES = 1000
INIT_BOX_MAX = 200  # graphs with fewer nodes than this draw initializers as io boxes
_INDEXED = re.compile(r"^(.*?)([._]?)(\d+)$")


@dataclass(frozen=True)
class Options:
    fold: bool | None = None  # None: fold repeated blocks when the graph has over 1,000 nodes
    depth: int | None = None
    expand: tuple[str, ...] = ()
    no_fold: bool = False  # every node: no folded blocks and no collapsed scopes
    clusters: bool = False  # also build the inside of every cluster (for the HTML page)
    initializers: bool | None = None  # io boxes for initializers; None: when the graph is small


class Box:
    __slots__ = (
        "kind",
        "name",
        "op",
        "label",
        "title",
        "lines",
        "w",
        "h",
        "W",
        "H",
        "x",
        "y",
        "group",
        "node",
        "count",
        "repeat",
        "view",
        "bodies",
        "role",
        "members",
        "scope",
        "call",
    )

    def __init__(
        self, kind: str, name: str, op: str, label: str, lines: list[str], group: tuple[str, ...]
    ) -> None:
        self.kind = kind  # 'node' | 'cluster' | 'io'
        self.name = name  # data-name: node label, scope, or value name
        self.op = op  # op type; for io boxes the role
        self.label = label  # first text line
        self.title = name
        self.lines = lines
        self.group = group  # expanded scopes around the box, outermost first
        self.w = max(48.0, CHAR_W * max(len(label), *(len(s) * 0.85 for s in lines), 0) + 16)
        self.h = 22.0 + LINE_H * len(lines)
        self.W = self.w
        self.H = self.h
        self.x = 0.0
        self.y = 0.0
        self.node = -1  # node index in its graph for node boxes
        self.count = 0
        self.repeat = 1
        self.view = -1  # the view drawing the inside of a cluster (HTML)
        self.bodies: list[int] = []  # views of If/Loop/Scan bodies of a node
        self.role = ""
        self.members: list[int] = []  # node indices a cluster stands for
        self.scope = ""
        self.call = ""  # the path (fn:DOMAIN:NAME) of the model-local function a node calls


@dataclass
class Edge:
    src: int
    dst: int
    value: str
    type: str


@dataclass
class View:
    id: int
    graph: str  # graph path
    title: str
    base: str  # scope whose inside this view draws ('' for a whole graph)
    kind: str  # 'graph' | 'cluster' | 'body' | 'function'
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    routes: dict[tuple[int, int], list[tuple[float, float]]] = field(default_factory=dict)
    frames: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


class GraphInfo:
    """Per-graph facts, computed once: labels, scopes, producers, the scope tree, fold runs."""

    def __init__(self, body: Body, outer_inits: dict[str, str]) -> None:
        proto = body.proto
        self.body = body
        self.path = body.path
        self.proto = proto
        self.nodes = list(proto.node)
        self.labels = body.labels  # text: names that are not UTF-8 come escaped
        self.scopes = [node_scope(n) for n in self.nodes]
        self.producer: dict[str, tuple[int, int]] = {}
        for i, n in enumerate(self.nodes):
            for k, o in enumerate(n.output):
                if o:
                    self.producer[o] = (i, k)
        # initializers in scope, with their type text: the enclosing bodies' unless this body
        # defines the name itself (an inner definition hides the outer one), then its own
        self.init_text = {k: v for k, v in outer_inits.items() if k not in body.defined}
        if body.is_function:
            self.inputs = [v for v in proto.input]
            self.outputs = [v for v in proto.output]
        else:
            for t in proto.initializer:
                self.init_text[t.name] = tensor_type_text(t.data_type, t.dims)
            for sp in proto.sparse_initializer:
                self.init_text[sp.values.name] = "sparse_" + tensor_type_text(sp.values.data_type, sp.dims)
            own = {t.name for t in proto.initializer}
            self.inputs = [vi.name for vi in proto.input if vi.name not in own]
            self.outputs = [vi.name for vi in proto.output]
        self.known_inits = frozenset(self.init_text)
        self.members: dict[str, list[int]] = {"": []}
        self.children: dict[str, list[str]] = {"": []}
        for i, scope in enumerate(self.scopes):
            self.members[""].append(i)
            prefix = ""
            for part in scope_parts(scope):
                parent = prefix
                prefix = f"{prefix}/{part}"
                if prefix not in self.members:
                    self.members[prefix] = []
                    self.children[prefix] = []
                    self.children[parent].append(prefix)
                self.members[prefix].append(i)
        self.runs: dict[str, tuple[str, ...]] = {}

    def find_runs(self, forced: Any) -> None:
        """Runs of sibling scopes NAME.0, NAME.1, ... with one signature (2+ nodes each)."""
        for kids in self.children.values():
            bins: dict[tuple[str, str], list[tuple[int, str]]] = {}
            for kid in kids:
                m = _INDEXED.match(kid.rsplit("/", 1)[1])
                if m and len(self.members[kid]) >= 2 and not forced(kid):
                    bins.setdefault((m.group(1), m.group(2)), []).append((int(m.group(3)), kid))
            for items in bins.values():
                items.sort()
                run: list[str] = []
                last_i = -2
                last_sig: Any = None
                for i, kid in items:
                    sig = self.signature(kid)
                    if run and i == last_i + 1 and sig == last_sig:
                        run.append(kid)
                    else:
                        self._keep(run)
                        run = [kid]
                    last_i, last_sig = i, sig
                self._keep(run)

    def _keep(self, run: list[str]) -> None:
        if len(run) >= 2:
            t = tuple(run)
            for kid in run:
                self.runs[kid] = t

    def signature(self, scope: str) -> tuple[Any, ...]:
        members = self.members[scope]
        where = {i: k for k, i in enumerate(members)}
        cut = len(scope)
        sig = []
        for i in members:
            n = self.nodes[i]
            refs = []
            for v in n.input:
                p = self.producer.get(v)
                if p is not None and p[0] in where:
                    refs.append((where[p[0]], p[1]))
                else:
                    refs.append((-1 if v in self.known_inits else -2, 0))
            sig.append((n.domain, n.op_type, self.scopes[i][cut:], len(n.output), tuple(refs)))
        return tuple(sig)


class Scene:
    """Builds the views of a model: the main graph's, its bodies', and (for HTML) clusters'."""

    def __init__(
        self, model: Any, bodies: list[Body], types: dict[tuple[str, str], str], options: Options
    ) -> None:
        """``bodies``: the model's walk (onnxlite.model.walk) without training graphs."""
        self.model = model
        self.types = types
        self.opts = options
        main = model.graph.proto
        self.fold = (
            False
            if options.no_fold
            else (options.fold if options.fold is not None else len(main.node) > FOLD_MIN_NODES)
        )
        self.depth = None if options.no_fold else options.depth
        self.expand = tuple(e.rstrip("/") for e in options.expand)
        self.views: list[View] = []
        self.infos: dict[str, GraphInfo] = {}
        self.drawn: dict[tuple[str, int], tuple[int, int]] = {}  # (graph, node) -> (view, box)
        self.alias: dict[tuple[str, int], tuple[str, int, str]] = {}  # folded instance -> representative
        self._pending: list[tuple[View, int]] = []
        self.init_boxes = (
            options.initializers if options.initializers is not None else len(main.node) < INIT_BOX_MAX
        )
        # subgraphs of each node, in attribute order, and the model-local functions by call key
        self._children: dict[tuple[int, int], list[Body]] = {}
        roots: list[Body] = []
        for body in bodies:
            if body.parent is None:
                roots.append(body)
            else:
                self._children.setdefault((id(body.parent), body.owner_index), []).append(body)
        self._callee: dict[tuple[str, str, str], str] = {}
        for body in roots:
            if body.is_function:
                f = body.proto
                self._callee[(normalize_domain(f.domain), f.name, f.overload)] = function_path(f)
        main_body = next(b for b in roots if not b.is_function)
        self.root = self._graph_view(main_body, {}, "graph", model.graph.proto.name or "main graph")
        # model-local functions: drawn once each, beside the main graph, in the model's order
        self.functions: list[int] = [
            self._graph_view(b, {}, "function", b.path) for b in roots if b.is_function
        ]
        if options.clusters:
            while self._pending:
                view, b = self._pending.pop(0)
                self._cluster_view(view, b)

    # -- decisions -------------------------------------------------------------------------------
    def _forced(self, scope: str) -> bool:
        for e in self.expand:
            if scope == e or scope.startswith(e + "/") or e.startswith(scope + "/"):
                return True
        return False

    def _info(self, body: Body, outer_inits: dict[str, str]) -> GraphInfo:
        info = self.infos.get(body.path)
        if info is None:
            info = GraphInfo(body, outer_inits)
            if self.fold:
                info.find_runs(self._forced)
            self.infos[body.path] = info
        return info

    def _decide(self, info: GraphInfo, base: str, scope: str) -> str | tuple[str, ...]:
        if self._forced(scope):
            return "expand"
        if self.fold and scope in info.runs:
            return info.runs[scope]
        if self.depth is not None and len(info.members[scope]) >= 2:
            if len(scope_parts(scope)) - len(scope_parts(base)) > self.depth:
                return "collapse"
        return "expand"

    # -- views -----------------------------------------------------------------------------------
    def _graph_view(self, body: Body, outer_inits: dict[str, str], kind: str, title: str) -> int:
        info = self._info(body, outer_inits)
        view = View(len(self.views), body.path, title, "", kind)
        self.views.append(view)
        self._fill(view, info, info.members[""], graph_io=True)
        return view.id

    def _cluster_view(self, parent: View, b: int) -> None:
        box = parent.boxes[b]
        info = self.infos[parent.graph]
        view = View(len(self.views), parent.graph, box.name, box.scope, "cluster")
        self.views.append(view)
        box.view = view.id
        self._fill(view, info, info.members[box.scope], graph_io=False)

    def _fill(self, view: View, info: GraphInfo, members: list[int], graph_io: bool) -> None:
        boxes = view.boxes
        box_of: dict[int, int] = {}
        clusters: dict[Any, int] = {}
        base = view.base
        base_n = len(scope_parts(base))
        decided: dict[str, Any] = {}
        for i in members:
            group: list[str] = []
            target = -1
            prefix = base
            for part in scope_parts(info.scopes[i])[base_n:]:
                prefix = f"{prefix}/{part}"
                d = decided.get(prefix)
                if d is None:
                    d = decided[prefix] = self._decide(info, base, prefix)
                if d == "expand":
                    group.append(prefix)
                    continue
                key = d if isinstance(d, tuple) else prefix
                target = clusters.get(key, -1)
                if target < 0:
                    target = clusters[key] = len(boxes)
                    boxes.append(self._cluster_box(info, key, tuple(group)))
                break
            if target < 0:
                target = len(boxes)
                boxes.append(self._node_box(view, info, i, tuple(group)))
                self.drawn[(info.path, i)] = (view.id, target)
            box_of[i] = target
        for key, b in clusters.items():
            if isinstance(key, tuple):
                rep = info.members[key[0]]
                for inst in key[1:]:
                    for k, i in enumerate(info.members[inst]):
                        self.alias[(info.path, i)] = (info.path, rep[k], inst)
            self._pending.append((view, b))
        self._edges(view, info, members, box_of, graph_io)
        pairs = list(dict.fromkeys((e.src, e.dst) for e in view.edges))
        view.routes, view.width, view.height = layout(boxes, pairs)  # type: ignore[arg-type]
        view.frames = _frames(boxes)

    def _node_box(self, view: View, info: GraphInfo, i: int, group: tuple[str, ...]) -> Box:
        n = info.nodes[i]
        lines = []
        if not self.init_boxes:  # summarized: one line per initializer read, the same in every reader
            for v in n.input:
                if v in info.known_inits:
                    text = self.types.get((info.path, v)) or info.init_text[v]
                    lines.append(f"{_short(v)}: {text}")
        if len(lines) > MAX_INIT_LINES:
            lines[MAX_INIT_LINES - 1 :] = [f"+{len(lines) - MAX_INIT_LINES + 1} more initializers"]
        if n.op_type == "Constant" and not n.domain:
            for a in n.attribute:
                if a.HasField("t"):
                    lines.append(tensor_type_text(a.t.data_type, a.t.dims))
        callee = (
            self._callee.get((normalize_domain(n.domain), n.op_type, n.overload)) if self._callee else None
        )
        if callee is not None:
            lines.append(_short(callee, 40))
        op = as_text(n.op_type)
        box = Box("node", info.labels[i], op, op, lines, group)
        domain = f"{as_text(n.domain)}." if n.domain else ""
        box.title = f"{as_text(n.name) or info.labels[i]} ({domain}{op})"
        box.node = i
        box.scope = info.scopes[i]
        box.call = callee or ""
        if n.attribute:
            for body in self._children.get((id(info.body), i), ()):
                sub = self._graph_view(body, info.init_text, "body", body.path)
                box.bodies.append(sub)
            if box.bodies:
                sizes = [self.views[v] for v in box.bodies]
                box.W = box.w + sum(BODY_GAP + s.width for s in sizes)
                box.H = max(box.h, max(s.height + BODY_TITLE for s in sizes))
        return box

    def _cluster_box(self, info: GraphInfo, key: Any, group: tuple[str, ...]) -> Box:
        if isinstance(key, tuple):
            first, last = key[0].rsplit("/", 1), key[-1].rsplit("/", 1)[1]
            m = _INDEXED.match(last)
            tail = m.group(3) if m else last
            name = f"{first[0]}/{first[1]}..{tail}"
            per = len(info.members[key[0]])
            box = Box(
                "cluster", name, "", f"{first[1]}..{tail}", [f"x {len(key)}  ({per} nodes each)"], group
            )
            box.members = [i for scope in key for i in info.members[scope]]
            box.repeat = len(key)
            box.scope = key[0]
        else:
            members = info.members[key]
            box = Box("cluster", key, "", key.rsplit("/", 1)[1], [f"{len(members)} nodes"], group)
            box.members = members
            box.scope = key
        box.count = len(box.members)
        return box

    def _edges(
        self, view: View, info: GraphInfo, members: list[int], box_of: dict[int, int], graph_io: bool
    ) -> None:
        boxes = view.boxes
        io: dict[tuple[str, str], int] = {}
        seen: set[tuple[int, int, str]] = set()
        types = self.types
        path = info.path

        def io_box(name: str, role: str) -> int:
            b = io.get((name, role))
            if b is None:
                b = io[(name, role)] = len(boxes)
                text = types.get((path, name)) or (
                    info.init_text.get(name, "?") if role == "initializer" else "?"
                )
                box = Box("io", as_text(name), role, _short(name, 40), [text], ())
                box.role = role
                boxes.append(box)
            return b

        def add(src: int, dst: int, value: str) -> None:
            if src != dst and (src, dst, value) not in seen:
                seen.add((src, dst, value))
                text = types.get((path, value)) or (
                    "" if value in info.producer else info.init_text.get(value, "")
                )
                view.edges.append(Edge(src, dst, as_text(value), text))

        if graph_io:
            for name in info.inputs:
                io_box(name, "input")
        inside = set(members)
        for i in members:
            dst = box_of[i]
            for v in info.nodes[i].input:
                if not v:
                    continue
                p = info.producer.get(v)
                if p is not None and p[0] in inside:
                    add(box_of[p[0]], dst, v)
                elif p is None and v in info.known_inits:
                    if self.init_boxes:
                        add(io_box(v, "initializer"), dst, v)
                else:
                    add(io_box(v, "input" if p is not None or v in info.inputs else "outer"), dst, v)
        outs: list[str] = list(info.outputs) if graph_io else []
        if not graph_io:
            used_outside = set(info.outputs)
            for j, n in enumerate(info.nodes):
                if j not in inside:
                    used_outside.update(n.input)
            outs = [o for i in members for o in info.nodes[i].output if o and o in used_outside]
        for name in outs:
            p = info.producer.get(name)
            if p is not None and p[0] in inside:
                add(box_of[p[0]], io_box(name, "output"), name)
            elif (name, "input") in io:
                add(io[(name, "input")], io_box(name, "output"), name)
            elif p is None and self.init_boxes and name in info.known_inits:
                add(io_box(name, "initializer"), io_box(name, "output"), name)
            else:
                io_box(name, "output")


def body_places(view: View, box: Box, views: list[View]) -> list[tuple[View, float, float]]:
    """Where the bodies of a node box go: to its right, in attribute order."""
    out = []
    x = box.x + box.w
    for v in box.bodies:
        body = views[v]
        x += BODY_GAP
        out.append((body, x, box.y + BODY_TITLE))
        x += body.width
    return out


def _frames(boxes: list[Box]) -> list[tuple[str, float, float, float, float]]:
    """A frame per expanded scope holding 2+ boxes: (scope, x0, y0, x1, y1), outermost first."""
    ext: dict[tuple[str, ...], list[float]] = {}
    below: dict[tuple[str, ...], int] = {}
    count: dict[tuple[str, ...], int] = {}
    for b in boxes:
        g = b.group
        for k in range(1, len(g) + 1):
            key = g[:k]
            e = ext.get(key)
            if e is None:
                ext[key] = [b.x, b.y, b.x + b.W, b.y + b.H]
            else:
                e[0] = min(e[0], b.x)
                e[1] = min(e[1], b.y)
                e[2] = max(e[2], b.x + b.W)
                e[3] = max(e[3], b.y + b.H)
            below[key] = max(below.get(key, 0), len(g) - k)
            count[key] = count.get(key, 0) + 1
    out = []
    for key in sorted(ext, key=lambda k: (len(k), k)):
        if count[key] < 2:
            continue
        pad = 5.0 + 4.0 * below[key]
        x0, y0, x1, y1 = ext[key]
        out.append((key[-1], x0 - pad, y0 - pad - 10, x1 + pad, y1 + pad))
    return out


def _short(name: str | bytes, limit: int = 28) -> str:
    name = as_text(name)
    return name if len(name) <= limit else "\u2026" + name[-(limit - 1) :]
