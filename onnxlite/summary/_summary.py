"""The facts `onnxlite info` shows, computed from the object model as plain, JSON-ready data.

No rendering here (`onnxlite.cli` renders), and no tensor data is read: parameter counts and
sizes come from dtypes and shapes, external data files are only ``stat``-ed. Example::

    facts = onnxlite.summary.summarize(onnxlite.load("model.onnx"), path="model.onnx")
    facts.op_counts["Conv"], facts.parameter_count, facts.notes
    json.dumps(facts.to_dict())

Definitions (the JSON keys):

- ``node_count``: nodes of the main graph; ``total_node_count`` adds every subgraph (If/Loop/Scan
  bodies, at any depth) and every function body.
- ``op_counts``: op -> count over the main graph, all subgraphs and all function bodies. The key
  is the op type in the default domain ("" or its alias "ai.onnx"), ``domain.op_type`` otherwise.
- Parameters are the tensors the file stores as data: initializers and sparse initializers of
  every graph, and the values of Constant nodes in every graph and function body. A dense tensor
  counts its elements; a sparse one its stored values (its indices count toward the bytes only).
  Bytes are the raw size (sub-byte types packed, strings by their total length).
- ``initializer_count`` / ``sparse_initializer_count``: those of the main graph.
"""

from __future__ import annotations

import math
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Union

from onnxlite.dtypes import DataType, raw_nbytes
from onnxlite.errors import OnnxliteError
from onnxlite.model import DEFAULT_DOMAINS as _DEFAULT_DOMAINS
from onnxlite.model import (
    Body,
    Function,
    Graph,
    Model,
    Node,
    SparseTensor,
    Tensor,
    Type,
    ValueInfo,
    normalize_domain,
    opset_version,
    walk,
)

PathLike = Union[str, "os.PathLike[str]"]

#: The ONNX release history as (first opset version, IR version of the release that introduced
#: it), per domain: an opset needs at least that IR version (from onnx.helper.VERSION_TABLE; a
#: test keeps it in step with the vendored onnx.proto).
OPSET_MIN_IR: dict[str, tuple[tuple[int, int], ...]] = {
    "": ((1, 3), (9, 4), (10, 5), (11, 6), (12, 7), (15, 8), (19, 9), (21, 10), (23, 11), (24, 12),
         (25, 13), (28, 14)),
    "ai.onnx.ml": ((1, 3), (2, 6), (3, 8), (4, 9), (5, 10)),
    "ai.onnx.training": ((1, 7),),
    "ai.onnx.preview.training": ((1, 7),),
}
#: Newest opset version of each standard domain this table knows.
LATEST_OPSET = {domain: rows[-1][0] for domain, rows in OPSET_MIN_IR.items()}
#: Newest IR version this table knows.
LATEST_IR = max(ir for rows in OPSET_MIN_IR.values() for _, ir in rows)

#: Domains the ONNX standard defines; any other domain needs a runtime that implements it.
STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training"})
_CONSTANT_LISTS = {
    "value_floats": DataType.FLOAT, "value_ints": DataType.INT64, "value_strings": DataType.STRING}
_CONSTANT_SCALARS = {
    "value_float": DataType.FLOAT, "value_int": DataType.INT64, "value_string": DataType.STRING}
_MAX_NAMES = 5  # names listed in a note before "..."

DimValue = Union[int, str, None]  # noqa: UP007 (a runtime alias: Python 3.10 has no `|` on str)


@dataclass
class ValueSummary:
    """A graph input or output. ``dtype``/``shape`` are set for tensor (and sparse tensor)
    types; ``type`` is the whole type as text (``float[batch,3]``, ``sequence(int64[?])``).
    ``initializer`` marks an input that an initializer gives a default value."""

    name: str
    dtype: str | None
    shape: list[DimValue] | None
    type: str | None
    initializer: bool = False


@dataclass
class DtypeParameters:
    tensors: int = 0
    elements: int = 0
    bytes: int = 0


@dataclass
class ExternalFile:
    """An external data file: ``size`` on disk (None when it cannot be found), how many tensors
    and bytes point into it, and its ``status``: 'ok', 'missing', 'unsafe' (absolute, climbing
    out of the model folder...), 'short' (smaller than a tensor needs), 'not a file', 'unknown'
    (the model was not loaded from a file) or 'error'; ``problem`` says more."""

    location: str
    tensors: int = 0
    bytes: int = 0
    size: int | None = None
    status: str = "ok"
    problem: str | None = None


@dataclass
class FunctionSummary:
    domain: str
    name: str
    overload: str
    inputs: list[str]
    outputs: list[str]
    attributes: list[str]
    node_count: int
    opset_import: dict[str, int]
    calls: int


@dataclass
class TypeCoverage:
    """How much of the model is typed: of the ``values`` node outputs (main graph, subgraphs,
    training graphs; not function bodies, typed per call), ``declared`` have a type in the file
    (value_info or a graph output), ``inferred`` a complete type (element type and rank) from
    `onnxlite.infer` (None when inference was not run or refused the model)."""

    values: int
    declared: int
    inferred: int | None


@dataclass
class Note:
    """Something worth a look: ``level`` is 'warning' (likely to break a consumer) or 'info'."""

    level: str
    message: str


@dataclass
class Summary:
    path: str | None
    file_size: int | None
    ir_version: int
    opset_import: dict[str, int]
    producer_name: str
    producer_version: str
    domain: str
    model_version: int
    doc_string: str
    graph_name: str
    metadata: dict[str, str]
    inputs: list[ValueSummary]
    outputs: list[ValueSummary]
    node_count: int
    total_node_count: int
    subgraph_count: int
    max_subgraph_depth: int
    op_counts: dict[str, int]
    op_counts_by_domain: dict[str, dict[str, int]]
    initializer_count: int
    sparse_initializer_count: int
    constant_count: int
    parameter_tensors: int
    parameter_count: int
    parameter_bytes: int
    parameters_by_dtype: dict[str, DtypeParameters]
    embedded_bytes: int
    external_bytes: int
    external_files: list[ExternalFile]
    functions: list[FunctionSummary]
    training_info_count: int
    notes: list[Note] = field(default_factory=list)
    types: TypeCoverage | None = None

    def to_dict(self) -> dict[str, Any]:
        """The facts as JSON-ready plain data (dicts, lists, str, int, None)."""
        return asdict(self)


def type_coverage(model: Model, *, infer: bool = True) -> TypeCoverage:
    """Count the node outputs with a declared type and, with ``infer``, those `onnxlite.infer`
    types completely. Example: ``type_coverage(onnxlite.load("m.onnx")).inferred``."""
    values = declared = 0
    for body in walk(model, functions=False):
        g = body.proto
        stated = {v.name for v in (*g.value_info, *g.output)
                  if v.HasField("type") and v.type.WhichOneof("value")}
        for n in g.node:
            for o in n.output:
                if o:
                    values += 1
                    declared += o in stated
    inferred = None
    if infer:
        from onnxlite import infer as inference  # heavy: only when asked

        try:
            inferred = inference.infer_types(model).inferred
        except inference.InferError:
            inferred = None
    return TypeCoverage(values, declared, inferred)


def summarize(model: Model, path: PathLike | None = None, *, types: bool = False,
              infer: bool = True) -> Summary:
    """Compute the `Summary` of ``model`` (``path``: the file it was loaded from, for its size).

    Reads structure only: no tensor payload is touched. ``types`` adds `type_coverage` (with
    ``infer``, running inference). Example:
    ``summarize(onnxlite.load("m.onnx"), "m.onnx").parameter_count``.
    """
    walk = _Walk(model)
    walk.run()
    graph = model.graph
    init_names = set(graph.initializers)
    opsets = model.opset_imports
    functions = [_function_summary(f, walk.calls or Counter()) for f in model.functions]
    facts = Summary(
        path=None if path is None else os.fspath(path),
        file_size=_file_size(path),
        ir_version=int(model.ir_version),
        opset_import={_str(d): v for d, v in opsets.items()},
        producer_name=_str(model.producer_name),
        producer_version=_str(model.producer_version),
        domain=_str(model.domain),
        model_version=int(model.model_version),
        doc_string=_str(model.doc_string),
        graph_name=_str(graph.name),
        metadata={_str(k): _str(v) for k, v in model.metadata_props.items()},
        inputs=[_value_summary(v, v.name in init_names) for v in graph.inputs],
        outputs=[_value_summary(v) for v in graph.outputs],
        node_count=len(graph.proto.node),
        total_node_count=sum(walk.pairs.values()),
        subgraph_count=walk.subgraphs,
        max_subgraph_depth=walk.max_depth,
        op_counts=_op_counts(walk.pairs),
        op_counts_by_domain=_by_domain(walk.pairs),
        initializer_count=len(graph.proto.initializer),
        sparse_initializer_count=len(graph.proto.sparse_initializer),
        constant_count=walk.constants,
        parameter_tensors=sum(p.tensors for p in walk.params.values()),
        parameter_count=sum(p.elements for p in walk.params.values()),
        parameter_bytes=sum(p.bytes for p in walk.params.values()),
        parameters_by_dtype=dict(sorted(walk.params.items(), key=lambda kv: (-kv[1].bytes, kv[0]))),
        embedded_bytes=walk.embedded_bytes,
        external_bytes=walk.external_bytes,
        external_files=list(walk.external.values()),
        functions=functions,
        training_info_count=len(model.proto.training_info),
        types=type_coverage(model, infer=infer) if types else None,
    )
    notes = walk.notes + _model_notes(model, facts, walk)
    facts.notes = sorted(notes, key=lambda n: n.level != "warning")  # warnings first, stable
    return facts


# --- walking every graph and function body ------------------------------------------------------

class _Walk:
    """One pass over the main graph, its subgraphs (any depth, iteratively: hostile files nest
    deeply) and the function bodies, collecting op counts, parameters and unused initializers."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.pairs: Counter[tuple[str, str]] = Counter()  # (domain, op_type) -> count
        self.params: dict[str, DtypeParameters] = {}
        self.external: dict[str, ExternalFile] = {}
        self.notes: list[Note] = []
        self.subgraphs = 0
        self.max_depth = 0
        self.constants = 0
        self.embedded_bytes = 0
        self.external_bytes = 0
        self.unused: list[tuple[str, str, int]] = []  # (graph path, initializer name, bytes)
        self.missing_imports: dict[str, int] = {}  # domain used without an opset import -> nodes
        # (domain, op_type, overload) -> nodes: function calls, only read when there are functions
        self.calls: Counter[tuple[str, str, str]] | None = Counter() if model.proto.functions else None

    def run(self) -> None:
        model = self.model
        model_imports = _normalize(model.opset_imports)
        views: dict[int, Graph | Function] = {}  # id(Body) -> its view
        # initializer names (-> bytes) of each graph whose use is still to be seen, by id(Body)
        own_of: dict[int, dict[str, int]] = {}
        owners: list[tuple[str, dict[str, int]]] = []
        functions = model.functions
        for body in walk(model, training=False):
            view: Graph | Function
            if body.is_function:
                view = functions[int(body.where[len("functions["):-1])]
                imports = _normalize(view.opset_imports)
            else:
                parent = views.get(id(body.parent)) if body.parent is not None else None
                view = Graph(body.proto, parent if isinstance(parent, Graph) else None, model, body.where)
                imports = model_imports
                self.max_depth = max(self.max_depth, body.depth)
                if body.parent is not None:
                    self.subgraphs += 1
                own = self._graph_tensors(view)
                if own:
                    owners.append((view.where, own))
                    own_of[id(body)] = own
            views[id(body)] = view
            pending = self._pending(body, own_of)
            if pending is not None and not body.is_function:
                for output in body.proto.output:  # a graph output reads the value too
                    pending(output.name)
            self._nodes(view, imports, pending)
        # only now: nodes of subgraphs walked after their graph may read its initializers
        self.unused = [(where, _str(name), nbytes) for where, own in owners for name, nbytes in own.items()]

    @staticmethod
    def _pending(body: Body, own_of: dict[int, dict[str, int]]) -> Callable[[str], bool] | None:
        """A function marking a name read in ``body`` as a use of the initializer it resolves to
        (the innermost definition wins) and saying whether any is still unseen; None when no
        enclosing graph has one unseen."""
        chain = []
        b: Body | None = body
        while b is not None:
            if own_of.get(id(b)):
                chain.append(b)
            b = b.parent
        if not chain:
            return None

        def use(name: str) -> bool:
            found = body.resolve(name)
            if found is not None:
                own = own_of.get(id(found))
                if own:
                    own.pop(name, None)
            return any(own_of[id(c)] for c in chain)

        return use

    def _nodes(self, view: Graph | Function, imports: dict[str, int],
               pending: Callable[[str], bool] | None) -> None:
        """Count the nodes of one graph or function body (not its subgraphs: the walker gives
        those as bodies of their own)."""
        # The hot loop of `onnxlite info` (100k-node graphs): it reads the node messages directly,
        # which is 3x faster than building a Node view per node; views are made only for the few
        # nodes that hold constants.
        pairs: dict[tuple[str, str], int] = {}
        count = pairs.get
        calls = self.calls
        for i, n in enumerate(view.proto.node):
            key = (n.domain, n.op_type)
            pairs[key] = count(key, 0) + 1
            if calls is not None:
                calls["" if key[0] in _DEFAULT_DOMAINS else key[0], key[1], n.overload] += 1
            if key[1] == "Constant" and n.attribute and key[0] in _DEFAULT_DOMAINS:
                try:
                    self._constant(Node(n, view, i))
                except OnnxliteError as e:  # e.g. an attribute of an unknown type
                    self.notes.append(Note("warning", f"cannot size a Constant: {e}"))
            if pending is not None:
                for name in n.input:
                    if not pending(name):
                        pending = None  # every initializer in scope is used: stop looking
                        break
        self.pairs.update(pairs)
        if imports:
            for (domain, _op_type), n in pairs.items():
                if ("" if domain in _DEFAULT_DOMAINS else domain) not in imports:
                    name = _str(domain)
                    self.missing_imports[name] = self.missing_imports.get(name, 0) + n

    def _graph_tensors(self, graph: Graph) -> dict[str, int]:
        """Add a graph's initializers and sparse initializers; return name -> bytes of those whose
        use is still to be seen."""
        own: dict[str, int] = {}
        for tensor in graph.initializers.values():
            own[tensor.name] = self._tensor(tensor)
        for sparse in graph.sparse_initializers:
            own[sparse.name] = self._sparse(sparse)
        return own

    def _constant(self, node: Node) -> None:
        for name, attribute in node.attributes.items():
            if attribute.ref_attr_name:
                continue  # a function attribute's value, supplied by the caller
            if name in ("value", "sparse_value"):
                value = attribute.value
                if isinstance(value, SparseTensor):
                    self._sparse(value)
                elif isinstance(value, Tensor):
                    self._tensor(value)
                else:
                    continue
            elif name in _CONSTANT_SCALARS or name in _CONSTANT_LISTS:
                values = attribute.value
                values = values if isinstance(values, list) else [values]
                dtype = _CONSTANT_SCALARS.get(name) or _CONSTANT_LISTS[name]
                kinds = (str, bytes) if dtype == DataType.STRING else (int, float)
                if not all(isinstance(v, kinds) for v in values):
                    continue  # an attribute of the wrong type (invalid): no parameters to count
                if dtype == DataType.STRING:
                    nbytes = sum(len(v.encode() if isinstance(v, str) else v) for v in values)
                else:
                    nbytes = len(values) * dtype.bitwidth // 8
                self._count(dtype.short_name, len(values), nbytes)
                self.embedded_bytes += nbytes
            else:
                continue
            self.constants += 1

    def _tensor(self, tensor: Tensor) -> int:
        """Count one dense tensor; return its bytes (0 when it cannot be sized: noted)."""
        try:
            dtype = tensor.dtype
            elements = math.prod(tensor.shape)
            nbytes = tensor.nbytes if dtype == DataType.STRING else raw_nbytes(dtype, elements)
        except OnnxliteError as e:
            self.notes.append(Note("warning", f"cannot size a tensor: {e}"))
            return 0
        self._count(dtype.short_name, elements, nbytes)
        if tensor.is_external:
            self.external_bytes += nbytes
            self._external(tensor, nbytes)
        else:
            self.embedded_bytes += nbytes
        return nbytes

    def _sparse(self, sparse: SparseTensor) -> int:
        """Count a sparse tensor: its stored values, plus the bytes of its indices."""
        values, indices = sparse.values, sparse.indices
        nbytes = self._tensor(values)
        if not indices.proto.data_type:
            return nbytes  # no indices (an empty sparse tensor)
        try:
            dtype = values.dtype.short_name
            index_bytes = indices.nbytes
        except OnnxliteError as e:
            self.notes.append(Note("warning", f"cannot size sparse tensor indices: {e}"))
            return nbytes
        self._count(dtype, 0, index_bytes, tensors=0)
        if indices.is_external:
            self.external_bytes += index_bytes
            self._external(indices, index_bytes)
        else:
            self.embedded_bytes += index_bytes
        return nbytes + index_bytes

    def _count(self, dtype: str, elements: int, nbytes: int, tensors: int = 1) -> None:
        group = self.params.get(dtype)
        if group is None:
            group = self.params[dtype] = DtypeParameters()
        group.tensors += tensors
        group.elements += elements
        group.bytes += nbytes

    def _external(self, tensor: Tensor, nbytes: int) -> None:
        try:
            location, offset, length = tensor.external_info()
        except OnnxliteError as e:
            self.notes.append(Note("warning", str(e)))
            return
        entry = self.external.get(location)
        if entry is None:
            entry = self.external[location] = ExternalFile(_str(location))
            self._stat(entry, tensor)
        entry.tensors += 1
        entry.bytes += nbytes
        end = offset + (nbytes if length is None else length)
        if entry.size is not None and end > entry.size and entry.status in ("ok", "short"):
            entry.status = "short"
            entry.problem = f"the file has {entry.size:,} bytes, but a tensor needs bytes up to {end:,}"

    def _stat(self, entry: ExternalFile, tensor: Tensor) -> None:
        """Set the size of a tensor's external data file, or what is wrong with it."""
        if self.model.store.base_dir is None:
            entry.status, entry.problem = "unknown", "the model was not loaded from a file"
            return
        try:
            st = os.stat(tensor.external_path())
        except FileNotFoundError:
            entry.status, entry.problem = "missing", "missing"
            return
        except OnnxliteError as e:  # a location that is absolute, climbs out, or has a NUL
            message = str(e)
            prefix = f"external data location {entry.location!r} "
            start = message.find(prefix)
            entry.status = "unsafe"
            entry.problem = "the location " + message[start + len(prefix):] if start >= 0 else message
            return
        except OSError as e:
            entry.status, entry.problem = "error", e.strerror or str(e)
            return
        if not stat.S_ISREG(st.st_mode):
            entry.status, entry.problem = "not a file", "not a regular file"
            return
        entry.size = st.st_size


def _str(value: Any) -> Any:
    """Text from a protobuf string field, which gives bytes when the file's bytes are not UTF-8
    (shown with backslash escapes); anything else passes through."""
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value


def _normalize(imports: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for domain, version in imports.items():  # '' wins over its alias when both are listed
        if domain == "" or normalize_domain(domain) not in out:
            out[normalize_domain(domain)] = version
    return out


# --- small facts ------------------------------------------------------------------------------

def _file_size(path: PathLike | None) -> int | None:
    if path is None:
        return None
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def _value_summary(value: ValueInfo, initializer: bool = False) -> ValueSummary:
    vtype = value.type
    if vtype is None:
        return ValueSummary(_str(value.name), None, None, None, initializer)
    dtype: str | None = None
    shape: list[DimValue] | None = None
    if vtype.kind in ("tensor", "sparse_tensor"):
        try:
            elem = vtype.elem_type
            dtype = None if elem is None else elem.short_name
        except OnnxliteError:
            dtype = "unknown"
        dims = vtype.shape
        shape = None if dims is None else [_str(d) for d in dims]
    return ValueSummary(_str(value.name), dtype, shape, _type_text(vtype), initializer)


def _type_text(vtype: Type) -> str | None:
    try:
        return None if vtype.kind is None else str(vtype)
    except OnnxliteError:
        return "unknown"


def op_key(domain: str, op_type: str) -> str:
    """The `op_counts` key: the op type in the default domain, ``domain.op_type`` elsewhere."""
    return _str(op_type) if domain in _DEFAULT_DOMAINS else f"{_str(domain)}.{_str(op_type)}"


def _ranked(items: Iterable[tuple[str, int]]) -> dict[str, int]:
    return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))


def _op_counts(pairs: Counter[tuple[str, str]]) -> dict[str, int]:
    merged: Counter[str] = Counter()
    for (domain, op_type), n in pairs.items():
        merged[op_key(domain, op_type)] += n
    return _ranked(merged.items())


def _by_domain(pairs: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    grouped: dict[str, Counter[str]] = {}
    for (domain, op_type), n in pairs.items():
        grouped.setdefault("" if domain in _DEFAULT_DOMAINS else _str(domain), Counter())[_str(op_type)] += n
    return {d: _ranked(grouped[d].items()) for d in sorted(grouped)}


def _function_summary(function: Function, calls: Counter[tuple[str, str, str]]) -> FunctionSummary:
    domain = "" if function.domain in _DEFAULT_DOMAINS else function.domain
    return FunctionSummary(
        domain=_str(function.domain), name=_str(function.name), overload=_str(function.overload),
        inputs=[_str(n) for n in function.inputs], outputs=[_str(n) for n in function.outputs],
        attributes=[_str(n) for n in (*function.attributes, *function.attribute_defaults)],
        node_count=len(function.proto.node),
        opset_import={_str(d): v for d, v in function.opset_imports.items()},
        calls=calls.get((domain, function.name, function.overload), 0),
    )


def min_ir_version(domain: str, version: int) -> int | None:
    """The IR version an opset needs (the one its ONNX release introduced); None when unknown.

    >>> min_ir_version("", 21), min_ir_version("ai.onnx.ml", 3), min_ir_version("com.x", 1)
    (10, 8, None)
    """
    rows = OPSET_MIN_IR.get(normalize_domain(domain))
    if rows is None or version < 1 or version > rows[-1][0]:
        return None
    found = None
    for first, ir in rows:
        if version >= first:
            found = ir
    return found


def _names(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:_MAX_NAMES])
    return shown + (f" and {len(names) - _MAX_NAMES} more" if len(names) > _MAX_NAMES else "")


def _model_notes(model: Model, facts: Summary, walk: _Walk) -> list[Note]:
    notes: list[Note] = []
    ir = facts.ir_version
    opsets = facts.opset_import
    if not model.proto.HasField("ir_version"):
        notes.append(Note("warning", "no IR version: consumers may refuse the model"))
    elif ir > LATEST_IR:
        notes.append(Note("info", f"IR version {ir} is newer than the newest this onnxlite knows "
                                  f"({LATEST_IR})"))
    if ir >= 3 and not opsets and facts.total_node_count:
        notes.append(Note("warning", "no opset_import: the model does not say which operator versions "
                                     "it uses"))
    if "" in opsets and "ai.onnx" in opsets:
        notes.append(Note("warning", "opset_import lists both '' and its alias 'ai.onnx'"))
    for domain, version in opsets.items():
        label = f"'{domain}'" if domain else "ai.onnx"
        key = normalize_domain(domain)
        latest = LATEST_OPSET.get(key)
        if latest is not None and version > latest:
            notes.append(Note("warning", f"opset {label} {version} is newer than the newest known "
                                         f"({latest})"))
        if latest is not None and version < 1:
            notes.append(Note("warning", f"opset {label} {version} is not a valid version"))
        need = min_ir_version(domain, version)
        if need is not None and ir and ir < need:
            notes.append(Note("warning", f"opset {label} {version} needs IR version {need} or newer, "
                                         f"but the model declares {ir}"))
    for domain, count in sorted(walk.missing_imports.items()):
        label = f"'{domain}'" if domain else "ai.onnx (the default domain)"
        notes.append(Note("warning", f"{count} node{_s(count)} use domain {label}, which opset_import "
                                     "does not list"))
    local = {(f.domain, f.name) for f in facts.functions}
    local_domains = {f.domain for f in facts.functions}
    custom: dict[str, list[str]] = {}
    # sorted as text: names that are not UTF-8 come from protobuf as bytes
    for (domain, op_type), _n in sorted(walk.pairs.items(), key=lambda kv: (_str(kv[0][0]), _str(kv[0][1]))):
        if domain not in STANDARD_DOMAINS and (_str(domain), _str(op_type)) not in local:
            custom.setdefault(domain, []).append(op_type)
    for domain, ops in custom.items():
        count = sum(walk.pairs[domain, op] for op in ops)
        ops = [_str(op) for op in ops]
        domain = _str(domain)
        where = " (also a local function domain)" if domain in local_domains else ""
        notes.append(Note("info", f"custom domain '{domain}'{where}: {count} node{_s(count)} of "
                                  f"{len(ops)} op type{_s(len(ops))} ({_names(ops)}), needing a runtime "
                                  "that implements them"))
    for f in facts.functions:
        for domain, version in f.opset_import.items():
            outer = opsets.get(domain, opset_version(opsets, domain))
            if outer is not None and outer != version:
                label = f"'{domain}'" if domain else "ai.onnx"
                notes.append(Note("warning", f"function {f.domain}.{f.name} imports opset {label} {version}, "
                                             f"but the model imports {outer}"))
    if walk.unused:
        by_graph: dict[str, list[tuple[str, int]]] = {}
        for where, name, nbytes in walk.unused:
            by_graph.setdefault(where, []).append((name, nbytes))
        for where, items in by_graph.items():
            nbytes = sum(b for _, b in items)
            scope = "" if where == "graph" else f" in {where}"
            notes.append(Note("warning", f"{len(items)} unused initializer{_s(len(items))}{scope} "
                                         f"({nbytes:,} bytes): {_names([n for n, _ in items])}"))
    for entry in facts.external_files:
        if entry.problem is not None:
            notes.append(Note("warning", f"external data '{entry.location}': {entry.problem}"))
    if facts.training_info_count:
        n = facts.training_info_count
        notes.append(Note("info", f"{n} training_info entr{'y' if n == 1 else 'ies'} (not counted above)"))
    return notes


def _s(n: int) -> str:
    return "" if n == 1 else "s"

