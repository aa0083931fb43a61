"""Scoring inference on real exported models against what onnxruntime computes (the issue's
table 2), shared by tests/test_infer_real.py and tools/bench_infer.py --real.

A model is prepared once: value_info is stripped in every graph, and every unnamed dim of a
graph input gets a name (``d_<input>_<k>``) so that both engines see the dynamic dims as symbols.
It then runs in onnxruntime on random inputs for two size sets (every main-graph node output
made a graph output), and each node output's inferred type is judged against the real value:

- right: element type equal and every dim equal to the real size in both runs, after evaluating
  the input symbols with that run's sizes; a symbol the inputs do not define (a fresh ``unk_K``,
  a declared output's own name) must stand for one size across the whole graph within a run (the
  first bare occurrence binds it; expressions over it are then evaluated), and it must not stand
  where the real size is the same number in both runs (a number was knowable: missing);
- wrong: a contradiction: another element type or kind, another rank, a dim that evaluates to
  another size, a symbol bound to two sizes in one run;
- missing: anything less (no type, no rank, a dim left unresolved).

Sequences are judged on their element type (element type, rank, fixed dims of every element);
maps (ZipMap output) on kind and key type. Values inside subgraphs and functions cannot be
fetched from onnxruntime and are not scored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from corpus import FIXTURES
from infer_scoring import Score

from onnxlite import infer
from onnxlite.dtypes import DataType

#: The fixture sections of real exports, scored by tests/test_infer_real.py and bench_infer --real.
REAL_SECTIONS = ("torch", "sklearn", "onnxscript", "ortools", "hf", "tf", "mltools")


def real_models() -> list[Path]:
    """Every model of the real-export sections (torch's external-data models in a subfolder too)."""
    return sorted(p for section in REAL_SECTIONS for p in (FIXTURES / section).rglob("*.onnx"))


# Sizes of the input symbols in the two runs; a symbol not listed gets DEFAULT_SIZES. h4/w4 are
# the dynamo exporter's names for a height/width that must be a multiple of 4 (inputs "4*h4");
# rows/cols: windows_*.onnx, which pads to a multiple of its window; samples: hf/wav2vec2_*.onnx,
# raw audio long enough for its strided conv front end.
SIZE_SETS: tuple[dict[str, int], dict[str, int]] = (
    {"batch": 2, "seq": 5, "past": 3, "height": 16, "width": 16, "h4": 4, "w4": 4, "N": 3, "rows": 10,
     "cols": 13, "samples": 400},
    {"batch": 3, "seq": 7, "past": 4, "height": 24, "width": 32, "h4": 6, "w4": 8, "N": 4, "rows": 16,
     "cols": 7, "samples": 563},
)
DEFAULT_SIZES = (3, 4)
BLANK = "?blank"  # prefix of the symbols standing for a dim a declaration leaves blank (unknown)


class RealScore(Score):
    """`infer_scoring.Score` (the node-case harness's tally) that can sum several models."""

    def add(self, other: RealScore) -> None:
        self.right += other.right
        self.wrong += other.wrong
        self.missing += other.missing
        self.wrong_cases += other.wrong_cases
        self.missing_cases += other.missing_cases
        self.missing_ops.update(other.missing_ops)


@dataclass
class Prepared:
    """A model ready to score: stripped bytes, its node outputs and the real values per run."""

    name: str
    data: bytes  # value_info stripped, input dims named
    outputs: list[tuple[str, str]]  # (value, producing op type) of the main graph, in node order
    runs: list[tuple[dict[str, int], dict[str, Any]]]  # (symbol sizes, value -> real value)


def _graphs(g: onnx.GraphProto) -> Iterable[onnx.GraphProto]:
    stack = [g]
    while stack:
        g = stack.pop()
        yield g
        for n in g.node:
            for a in n.attribute:
                if a.HasField("g"):
                    stack.append(a.g)
                stack.extend(a.graphs)


def _strip(m: onnx.ModelProto) -> None:
    for g in _graphs(m.graph):
        del g.value_info[:]
    for f in m.functions:
        del f.value_info[:]
    inits = {t.name for t in m.graph.initializer}
    for vi in m.graph.input:
        if vi.name in inits or not vi.type.HasField("tensor_type"):
            continue
        for k, d in enumerate(vi.type.tensor_type.shape.dim):
            if not d.dim_param and not d.HasField("dim_value"):
                d.dim_param = f"d_{vi.name}_{k}"


def _sizes(m: onnx.ModelProto, run: int) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for vi in m.graph.input:
        for d in vi.type.tensor_type.shape.dim:
            for s in infer.free_symbols(infer.parse_dim(d.dim_param)) if d.dim_param else ():
                sizes.setdefault(s, SIZE_SETS[run].get(s, DEFAULT_SIZES[run]))
    return sizes


def _feed(vi: onnx.ValueInfoProto, sizes: Mapping[str, int], rng: np.random.Generator) -> Any:
    which = vi.type.WhichOneof("value")
    if which == "map_type":  # DictVectorizer: string -> float
        return {"a": 1.5, "b": -2.0, "c": 0.25}
    tt = vi.type.tensor_type
    shape = [d.dim_value if not d.dim_param else int(infer.evaluate(infer.parse_dim(d.dim_param), sizes))
             for d in tt.shape.dim]
    dtype = DataType(tt.elem_type).np_dtype
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind in "iu":
        return rng.integers(0, 2, shape).astype(dtype)  # valid ids, masks, token types, trip counts
    return rng.standard_normal(shape).astype(dtype)


def prepare(path: Path, name: str) -> Prepared:
    """Strip ``path``'s model and run it in onnxruntime for both size sets."""
    import onnxruntime as ort

    m = onnx.load(str(path))  # external data loaded: onnxruntime needs the weights
    _strip(m)
    structure = onnx.load(str(path), load_external_data=False)
    _strip(structure)
    inits = {t.name for t in m.graph.initializer}
    outputs = [(o, n.op_type) for n in m.graph.node for o in n.output if o]
    declared = {o.name for o in m.graph.output}
    probe = onnx.ModelProto()
    probe.CopyFrom(m)
    probe.graph.output.extend(onnx.helper.make_empty_tensor_value_info(o) for o, _ in outputs
                              if o not in declared)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    runs = []
    for run in range(2):
        sizes = _sizes(m, run)
        rng = np.random.default_rng(run)
        feeds = {vi.name: _feed(vi, sizes, rng) for vi in m.graph.input if vi.name not in inits}
        runs.append((sizes, dict(zip(names, session.run(None, feeds), strict=True))))
    return Prepared(name, structure.SerializeToString(), outputs, runs)


# --- judging ------------------------------------------------------------------------------------

def _dtype_of(array: np.ndarray) -> DataType:
    if array.dtype.kind in "OSU":
        return DataType.STRING
    return DataType(onnx.helper.np_dtype_to_tensor_dtype(array.dtype))


def _bare(d: infer.Dim) -> str | None:
    if isinstance(d, infer.Expr):
        syms = infer.free_symbols(d)
        if len(syms) == 1:
            (s,) = syms
            if d == infer.symbol(s):
                return s
    return None


class _Run:
    """One run's judging state: input sizes and the sizes the other symbols were bound to."""

    def __init__(self, sizes: Mapping[str, int]) -> None:
        self.sizes = dict(sizes)
        self.bound: dict[str, int] = {}
        self.clash: set[str] = set()

    def bind(self, t: infer.TypeLike | None, real: Any) -> None:
        if not isinstance(t, infer.TensorType) or t.shape is None or not isinstance(real, np.ndarray):
            return
        if len(t.shape) != real.ndim:
            return
        for d, size in zip(t.shape, real.shape, strict=True):
            s = _bare(infer.evaluate(d, self.sizes))
            if s is None or s.startswith(BLANK):
                continue
            if self.bound.setdefault(s, size) != size:
                self.clash.add(s)

    def dims(self, t: infer.TensorType) -> list[tuple[infer.Dim, set[str]]]:
        """Each dim evaluated, and the non-input symbols it needed."""
        out = []
        for d in t.shape or ():
            e = infer.evaluate(d, self.sizes)
            out.append((infer.evaluate(e, self.bound), infer.free_symbols(e)))
        return out


def _judge_tensor(t: infer.TypeLike | None, real: np.ndarray, run: _Run) -> tuple[str, list[bool]]:
    """('right'|'wrong'|'missing', per dim: resolved only through a bound symbol)."""
    if t is None:
        return "missing", []
    if not isinstance(t, infer.TensorType):
        return "wrong", []
    if t.dtype is not None and t.dtype != _dtype_of(real):
        return "wrong", []
    if t.shape is None:
        return "missing", []
    if len(t.shape) != real.ndim:
        return "wrong", []
    verdict = "right" if t.dtype is not None else "missing"
    via_symbol = []
    for (d, syms), size in zip(run.dims(t), real.shape, strict=True):
        if syms & run.clash:
            return "wrong", []
        via_symbol.append(bool(syms) and not any(s.startswith(BLANK) for s in syms))
        if isinstance(d, int):
            if d != size:
                return "wrong", []
        else:
            verdict = "missing"
    return verdict, via_symbol


def _judge_other(t: infer.TypeLike | None, real: Any) -> str:
    if t is None:
        return "missing"
    if isinstance(real, dict) or (isinstance(real, list) and real and isinstance(real[0], dict)):
        want = infer.SequenceType if isinstance(real, list) else infer.MapType
        if not isinstance(t, want):
            return "wrong"
        m = t.elem if isinstance(t, infer.SequenceType) else t
        if not isinstance(m, infer.MapType):
            return "missing" if m is None else "wrong"
        first = next(iter(real[0] if isinstance(real, list) else real))
        key = DataType.STRING if isinstance(first, str) else DataType.INT64
        return "right" if m.key == key else "wrong"
    if isinstance(real, list):
        if not isinstance(t, infer.SequenceType):
            return "wrong"
        e = t.elem
        if e is None:
            return "missing"
        if not isinstance(e, infer.TensorType):
            return "wrong"
        # an empty sequence (SequenceEmpty) has no element whose shape could be known
        verdict = "right" if e.dtype is not None and (e.shape is not None or not real) else "missing"
        for a in real:
            if e.dtype is not None and e.dtype != _dtype_of(a):
                return "wrong"
            if e.shape is not None:
                if len(e.shape) != a.ndim:
                    return "wrong"
                if any(isinstance(d, int) and d != s for d, s in zip(e.shape, a.shape, strict=True)):
                    return "wrong"
        return verdict
    return "missing"


def score(prepared: Prepared, types: Mapping[str, infer.TypeLike | None],
          reason: Callable[[str], str] = lambda name: "") -> RealScore:
    """Judge ``types`` (value name -> inferred type of the main graph) against the real runs."""
    runs = [_Run(sizes) for sizes, _ in prepared.runs]
    for run, (_, real) in zip(runs, prepared.runs, strict=True):
        for name, _ in prepared.outputs:
            run.bind(types.get(name), real.get(name))
    out = RealScore()
    for name, op in prepared.outputs:
        t = types.get(name)
        verdicts = []
        via: list[list[bool]] = []
        for run, (_, real) in zip(runs, prepared.runs, strict=True):
            value = real[name]
            if isinstance(value, np.ndarray):
                v, sym = _judge_tensor(t, value, run)
                verdicts.append(v)
                via.append(sym)
            else:
                verdicts.append(_judge_other(t, value))
        if "wrong" in verdicts:
            verdict = "wrong"
        elif all(v == "right" for v in verdicts):
            verdict = "right"
            shapes = [real[name].shape for _, real in prepared.runs if isinstance(real[name], np.ndarray)]
            if len(via) == 2 and len(shapes) == 2:
                # a symbol the inputs do not define, where the real size is one number: not right
                for k, (a, b) in enumerate(zip(shapes[0], shapes[1], strict=True)):
                    if a == b and (via[0][k] or via[1][k]):
                        verdict = "missing"
        else:
            verdict = "missing"
        real0 = prepared.runs[0][1][name]
        shown = (f"{_dtype_of(real0).short_name}{list(real0.shape)}" if isinstance(real0, np.ndarray)
                 else type(real0).__name__)
        case = f"{prepared.name}:{name} ({op}): inferred {infer.format_type(t)}, real {shown}"
        if verdict == "right":
            out.right += 1
        elif verdict == "wrong":
            out.wrong += 1
            out.wrong_cases.append(case)
        else:
            out.missing += 1
            out.missing_ops[op] += 1
            why = reason(name)
            out.missing_cases.append(case + (f" [{why}]" if why else ""))
    return out


def onnx_types(prepared: Prepared) -> dict[str, infer.TypeLike | None]:
    """The main-graph types onnx's C++ inference (data_prop=True) gives the stripped model."""
    import warnings

    import onnx.shape_inference

    m = onnx.ModelProto.FromString(prepared.data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = onnx.shape_inference.infer_shapes(m, data_prop=True)
    except Exception:  # noqa: BLE001 - the anchor's failures count as missing
        return {}
    counter = iter(range(1 << 30))
    out: dict[str, infer.TypeLike | None] = {}
    for vi in [*m.graph.value_info, *m.graph.output]:
        if vi.HasField("type"):
            out[vi.name] = infer.from_type_proto(vi.type, lambda: infer.symbol(f"{BLANK}{next(counter)}"))
    return out
