"""The type checks of `onnxlite.check`: every value a standard op reads or writes against the op's
type constraints, and the contradictions shape inference finds with the model's declarations.

Types come from the declarations (graph inputs and outputs, value_info, initializers) and, with
inference, from `onnxlite.infer` for every other value: what onnx.checker's full_check finds
with strict inference. A value read with a type outside the op's constraints, or inputs bound to
one type variable with different types, is refused by both onnx.checker and onnxruntime (an
error); a declared element type the computation contradicts likewise; a declared shape the
computation contradicts is refused by onnx.checker only (onnxruntime warns and runs it).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from onnxlite.check._values import CHECKER_REFUSES, ERROR, WARNING
from onnxlite.model import Body, Model, walk
from onnxlite.versions import normalize_domain, op_schema

__all__ = ["TypeChecks", "type_string"]


def type_string(t: Any) -> str | None:
    """The ONNX type string of an inferred type (``tensor(float)``, ``seq(tensor(int64))``,
    ``map(int64, float)``...), or None when its element type is unknown."""
    from onnxlite.infer import MapType, OptionalType, SequenceType, SparseTensorType, TensorType

    if isinstance(t, TensorType):
        return f"tensor({t.dtype.short_name})" if t.dtype is not None else None
    if isinstance(t, SparseTensorType):
        return f"sparse_tensor({t.dtype.short_name})" if t.dtype is not None else None
    if isinstance(t, (SequenceType, OptionalType)):
        inner = type_string(t.elem)
        word = "seq" if isinstance(t, SequenceType) else "optional"
        return f"{word}({inner})" if inner is not None else None
    if isinstance(t, MapType):
        value = type_string(t.value)
        if t.key is None or value is None:
            return None
        if value.startswith("tensor(") and value.count("(") == 1:
            value = value[len("tensor("):-1]  # the schemas spell map values without tensor()
        return f"map({t.key.short_name}, {value})"
    return None


class TypeChecks:
    """Type problems of one model, reported through ``add(where, code, message, severity)``."""

    def __init__(self, model: Model, add: Callable[..., None], infer: bool) -> None:
        self.model = model
        self.add = add
        self.infer = infer
        self.result: Any = None
        counter = itertools.count()
        from onnxlite.infer import symbol

        self._fresh = lambda: symbol(f"unk_{next(counter)}")
        self._declared: dict[int, dict[str, Any]] = {}

    def run(self) -> None:
        if self.infer:
            from onnxlite.infer import InferError, infer_types

            try:
                self.result = infer_types(self.model)
            except InferError as e:
                self.add("graph", "infer", f"shape inference stopped: {e}; only declared types were "
                         "checked", WARNING)
        bodies = walk(self.model, functions=False)
        by_path = {b.path: b for b in bodies}
        for body in bodies:
            self._body(body)
        if self.result is not None:
            for c in self.result.contradictions:
                self._contradiction(c, by_path.get(c.graph))

    # --- types of values ----------------------------------------------------------------------

    def _declarations(self, body: Body) -> dict[str, Any]:
        found = self._declared.get(id(body))
        if found is None:
            from onnxlite.dtypes import DataType
            from onnxlite.infer import TensorType, from_type_proto

            found = {}
            g = body.proto
            for t in g.initializer:
                if t.data_type and t.data_type in DataType._value2member_map_:
                    found.setdefault(t.name, TensorType(DataType(t.data_type), tuple(int(d) for d in t.dims)))
            for v in (*g.input, *g.output, *g.value_info):
                if v.HasField("type") and v.name not in found:
                    try:
                        t = from_type_proto(v.type, self._fresh)
                    except ValueError:
                        continue
                    if t is not None:
                        found[v.name] = t
            self._declared[id(body)] = found
        return found

    def _type(self, body: Body, name: str) -> Any:
        """What the model declares for ``name`` as ``body`` sees it, else what inference found."""
        owner = body.resolve(name)
        if owner is None:
            return None
        t = self._declarations(owner).get(name)
        if type_string(t) is not None:
            return t
        if self.result is not None:
            found = self.result.types.get(owner.path, {}).get(name)
            if found is not None:
                return found
        return t

    # --- nodes --------------------------------------------------------------------------------

    def _body(self, body: Body) -> None:
        opsets: dict[str, int] = {}
        for e in self.model.proto.opset_import:
            opsets.setdefault(normalize_domain(e.domain), int(e.version))
        for i, node in enumerate(body.nodes):
            domain = normalize_domain(node.domain)
            version = opsets.get(domain)
            if version is None:
                continue
            schema = op_schema(domain, node.op_type, version)
            if schema is None or not schema.inputs and not schema.outputs:
                continue
            self._node(body, i, node, schema)

    def _node(self, body: Body, i: int, node: Any, schema: Any) -> None:
        label = body.labels[i]
        op = f"{node.domain}.{node.op_type}" if node.domain else node.op_type
        nw = f"{body.where}.node[{i}]" + (f" '{node.name}'" if node.name else "")
        bound: dict[str, tuple[str, str]] = {}  # type variable -> (type string, which input/output)
        sides = (("input", node.input, schema.inputs, False), ("output", node.output, schema.outputs, True))
        for side, names, formals, declared_only in sides:
            for j, name in enumerate(names):
                if not name or not formals:
                    continue
                formal = formals[min(j, len(formals) - 1)]
                if j >= len(formals) and formal[2] != "variadic":
                    continue
                if declared_only:  # an output's inferred type comes from the op itself
                    owner = body.resolve(name)
                    t = self._declarations(owner).get(name) if owner is not None else None
                else:
                    t = self._type(body, name)
                text = type_string(t)
                if text is None:
                    continue
                var = formal[1]
                allowed = schema.type_constraints.get(var, (var,))
                where = f"{nw}.{side}[{j}]"
                if text not in allowed:
                    verb = "reads" if side == "input" else "writes"
                    self.add(where, "type-constraint", f"{op} '{label}' {verb} {name!r} as {text}; "
                             f"{op}-{schema.since_version} allows {_allowed(allowed)} for {side} "
                             f"{formal[0]!r} ({var})")
                    continue
                heterogeneous = formal[2] == "variadic" and not formal[3]
                if var not in schema.type_constraints or heterogeneous:
                    continue
                first = bound.get(var)
                if first is None:
                    bound[var] = (text, f"{side} {j} ({names[j]!r})")
                elif first[0] != text:
                    self.add(where, "type-constraint", f"{op} '{label}': {side} {j} ({name!r}) is {text} but "
                             f"{first[1]} is {first[0]}; {var} must be one type")

    def _contradiction(self, c: Any, body: Body | None) -> None:
        where = body.where if body is not None else (c.graph or "graph")
        if body is not None:
            labels = body.labels
            if c.node in labels:
                i = labels.index(c.node)
                n = body.nodes[i]
                where = f"{body.where}.node[{i}]" + (f" '{n.name}'" if n.name else "")
                outs = list(n.output)
                if c.value in outs:
                    where += f".output[{outs.index(c.value)}]"
        same_dtype = c.declared.split("[")[0] == c.inferred.split("[")[0]
        self.add(where, "type-contradiction", f"'{c.node}' computes {c.value!r} as {c.inferred}; the model "
                 f"declares {c.declared}" + (CHECKER_REFUSES if same_dtype else ""),
                 WARNING if same_dtype else ERROR)


def _allowed(allowed: tuple[str, ...]) -> str:
    shown = ", ".join(allowed[:6])
    return shown + (f" ... ({len(allowed)} types)" if len(allowed) > 6 else "")
