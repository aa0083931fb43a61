"""`infer_types` and `apply`: the public face of the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from onnxlite import _proto
from onnxlite.infer._engine import Contradiction, UnknownValue, run
from onnxlite.infer._sym import format_dim
from onnxlite.infer._types import (
    Known,
    OptionalType,
    SequenceType,
    SparseTensorType,
    TensorType,
    TypeLike,
    format_type,
    to_type_proto,
    write_type_proto,
)
from onnxlite.model import Model, walk

__all__ = ["Inference", "apply", "infer_types"]

_PREFER = ("declared", "inferred")


@dataclass
class Inference:
    """What `infer_types` found: the type of every value by graph path ("" is the main graph),
    the node outputs left (partly) unknown and why, and the declarations the computation
    contradicts. ``values`` counts node outputs in the graphs inferred, ``inferred`` those with a
    complete type (element type and rank; dims may be symbols).

    A model-local function's body is under its path (``fn:DOMAIN:NAME``) with what its calls in
    this model agree on: a dim that differs between calls is a fresh symbol, a rank or element
    type that differs is unknown (its values are not counted in ``values``/``inferred``)."""

    types: dict[str, dict[str, TypeLike | None]]
    values: int
    inferred: int
    unknown: list[UnknownValue] = field(default_factory=list)
    contradictions: list[Contradiction] = field(default_factory=list)
    declared_conflicts: frozenset[tuple[str, str]] = frozenset()
    #: The values tracked for small integer tensors, scalars and small float tensors (shape
    #: computations, trip counts, scales), by graph path and name.
    known: dict[str, dict[str, Known]] = field(default_factory=dict)
    #: The output names of each node, in node order, by graph path (as ``types``).
    node_outputs: dict[str, list[list[str]]] = field(default_factory=dict)

    def type_of(self, name: str, graph: str = "") -> TypeLike | None:
        """The inferred type of value ``name`` in graph ``graph`` (a path such as
        ``If_0.then_branch``); None when unknown. Raises KeyError for a name the graph does
        not define."""
        return self.types[graph][name]

    def value_of(self, name: str, graph: str = "") -> Known | None:
        """The tracked value of ``name`` (``Known``: shape and flat data, each element an int, a
        float or a symbolic Expr), or None when it is not tracked."""
        return self.known.get(graph, {}).get(name)

    def to_json(self) -> dict[str, Any]:
        """``values``, ``inferred``, ``unknown`` (value, node, op_type, graph, reason) and
        ``contradictions`` (value, node, graph, declared, inferred), ready for json.dumps."""
        return {
            "values": self.values,
            "inferred": self.inferred,
            "unknown": [asdict(u) for u in self.unknown],
            "contradictions": [asdict(c) for c in self.contradictions],
        }


def infer_types(model: Model, *, input_shapes: Mapping[str, Sequence[int | str | None]] | None = None,
                dims: Mapping[str, int] | None = None) -> Inference:
    """Infer the type of every value of ``model`` (which is not changed).

    ``input_shapes`` replaces graph input shapes for the inference (dims: int, a symbol or an
    expression string, None for unknown); ``dims`` binds symbols to sizes. Raises InferError
    when the model cannot be inferred at all (an absurd declared input type, a bad override). ::

        result = infer_types(model, dims={"batch": 1})
        result.type_of("logits")            # TensorType(dtype=FLOAT, shape=(1, 1000))
        result.to_json()["unknown"]
    """
    engine = run(model, input_shapes, dims)
    values = inferred = 0
    unknown_keys = set(engine.unknown)
    for path, outputs in engine.node_outputs.items():
        for names in outputs:
            for name in names:
                if name:
                    values += 1
                    if (path, name) not in unknown_keys:
                        inferred += 1
    return Inference(types={**engine.types, **engine.fn_types}, values=values, inferred=inferred,
                     node_outputs={**engine.node_outputs, **engine.fn_outputs},
                     unknown=list(engine.unknown.values()),
                     contradictions=list(engine.contradictions.values()),
                     declared_conflicts=frozenset(engine.contradictions), known=engine.known)


def _writable(t: TypeLike | None) -> bool:
    if isinstance(t, (TensorType, SparseTensorType)):
        return t.dtype is not None
    if isinstance(t, (SequenceType, OptionalType)):
        return _writable(t.elem)
    return t is not None and t.key is not None and _writable(t.value)


def apply(model: Model, inference: Inference, prefer: str = "declared") -> Model:
    """A new Model: ``model`` with the inferred types written (value_info for every typed
    intermediate value, graph output types filled in where missing). Graph input types stay as
    declared. ``prefer="declared"`` keeps every declared type as it is; ``"inferred"`` writes the
    inferred type over a declared one that it refines or contradicts. Weights are shared with
    ``model`` and stay where they are (lazy payloads are not read). ::

        typed = apply(model, infer_types(model))
        onnxlite.save(typed, "typed.onnx")
    """
    if prefer not in _PREFER:
        raise ValueError(f"prefer must be 'declared' or 'inferred', not {prefer!r}")
    new = _proto.ModelProto()
    new.CopyFrom(model.proto)
    encoded: dict[TypeLike, bytes] = {}
    for body in walk(new, training=False):
        path, g = body.path, body.proto
        types = inference.types.get(path)
        if types is None or (body.is_function and new.ir_version < 10):
            continue  # FunctionProto.value_info is IR 10's
        if body.is_function:  # names, not ValueInfoProtos; value_info may cover the outputs too
            inputs, outputs, tag = set(g.input), {}, b"\x62"  # FunctionProto.value_info = 12
        else:
            inputs, outputs, tag = {v.name for v in g.input}, {v.name: v for v in g.output}, b"\x6a"
        infos = {v.name: v for v in g.value_info}
        for v in () if body.is_function else g.output:
            t = types.get(v.name)
            if t is None or not _writable(t):
                continue
            _write(v, t, prefer)
        added: list[bytes] = []  # new value_info entries, serialized: one parse appends them all
        for n in g.node:
            for name in n.output[:]:
                if not name or name in outputs or name in inputs:
                    continue
                t = types.get(name)
                if t is None or not _writable(t):
                    continue
                vi = infos.get(name)
                if vi is None:
                    tb = encoded.get(t)
                    if tb is None:
                        tb = encoded[t] = _proto.TypeProto.SerializeToString(to_type_proto(t))
                    nb = name if isinstance(name, bytes) else name.encode()  # bytes: not UTF-8
                    entry = b"\x0a" + _varint(len(nb)) + nb + b"\x12" + _varint(len(tb)) + tb
                    added.append(tag + _varint(len(entry)) + entry)  # GraphProto.value_info = 13
                    infos[name] = None  # type: ignore[assignment]
                    continue
                if vi is not None:
                    _write(vi, t, prefer)
        if added:
            g.MergeFromString(b"".join(added))
    return Model(new, model.store)


def _write(vi: Any, t: TypeLike, prefer: str) -> None:
    """Put ``t`` into ValueInfoProto ``vi``: whole when nothing is declared or ``prefer`` is
    'inferred'; else only into what the declaration leaves unset (element type, shape, dims)."""
    if not vi.HasField("type") or prefer == "inferred":
        if vi.HasField("type") and not _differs(vi.type, t):
            return
        vi.ClearField("type")
        write_type_proto(t, vi.type)
        return
    _fill(vi.type, t)


def _fill(tp: Any, t: TypeLike) -> None:
    which = tp.WhichOneof("value")
    if which in ("tensor_type", "sparse_tensor_type") and isinstance(t, (TensorType, SparseTensorType)):
        target = getattr(tp, which)
        if not target.elem_type and t.dtype is not None:
            target.elem_type = int(t.dtype)
        if t.shape is None:
            return
        if not target.HasField("shape"):
            probe = _proto.TypeProto()
            write_type_proto(type(t)(None, t.shape), probe)
            target.shape.CopyFrom(getattr(probe, which).shape)
        elif len(target.shape.dim) == len(t.shape):
            for d, value in zip(target.shape.dim, t.shape, strict=True):
                if not d.dim_param and d.WhichOneof("value") != "dim_value":
                    if isinstance(value, int):
                        d.dim_value = value
                    else:
                        d.dim_param = format_dim(value)
    elif which in ("sequence_type", "optional_type") and isinstance(t, (SequenceType, OptionalType)):
        inner = getattr(tp, which)
        if t.elem is None:
            return
        if not inner.HasField("elem_type"):
            write_type_proto(t.elem, inner.elem_type)
        else:
            _fill(inner.elem_type, t.elem)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _differs(tp: Any, t: TypeLike | None) -> bool:
    probe = _proto.TypeProto()
    if t is not None:
        write_type_proto(t, probe)
    return bool(probe.SerializeToString() != tp.SerializeToString())


def describe(t: TypeLike | None) -> str:
    return format_type(t)
