"""Comparing two graphs once their nodes are paired: what changed, what came and went, which
names changed, which initializers differ. Recurses into If/Loop/Scan bodies of paired nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onnxlite.diff import _display
from onnxlite.diff._graphinfo import GraphInfo, build, constant_tensor
from onnxlite.diff._match import Matching
from onnxlite.diff._signature import leaf_labels, outer_labels
from onnxlite.diff._tensorbytes import TensorRef, digest, same_bytes, statistics
from onnxlite.model import Body
from onnxlite.versions import op_schema


@dataclass
class Collected:
    """Everything found, over every graph pair, as plain JSON-ready records."""

    weights: bool = False
    matched: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    renames: list[dict[str, Any]] = field(default_factory=list)
    init_matched: int = 0
    init_changed: list[dict[str, Any]] = field(default_factory=list)
    init_added: list[dict[str, Any]] = field(default_factory=list)
    init_removed: list[dict[str, Any]] = field(default_factory=list)
    constants: list[dict[str, Any]] = field(default_factory=list)  # Constant node <-> initializer
    matchings: list[Matching] = field(default_factory=list)  # every graph pair's pairing (for inference)
    signature: list[dict[str, Any]] = field(default_factory=list)
    scopes_a: list[str] = field(default_factory=list)  # per added/removed/changed record: its scope
    scope_of: dict[int, str] = field(default_factory=dict)


#: (parent body path, owner node index, attribute name, slot or None) -> the body, from the shared walker
BodyIndex = dict[tuple[str, int, str, int | None], Body]


def body_index(walked: list[Body]) -> BodyIndex:
    """Every If/Loop/Scan body of a model (``walk(model, training=False)``) by where it hangs."""
    return {(b.parent.path, b.owner_index, b.attribute, b.slot): b for b in walked if b.parent is not None}


@dataclass
class Side:
    """One side's context for a graph: its opsets, the outer values paired so far, its model's
    bodies (naming-rule paths come from the walker)."""

    opsets: dict[str, int]
    outer: dict[str, int]
    bodies: BodyIndex


def diff_graph(a: GraphInfo, b: GraphInfo, sa: Side, sb: Side, input_pairs: list[tuple[int, int]],
               out: Collected) -> None:
    """Pair the nodes of ``a`` and ``b`` and record the differences (recursing into bodies).
    ``input_pairs``: (A position, B position) of graph inputs that form the interface."""
    labels_a = {pa: hash(("in", k)) for k, (pa, _) in enumerate(input_pairs)}
    labels_b = {pb: hash(("in", k)) for k, (_, pb) in enumerate(input_pairs)}
    leaves_a = leaf_labels(a, labels_a, outer_labels(sa.outer))
    leaves_b = leaf_labels(b, labels_b, outer_labels(sb.outer))
    m = Matching(a, b, leaves_a, leaves_b).run()
    out.matchings.append(m)
    moved_a, moved_b = _constants(m, out)
    for i in a.order:
        j = m.pa[i]
        if j < 0:
            if i in moved_a:
                continue
            out.removed.append({"name": a.labels[i], "op_type": a.ops[i][1], "graph": a.path,
                                "_node": a.protos[i]})
            continue
        record = _compare_nodes(m, i, j, sa, sb, out)
        if record is None:
            out.matched += 1
        else:
            out.changed.append(record)
        if a.protos[i].name != b.protos[j].name:
            out.renames.append({"kind": "node", "a": a.labels[i], "b": b.labels[j], "graph": a.path})
    for j in b.order:
        if m.pb[j] < 0 and j not in moved_b:
            out.added.append({"name": b.labels[j], "op_type": b.ops[j][1], "graph": b.path,
                              "_node": b.protos[j]})
    _values(m, out)
    _initializers(m, out)


def _compare_nodes(m: Matching, i: int, j: int, sa: Side, sb: Side, out: Collected) -> dict[str, Any] | None:
    a, b = m.a, m.b
    if _plainly_same(m, i, j, sa, sb):
        return None
    pa, pb = a.protos[i], b.protos[j]
    what: list[str] = []
    rec: dict[str, Any] = {"a": a.labels[i], "b": b.labels[j], "op_type": a.ops[i][1], "graph": a.path}
    if b.ops[j][1] != a.ops[i][1]:
        rec["op_type_b"] = b.ops[j][1]
    if a.ops[i][0] != b.ops[j][0] or a.ops[i][2] != b.ops[j][2]:
        what.append("domain")
        rec["domain"] = [_op_domain(a.ops[i]), _op_domain(b.ops[j])]
    va, vb = _op_version(a.ops[i], sa.opsets), _op_version(b.ops[j], sb.opsets)
    if va != vb:
        what.append("op_version")
        rec["op_version"] = [va, vb]
    attrs = _attributes(m, i, j, sa, sb, out)
    if attrs:
        what.append("attributes")
        rec["attributes"] = attrs
    bodies = [k for k, v in attrs.items() if v == "body"] if attrs else []
    if bodies:
        for k in bodies:
            del attrs[k]
        if not attrs:
            what.remove("attributes")
            del rec["attributes"]
        what.append("body")
        rec["body"] = [f"{a.labels[i]}.{k}" for k in bodies]
    inputs = _inputs(m, i, j)
    if inputs:
        what.append("inputs")
        rec["inputs"] = inputs
    types: dict[str, list[Any]] = {}
    for slot, (x, y) in enumerate(zip(a.outs[i], b.outs[j], strict=False)):
        if x < 0 or y < 0:
            continue
        ta, tb = a.declared.get(a.names[x]), b.declared.get(b.names[y])
        if ta is not None and tb is not None and ta[0] != tb[0]:
            types[str(slot)] = [_display.type_text(ta), _display.type_text(tb)]
    if len(pa.output) != len(pb.output):
        types["count"] = [len(pa.output), len(pb.output)]
    if types:
        what.append("output_types")
        rec["output_types"] = types
    if not what:
        return None
    rec["what"] = what
    rec["_node"] = pa
    return rec


def _plainly_same(m: Matching, i: int, j: int, sa: Side, sb: Side) -> bool:
    """The fast path for most pairs: same op and attributes (no bodies), every input paired at
    its own slot, same output types, same op version."""
    a, b = m.a, m.b
    if a.local[i] != b.local[j] or a.implicit[i] or b.implicit[j] or len(a.ins[i]) != len(b.ins[j]):
        return False
    if a.attrs[i] and any(v[0] in ("g", "graphs") for v in a.attrs[i].values()):
        return False  # bodies are compared inside (their initializers may differ)
    for x, y in zip(a.ins[i], b.ins[j], strict=True):
        if (x < 0) != (y < 0) or (x >= 0 and not m.values_paired(x, y)):
            return False
    for x, y in zip(a.outs[i], b.outs[j], strict=False):
        if x >= 0 and y >= 0:
            ta, tb = a.declared.get(a.names[x]), b.declared.get(b.names[y])
            if ta is not None and tb is not None and ta[0] != tb[0]:
                return False
    if sa.opsets.get(a.ops[i][0]) != sb.opsets.get(b.ops[j][0]):
        return _op_version(a.ops[i], sa.opsets) == _op_version(b.ops[j], sb.opsets)
    return True


def _op_domain(op: tuple[str, str, str]) -> str:
    return f"{op[0]}:{op[2]}" if op[2] else op[0]


def _op_version(op: tuple[str, str, str], opsets: dict[str, int]) -> int | None:
    version = opsets.get(op[0])
    if version is None:
        return None
    schema = op_schema(op[0], op[1], version)
    return schema.since_version if schema is not None else version


def _attributes(m: Matching, i: int, j: int, sa: Side, sb: Side, out: Collected) -> dict[str, Any]:
    a, b = m.a, m.b
    ca, cb = a.attrs[i], b.attrs[j]
    found: dict[str, Any] = {}
    by_a = {x.name: x for x in a.protos[i].attribute}
    by_b = {x.name: x for x in b.protos[j].attribute}
    for name in list(ca) + [n for n in cb if n not in ca]:
        x, y = by_a.get(name), by_b.get(name)
        kx, ky = (ca.get(name) or ("",))[0], (cb.get(name) or ("",))[0]
        if kx in ("g", "graphs") and kx == ky:
            gx = _graph_slots(sa, a.path, i, name)
            gy = _graph_slots(sb, b.path, j, name)
            if len(gx) == len(gy) and _bodies(m, name, gx, gy, sa, sb, out):
                found[name] = "body"
            elif len(gx) != len(gy):
                found[name] = [f"{len(gx)} graphs", f"{len(gy)} graphs"]
            continue
        if ca.get(name) != cb.get(name):
            found[name] = [_display.attribute(x, a.store), _display.attribute(y, b.store)]
    return found


def _graph_slots(side: Side, path: str, node: int, name: str) -> list[Body]:
    """The bodies attribute ``name`` of node ``node`` of the graph at ``path`` holds, in order."""
    one = side.bodies.get((path, node, name, None))
    if one is not None:
        return [one]
    out: list[Body] = []
    while (found := side.bodies.get((path, node, name, len(out)))) is not None:
        out.append(found)
    return out


def _bodies(m: Matching, name: str, gx: list[Body], gy: list[Body], sa: Side, sb: Side,
            out: Collected) -> bool:
    """Diff the bodies of paired nodes; True when anything in them differs."""
    a, b = m.a, m.b
    outer_a, outer_b = dict(sa.outer), dict(sb.outer)
    for x, y in m.va.items():  # this graph's pairs shadow the enclosing ones
        pid = hash((a.path, x))
        outer_a[a.names[x]] = pid
        outer_b[b.names[y]] = pid
    before = _count(out)
    for g1, g2 in zip(gx, gy, strict=False):
        ia, ib = build(g1.proto, a.store, g1.path), build(g2.proto, b.store, g2.path)
        n = min(len(ia.inputs), len(ib.inputs))
        _signature(ia, ib, out, names=False)
        diff_graph(ia, ib, Side(sa.opsets, outer_a, sa.bodies), Side(sb.opsets, outer_b, sb.bodies),
                   [(p, p) for p in range(n)], out)
    return _count(out) != before


def _count(out: Collected) -> int:
    return (len(out.changed) + len(out.added) + len(out.removed) + len(out.init_changed)
            + len(out.init_added) + len(out.init_removed) + len(out.signature))


def _inputs(m: Matching, i: int, j: int) -> dict[str, Any]:
    """Rewired inputs (slot by slot, names in A and B) and whether paired inputs were swapped."""
    a, b = m.a, m.b
    ins_a, ins_b = a.ins[i], b.ins[j]
    found: dict[str, Any] = {}
    rewired = []
    aligned = {x: y for x, y in m.input_pairs(i, j)}
    for slot in range(max(len(ins_a), len(ins_b))):
        x = ins_a[slot] if slot < len(ins_a) else -1
        y = ins_b[slot] if slot < len(ins_b) else -1
        if x < 0 and y < 0:
            continue
        if x >= 0 and y >= 0 and m.values_paired(x, y):
            continue
        if x >= 0 and aligned.get(x, -2) >= 0 and m.values_paired(x, aligned[x]) and a.commutative[i]:
            continue  # commutative: found at another slot, reported as a swap below
        rewired.append({"slot": slot, "a": a.names[x] if x >= 0 else None,
                        "b": b.names[y] if y >= 0 else None})
    swapped = _swapped(m, ins_a, ins_b)
    if swapped:
        found["swapped"] = True
        rewired = []  # every input found its partner at another slot: the swap says it all
    if rewired:
        found["rewired"] = rewired
    ia, ib = a.implicit[i], b.implicit[j]
    if ia or ib:
        left = list(ib)
        unpaired: list[str] = []
        for x in ia:
            hit = next((y for y in left if m.values_paired(x, y)), None)
            if hit is None:
                unpaired.append(a.names[x])
            else:
                left.remove(hit)
        if unpaired or left:
            found["outer"] = [unpaired, [b.names[y] for y in left]]
    return found


def _swapped(m: Matching, ins_a: tuple[int, ...], ins_b: tuple[int, ...]) -> bool:
    """Every input paired with an input of the partner, but not all at the same slot."""
    if len(ins_a) != len(ins_b) or len(ins_a) < 2:
        return False
    perm = []
    used: set[int] = set()
    for x in ins_a:
        k = next((k for k, y in enumerate(ins_b) if k not in used and x >= 0 and y >= 0
                  and m.values_paired(x, y)), None)
        if k is None:
            return False
        used.add(k)
        perm.append(k)
    return perm != list(range(len(perm)))


def _values(m: Matching, out: Collected) -> None:
    a, b = m.a, m.b
    for x, y in m.va.items():
        if a.names[x] == b.names[y]:
            continue
        lx, ly = a.leaf.get(x), b.leaf.get(y)
        kind = "initializer" if any(v is not None and v.kind in ("initializer", "sparse") for v in (lx, ly)) \
            else "value"
        out.renames.append({"kind": kind, "a": a.names[x], "b": b.names[y], "graph": a.path})


def _initializers(m: Matching, out: Collected) -> None:
    """Initializers paired through their readers are compared byte for byte; the rest are hashed
    to find renamed twins, then paired by name; what is left was added or removed."""
    a, b = m.a, m.b
    tensors_a = [(vid, leaf.tensor) for vid, leaf in a.leaf.items()
                 if leaf.tensor is not None and m.va.get(vid, -1) not in b.constant]
    tensors_b = {vid: leaf.tensor for vid, leaf in b.leaf.items()
                 if leaf.tensor is not None and m.vb.get(vid, -1) not in a.constant}
    shared_a = {x: y for x, y in m.shared if x not in m.va}
    shared_b = {y: x for x, y in m.shared if y not in m.vb}
    for x, y in m.shared:  # one constant shared on one side for several equal ones on the other
        if (x in shared_a and x in a.leaf and y in b.leaf) or (y in shared_b and y in b.leaf and x in a.leaf):
            tensors_a = [(vid, t) for vid, t in tensors_a if vid != x or vid not in shared_a]
            tensors_b.pop(y, None) if y in shared_b else None
            out.init_matched += 1
            out.renames.append({"kind": "initializer", "a": a.names[x], "b": b.names[y], "graph": a.path,
                                "shared": True})
    loose_a = []
    for vid, t in tensors_a:
        partner = m.va.get(vid)
        if partner is None or partner not in tensors_b:
            loose_a.append((vid, t))
            continue
        _compare_tensors(a, b, vid, partner, t, tensors_b.pop(partner), out)
    if not loose_a and not tensors_b:
        return
    twins: dict[Any, list[int]] = {}
    for vid, t in tensors_b.items():
        twins.setdefault(_content_key(t, b), []).append(vid)
    rest_a = []
    for vid, t in loose_a:
        found = twins.get(_content_key(t, a))
        if found:
            y = found.pop(0)
            tensors_b.pop(y)
            out.init_matched += 1
            if a.names[vid] != b.names[y]:
                out.renames.append({"kind": "initializer", "a": a.names[vid], "b": b.names[y],
                                    "graph": a.path})
        else:
            rest_a.append((vid, t))
    by_name = {b.names[vid]: vid for vid in tensors_b}
    for vid, t in rest_a:
        y = by_name.pop(a.names[vid], -1)
        if y < 0:
            out.init_removed.append(_display.tensor_record(a.names[vid], t, a.path))
            continue
        _compare_tensors(a, b, vid, y, t, tensors_b.pop(y), out)
    for vid, t in tensors_b.items():
        out.init_added.append(_display.tensor_record(b.names[vid], t, b.path))


def _constants(m: Matching, out: Collected) -> tuple[set[int], set[int]]:
    """Constant nodes paired with an initializer of the other side (through the readers, see
    Matching._pair_values): one record each, the contents compared byte for byte (a difference
    is also a changed initializer). Returns the A and B Constant nodes so accounted for."""
    a, b = m.a, m.b
    moved_a: set[int] = set()
    moved_b: set[int] = set()
    for x, y in list(m.va.items()) + sorted(m.shared):
        if x in a.constant and m.pa[a.constant[x][2]] < 0 and y in b.leaf:
            node = a.constant[x][2]
            moved_a.add(node)
            rec = {"a": a.labels[node], "b": b.names[y], "kind": "Constant -> initializer"}
            ta, tb = constant_tensor(a.protos[node]), b.leaf[y].tensor
        elif y in b.constant and m.pb[b.constant[y][2]] < 0 and x in a.leaf:
            node = b.constant[y][2]
            moved_b.add(node)
            rec = {"a": a.names[x], "b": b.labels[node], "kind": "initializer -> Constant"}
            ta, tb = a.leaf[x].tensor, constant_tensor(b.protos[node])
        else:
            continue
        shown = _display.tensor_record("", ta, a.path)
        rec.update(graph=a.path, dtype=shown["dtype"], shape=shown["shape"])
        out.constants.append(rec)
        changed = Collected(weights=out.weights)
        _compare_tensors(a, b, x, y, ta, tb, changed)
        for c in changed.init_changed:
            c["a"], c["b"], c["kind"] = rec["a"], rec["b"], rec["kind"]
            out.init_changed.append(c)
        out.init_matched += changed.init_matched
    return moved_a, moved_b


def _content_key(t: Any, info: GraphInfo) -> tuple[Any, ...]:
    if hasattr(t, "values"):  # sparse
        return ("sparse", tuple(t.dims), _content_key(t.values, info), _content_key(t.indices, info))
    return (int(t.data_type), tuple(t.dims), digest(TensorRef(t, info.store, f"{info.path or 'graph'}"
                                                                          f" initializer '{t.name}'")))


def _compare_tensors(a: GraphInfo, b: GraphInfo, x: int, y: int, ta: Any, tb: Any, out: Collected) -> None:
    if hasattr(ta, "values") or hasattr(tb, "values"):
        same = _content_key(ta, a) == _content_key(tb, b)
        refs = None
    else:
        ra = TensorRef(ta, a.store, f"{a.path or 'graph'} initializer '{ta.name}'")
        rb = TensorRef(tb, b.store, f"{b.path or 'graph'} initializer '{tb.name}'")
        same = ta.data_type == tb.data_type and list(ta.dims) == list(tb.dims) and same_bytes(ra, rb)
        refs = (ra, rb)
    if same:
        out.init_matched += 1
        return
    rec = _display.tensor_record(a.names[x], ta, a.path)
    rec["a"] = rec.pop("name")
    rec["b"] = b.names[y]
    other = _display.tensor_record(b.names[y], tb, b.path)
    if other["dtype"] != rec["dtype"]:
        rec["dtype_b"] = other["dtype"]
    if other["shape"] != rec["shape"]:
        rec["shape_b"] = other["shape"]
    if out.weights and refs is not None:
        rec.update(statistics(*refs))
    out.init_changed.append(rec)


def _signature(a: GraphInfo, b: GraphInfo, out: Collected, *, names: bool) -> None:
    """Inputs and outputs of a graph pair, position by position: names (for the main graph:
    they are the interface) and declared types."""
    for what, xs, ys in (("inputs", a.inputs, b.inputs), ("outputs", a.outputs, b.outputs)):
        prefix = f"{a.path}.{what}" if a.path else what
        if len(xs) != len(ys):
            out.signature.append({"field": f"{prefix}.count", "a": len(xs), "b": len(ys)})
        for k, (x, y) in enumerate(zip(xs, ys, strict=False)):
            if names and a.names[x] != b.names[y]:
                out.signature.append({"field": f"{prefix}[{k}].name", "a": a.names[x], "b": b.names[y]})
            ta, tb = a.declared.get(a.names[x]), b.declared.get(b.names[y])
            if (ta and ta[0]) != (tb and tb[0]) and not a.is_function:
                out.signature.append({"field": f"{prefix}[{k}].type", "a": _display.type_text(ta),
                                      "b": _display.type_text(tb)})
        for k in range(len(ys), len(xs)):
            out.signature.append({"field": f"{prefix}[{k}]", "a": a.names[xs[k]], "b": None})
        for k in range(len(xs), len(ys)):
            out.signature.append({"field": f"{prefix}[{k}]", "a": None, "b": b.names[ys[k]]})


def interface_pairs(a: GraphInfo, b: GraphInfo) -> list[tuple[int, int]]:
    """Main graph inputs paired by name first, then the rest by position."""
    pos_b = {b.names[v]: k for k, v in enumerate(b.inputs)}
    pairs = []
    left_a = []
    used = set()
    for k, v in enumerate(a.inputs):
        kb = pos_b.get(a.names[v])
        if kb is None:
            left_a.append(k)
        else:
            pairs.append((k, kb))
            used.add(kb)
    left_b = [k for k in range(len(b.inputs)) if k not in used]
    pairs.extend(zip(left_a, left_b, strict=False))
    return pairs
