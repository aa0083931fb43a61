"""`profile_model`: per-node costs over every graph body, subgraph multipliers, function calls,
and the roll-ups (totals, by op type, by scope, peak live activation bytes)."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onnxlite import _proto
from onnxlite.infer import (
    Dim,
    Expr,
    Inference,
    TensorType,
    TypeLike,
    dim_max,
    evaluate,
    format_type,
    free_symbols,
    infer_types,
    symbol,
    to_type_proto,
)
from onnxlite.model import Body, Model, domain_label, walk
from onnxlite.profile import _ops_linear, _ops_seq, _ops_simple  # noqa: F401  (register formulas)
from onnxlite.profile._formulas import NotCounted, OpView, add, find_formula, mul, numel
from onnxlite.profile._report import NodeCost, Profile, Totals, rollups
from onnxlite.profile._tensors import TensorInfo, attribute_values, body_tensors, scalar_int
from onnxlite.versions import normalize_domain

__all__ = ["profile_model"]

#: function calls nested deeper than this are not followed (reported as not counted)
MAX_CALL_DEPTH = 16
_SCOPES_KEY = "pkg.torch.onnx.name_scopes"
_Types = dict[str, dict[str, TypeLike | None]]


def profile_model(model: Model, *, input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
                  dims: Mapping[str, int] | None = None, depth: int | None = None) -> Profile:
    """MACs, FLOPs, parameters, weight bytes and output bytes of every node of ``model`` (which is
    not changed; weights are never read), with the roll-ups. Shapes come from `onnxlite.infer`;
    ``input_shapes`` and ``dims`` bind them (``dims`` also binds the trip-count symbols this
    function makes for Loops it cannot count). ``depth`` cuts scopes to that many levels. ::

        p = profile_model(onnxlite.load("bert.onnx"), dims={"batch": 1, "seq": 128})
        p.totals.macs, p.to_json()["by_op_type"][0]
    """
    run = _Run(model, dims or {}, [], {})
    records = run.profile(input_shapes, dims)
    bind = dict(dims or {})
    for r in records:
        r.bind(bind)
    run.totals.bind(bind)
    peak = run.peak
    if peak is not None:
        peak = evaluate(peak, bind)
    by_op, by_scope = rollups(records, depth)
    return Profile(records, run.totals, by_op, by_scope, peak)


@dataclass
class _Call:
    """A profiled function body (one call signature): its records and totals."""

    records: list[NodeCost]
    totals: Totals
    error: str = ""


class _Run:
    def __init__(self, model: Model, dims: Mapping[str, int], stack: list[tuple[str, str, str]],
                 calls: dict[Any, _Call]) -> None:
        self.model = model
        self.dims = dims
        self.stack = stack
        self.calls = calls
        self.functions = {(normalize_domain(f.domain), f.name, f.overload): f for f in model.proto.functions}
        self.totals = Totals()
        self.peak: Dim | None = None
        self.inference: Inference | None = None

    def profile(self, input_shapes: Mapping[str, Sequence[int | str | None]] | None,
                dims: Mapping[str, int] | None) -> list[NodeCost]:
        inference = infer_types(self.model, input_shapes=input_shapes, dims=dims)
        self.inference = inference
        types = inference.types
        bodies = walk(self.model, functions=False, training=False)
        tables = {id(b): body_tensors(b.proto, False) for b in bodies}
        by_body: dict[int, list[NodeCost]] = {}
        children: dict[tuple[int, int], list[Body]] = {}
        for b in bodies:
            if b.parent is not None:
                children.setdefault((id(b.parent), b.owner_index), []).append(b)
        for b in bodies:
            by_body[id(b)] = [self._node(b, i, n, types, tables) for i, n in enumerate(b.proto.node)]
        # bottom-up: body totals, container nodes' costs
        body_totals: dict[int, Totals] = {}
        for b in reversed(bodies):
            t = Totals()
            for i, rec in enumerate(by_body[id(b)]):
                subs = children.get((id(b), i))
                if subs:
                    self._container(b, i, rec, subs, body_totals, types, tables)
                t.add(rec.macs, rec.flops, rec.output_bytes)
            body_totals[id(b)] = t
        # top-down: execution counts and which If branch the totals take
        count: dict[int, Dim] = {}
        live: dict[int, bool] = {}
        out: list[NodeCost] = []
        tensors: dict[tuple[str, str], TensorInfo] = {}
        for b in bodies:
            if b.parent is None:
                count[id(b)], live[id(b)] = 1, True
            else:
                owner_rec = by_body[id(b.parent)][b.owner_index]
                count[id(b)] = mul(count[id(b.parent)], owner_rec.factor)
                taken = owner_rec.chosen is None or owner_rec.chosen == b.attribute
                live[id(b)] = live[id(b.parent)] and taken
            for rec in by_body[id(b)]:
                rec.count = count[id(b)]
                rec.in_totals = live[id(b)]
                out.append(rec)
                tensors.update(rec.tensors)
                for inner in rec.inner:
                    inner.count = mul(inner.count, rec.count)
                    inner.in_totals = inner.in_totals and rec.in_totals
                    out.append(inner)
                    tensors.update(inner.tensors)
        main = body_totals[id(bodies[0])] if bodies and bodies[0].path == "" else Totals()
        main.params = sum(t.numel for t in tensors.values())
        main.weight_bytes = sum(t.nbytes for t in tensors.values())
        self.totals = main
        if bodies and bodies[0].path == "":
            self.peak = _peak(bodies[0], types.get("", {}))
        return _merge_calls(out)

    # --- one node -------------------------------------------------------------------------------
    def _node(self, body: Body, index: int, node: Any, types: dict[str, dict[str, TypeLike | None]],
              tables: dict[int, dict[str, TensorInfo]]) -> NodeCost:
        in_types = [self._type(body, x, types) for x in node.input]
        out_types = [types.get(body.path, {}).get(x) if x else None for x in node.output]
        reads: dict[tuple[str, str], TensorInfo] = {}
        for x in node.input:
            if not x:
                continue
            owner = body.resolve(x)
            if owner is not None:
                info = tables[id(owner)].get(x)
                if info is not None:
                    reads[(owner.path, x)] = info
        rec = NodeCost(
            name=body.labels[index], op_type=node.op_type, domain=normalize_domain(node.domain),
            graph=body.path, scope=_scope(node), tensors=reads,
            params=sum(t.numel for t in reads.values()), weight_bytes=sum(t.nbytes for t in reads.values()),
            output_bytes=_bytes(out_types, node.output), shapes=[format_type(t) for t in in_types],
        )
        key = (rec.domain, node.op_type, "")
        fn = self.functions.get(key) or next(
            (f for k, f in self.functions.items() if k[:2] == key[:2]), None)
        if fn is not None and rec.domain not in ("", "ai.onnx.ml"):
            self._call(rec, fn, node, in_types)
            return rec
        if any(a.HasField("g") or len(a.graphs) for a in node.attribute):
            rec.kind = "container"
            return rec
        formula = find_formula(node.domain, node.op_type)
        if formula is None:
            domain = domain_label(rec.domain)
            rec.reason = f"no cost formula for {domain}:{node.op_type}"
            return rec
        try:
            cost = formula(OpView(node, in_types, out_types, attribute_values(node)))
        except NotCounted as e:
            rec.reason = e.reason
            return rec
        except (ArithmeticError, ValueError, TypeError, IndexError) as e:
            rec.reason = f"cannot count: {e}"
            return rec
        rec.macs, rec.flops = cost.macs, cost.flops
        return rec

    def _type(self, body: Body, name: str, types: dict[str, dict[str, TypeLike | None]]) -> TypeLike | None:
        if not name:
            return None
        owner = body.resolve(name)
        return types.get(owner.path if owner is not None else body.path, {}).get(name)

    # --- If / Loop / Scan -----------------------------------------------------------------------
    def _container(self, body: Body, index: int, rec: NodeCost, subs: list[Body], totals: dict[int, Totals],
                   types: _Types, tables: dict[int, dict[str, TensorInfo]]) -> None:
        node = body.proto.node[index]
        op = node.op_type if rec.domain == "" else ""
        sub_totals = [totals[id(s)] for s in subs]
        own_bytes = rec.output_bytes
        if op == "If" and len(subs) == 2:
            macs, flops, ob, chosen = _larger(subs, sub_totals)
            rec.chosen = chosen
            rec.kind = "if"
        else:
            macs = flops = ob = 0
            for t in sub_totals:
                macs, flops = _add(macs, t.macs), _add(flops, t.flops)
                ob = _add(ob, t.output_bytes)
            factor: Dim = 1
            if op == "Loop":
                factor = self._trips(body, node, index, tables)
                rec.kind = "loop"
            elif op == "Scan":
                factor = self._seq_len(body, node, index, types)
                rec.kind = "scan"
            rec.factor = factor
            macs, flops, ob = _mul(factor, macs), _mul(factor, flops), _mul(factor, ob)
        rec.macs, rec.flops = macs, flops
        rec.output_bytes = _add(own_bytes, ob) if own_bytes is not None else None
        rec.reason = None

    def _trips(self, body: Body, node: Any, index: int, tables: dict[int, dict[str, TensorInfo]]) -> Dim:
        m = node.input[0] if node.input else ""
        if m:
            owner = body.resolve(m)
            value = scalar_int(tables[id(owner)].get(m)) if owner is not None else None
            if value is not None and value >= 0:
                return value
            known = self.inference.value_of(m, owner.path) if owner is not None and self.inference else None
            if known is not None and len(known.data) == 1 and not isinstance(known.data[0], float):
                count = known.data[0]  # computed from shapes (Shape -> Gather ...): int or symbolic
                if not isinstance(count, int) or count >= 0:
                    return count  # type: ignore[no-any-return]
        return symbol("trips_" + re.sub(r"\W", "_", body.labels[index]).strip("_"))

    def _seq_len(self, body: Body, node: Any, index: int, types: _Types) -> Dim:
        attrs = attribute_values(node)
        m = attrs.get("num_scan_inputs")
        label = re.sub(r"\W", "_", body.labels[index]).strip("_")
        if isinstance(m, int) and 0 < m <= len(node.input):
            first = len(node.input) - m
            t = self._type(body, node.input[first], types)
            axes = attrs.get("scan_input_axes") or [0]
            if isinstance(t, TensorType) and t.shape is not None and t.shape:
                axis = axes[0] + len(t.shape) if axes[0] < 0 else axes[0]
                if 0 <= axis < len(t.shape):
                    return t.shape[axis]
        return symbol("seq_" + label)

    # --- functions ------------------------------------------------------------------------------
    def _call(self, rec: NodeCost, fn: Any, node: Any, in_types: list[TypeLike | None]) -> None:
        rec.kind = "call"
        key = (normalize_domain(fn.domain), fn.name, fn.overload)
        if key in self.stack or len(self.stack) >= MAX_CALL_DEPTH:
            rec.reason = "recursive or too deeply nested function call"
            return
        attrs = {a.name: a for a in fn.attribute_proto}
        for a in node.attribute:
            attrs[a.name] = a
        memo = (key, tuple(format_type(t) for t in in_types),
                tuple(sorted((k, v.SerializeToString()) for k, v in attrs.items())))
        done = self.calls.get(memo)
        if done is None:
            done = self._run_function(fn, key, in_types, attrs)
            self.calls[memo] = done
        if done.error:
            rec.reason = done.error
            return
        rec.macs, rec.flops = done.totals.macs, done.totals.flops
        if rec.output_bytes is not None:
            rec.output_bytes = _add(rec.output_bytes, done.totals.output_bytes)
        path = f"fn:{key[0]}:{key[1]}" + (f":{key[2]}" if key[2] else "")
        rec.inner = [r.copy_into(path) for r in done.records]

    def _run_function(self, fn: Any, key: tuple[str, str, str], in_types: list[TypeLike | None],
                      attrs: dict[str, Any]) -> _Call:
        m = _proto.ModelProto()
        m.ir_version = max(int(self.model.proto.ir_version), 8)
        m.opset_import.extend(fn.opset_import or self.model.proto.opset_import)
        if not any(normalize_domain(o.domain) == "" for o in m.opset_import):
            m.opset_import.extend(o for o in self.model.proto.opset_import
                                  if normalize_domain(o.domain) == "")
        m.functions.extend(self.model.proto.functions)
        g = m.graph
        g.name = fn.name
        for k, name in enumerate(fn.input):
            vi = g.input.add()
            vi.name = name
            t = in_types[k] if k < len(in_types) else None
            if t is not None:
                try:
                    vi.type.CopyFrom(to_type_proto(t))
                except (ValueError, TypeError):
                    pass
        for name in fn.output:
            g.output.add().name = name
        g.node.extend(fn.node)
        _substitute(g, attrs)
        sub = _Run(Model(m, self.model.store), self.dims, [*self.stack, key], self.calls)
        try:
            records = sub.profile(None, None)
        except Exception as e:  # noqa: BLE001 - a broken function body is one not-counted call
            return _Call([], Totals(), f"function body not profiled: {e}")
        return _Call(records, sub.totals)


def _substitute(graph: Any, attrs: dict[str, Any]) -> None:
    """Replace attribute references (ref_attr_name) in a copied function body by the caller's
    attribute (or the function's default); a reference to nothing is dropped."""
    stack = [graph]
    while stack:
        g = stack.pop()
        for n in g.node:
            keep = []
            changed = False
            for a in n.attribute:
                if a.ref_attr_name:
                    changed = True
                    src = attrs.get(a.ref_attr_name)
                    if src is not None and not src.ref_attr_name:
                        new = _proto.AttributeProto()
                        new.CopyFrom(src)
                        new.name = a.name
                        keep.append(new)
                else:
                    keep.append(a)
                    if a.HasField("g"):
                        stack.append(a.g)
                    stack.extend(a.graphs)
            if changed:
                copies = [_proto.copy(a) for a in keep]
                del n.attribute[:]
                n.attribute.extend(copies)




def _merge_calls(records: list[NodeCost]) -> list[NodeCost]:
    """Function body records of several calls with the same label and graph become one record
    whose count is the sum (the calls had the same signature) or stay apart when they differ."""
    seen: dict[tuple[str, str, str, str, str], NodeCost] = {}
    out: list[NodeCost] = []
    for r in records:
        if not r.graph.startswith("fn:"):
            out.append(r)
            continue
        key = (r.graph, r.name, str(r.macs), str(r.flops), str(r.output_bytes))
        old = seen.get(key)
        if old is None:
            seen[key] = r
            out.append(r)
        else:
            old.count = add(old.count, r.count)
            old.in_totals = old.in_totals or r.in_totals
    return out


def _larger(subs: list[Body], totals: list[Totals]) -> tuple[Dim | None, Dim | None, Dim | None, str | None]:
    """If: the larger branch by MACs (then FLOPs); when symbolic and not comparable, max(a, b)
    for each figure and no single branch chosen."""
    a, b = totals
    for key in ("macs", "flops"):
        x, y = getattr(a, key), getattr(b, key)
        if x is None or y is None:
            continue
        if x == y:
            continue
        bigger = dim_max(x, y)
        if bigger == x:
            return a.macs, a.flops, a.output_bytes, subs[0].attribute
        if bigger == y:
            return b.macs, b.flops, b.output_bytes, subs[1].attribute
        return (_max(a.macs, b.macs), _max(a.flops, b.flops), _max(a.output_bytes, b.output_bytes), None)
    return a.macs, a.flops, a.output_bytes, subs[0].attribute


def _max(x: Dim | None, y: Dim | None) -> Dim | None:
    if x is None or y is None:
        return x if y is None else y
    try:
        return dim_max(x, y)
    except ArithmeticError:
        return None


def _add(x: Dim | None, y: Dim | None) -> Dim | None:
    if x is None:
        return y
    if y is None:
        return x
    try:
        return add(x, y)
    except ArithmeticError:
        return None


def _mul(x: Dim | None, y: Dim | None) -> Dim | None:
    if x is None or y is None:
        return None
    try:
        return mul(x, y)
    except ArithmeticError:
        return None


def _bytes(types: list[TypeLike | None], names: Sequence[str]) -> Dim | None:
    total: Dim = 0
    for t, name in zip(types, names, strict=False):
        if not name:
            continue
        size = _value_bytes(t)
        if size is None:
            return None
        total = add(total, size)
    return total


def _value_bytes(t: TypeLike | None) -> Dim | None:
    if not isinstance(t, TensorType) or t.shape is None or t.dtype is None:
        return None
    bits = t.dtype.bitwidth
    if not bits:
        return None
    n = numel(t.shape)
    if isinstance(n, int):
        return -(-n * bits // 8)
    return mul(n, bits // 8) if bits % 8 == 0 else None


def _scope(node: Any) -> str:
    name = node.name
    if "/" in name.strip("/"):
        parts = [p for p in name.split("/") if p]
        return "/".join(parts[:-1])
    for p in node.metadata_props:
        if p.key == _SCOPES_KEY:
            try:
                scopes = ast.literal_eval(p.value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return ""
            if isinstance(scopes, list):
                parts = [str(s) for s in scopes[:-1] if s]
                return "/".join(parts)
    return ""


_PROBE = 1 << 12


def _peak(body: Body, types: dict[str, TypeLike | None]) -> Dim | None:
    """Peak of the bytes of the values alive at each step of the main graph's node order: graph
    inputs from the start, node outputs from their node to their last reader (graph outputs to
    the end). Symbolic sizes: the step whose sum is largest with every free size set to 4096."""
    from onnxlite.model import free_reads, graph_attributes

    g = body.proto
    nodes = g.node
    init = {t.name for t in g.initializer}
    last: dict[str, int] = {}
    for i, n in enumerate(nodes):
        for x in n.input:
            if x:
                last[x] = i
        for _, _, sub in graph_attributes(n):
            for x in free_reads(sub):
                last[x] = i
    end = len(nodes)
    for v in g.output:
        last[v.name] = end
    starts: list[list[str]] = [[] for _ in range(end + 1)]
    for v in g.input:
        if v.name not in init:
            starts[0].append(v.name)
    for i, n in enumerate(nodes):
        starts[i].extend(x for x in n.output if x)
    stops: list[list[str]] = [[] for _ in range(end + 2)]
    for i in range(end + 1):
        for name in starts[i]:
            stops[max(last.get(name, i), i) + 1].append(name)
    size: dict[str, Dim] = {}
    for i in range(end + 1):
        for name in starts[i]:
            b = _value_bytes(types.get(name))
            size[name] = b if b is not None else 0
    live: Dim = 0
    best: Dim = 0
    best_probe = -1
    for i in range(end + 1):
        for name in stops[i]:
            live = _sub(live, size[name])
        for name in starts[i]:
            live = add(live, size[name])
        probe = live if isinstance(live, int) else _probe(live)
        if probe > best_probe:
            best, best_probe = live, probe
    return best


def _sub(x: Dim, y: Dim) -> Dim:
    return x - y


def _probe(d: Expr) -> int:
    value = evaluate(d, {s: _PROBE for s in free_symbols(d)})
    return value if isinstance(value, int) else 0
