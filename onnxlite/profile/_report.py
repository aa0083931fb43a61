"""The profile's records and roll-ups, and their JSON/CSV forms."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from onnxlite.infer import Dim, Expr, evaluate, format_dim, free_symbols
from onnxlite.profile._formulas import add, mul

__all__ = ["CSV_COLUMNS", "NodeCost", "Profile", "Totals", "number", "rollups"]

CSV_COLUMNS = ("name", "op_type", "domain", "graph", "scope", "count", "macs", "flops", "params",
               "weight_bytes", "output_bytes", "shapes", "not_counted")


def number(d: Dim | None) -> int | str | None:
    """JSON form of a figure: an int when bound, a formula string when symbolic, None if unknown."""
    if d is None:
        return None
    return d if isinstance(d, int) else format_dim(d)


def _safe(fn: Any, *args: Any) -> Dim | None:
    if any(a is None for a in args):
        return None
    try:
        return fn(*args)  # type: ignore[no-any-return]
    except ArithmeticError:
        return None


@dataclass
class NodeCost:
    """One node's figures. ``macs``/``flops`` are per execution of the node (for an If/Loop/Scan
    or a function call: its bodies included); ``count`` is how many times it runs per model run
    (trip counts of the Loops/Scans around it); None figures were not counted (``reason``)."""

    name: str
    op_type: str
    domain: str
    graph: str
    scope: str = ""
    macs: Dim | None = None
    flops: Dim | None = None
    params: int = 0
    weight_bytes: int = 0
    output_bytes: Dim | None = None
    shapes: list[str] = field(default_factory=list)
    count: Dim = 1
    reason: str | None = None
    kind: str = "op"  # op | if | loop | scan | container | call
    in_totals: bool = True
    tensors: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    factor: Dim = field(default=1, repr=False)
    chosen: str | None = field(default=None, repr=False)
    inner: list[NodeCost] = field(default_factory=list, repr=False)

    @property
    def counted(self) -> bool:
        return self.reason is None

    def copy_into(self, path: str) -> NodeCost:
        """A copy placed under function path ``path`` (graph "" becomes ``path``)."""
        graph = path if not self.graph else f"{path}/{self.graph}"
        tensors = {(f"{path}/{k[0]}" if k[0] else path, k[1]): v for k, v in self.tensors.items()}
        return replace(self, graph=graph, tensors=tensors, inner=[])

    def bind(self, dims: Mapping[str, int]) -> None:
        if not dims:
            return
        self.macs = _bound(self.macs, dims)
        self.flops = _bound(self.flops, dims)
        self.output_bytes = _bound(self.output_bytes, dims)
        self.count = _bound(self.count, dims) or 0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "op_type": self.op_type, "domain": self.domain, "graph": self.graph,
            "macs": number(self.macs), "flops": number(self.flops), "params": self.params,
            "weight_bytes": self.weight_bytes, "output_bytes": number(self.output_bytes),
            "count": number(self.count), "scope": self.scope, "shapes": self.shapes,
        }


def _bound(d: Dim | None, dims: Mapping[str, int]) -> Dim | None:
    if d is None or isinstance(d, int) or not dims:
        return d
    try:
        return evaluate(d, dims)
    except ArithmeticError:
        return d


@dataclass
class Totals:
    macs: Dim | None = 0
    flops: Dim | None = 0
    params: int = 0
    weight_bytes: int = 0
    output_bytes: Dim | None = 0

    def add(self, macs: Dim | None, flops: Dim | None, output_bytes: Dim | None) -> None:
        # a figure not counted adds nothing (it is listed in not_counted)
        if macs is not None:
            self.macs = _safe(add, self.macs, macs)
        if flops is not None:
            self.flops = _safe(add, self.flops, flops)
        if output_bytes is not None:
            self.output_bytes = _safe(add, self.output_bytes, output_bytes)

    def bind(self, dims: Mapping[str, int]) -> None:
        self.macs = _bound(self.macs, dims)
        self.flops = _bound(self.flops, dims)
        self.output_bytes = _bound(self.output_bytes, dims)

    def to_json(self) -> dict[str, Any]:
        return {"macs": number(self.macs), "flops": number(self.flops), "params": self.params,
                "weight_bytes": self.weight_bytes, "output_bytes": number(self.output_bytes)}


def rollups(records: list[NodeCost], depth: int | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """by_op_type and by_scope: each counted node's figures x its count, for the nodes the totals
    take (the chosen If branch); containers and calls are left out (their bodies' nodes count)."""
    ops: dict[tuple[str, str], _Acc] = {}
    scopes: dict[str, _Acc] = {}
    for r in records:
        if r.kind != "op" or not r.in_totals:
            continue
        ops.setdefault((r.domain, r.op_type), _Acc()).take(r)
        scope = r.scope
        if depth is not None:
            scope = "/".join(scope.split("/")[:depth]) if depth > 0 else ""
        scopes.setdefault(scope, _Acc()).take(r)
    by_op = [{"op_type": k[1], "domain": k[0], **a.to_json()} for k, a in ops.items()]
    by_scope = [{"scope": k, **a.to_json()} for k, a in scopes.items()]
    by_op.sort(key=lambda d: (-sort_key(d["flops"]), d["op_type"]))
    by_scope.sort(key=lambda d: (-sort_key(d["flops"]), d["scope"]))
    return by_op, by_scope


_PROBE = 1 << 12


def sort_key(value: int | str | None | Dim) -> int:
    """A number to sort figures by: ints as they are, formulas with every size set to 4096."""
    if value is None:
        return -1
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        from onnxlite.infer import parse_dim

        try:
            value = parse_dim(value)
        except (ValueError, ArithmeticError):
            return 0
        if isinstance(value, int):
            return value
    assert isinstance(value, Expr)
    try:
        v = evaluate(value, {s: _PROBE for s in free_symbols(value)})
    except ArithmeticError:
        return 0
    return v if isinstance(v, int) else 0


class _Acc:
    def __init__(self) -> None:
        self.macs: Dim | None = 0
        self.flops: Dim | None = 0
        self.output_bytes: Dim | None = 0
        self.tensors: dict[tuple[str, str], Any] = {}
        self.nodes = 0

    def take(self, r: NodeCost) -> None:
        self.nodes += 1
        self.tensors.update(r.tensors)
        if r.macs is not None:
            self.macs = _safe(add, self.macs, _safe(mul, r.macs, r.count))
        if r.flops is not None:
            self.flops = _safe(add, self.flops, _safe(mul, r.flops, r.count))
        if r.output_bytes is not None:
            self.output_bytes = _safe(add, self.output_bytes, _safe(mul, r.output_bytes, r.count))

    def to_json(self) -> dict[str, Any]:
        return {"macs": number(self.macs), "flops": number(self.flops),
                "params": sum(t.numel for t in self.tensors.values()),
                "weight_bytes": sum(t.nbytes for t in self.tensors.values()),
                "output_bytes": number(self.output_bytes), "nodes": self.nodes}


@dataclass
class Profile:
    """What `profile_model` found: ``nodes`` (every node of every graph, function bodies per call
    signature), ``totals``, the roll-ups, the peak live activation bytes of the main graph and the
    nodes not counted (with the reason)."""

    nodes: list[NodeCost]
    totals: Totals
    by_op_type: list[dict[str, Any]]
    by_scope: list[dict[str, Any]]
    peak_activation_bytes: Dim | None

    @property
    def not_counted(self) -> list[NodeCost]:
        return [r for r in self.nodes if r.reason is not None]

    def top(self, k: int) -> list[NodeCost]:
        """The ``k`` counted nodes with the most FLOPs x count (ties: MACs, then graph order)."""
        ranked = [r for r in self.nodes if r.kind == "op" and r.counted and r.in_totals]
        ranked.sort(key=lambda r: (-sort_key(_safe(mul, r.flops, r.count)),
                                   -sort_key(_safe(mul, r.macs, r.count))))
        return ranked[:k]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: nodes, totals, by_op_type, by_scope, peak_activation_bytes,
        not_counted."""
        return {
            "nodes": [r.to_json() for r in self.nodes],
            "totals": self.totals.to_json(),
            "by_op_type": self.by_op_type,
            "by_scope": self.by_scope,
            "peak_activation_bytes": number(self.peak_activation_bytes),
            "not_counted": [{"name": r.name, "op_type": r.op_type, "domain": r.domain, "graph": r.graph,
                             "reason": r.reason} for r in self.not_counted],
        }

    def to_csv(self) -> str:
        """One row per node: CSV_COLUMNS."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for r in self.nodes:
            j = r.to_json()
            w.writerow([j["name"], j["op_type"], j["domain"], j["graph"], j["scope"], _cell(j["count"]),
                        _cell(j["macs"]), _cell(j["flops"]), j["params"], j["weight_bytes"],
                        _cell(j["output_bytes"]), " ".join(r.shapes), r.reason or ""])
        return out.getvalue()


def _cell(v: Any) -> str:
    return "" if v is None else str(v)
