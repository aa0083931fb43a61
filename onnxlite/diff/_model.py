"""diff_models: header, signature, graphs and functions of two models, and the summary."""

from __future__ import annotations

import ast
import gc
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from onnxlite.diff._compare import Collected, Side, _signature, body_index, diff_graph, interface_pairs
from onnxlite.diff._graphinfo import build
from onnxlite.diff._inferred import compare_inferred, upstream_changed
from onnxlite.dtypes import data_type_of, raw_nbytes
from onnxlite.errors import ModelFormatError
from onnxlite.model import Body, Model, function_path, walk


@dataclass
class ModelDiff:
    """What differs between two models. ``equal`` is True when nothing but names and node order
    differ; ``to_json()`` gives the report as plain data (see the README for its keys)."""

    header: list[dict[str, Any]] = field(default_factory=list)
    signature: list[dict[str, Any]] = field(default_factory=list)
    nodes: dict[str, Any] = field(default_factory=dict)
    initializers: dict[str, Any] = field(default_factory=dict)
    renames: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        n, t = self.nodes, self.initializers
        return not (self.header or self.signature or n["added"] or n["removed"] or n["changed"]
                    or n["constants"] or t["added"] or t["removed"] or t["changed"])

    def to_json(self) -> dict[str, Any]:
        return {"equal": self.equal, "header": self.header, "signature": self.signature, "nodes": self.nodes,
                "initializers": self.initializers, "renames": self.renames, "summary": self.summary}


def diff_models(a: Model, b: Model, *, weights: bool = False, infer: bool = True) -> ModelDiff:
    """Compare two models by structure, not by name: nodes are paired by op, attributes and
    position in the dataflow, so renamed values and reordered nodes are no difference.
    ``weights=True`` adds max abs/rel difference and the count of differing elements to each
    changed initializer (streamed; without it tensors are only compared byte for byte).
    ``infer`` compares inferred output types of paired nodes where neither model declares them
    (only when something upstream changed; see ``_inferred``).
    Neither model is changed. Example::

        d = onnxlite.diff.diff_models(onnxlite.load("a.onnx"), onnxlite.load("b.onnx"))
        d.equal, d.to_json()["nodes"]["changed"]
    """
    collecting = gc.isenabled()
    gc.disable()  # millions of small tuples and lists, none cyclic: collections would only rescan them
    try:
        return _diff_models(a, b, weights, infer)
    finally:
        if collecting:
            gc.enable()


def _diff_models(a: Model, b: Model, weights: bool, infer: bool) -> ModelDiff:
    out = Collected(weights=weights)
    ga = build(a.proto.graph, a.store, "")
    gb = build(b.proto.graph, b.store, "")
    walked_a, walked_b = walk(a, training=False), walk(b, training=False)
    bodies_a, bodies_b = body_index(walked_a), body_index(walked_b)
    _signature(ga, gb, out, names=True)
    diff_graph(ga, gb, Side(a.opset_imports, {}, bodies_a), Side(b.opset_imports, {}, bodies_b),
               interface_pairs(ga, gb), out)
    header = _header(a, b)
    _functions(a, b, out, header, bodies_a, bodies_b)
    if infer and upstream_changed(out):
        compare_inferred(a, b, out)
    scope_stats = _scopes(a, b, out)
    result = ModelDiff(header=header, signature=out.signature, renames=out.renames)
    result.nodes = {"matched": out.matched, "added": [_clean(r) for r in out.added],
                    "removed": [_clean(r) for r in out.removed], "changed": out.changed,
                    "constants": out.constants}
    result.initializers = {"matched": out.init_matched, "added": out.init_added, "removed": out.init_removed,
                           "changed": out.init_changed}
    result.summary = _summary(walked_a, walked_b, out)
    result.summary["scopes"] = scope_stats
    return result


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _header(a: Model, b: Model) -> list[dict[str, Any]]:
    found = []

    def field_(name: str, x: Any, y: Any) -> None:
        if x != y:
            found.append({"field": name, "a": x, "b": y})

    pa, pb = a.proto, b.proto
    field_("ir_version", int(pa.ir_version), int(pb.ir_version))
    oa, ob = a.opset_imports, b.opset_imports
    for d in list(oa) + [d for d in ob if d not in oa]:
        field_(f"opset_import[{d or 'ai.onnx'}]", oa.get(d), ob.get(d))
    for name in ("producer_name", "producer_version", "domain", "model_version", "doc_string"):
        field_(name, getattr(pa, name), getattr(pb, name))
    field_("graph.name", pa.graph.name, pb.graph.name)
    ma, mb = a.metadata_props, b.metadata_props
    for k in list(ma) + [k for k in mb if k not in ma]:
        field_(f"metadata_props[{k}]", ma.get(k), mb.get(k))
    return found


def _functions(a: Model, b: Model, out: Collected, header: list[dict[str, Any]], bodies_a: Any,
               bodies_b: Any) -> None:
    fb = {(f.domain, f.name, f.overload): f for f in b.proto.functions}
    seen = set()
    for f in a.proto.functions:
        key = (f.domain, f.name, f.overload)
        path = function_path(f)
        g = fb.get(key)
        if g is None or key in seen:
            header.append({"field": "functions", "a": path, "b": None})
            _all_nodes(build(None, a.store, path, function=f), out.removed)
            continue
        seen.add(key)
        ia = build(None, a.store, path, function=f)
        ib = build(None, b.store, path, function=g)
        _signature(ia, ib, out, names=False)
        if list(f.attribute) != list(g.attribute):
            out.signature.append({"field": f"{path}.attributes", "a": list(f.attribute),
                                  "b": list(g.attribute)})
        opsets_a = {o.domain: int(o.version) for o in f.opset_import} or a.opset_imports
        opsets_b = {o.domain: int(o.version) for o in g.opset_import} or b.opset_imports
        n = min(len(ia.inputs), len(ib.inputs))
        diff_graph(ia, ib, Side(opsets_a, {}, bodies_a), Side(opsets_b, {}, bodies_b),
                   [(k, k) for k in range(n)], out)
    for key, g in fb.items():
        if key not in seen:
            path = function_path(g)
            header.append({"field": "functions", "a": None, "b": path})
            _all_nodes(build(None, b.store, path, function=g), out.added)


def _all_nodes(info: Any, into: list[dict[str, Any]]) -> None:
    for i in info.order:
        into.append({"name": info.labels[i], "op_type": info.ops[i][1], "graph": info.path,
                     "_node": info.protos[i]})


def _summary(a: list[Body], b: list[Body], out: Collected) -> dict[str, Any]:
    """Node counts and op histogram delta over every body (``walk`` lists), parameter and byte
    deltas over every graph's initializers."""
    ops_a = _ops(a)
    ops_b = _ops(b)
    ops = {op: [ops_a.get(op, 0), ops_b.get(op, 0)] for op in sorted(set(ops_a) | set(ops_b))
           if ops_a.get(op, 0) != ops_b.get(op, 0)}
    pa, ba = _parameters(a)
    pb, bb = _parameters(b)
    return {
        "nodes": {"a": sum(ops_a.values()), "b": sum(ops_b.values()), "matched": out.matched,
                  "changed": len(out.changed), "added": len(out.added), "removed": len(out.removed),
                  "constants": len(out.constants)},
        "ops": ops,
        "parameters": {"a": pa, "b": pb, "delta": pb - pa},
        "bytes": {"a": ba, "b": bb, "delta": bb - ba},
    }


def _ops(bodies: list[Body]) -> Counter[str]:
    found: Counter[str] = Counter()
    for body in bodies:
        found.update(n.op_type for n in body.proto.node)
    return found


def _parameters(bodies: list[Body]) -> tuple[int, int]:
    """(elements, bytes) of every initializer, from dtype and shape only (no data is read)."""
    count = size = 0
    for body in bodies:
        if body.is_function:
            continue
        g = body.proto
        for t in list(g.initializer) + [s.values for s in g.sparse_initializer]:
            numel = 1
            for d in t.dims:
                numel *= max(int(d), 0)
            count += numel
            try:
                size += raw_nbytes(data_type_of(t.data_type), numel)
            except ModelFormatError:
                pass
    return count, size


def scope_of(node: Any) -> str:
    """The top-level module scope of a node: the dynamo exporter's ``pkg.torch.onnx.name_scopes``
    metadata, else the first part of a ``/scope/.../Op`` name; '' for the root."""
    if not len(node.metadata_props):
        name = node.name
        if not name.startswith("/"):
            return ""
        parts = [p for p in name.split("/") if p]
        return parts[0] if len(parts) > 1 else ""
    for entry in node.metadata_props:
        if entry.key == "pkg.torch.onnx.name_scopes":
            try:
                parts = [p for p in ast.literal_eval(entry.value) if p]
            except (ValueError, SyntaxError, TypeError):
                break
            return str(parts[0]) if len(parts) > 1 else ""
    parts = [p for p in node.name.split("/") if p]
    return parts[0] if node.name.startswith("/") and len(parts) > 1 else ""


def _scopes(a: Model, b: Model, out: Collected) -> dict[str, dict[str, int]]:
    """Per top-level scope: nodes in A and B, and how many were added, removed or changed."""
    stats: dict[str, dict[str, int]] = {}

    def bump(scope: str, key: str) -> None:
        entry = stats.setdefault(scope, {"a": 0, "b": 0, "added": 0, "removed": 0, "changed": 0})
        entry[key] += 1

    for key, model in (("a", a), ("b", b)):
        for scope, count in Counter(map(scope_of, model.proto.graph.node)).items():
            stats.setdefault(scope, {"a": 0, "b": 0, "added": 0, "removed": 0, "changed": 0})[key] = count
    for r in out.added:
        if not r["graph"]:
            bump(scope_of(r["_node"]), "added")
    for r in out.removed:
        if not r["graph"]:
            bump(scope_of(r["_node"]), "removed")
    for r in out.changed:
        if not r["graph"]:
            bump(scope_of(r.pop("_node")), "changed")
        else:
            r.pop("_node", None)
    return dict(sorted(stats.items()))
