"""IR and opset versions: which IR version each proto feature needs, which operators changed
between opset versions, and the two number-only changes, `set_opset` and `set_ir_version`.

The IR-version gates (``IR_GATES``) are the one table both this module and `onnxlite.check`
use. They come from the version history in onnx.proto (the comments on ``enum Version``) and
docs/IR.md; the opset -> IR table and the operator schemas are generated from the onnx package
into ``onnxlite._proto.opschemas`` (``tools/gen_opschemas.py``), imported here and in check.py only
(it costs ~80 ms, so ``import onnxlite`` does not pay for it).

Both changes return a new `Model` sharing the old one's data store (lazily loaded weights stay
in the file); a change that cannot be made raises EditError and leaves the model untouched. ::

    from onnxlite import versions
    newer = versions.set_opset(model, 19)        # EditError if an op changed between the versions
    older = versions.set_ir_version(model, 8)    # EditError if the model uses IR 9+ features
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from onnxlite import _proto
from onnxlite._proto.opschemas import LATEST_OPSET, OPSET_IR, SCHEMAS, TYPE_SETS
from onnxlite.dtypes import DataType
from onnxlite.errors import EditError
from onnxlite.model import Body, Model, normalize_domain, walk

__all__ = [
    "IR_GATES", "LATEST_IR_VERSION", "Gate", "Schema", "ir_needed_by_opsets", "is_standard_domain",
    "normalize_domain", "op_schema", "operators", "render_path", "schema_history", "set_ir_version",
    "set_opset",
    "used_features",
]


class Gate(NamedTuple):
    """The IR version a proto feature needs, and how to name the feature in a message."""

    ir_version: int
    what: str


_DTYPE_IR = {dt: dt.ir_version for dt in DataType if dt.ir_version > 3}  # types added after IR 3

#: feature -> the smallest IR version that has it. Feature keys are what `used_features` reports.
IR_GATES: dict[str, Gate] = {
    "opset_import": Gate(3, "opset_import"),
    "initializer-not-input": Gate(4, "initializers that are not graph inputs"),
    "quantization_annotation": Gate(5, "quantization_annotation"),
    "sparse_initializer": Gate(6, "sparse_initializer"),
    "sparse-tensor-attribute": Gate(6, "sparse tensor attributes"),
    "training_info": Gate(7, "training_info"),
    "functions": Gate(8, "model-local functions"),
    "type-sparse-tensor": Gate(8, "sparse tensor types"),
    "type-optional": Gate(8, "optional types"),
    "function-attribute-default": Gate(9, "function attributes with default values (attribute_proto)"),
    "overload": Gate(10, "overload"),
    "metadata_props": Gate(10, "metadata_props outside ModelProto"),
    "function-value-info": Gate(10, "value_info in functions"),
    "multi-device": Gate(11, "multi-device configurations"),
    **{f"dtype-{dt.short_name}": Gate(ir, f"{dt.short_name} tensors") for dt, ir in _DTYPE_IR.items()},
}

#: The newest IR version onnxlite knows (the one the newest known opset needs).
LATEST_IR_VERSION = max(max(table.values()) for table in OPSET_IR.values())



# --- operator schemas -------------------------------------------------------------------------

class Schema(NamedTuple):
    """One version of a standard operator (a row of ``_proto.opschemas.SCHEMAS``)."""

    since_version: int
    deprecated: bool
    min_inputs: int
    max_inputs: int
    min_outputs: int
    max_outputs: int
    attributes: dict[str, tuple[int, bool]]  # name -> (AttributeProto.AttributeType, required)
    #: formal inputs/outputs: (name, type_str, 'single'|'optional'|'variadic', is_homogeneous)
    inputs: tuple[tuple[str, str, str, bool], ...] = ()
    outputs: tuple[tuple[str, str, str, bool], ...] = ()
    #: type constraint -> allowed type strings, e.g. {'T': ('tensor(double)', 'tensor(float)', ...)}
    type_constraints: dict[str, tuple[str, ...]] = {}  # a NamedTuple default, never mutated


@functools.lru_cache(maxsize=4096)
def op_schema(domain: str, op_type: str, version: int) -> Schema | None:
    """The schema of a standard op as opset ``version`` of ``domain`` defines it (the newest
    version at or below it), or None when the domain has no such op at that version.

    >>> op_schema("", "Reshape", 13).since_version, op_schema("", "Reshape", 18).since_version
    (13, 14)
    """
    found = None
    for row in schema_history(domain, op_type):
        if row.since_version > version:
            break
        found = row
    return found


@functools.lru_cache(maxsize=4096)
def schema_history(domain: str, op_type: str) -> tuple[Schema, ...]:
    """Every version of a standard op, oldest first (empty for ops onnxlite does not know).

    >>> [s.since_version for s in schema_history("", "Reshape")]
    [1, 5, 13, 14, 19, 21, 23, 24, 25]
    """
    rows: Any = SCHEMAS.get((normalize_domain(domain), op_type), ())
    return tuple(Schema._make((*row[:9], {k: TYPE_SETS[v] for k, v in row[9].items()})) if len(row) > 9
                 else Schema._make(row) for row in rows)


def operators() -> tuple[tuple[str, str], ...]:
    """(domain, op_type) of every standard operator onnxlite knows, in table order."""
    return tuple(SCHEMAS)


def is_standard_domain(domain: str) -> bool:
    """Whether onnxlite knows the operators of ``domain`` (ai.onnx, ai.onnx.ml, training...)."""
    return normalize_domain(domain) in LATEST_OPSET


def ir_needed_by_opsets(opsets: dict[str, int]) -> tuple[int, str] | None:
    """(IR version, 'domain version') of the import that needs the newest IR version, or None
    when no import is in the table."""
    best: tuple[int, str] | None = None
    for domain, version in opsets.items():
        need = OPSET_IR.get(normalize_domain(domain), {}).get(version)
        if need is not None and (best is None or need > best[0]):
            best = (need, f"{domain or 'ai.onnx'} {version}")
    return best


# --- features in use --------------------------------------------------------------------------

def used_features(model_proto: Any) -> dict[str, str]:
    """The gated features (keys of `IR_GATES`) a ModelProto uses, each with the path of its
    first use. Iterative: graphs and types may nest arbitrarily deep.

    >>> used_features(onnxlite.load("m.onnx").proto)    # doctest: +SKIP
    {'opset_import': 'opset_import', 'dtype-bfloat16': "graph.initializer[0] 'w'"}
    """
    found: dict[str, str] = {}

    def note(feature: str, where: Any) -> None:
        if feature not in found:
            found[feature] = render_path(where)

    m = model_proto
    if len(m.opset_import):
        note("opset_import", "opset_import")
    if len(m.functions):
        note("functions", "functions")
    if len(m.training_info):
        note("training_info", "training_info")
    if len(m.configuration):
        note("multi-device", "configuration")
    stack: list[tuple[str, Any, Any]] = []
    # bodies (graphs, subgraphs, training graphs, functions) come from the one walker; inside a
    # body, the values, tensors and types it holds are visited here
    places: dict[int, Any] = {}
    for body in walk(m):
        if body.parent is None:
            where: Any = (f"functions[{body.where[len('functions['):-1]}] {_quote(_function_id(body.proto))}"
                          if body.is_function else body.where)
        else:
            owner = (places[id(body.parent)], ("node", body.owner_index, body.owner.name))
            where = ((owner, f".attribute {_quote(body.attribute)}"),
                     f".graphs[{body.slot}]" if body.slot is not None else ".g")
        places[id(body)] = where
        stack.append(("function" if body.is_function else "graph", body.proto, where))
        while stack:
            kind, msg, at = stack.pop()
            if kind == "graph":
                _graph_features(msg, at, note, stack)
            elif kind == "node":
                if msg.overload:
                    note("overload", at)
                if len(msg.metadata_props):
                    note("metadata_props", at)
                if len(msg.device_configurations):
                    note("multi-device", at)
                for a in msg.attribute:
                    if a.type not in _PLAIN_ATTRIBUTES:  # only these hold tensors, graphs or types
                        stack.append(("attribute", a, (at, f".attribute {_quote(a.name)}")))
            elif kind == "attribute":
                _attribute_features(msg, at, note, stack)
            elif kind == "tensor":
                dt = msg.data_type
                if dt in _DTYPE_KEYS:
                    note(_DTYPE_KEYS[dt], at)
                if len(msg.metadata_props):
                    note("metadata_props", at)
            elif kind == "type":
                _type_features(msg, at, note, stack)
            elif kind == "value_info":
                if len(msg.metadata_props):
                    note("metadata_props", at)
                if msg.HasField("type"):
                    stack.append(("type", msg.type, at))
            else:  # function
                if msg.overload:
                    note("overload", at)
                if len(msg.attribute_proto):
                    note("function-attribute-default", (at, ".attribute_proto"))
                if len(msg.value_info):
                    note("function-value-info", (at, ".value_info"))
                if len(msg.metadata_props):
                    note("metadata_props", at)
                for j, a in enumerate(msg.attribute_proto):
                    stack.append(("attribute", a, (at, f".attribute_proto[{j}]")))
                for j, v in enumerate(msg.value_info):
                    stack.append(("value_info", v, (at, f".value_info[{j}]")))
                for j, n in enumerate(msg.node):
                    stack.append(("node", n, (at, ("node", j, n.name))))
    return found


_DTYPE_KEYS = {int(dt): f"dtype-{dt.short_name}" for dt in _DTYPE_IR}
_PLAIN_ATTRIBUTES = {1, 2, 3, 6, 7, 8}  # FLOAT, INT, STRING and their lists


def _graph_features(g: Any, where: Any, note: Any, stack: list[tuple[str, Any, Any]]) -> None:
    inputs = {v.name for v in g.input}
    for i, t in enumerate(g.initializer):
        if t.name not in inputs:
            note("initializer-not-input", (where, ("initializer", i, t.name)))
            break
    if len(g.sparse_initializer):
        note("sparse_initializer", (where, ".sparse_initializer"))
    if len(g.quantization_annotation):
        note("quantization_annotation", (where, ".quantization_annotation"))
    if len(g.metadata_props):
        note("metadata_props", where)
    for field in ("input", "output", "value_info"):
        for i, v in enumerate(getattr(g, field)):
            stack.append(("value_info", v, (where, (field, i, v.name))))
    for i, t in enumerate(g.initializer):
        stack.append(("tensor", t, (where, ("initializer", i, t.name))))
    for i, s in enumerate(g.sparse_initializer):
        stack.append(("tensor", s.values, (where, f".sparse_initializer[{i}].values")))
        stack.append(("tensor", s.indices, (where, f".sparse_initializer[{i}].indices")))
    for i, n in enumerate(g.node):
        stack.append(("node", n, (where, ("node", i, n.name))))


def _attribute_features(a: Any, where: Any, note: Any, stack: list[tuple[str, Any, Any]]) -> None:
    if a.HasField("sparse_tensor") or len(a.sparse_tensors):
        note("sparse-tensor-attribute", where)
    if a.HasField("t"):
        stack.append(("tensor", a.t, (where, ".t")))
    for i, t in enumerate(a.tensors):
        stack.append(("tensor", t, (where, f".tensors[{i}]")))
    sparse = [a.sparse_tensor] if a.HasField("sparse_tensor") else []
    for s in [*sparse, *a.sparse_tensors]:
        stack.append(("tensor", s.values, (where, ".sparse_tensor.values")))
    if a.HasField("tp"):
        stack.append(("type", a.tp, (where, ".tp")))
    for i, t in enumerate(a.type_protos):
        stack.append(("type", t, (where, f".type_protos[{i}]")))


def _type_features(t: Any, where: Any, note: Any, stack: list[tuple[str, Any, Any]]) -> None:
    which = t.WhichOneof("value")
    if which in ("tensor_type", "sparse_tensor_type"):
        inner = getattr(t, which)
        if which == "sparse_tensor_type":
            note("type-sparse-tensor", where)
        if inner.elem_type in _DTYPE_KEYS:
            note(_DTYPE_KEYS[inner.elem_type], where)
    elif which == "optional_type":
        note("type-optional", where)
        if t.optional_type.HasField("elem_type"):
            stack.append(("type", t.optional_type.elem_type, where))
    elif which == "sequence_type":
        if t.sequence_type.HasField("elem_type"):
            stack.append(("type", t.sequence_type.elem_type, where))
    elif which == "map_type":
        if t.map_type.HasField("value_type"):
            stack.append(("type", t.map_type.value_type, where))


def render_path(path: Any) -> str:
    """The text of a path in the model built as nested (parent, suffix) pairs, so that nothing
    is formatted unless it is reported. A suffix is a str or a (field, index, name) triple
    meaning ``.field[index] 'name'``.

    >>> render_path((("graph", ("node", 3, "conv1")), ("input", 1, "")))
    "graph.node[3] 'conv1'.input[1]"
    """
    parts: list[str] = []
    while isinstance(path, tuple):
        path, suffix = path
        if not isinstance(suffix, str):
            field, index, name = suffix
            suffix = f".{field}[{index}] '{name}'" if name else f".{field}[{index}]"
        parts.append(suffix)
    parts.append(path)
    return "".join(reversed(parts))


def _quote(name: Any) -> str:
    return f"'{name}'"


def _function_id(f: Any) -> str:
    name = f"{f.domain}.{f.name}" if f.domain else f.name
    return f"{name}:{f.overload}" if f.overload else name


# --- changing versions ------------------------------------------------------------------------

def set_ir_version(model: Model, version: int) -> Model:
    """A copy of ``model`` declaring IR version ``version``; nothing else changes.

    Refused (EditError, the model untouched) when the model uses a feature the target IR
    version lacks (e.g. float8 tensors need IR 9, model-local functions IR 8), when an opset it
    imports needs a newer IR version, or when onnxlite does not know the version. ::

        model = versions.set_ir_version(model, 9)
    """
    _check_number(version, "IR version")
    if version > LATEST_IR_VERSION:
        raise EditError(f"IR version {version} is newer than onnxlite knows ({LATEST_IR_VERSION})")
    proto = model.proto
    blockers = [f"{IR_GATES[key].what} ({where}) need IR {IR_GATES[key].ir_version}"
                for key, where in sorted(used_features(proto).items(), key=lambda kv: IR_GATES[kv[0]])
                if IR_GATES[key].ir_version > version]
    need = ir_needed_by_opsets(_all_imports(proto))
    if need is not None and need[0] > version:
        blockers.append(f"opset {need[1]} needs IR {need[0]}")
    if version >= 3 and not len(proto.opset_import):
        blockers.append("IR 3 and later need an opset_import, and the model has none")
    if blockers:
        raise EditError(f"cannot set IR version {version}: " + "; ".join(blockers))
    new = _copy(model)
    new.proto.ir_version = version
    return new


def set_opset(model: Model, version: int, domain: str = "") -> Model:
    """A copy of ``model`` importing opset ``version`` of ``domain`` (default: ai.onnx).

    Only the version numbers change: the model's import and the imports of its model-local
    functions that import the domain. Refused (EditError, the model untouched) when an op of
    the domain used anywhere (main graph, subgraphs, functions, training graphs) has a
    different definition at the new version, or does not exist there; converting such a model
    needs a version converter. When the new opset needs a newer IR version than the model
    declares, ``ir_version`` is raised to that minimum (lowering an opset never lowers it). ::

        model = versions.set_opset(model, 19)    # e.g. refused if the model uses Reshape-13
    """
    _check_number(version, "opset version")
    target = normalize_domain(domain)
    label = target or "ai.onnx"
    proto = model.proto
    entries = [e for e in proto.opset_import if normalize_domain(e.domain) == target]
    if not entries:
        raise EditError(f"the model does not import domain {label!r}; nothing to change")
    olds = {int(e.version) for e in entries}
    if len(olds) > 1:
        raise EditError(f"the model imports {label} more than once ({sorted(olds)}); fix opset_import first")
    latest = LATEST_OPSET.get(target)
    if latest is not None and version > latest:
        raise EditError(f"{label} opset {version} is newer than onnxlite knows ({latest})")
    old = olds.pop()
    if is_standard_domain(target):
        changed = _changed_ops(proto, target, old, version)
        if changed:
            shown = changed[:8] + ([f"and {len(changed) - 8} more"] if len(changed) > 8 else [])
            raise EditError(f"cannot change {label} opset {old} -> {version}: {'; '.join(shown)}: "
                            "converting needs a version converter")
    new = _copy(model)
    p = new.proto
    for e in p.opset_import:
        if normalize_domain(e.domain) == target:
            e.version = version
    for f in p.functions:
        for e in f.opset_import:
            if normalize_domain(e.domain) == target:
                e.version = version
    need = ir_needed_by_opsets({target: version})
    if need is not None and p.ir_version < need[0]:
        p.ir_version = need[0]
    return new


def _check_number(version: Any, what: str) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise EditError(f"{what} must be a whole number >= 1, got {version!r}")


def _copy(model: Model) -> Model:
    # Lazy payloads are short markers naming their source in the store: copying the message
    # copies the markers, and sharing the store keeps their sources alive and readable.
    proto = _proto.ModelProto()
    proto.CopyFrom(model.proto)
    return Model(proto, model.store)


def _all_imports(proto: Any) -> dict[str, int]:
    """The model's imports, plus function imports of domains the model does not import."""
    imports: dict[str, int] = {}
    for f in proto.functions:
        for e in f.opset_import:
            d = normalize_domain(e.domain)
            imports[d] = max(int(e.version), imports.get(d, 0))
    for e in proto.opset_import:
        imports[normalize_domain(e.domain)] = int(e.version)
    return imports


def _changed_ops(proto: Any, domain: str, model_old: int, new: int) -> list[str]:
    """One description per op of ``domain`` whose definition differs between the version it is
    used at and ``new``, e.g. 'Reshape changed in opset 14 (adds allowzero)'. A change that only
    changed the allowed types passes when every use's types are allowed at ``new``."""
    local = {(f.domain, f.name, f.overload) for f in proto.functions}
    uses: dict[tuple[str, int], list[tuple[Body, int, dict[str, str]]]] = {}
    model_opsets = {normalize_domain(e.domain): int(e.version) for e in proto.opset_import}
    for body in walk(proto):
        root = body
        while root.parent is not None:
            root = root.parent
        old = model_old
        if root.is_function:
            old = next((int(e.version) for e in root.proto.opset_import
                        if normalize_domain(e.domain) == domain), model_old)
        known: dict[str, str] | None = None
        for i, node in enumerate(body.nodes):
            if normalize_domain(node.domain) != domain or (node.domain, node.op_type, node.overload) in local:
                continue
            if known is None:
                known = {} if root.is_function else _known_types(body, model_opsets)
            uses.setdefault((node.op_type, old), []).append((body, i, known))
    out: list[str] = []
    for (op, old), where in sorted(uses.items(), key=lambda kv: kv[0]):
        message = _describe_change(domain, op, old, new, where)
        if message is not None and message not in out:
            out.append(message)
    return out


#: Version steps whose signature and types allow a number-only change but whose meaning changed
#: (attribute defaults or semantics): never type-only. tests/test_versions.py finds them with onnx.
_SEMANTIC_STEPS = {("", "Softmax", 13), ("", "LogSoftmax", 13), ("", "Hardmax", 13)}


def type_only_step(domain: str, op: str, a: Schema, b: Schema) -> bool:
    """Whether version ``b`` of an op differs from the previous version ``a`` only in the types
    it allows: same attributes, inputs and outputs, different type constraints. A new version
    with the same types changed its meaning (Mod-28), so it is not type-only; nor are the steps
    in ``_SEMANTIC_STEPS``, whose types changed together with their meaning."""
    if (normalize_domain(domain), op, b.since_version) in _SEMANTIC_STEPS:
        return False
    formals = list(zip(a.inputs + a.outputs, b.inputs + b.outputs, strict=False))
    if all(_allowed(a, fa) == _allowed(b, fb) for fa, fb in formals):
        return False
    return (a.attributes == b.attributes and not b.deprecated
            and (a.min_inputs, a.max_inputs, a.min_outputs, a.max_outputs)
            == (b.min_inputs, b.max_inputs, b.min_outputs, b.max_outputs)
            and [(f[0], f[2], f[3]) for f in a.inputs] == [(f[0], f[2], f[3]) for f in b.inputs]
            and [(f[0], f[2], f[3]) for f in a.outputs] == [(f[0], f[2], f[3]) for f in b.outputs])


def _allowed(schema: Schema, formal: tuple[str, str, str, bool]) -> frozenset[str]:
    return frozenset(schema.type_constraints.get(formal[1], (formal[1],)))


def _type_string(tp: Any) -> str | None:
    """The ONNX type string of a TypeProto ('tensor(float)', 'seq(tensor(int64))'), or None."""
    which = tp.WhichOneof("value")
    if which in ("tensor_type", "sparse_tensor_type"):
        e = getattr(tp, which).elem_type
        if not e or e not in DataType._value2member_map_:
            return None
        word = "tensor" if which == "tensor_type" else "sparse_tensor"
        return f"{word}({DataType(e).short_name})"
    if which in ("sequence_type", "optional_type"):
        inner = getattr(tp, which)
        text = _type_string(inner.elem_type) if inner.HasField("elem_type") else None
        return None if text is None else f"{'seq' if which == 'sequence_type' else 'optional'}({text})"
    if which == "map_type":
        m = tp.map_type
        value = _type_string(m.value_type) if m.HasField("value_type") else None
        if not m.key_type or m.key_type not in DataType._value2member_map_ or value is None:
            return None
        if value.startswith("tensor(") and value.count("(") == 1:
            value = value[len("tensor("):-1]
        return f"map({DataType(m.key_type).short_name}, {value})"
    return None


def _known_types(body: Body, opsets: dict[str, int]) -> dict[str, str]:
    """Type strings of a body's values: declared ones, plus node outputs bound to a type variable
    an input already fixes (Add's output has its inputs' type), in node order."""
    known: dict[str, str] = {}
    for node in body.nodes:
        domain = normalize_domain(node.domain)
        schema = op_schema(domain, node.op_type, opsets.get(domain, 0)) if domain in opsets else None
        if schema is None or not schema.inputs:
            continue
        bound: dict[str, str] = {}
        for j, name in enumerate(node.input):
            formal = schema.inputs[min(j, len(schema.inputs) - 1)]
            text = known.get(name) or _declared_type(body, name)
            if name and text is not None and formal[1] in schema.type_constraints and formal[3]:
                bound.setdefault(formal[1], text)
        for j, name in enumerate(node.output):
            if not name or not schema.outputs:
                continue
            formal = schema.outputs[min(j, len(schema.outputs) - 1)]
            if formal[1] in bound and formal[3]:
                known.setdefault(name, bound[formal[1]])
    return known


def _declared_type(body: Body, name: str, known: dict[str, str] | None = None) -> str | None:
    if known is not None and name in known:
        return known[name]
    owner = body.resolve(name)
    if owner is None or owner.is_function:
        return None
    g = owner.proto
    for v in (*g.input, *g.output, *g.value_info):
        if v.name == name and v.HasField("type"):
            return _type_string(v.type)
    for t in g.initializer:
        if t.name == name and t.data_type in DataType._value2member_map_ and t.data_type:
            return f"tensor({DataType(t.data_type).short_name})"
    return None


def _types_blocker(label: str, before: Schema, after: Schema, uses: list[tuple[Body, int, dict[str, str]]]
                   ) -> str | None:
    """Why a type-only change cannot be made for these uses (a type ``after`` does not allow, or
    one onnxlite cannot see where ``after`` allows fewer types), or None."""
    this = f"{label}-{after.since_version}"
    for body, i, known in uses:
        node = body.nodes[i]
        for side, names, formals_a, formals_b in (("input", node.input, before.inputs, after.inputs),
                                                  ("output", node.output, before.outputs, after.outputs)):
            for j, name in enumerate(names):
                if not name or not formals_b:
                    continue
                k = min(j, len(formals_b) - 1)
                allowed = _allowed(after, formals_b[k])
                text = _declared_type(body, name, known)
                where = f"{label} '{body.node_label(i)}'" + (f" in {body.path}" if body.path else "")
                if text is not None:
                    if text not in allowed:
                        return f"{where}: {side} {j} ({name!r}) is {text}, which {this} does not allow"
                elif not _allowed(before, formals_a[k]) <= allowed:
                    dropped = sorted(_allowed(before, formals_a[k]) - allowed)
                    return (f"{this} no longer allows {', '.join(dropped[:3])}"
                            f"{'...' if len(dropped) > 3 else ''}, and the model does not declare the type "
                            f"of {where}'s {side} {name!r} (run `onnxlite infer` to record it)")
    return None


def _describe_change(domain: str, op: str, old: int, new: int,
                     uses: list[tuple[Body, int, dict[str, str]]]) -> str | None:
    before, after = op_schema(domain, op, old), op_schema(domain, op, new)
    label = op if not domain else f"{domain}.{op}"
    rows = schema_history(domain, op)
    if after is None:
        if not rows:
            return f"{label} is not an operator of {domain or 'ai.onnx'}"
        return f"{label} does not exist before opset {rows[0].since_version}"
    if before is None:
        return f"{label} does not exist in opset {old}"
    if before.since_version == after.since_version:
        return None
    if after.deprecated:
        return f"{label} is deprecated in opset {after.since_version}"
    lo, hi = sorted((old, new))
    steps = []
    for prev, row in zip(rows, rows[1:], strict=False):
        if lo < row.since_version <= hi:
            if type_only_step(domain, op, prev, row):
                continue
            detail = _diff(prev, row)
            steps.append(f"{row.since_version} ({detail})" if detail else str(row.since_version))
    if not steps:  # only the allowed types changed: fine when every use's types are allowed
        return _types_blocker(label, before, after, uses)
    joined = steps[0] if len(steps) == 1 else ", ".join(steps[:-1]) + " and " + steps[-1]
    return f"{label} changed in opset {joined}"


def _diff(a: Schema, b: Schema) -> str:
    parts = []
    added = sorted(set(b.attributes) - set(a.attributes))
    removed = sorted(set(a.attributes) - set(b.attributes))
    if added:
        parts.append("adds " + ", ".join(added))
    if removed:
        parts.append("drops " + ", ".join(removed))
    retyped = sorted(n for n in set(a.attributes) & set(b.attributes) if a.attributes[n] != b.attributes[n])
    if retyped:
        parts.append("changes " + ", ".join(retyped))
    if (a.min_inputs, a.max_inputs) != (b.min_inputs, b.max_inputs):
        parts.append("changes inputs")
    if (a.min_outputs, a.max_outputs) != (b.min_outputs, b.max_outputs):
        parts.append("changes outputs")
    return "; ".join(parts).replace("; ", ", ")
