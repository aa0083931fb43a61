"""onnxlite.parser: the ONNX textual syntax read back.

* Round trip over the conformance corpus (tests/corpus.py): ``parse_model(format_model(m,
  full=True))`` is semantically equal to ``m`` (`semantic_diff` walks both messages field by
  field; its normalizations are listed there), and printing the parsed model gives the same
  text again. `EXPECTED_LOSSES` lists the models that cannot round-trip, with why, and the
  test checks they fail exactly that way.
* Against the upstream parser: where ``onnx.parser.parse_model`` reads our ``--full`` text, our
  result equals upstream's on the parts upstream keeps; texts written in upstream's grammar
  (not ours) parse alike too; each place where upstream loses data is pinned with its loss.
* Syntax features one by one, error messages (``line:column: expected ..., got ...``) and
  hostile text (deep nesting, huge shapes, fuzzing): nothing but ParseError comes out.
* Speed: a 100,000-node dump is parsed and the time printed (never asserted).
"""

from __future__ import annotations

import functools
import math
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import onnxlite
from onnxlite import _proto
from onnxlite._storage import io as lite_io
from onnxlite.errors import OnnxliteError, ParseError
from onnxlite.parser import parse_function, parse_graph, parse_model, parse_node
from onnxlite.text import format_graph, format_model

try:  # the corpus needs the onnx package (an oracle only: CI also runs without it)
    import corpus
except ImportError:
    corpus = None

# --- semantic comparison -------------------------------------------------------------------------

_ATTR_VALUE_FIELDS = {
    1: "f", 2: "i", 3: "s", 4: "t", 5: "g", 11: "sparse_tensor", 13: "tp",
    6: "floats", 7: "ints", 8: "strings", 9: "tensors", 10: "graphs", 12: "sparse_tensors", 14: "type_protos",
}
_TENSOR_DATA = {"raw_data", "float_data", "int32_data", "string_data", "int64_data", "double_data",
                "uint64_data", "external_data", "data_location"}


def _repeated(field: Any) -> bool:
    flag = getattr(field, "is_repeated", None)  # protobuf >= 5.28 (`label` is gone in 7)
    return bool(flag) if flag is not None else field.label == field.LABEL_REPEATED


@functools.cache
def _fields(descriptor: Any) -> list[tuple[str, bool, bool, bool, str]]:
    """(name, repeated, message, float, struct format) of each field of a message type."""
    return [(f.name, _repeated(f), f.type == f.TYPE_MESSAGE, f.type in (f.TYPE_FLOAT, f.TYPE_DOUBLE),
             "<f" if f.type == f.TYPE_FLOAT else "<d") for f in descriptor.fields]


def _float_key(value: float, fmt: str) -> tuple[Any, ...]:
    if math.isnan(value):
        return ("nan", math.copysign(1.0, value) < 0)
    return ("bits", struct.pack(fmt, value))


def _inferred_type(a: Any) -> int:
    if a.type:
        return int(a.type)
    for code, name in _ATTR_VALUE_FIELDS.items():
        if code in (6, 7, 8, 9, 10, 12, 14):
            if len(getattr(a, name)):
                return code
        elif a.HasField(name):
            return code
    return 0


def _external(t: Any) -> list[tuple[str, str]]:
    entries = [(e.key, e.value) for e in t.external_data]
    return [e for e in entries if e[0] == "location"] + [e for e in entries if e[0] != "location"]


def _values(t: Any, store: Any) -> Any:
    try:
        return onnxlite.Tensor(t, store).numpy()
    except OnnxliteError as e:
        return ("undecodable", type(e).__name__)


def _canonical_nans(dtype: np.dtype) -> set[bytes]:
    with np.errstate(all="ignore"):
        arr = np.array([math.nan, -math.nan], dtype=np.float64).astype(dtype)
    return {arr[k:k + 1].tobytes() for k in range(2)}


def _array_problem(a: Any, b: Any) -> str | None:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return None if a == b else f"values {a!r} != {b!r}"
    if a.dtype != b.dtype or a.shape != b.shape:
        return f"dtype/shape {a.dtype}{a.shape} != {b.dtype}{b.shape}"
    if a.dtype == object:
        return None if a.reshape(-1).tolist() == b.reshape(-1).tolist() else "string values differ"
    fa, fb = a.reshape(-1), b.reshape(-1)
    if fa.tobytes() == fb.tobytes():
        return None
    if fa.dtype.kind == "c":
        fa = fa.view(np.float32 if fa.dtype.itemsize == 8 else np.float64)
        fb = fb.view(fa.dtype)
    if not (fa.dtype.kind == "f" or "float" in fa.dtype.name):
        return "values differ"
    nan_a, nan_b = np.isnan(fa.astype(np.float64)), np.isnan(fb.astype(np.float64))
    if not np.array_equal(nan_a, nan_b) or fa[~nan_a].tobytes() != fb[~nan_b].tobytes():
        return "values differ"
    canonical = _canonical_nans(fa.dtype)
    for x, y in zip(fa[nan_a], fb[nan_a], strict=True):
        if x.tobytes() in canonical and x.tobytes() != y.tobytes():
            return "NaN bits differ"
        if (x.tobytes()[-1] ^ y.tobytes()[-1]) & 0x80:
            return "NaN sign differs"
    return None


def semantic_diff(a: Any, b: Any, store_a: Any = None, store_b: Any = None, *,
                  external: str = "reference", limit: int = 20) -> list[str]:
    """Where two messages of one type differ, walked field by field (iteratively). Normalized:

    - tensors compare decoded values, not storage (raw_data vs float_data...), bit for bit,
      except NaNs whose payload the text cannot express (they compare by sign); external
      tensors compare their reference (location first, then the other entries in order), or
      their values with ``external="values"``;
    - an attribute's type is inferred when unset, and only its value field is compared;
    - scalar fields compare values, not presence (the printer writes ``ir_version: 0``...);
    - a nested TypeProto left unset equals an empty one (both print as ``?``);
    - unknown fields are ignored (the text cannot hold them).
    """
    store_a = store_a or lite_io.DataStore()
    store_b = store_b or lite_io.DataStore()
    out: list[str] = []
    stack: list[tuple[str, Any, Any]] = [(a.DESCRIPTOR.name, a, b)]
    while stack and len(out) < limit:
        path, x, y = stack.pop()
        if x.SerializeToString() == y.SerializeToString():
            continue  # the same bytes: nothing to normalize
        name = x.DESCRIPTOR.name
        skip: set[str] = set()
        if name == "TensorProto":
            skip = _TENSOR_DATA
            ext = x.data_location == 1 or y.data_location == 1
            if ext and external == "reference":
                if (x.data_location, _external(x)) != (y.data_location, _external(y)):
                    out.append(f"{path}: external data {_external(x)} != {_external(y)}")
            else:
                problem = _array_problem(_values(x, store_a), _values(y, store_b))
                if problem:
                    out.append(f"{path}: {problem}")
        elif name == "AttributeProto":
            kx, ky = _inferred_type(x), _inferred_type(y)
            if kx != ky:
                out.append(f"{path}: attribute type {kx} != {ky}")
                continue
            skip = set(_ATTR_VALUE_FIELDS.values()) | {"type"}
            if not x.ref_attr_name and kx in _ATTR_VALUE_FIELDS:
                skip.discard(_ATTR_VALUE_FIELDS[kx])
        for fname, repeated, is_message, is_float, fmt in _fields(x.DESCRIPTOR):
            if fname in skip:
                continue
            here = f"{path}.{fname}"
            if repeated:
                xs, ys = getattr(x, fname), getattr(y, fname)
                if len(xs) != len(ys):
                    out.append(f"{here}: {len(xs)} entries != {len(ys)}")
                elif is_message:
                    stack.extend((f"{here}[{k}]", xs[k], ys[k]) for k in reversed(range(len(xs))))
                elif is_float and [_float_key(v, fmt) for v in xs] != [_float_key(v, fmt) for v in ys]:
                    out.append(f"{here}: {list(xs)} != {list(ys)}")
                elif not is_float and list(xs) != list(ys):
                    out.append(f"{here}: {list(xs)[:8]} != {list(ys)[:8]}")
            elif is_message:
                hx, hy = x.HasField(fname), y.HasField(fname)
                if hx and hy:
                    stack.append((here, getattr(x, fname), getattr(y, fname)))
                elif hx != hy:
                    sub = getattr(x if hx else y, fname)
                    if not (sub.DESCRIPTOR.name == "TypeProto" and not sub.ListFields()):
                        out.append(f"{here}: present {hx} != {hy}")
            else:
                vx, vy = getattr(x, fname), getattr(y, fname)
                if (_float_key(vx, fmt) != _float_key(vy, fmt)) if is_float else vx != vy:
                    out.append(f"{here}: {vx!r:.80} != {vy!r:.80}")
    return out


_NOTE_FIELDS = {  # what the printer keeps in comment notes, which upstream skips
    "ModelProto": ("configuration", "training_info"),
    "GraphProto": ("doc_string", "metadata_props", "sparse_initializer", "quantization_annotation"),
    "ValueInfoProto": ("doc_string", "metadata_props"),
    "TypeProto": ("denotation",),
    "Dimension": ("denotation",),
    "NodeProto": ("doc_string", "metadata_props", "device_configurations"),
    "AttributeProto": ("doc_string",),
    "TensorProto": ("doc_string", "metadata_props"),
    "FunctionProto": ("metadata_props",),
}


def without_notes(message: Any) -> Any:
    """A copy of ``message`` without the fields the printer writes as comment notes."""
    copy = type(message)()
    copy.CopyFrom(message)
    stack = [copy]
    while stack:
        m = stack.pop()
        for field in _NOTE_FIELDS.get(m.DESCRIPTOR.name, ()):
            m.ClearField(field)
        for field, value in m.ListFields():
            if field.type == field.TYPE_MESSAGE:
                stack.extend(value if _repeated(field) else [value])
    return copy


def as_lite(message: Any) -> Any:
    """An onnx package message as the onnxlite class of the same name."""
    return getattr(_proto, message.DESCRIPTOR.name).FromString(message.SerializeToString())


def test_semantic_diff_notices_every_kind_of_change() -> None:
    model = parse_model(_SAMPLE)
    assert semantic_diff(model.proto, parse_model(_SAMPLE).proto) == []
    changes = {
        "node input": lambda m: m.graph.node[0].input.__setitem__(0, "zz"),
        "attribute float": lambda m: setattr(m.graph.node[1].attribute[0], "f", 0.75),
        "attribute type": lambda m: setattr(m.graph.node[1].attribute[0], "type", 2),
        "tensor value": lambda m: setattr(m.graph.initializer[0], "raw_data", struct.pack("<2f", 1, 3)),
        "nan sign": lambda m: setattr(m.graph.initializer[1], "raw_data", struct.pack("<f", -math.nan)),
        "dim": lambda m: setattr(m.graph.input[0].type.tensor_type.shape.dim[0], "dim_param", "M"),
        "doc string": lambda m: setattr(m.graph.node[0], "doc_string", "other"),
        "shape presence": lambda m: m.graph.output[0].type.tensor_type.ClearField("shape"),
        "opset": lambda m: setattr(m.opset_import[0], "version", 1),
    }
    for what, change in changes.items():
        other = parse_model(_SAMPLE)
        change(other.proto)
        assert semantic_diff(model.proto, other.proto), what
    # storage does not count: the same values in float_data
    typed = parse_model(_SAMPLE)
    t = typed.proto.graph.initializer[0]
    t.ClearField("raw_data")
    t.float_data.extend([1.0, 2.0])
    assert semantic_diff(model.proto, typed.proto) == []


_SAMPLE = """<ir_version: 10, opset_import: ["" : 21]>
g (float[N,2] x) => (float[N,2] y)
<float[2] w = {1.0, 2.0}, float n = {nan}>
{
   # doc_string: "first"
   t = Add (x, w)
   y = LeakyRelu <alpha: float = 0.5> (t)
}
"""

# --- the corpus ----------------------------------------------------------------------------------

#: Models whose text cannot hold everything; each is checked to fail exactly as said.
EXPECTED_LOSSES = {
    "fixture/structure/tensor_segment.onnx": (
        "a segmented tensor cannot be decoded: the printer writes '{...}  # error: ...', which the "
        "parser refuses", "parse", "the values of initializer 'chunk' are summarized"),
    "fixture/wire/unknown_enum_values.onnx": (
        "an attribute of a type this schema does not know is left out by the printer", "diff",
        "graph.node[7].attribute: 5 entries != 4"),
}
#: Corpus texts upstream reads differently from us (see test_corpus_matches_upstream).
UPSTREAM_MISREADS = {
    "fixture/wire/non_utf8_strings.onnx": "upstream reads the escape \\xNN as 'xNN'",
    # upstream reads these since --full prints float16/float8/int4... as bit patterns; only their
    # strings that are not UTF-8 (\xNN escapes) come back wrong
    "fixture/dtypes/all_dtypes_raw.onnx": "upstream reads the escape \\xNN as 'xNN'",
    "fixture/dtypes/all_dtypes_typed.onnx": "upstream reads the escape \\xNN as 'xNN'",
}


@functools.cache
def _cases() -> dict[str, Any]:
    return {c.id: c for c in corpus.model_corpus()} if corpus is not None else {}


CASE_IDS = list(_cases()) or ["no-corpus"]


@functools.cache
def _roundtrip(case_id: str) -> tuple[Any, str, Any, str | None]:
    """(original model, its --full text, the parsed model or the ParseError, the text of the
    parsed model)."""
    case = _cases()[case_id]
    model = onnxlite.load(case.path) if case.path else onnxlite.loads(case.read())
    text = format_model(model, full=True)
    try:
        parsed = parse_model(text, base_dir=case.path.parent if case.path else None)
    except ParseError as e:
        return model, text, e, None
    return model, text, parsed, format_model(parsed, full=True)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_corpus_roundtrip(case_id: str) -> None:
    if corpus is None:
        pytest.skip("the corpus needs the onnx package")
    model, text, parsed, again = _roundtrip(case_id)
    expected = EXPECTED_LOSSES.get(case_id)
    if isinstance(parsed, ParseError):
        assert expected is not None and expected[1] == "parse", f"{case_id}: {parsed}"
        assert expected[2] in str(parsed)
        return
    diff = semantic_diff(model.proto, parsed.proto, model.store, parsed.store)
    if expected is not None:
        assert expected[1] == "diff" and diff, f"{case_id} round-trips now: remove it from EXPECTED_LOSSES"
        assert all(expected[2] in d for d in diff), diff
        return
    assert diff == [], case_id
    assert again == text


def _upstream_diff(case_id: str) -> list[str] | None:
    """Ours against upstream's parse of the same text, on what upstream keeps (None: upstream
    refuses the text)."""
    onnx_parser = pytest.importorskip("onnx.parser")
    model, text, parsed, _ = _roundtrip(case_id)
    try:
        upstream = onnx_parser.parse_model(text)
    except Exception:  # upstream raises onnx's own error types
        return None
    case = _cases()[case_id]
    upstream_store = lite_io.DataStore(case.path.parent if case.path else None)
    return semantic_diff(without_notes(parsed.proto), as_lite(upstream), parsed.store, upstream_store,
                         external="values")


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_corpus_matches_upstream(case_id: str) -> None:
    if corpus is None:
        pytest.skip("the corpus needs the onnx package")
    if isinstance(_roundtrip(case_id)[2], ParseError):
        pytest.skip("we refuse this text (EXPECTED_LOSSES)")
    diff = _upstream_diff(case_id)
    if diff is None:
        return  # upstream refuses the text (float16 literals, sparse tensors...): nothing to compare
    if case_id in UPSTREAM_MISREADS:
        assert diff and all("\\x" in d or d.endswith("string values differ") for d in diff), diff
        return
    assert diff == [], case_id


def test_upstream_comparison_covers_the_corpus() -> None:
    """Upstream reads almost all of the corpus text, so test_corpus_matches_upstream compares
    nearly everything; it refuses decoded float16 / float8 literals, sparse tensor literals
    (and, before onnx 1.23, subnormal float literals)."""
    if corpus is None:
        pytest.skip("the corpus needs the onnx package")
    onnx_parser = pytest.importorskip("onnx.parser")
    refused = []
    for case_id in CASE_IDS:
        try:
            onnx_parser.parse_model(_roundtrip(case_id)[1])
        except Exception:
            refused.append(case_id)
    assert len(refused) < 30, refused


# --- upstream's grammar -------------------------------------------------------------------------

#: Texts in upstream's own grammar (forms our printer never writes): both parsers agree.
UPSTREAM_TEXTS = {
    "header keys in any order": '''
        <opset_import: ["" : 18, "com.ms" : 1], producer_version: "2.0", ir_version: 8,
         domain: "ai.example", model_version: 3, producer_name: "me", doc_string: "a model",
         metadata_props: ["a": "b", "c": "d"]>
        agraph (float[N, 128] X, float[128, 10] W, float[10] B) => (float[N, 10] C) {
            T = MatMul(X, W)
            C = Add(T, B)
        }''',
    "types": '''
        g (float x, float[] y, float[?, 3] z, float["N", M] w, seq(float[2]) s, map(int64, seq(float)) m,
           optional(float[1]) o, sparse_tensor(float[4, 4]) sp, int4[2] i4, bfloat16 bf) => (float q) {
            q = Identity (x)
        }''',
    "opaque types (onnx >= 1.23)": '''
        g (opaque(com.ms, Handle) h, opaque(Blob) b, opaque() e) => (float q) { q = Identity (h) }''',
    "initializers, defaults and value_info": '''
        <ir_version: 9, opset_import: ["" : 19]>
        g (float[2] x, float[2] w = {1.0, 2.0}) => (float[2] y)
        <float[2] b = {0.5, -0.5}, int64[3] shape = {1, -2, 3}, float[2] t, string[2] s = {"a", "b\\"c"},
         double d = {2.5}, uint64[2] u = {18446744073709551615, 1}, bool[3] f = {1, 0, 1},
         complex64[1] c = {1.0, -2.0}, uint32[1] u32 = {4000000000}, int8[2] i8 = {-128, 127},
         float[6] lit = {1, 1., 1.5e3, -2E-2, Infinity, -NaN}, untyped, float scalar>
        {
            t = Add (x, w)
            y = Add (t, b)
        }''',
    "attributes with and without types": '''
        <ir_version: 9, opset_import: ["" : 19]>
        g (float[2] x) => (float[2] y) {
            a = Foo <i = 3, f = 2.5, f2 = -1e-3, s = "str", ints = [1, 2, -3], floats = [1.5, 2.0],
                     strs = ["a", "b"], fi: float = 3, ninf = -inf, nan_ = nan, inf_ = inf> (x)
            b = Bar <t = float[2] {1.0, 2.0}, t2 = int64[1] named_t {5}, t3: tensor = float one = {1},
                     tp = seq(float[N]), tp2: type_proto = float,
                     e: ints = [], e2: strings = [], fl: floats = []> (a)
            y = Baz (b) <late: int = 4>
        }''',
    "graph attributes": '''
        <ir_version: 9, opset_import: ["" : 19]>
        g (bool c, float[2] x) => (float[2] y) {
            y = If (c) <then_branch = then_g () => (float[2] tx) { tx = Identity (x) },
                         else_branch: graph = else_g () => (float[2] ex) { ex = Neg (x) }>
        }''',
    "domains, overloads, functions": '''
        <ir_version: 10, opset_import: ["" : 19, "com.ms.internal" : 1, "local" : 1]>
        g (float[2] x) => (float[2] y) {
            [named] a = com.ms.internal.Foo (x)
            b = local.Bar:over1 (a)
            y = local.Bar:over2 (b)
        }
        <domain: "local", overload: "over1", opset_import: ["" : 19]>
        Bar (x) => (y) { y = Identity (x) }
        <opset_import: ["" : 19], domain: "local", overload: "over2", doc_string: "second">
        Bar <alpha: float = 1.5, beta> (float[N] x) => (y) { y = Relu (x) }''',
    "function without opset_import, typed inputs and outputs": '''
        <ir_version: 10, opset_import: ["" : 19, "local" : 1]>
        g (float[2] x) => (float[2] y) { y = local.F <k = 2> (x) }
        <domain: "local">
        F <k, m: int = 3> (float[N] x, int64 n) => (float[N] y, z) <float[N] tmp> {
            tmp = Identity (x)
            y = Identity (tmp)
            z = Constant <value_int: int = @k> ()
        }''',
    "empty names in input and output lists": '''
        <ir_version: 10, opset_import: ["" : 19]>
        g (float[2] x) => (float[2] y) {
            a = Foo (, x)
            b = Foo (x, , a)
            c, , d = Foo ("", x,)
            e = Foo (,)
            y = Foo ()
        }''',
    "quoted names": '''
        <ir_version: 10, opset_import: ["" : 19]>
        "my graph" (float[2] "x.0") => (float[2] "y/1") {
            ["node 1"] "y/1" = Identity ("x.0")
        }''',
    "comments everywhere": '''
        # leading comment
        <ir_version: 10, # here too
         opset_import: ["" : 19]>
        g (float[2] x) # after inputs
          => (float[2] y) {
            # a comment before a node
            y = Identity (x) # trailing
        } # end''',
    "external data": '''
        <ir_version: 10, opset_import: ["" : 19]>
        g (float[2] x) => (float[2] y)
        <float[2] w = ["location": "w.bin", "offset": "0", "length": "8"]>
        { y = Add (x, w) }''',
}


@pytest.mark.parametrize("name", list(UPSTREAM_TEXTS))
def test_upstream_grammar_parses_alike(name: str) -> None:
    onnx_parser = pytest.importorskip("onnx.parser")
    text = UPSTREAM_TEXTS[name]
    ours = parse_model(text)
    version = tuple(int(part) for part in pytest.importorskip("onnx").__version__.split(".")[:2])
    if "onnx >= 1.23" in name and version < (1, 23):
        pytest.skip("the parser of this onnx does not read opaque types")
    assert semantic_diff(ours.proto, as_lite(onnx_parser.parse_model(text))) == []
    if name != "external data":  # printing it reads the (missing) data file
        printed = format_model(ours, full=True)
        assert format_model(parse_model(printed), full=True) == printed


# --- where upstream loses data (pinned with the loss) --------------------------------------------


def _attr(model: onnxlite.Model, name: str) -> Any:
    return next(a for a in model.proto.graph.node[0].attribute if a.name == name)


def test_lists_of_graphs_tensors_types_keep_their_values() -> None:
    onnx_parser = pytest.importorskip("onnx.parser")
    text = '''<ir_version: 10, opset_import: ["" : 21]>
    g (float[1] x) => (float[1] y) {
       y = Foo <gs: graphs = [a () => (float[1] o) { o = Neg (x) }, b () => (float[1] o) { o = Abs (x) }],
                ts: tensors = [float[1] {1.5}, int64[2] {3, 4}],
                tps: type_protos = [float[N], seq(int64)]> (x)
    }'''
    upstream = onnx_parser.parse_model(text).graph.node[0].attribute
    assert [len(upstream[0].graphs), len(upstream[1].tensors), len(upstream[2].type_protos)] == [0, 0, 0]
    ours = parse_model(text)
    gs, ts, tps = (_attr(ours, n) for n in ("gs", "ts", "tps"))
    assert [(g.name, g.node[0].op_type) for g in gs.graphs] == [("a", "Neg"), ("b", "Abs")]
    assert [onnxlite.Tensor(t).numpy().tolist() for t in ts.tensors] == [[1.5], [3, 4]]
    assert [str(onnxlite.Type(t)) for t in tps.type_protos] == ["float[N]", "sequence(int64[])"]


def test_int4_values_are_unpacked_values() -> None:
    onnx_parser = pytest.importorskip("onnx.parser")
    onnx_numpy = pytest.importorskip("onnx.numpy_helper")
    text = 'g () => (int4[3] y) <int4[3] w = {1, -1, 7}, uint4[3] u = {1, 15, 8}> { y = Identity (w) }'
    upstream = onnx_parser.parse_model(text).graph.initializer
    # upstream stores each value as one int32_data entry, where onnx.proto wants one packed byte
    # per two values: onnx then reads other values back
    assert list(upstream[0].int32_data) == [1, -1, 7]
    assert onnx_numpy.to_array(upstream[0]).astype(int).tolist() == [1, 0, -1]
    assert onnx_numpy.to_array(upstream[1]).astype(int).tolist() == [1, 0, 15]
    ours = parse_model(text).graph.initializers
    assert ours["w"].numpy().astype(int).tolist() == [1, -1, 7]
    assert ours["u"].numpy().astype(int).tolist() == [1, 15, 8]
    assert ours["w"].raw_bytes() == b"\xf1\x07"


def test_float16_and_bfloat16_literals_are_values() -> None:
    onnx_parser = pytest.importorskip("onnx.parser")
    onnx_numpy = pytest.importorskip("onnx.numpy_helper")
    with pytest.raises(Exception, match="Integer value expected"):  # upstream refuses float literals
        onnx_parser.parse_model("g () => (float16[2] y) <float16[2] w = {1.5, -2.0}> { y = Identity (w) }")
    # and reads an integer as a bit pattern: 15360 is the code of 1.0
    upstream = onnx_parser.parse_model("g () => (float16[1] y) <float16[1] w = {15360}> { y = Identity (w) }")
    assert onnx_numpy.to_array(upstream.graph.initializer[0]).tolist() == [1.0]
    ours = parse_model("g () => (float16[3] y) <float16[3] w = {1.5, -2.0, 15360}, "
                       "bfloat16[2] b = {0.1, -inf}, float8e4m3fn[2] f = {0.3, -448}> { y = Identity (w) }")
    init = ours.graph.initializers
    assert init["w"].numpy().tolist() == [1.5, -2.0, 15360.0]
    assert init["b"].numpy().astype(np.float64).tolist() == [0.10009765625, -math.inf]
    assert init["f"].numpy().astype(np.float64).tolist() == [0.3125, -448.0]  # rounded to the type


def test_strings_that_are_not_utf8() -> None:
    onnx_parser = pytest.importorskip("onnx.parser")
    text = r'g () => (string[2] y) <string[2] s = {"\xff\xfe", "caf\u00e9\n"}> { y = Identity (s) }'
    upstream = onnx_parser.parse_model(text).graph.initializer[0]
    assert list(upstream.string_data) == [b"xffxfe", b"cafu00e9n"]  # escapes read as the letters
    ours = parse_model(text)
    assert ours.graph.initializers["s"].numpy().tolist() == [b"\xff\xfe", "café\n".encode()]
    # names and string fields too, through the wire format
    model = parse_model(r'<producer_name: "p\x80"> "g\xc3(" () => () '
                        r'{ ["n\xff"] y = Foo <s: string = "\x00"> () }')
    assert model.proto.producer_name == b"p\x80" and model.proto.graph.name == b"g\xc3("
    assert model.proto.graph.node[0].name == b"n\xff" and model.proto.graph.node[0].attribute[0].s == b"\x00"
    assert onnxlite.loads(onnxlite.dumps(model)).proto.graph.node[0].name == b"n\xff"


def test_sparse_tensors() -> None:
    onnx_parser = pytest.importorskip("onnx.parser")
    text = '''g () => (float[3,3] y) {
       y = Constant <sparse_value: sparse_tensor = sparse_tensor(float[3,3]) {values = float[2] v {1.5, 2.5},
                     indices = int64[2,2] idx {0, 0, 2, 1}}> ()
    }'''
    with pytest.raises(Exception, match="expected a tensor type"):
        onnx_parser.parse_model(text)
    sparse = onnxlite.SparseTensor(parse_model(text).proto.graph.node[0].attribute[0].sparse_tensor)
    assert sparse.numpy().tolist() == [[1.5, 0, 0], [0, 0, 0], [0, 2.5, 0]]
    assert sparse.name == "v" and sparse.proto.indices.name == "idx"
    # an untyped attribute value is recognized as a sparse tensor too
    untyped = parse_model(text.replace("sparse_value: sparse_tensor =", "sparse_value ="))
    assert untyped.proto.graph.node[0].attribute[0].type == 11


# --- syntax features ----------------------------------------------------------------------------


def _one_tensor(literal: str) -> np.ndarray:
    return parse_model(f"g () => () <{literal}> {{}}").graph.initializers.values()[0].numpy()


def test_literals_of_every_kind() -> None:
    assert _one_tensor("float[4] x = {nan, -nan, inf, -inf}").view(np.uint32).tolist() == [
        0x7FC00000, 0xFFC00000, 0x7F800000, 0xFF800000]
    assert _one_tensor("float[2] x = {1e-45, -0.0}").view(np.uint32).tolist() == [1, 0x80000000]
    assert _one_tensor("double x = {0.1}").tolist() == 0.1
    assert _one_tensor("complex64[2] x = {1.0, -2.0, nan, 0.5}").tolist()[0] == complex(1, -2)
    assert _one_tensor("complex128 x = {0.25, 4}").tolist() == complex(0.25, 4)
    assert _one_tensor("bool[3] x = {1, 0, 2}").view(np.uint8).tolist() == [1, 0, 2]  # a byte kept as is
    assert _one_tensor("uint64[1] x = {18446744073709551615}").tolist() == [2**64 - 1]
    assert _one_tensor("int2[5] x = {-2, -1, 0, 1, -2}").astype(int).tolist() == [-2, -1, 0, 1, -2]
    assert _one_tensor("uint2[2] x = {3, 2}").astype(int).tolist() == [3, 2]
    assert _one_tensor("float4e2m1[3] x = {6, -0.5, 1.7}").astype(float).tolist() == [6.0, -0.5, 1.5]
    assert _one_tensor("float6e2m3[2] x = {7.5, 0.125}").astype(float).tolist() == [7.5, 0.125]
    assert _one_tensor("float8e8m0[2] x = {1, 1024}").astype(float).tolist() == [1.0, 1024.0]
    assert _one_tensor("float[2,0] x = {}").shape == (2, 0)
    assert _one_tensor('string[2] x = {"tab\there", "quote\\"back\\\\slash"}').tolist() == [
        b"tab\there", b'quote"back\\slash']
    assert _one_tensor(r'string x = {"\u00e9\U0001F600\r\q"}').tolist() == "é😀\rq".encode()
    tensor = parse_model("g () => () <float[2] x = {1, 2}> {}").graph.initializers["x"]
    assert tensor.location == "raw" and tensor.raw_bytes() == struct.pack("<2f", 1, 2)


def test_types_and_shapes() -> None:
    model = parse_model('''g (float[N, "batch size", ?, 3] a, float b, float[] c, seq(optional(map(int64,
        sparse_tensor(float16[2])))) d, opaque(ai.x, Y) e, undefined[2] f, undefined17 g2, undefined)
        => () {}''')
    a, b, c, d, e, f, g2, h = model.graph.inputs
    assert a.shape == ("N", "batch size", None, 3) and b.shape == () and c.shape is None
    assert str(d.type) == "sequence(optional(map(int64, sparse_tensor(float16[2]))))"
    assert e.type.opaque == ("ai.x", "Y")
    assert f.type.proto.tensor_type.elem_type == 0 and list(f.type.proto.tensor_type.shape.dim)
    assert g2.type.proto.tensor_type.elem_type == 17
    assert h.name == "undefined" and h.type is None  # "undefined" alone is a name


def test_attribute_references_and_function_defaults() -> None:
    fn = parse_function('''<domain: "local", opset_import: ["" : 21]>
        Scale <alpha, beta: float = 0.5, gamma: ints = [1, 2]> (X) => (Y) {
           c = Constant <value_float: float = @alpha> ()
           d = Constant <value_floats = @gamma> ()
           Y = Mul (X, c)
        }''')
    assert fn.proto.attribute == ["alpha"]
    assert [(a.name, a.type) for a in fn.proto.attribute_proto] == [("beta", 1), ("gamma", 7)]
    refs = [(a.name, a.type, a.ref_attr_name) for n in fn.proto.node for a in n.attribute]
    assert refs == [("value_float", 1, "alpha"), ("value_floats", 0, "gamma")]
    assert fn.proto.opset_import[0].version == 21


def test_external_data_note_keeps_the_reference(tmp_path: Path) -> None:
    (tmp_path / "w.bin").write_bytes(b"\0" * 4 + struct.pack("<2f", 1.5, -2))
    text = '''g () => (float[2] y)
<
   float[2] w = {1.5, -2.0},  # external "w.bin", offset 4, length 8, checksum "abc"; doc_string: "weights"
   float[1] v = {3.0}  # external "w.bin", offset 0
>
{
   y = Identity (w)
}'''
    model = parse_model(text, base_dir=tmp_path)
    w = model.graph.initializers["w"]
    assert w.proto.data_location == 1 and not w.proto.HasField("raw_data")
    assert w.external_data == {"location": "w.bin", "offset": "4", "length": "8", "checksum": "abc"}
    assert w.doc_string == "weights"
    assert w.numpy().tolist() == [1.5, -2.0]
    assert text.split("\n")[2] in format_model(model, full=True).split("\n")
    with pytest.raises(ParseError, match=r"^3:17: initializer 'w': 1 values for shape \[2\], expected 2"):
        parse_model(text.replace("{1.5, -2.0}", "{1.5}"))


def test_notes_come_back() -> None:
    text = '''<ir_version: 10, opset_import: ["" : 21]>
# configuration[0]: name "pair", num_devices 2, device ["cuda:0", "cuda:1"]
g (float[N] x) => (float[N] y)
<
   float[N] t
>
{
   # graph doc_string: "the graph"
   # input x: doc_string: "in\\n2 lines"
   # input x: denotation "TENSOR"
   # input x: dim 0 denotation "DATA_BATCH"
   # value_info t: metadata_props: ["k": "v"]
   # sparse_initializer: sparse_tensor(float[4]) {values = float[1] s {1.0}, indices = int64[1] {3}}  #SPARSE
   # quantization_annotation t: ["SCALE_TENSOR": "s"]
   # doc_string: "node doc"
   # device_configuration "pair": pipeline_stage 1; sharding "x" device [0, 1] #SHARDING
   # attribute value doc_string: "attr doc"
   # value: metadata_props: ["m": "n"]
   t = Constant <value: tensor = float[1] {2.0}> ()
   y = Mul (x, t)
}
# training_info[0]:
#    algorithm: step () => (float[N] t2) {
#       # doc_string: "inside"
#       t2 = Neg (t)
#    }
#    update_binding: ["t": "t2"]
'''
    text = text.replace("#SPARSE", '# values: doc_string: "sparse"')
    text = text.replace("#SHARDING", 'groups {0: [0, 1]} sharded {axis 0: ["N" / 2, ? / 1]}')
    m = parse_model(text).proto
    g = m.graph
    assert (m.configuration[0].name, list(m.configuration[0].device)) == ("pair", ["cuda:0", "cuda:1"])
    assert g.doc_string == "the graph" and g.input[0].doc_string == "in\n2 lines"
    assert g.input[0].type.denotation == "TENSOR"
    assert g.input[0].type.tensor_type.shape.dim[0].denotation == "DATA_BATCH"
    assert g.value_info[0].metadata_props[0].value == "v"
    assert g.sparse_initializer[0].values.doc_string == "sparse" and list(g.sparse_initializer[0].dims) == [4]
    assert g.quantization_annotation[0].tensor_name == "t"
    node = g.node[0]
    assert node.doc_string == "node doc" and node.attribute[0].doc_string == "attr doc"
    assert node.attribute[0].t.metadata_props[0].key == "m"
    config = node.device_configurations[0]
    assert (config.configuration_id, config.pipeline_stage) == ("pair", 1)
    spec = config.sharding_spec[0]
    assert list(spec.device) == [0, 1] and list(spec.index_to_device_group_map[0].value) == [0, 1]
    sharding = spec.sharded_dim[0].simple_sharding
    assert (sharding[0].dim_param, sharding[0].num_shards, sharding[1].WhichOneof("dim")) == ("N", 2, None)
    info = m.training_info[0]
    assert info.algorithm.node[0].doc_string == "inside" and info.update_binding[0].value == "t2"
    assert format_model(parse_model(format_model(onnxlite.Model(m), full=True)), full=True) == \
        format_model(onnxlite.Model(m), full=True)


def test_plain_comments_are_skipped_and_clipped_notes_refused() -> None:
    text = '''g (float x) => (float y) {
   # doc_string: TODO
   # value: fix this
   # input x is odd
   y = Neg (x)  # a remark
}'''
    assert parse_model(text).proto.graph.node[0].doc_string == ""
    clipped = text.replace("TODO", '"Traceback (most recent call last)..." (2417 chars)')
    with pytest.raises(ParseError, match=r"^2:57: the node doc string is clipped \(a dump without full=True"):
        parse_model(clipped)
    clipped = text.replace("# value: fix this", '# metadata_props: ["k": "abc..." (95 chars)]')
    with pytest.raises(ParseError, match=r"^3:37: a value of the node metadata_props is clipped"):
        parse_model(clipped)


def test_upstream_escape_rule_and_ours() -> None:
    """A backslash before a character that is no escape of ours stands for that character, as
    upstream reads it; \\n, \\t, \\r, \\x, \\u, \\U are escapes (upstream reads their letters)."""
    attr = parse_node(r'y = Op <s: string = "\a\"\\\n\x41\u0042\U00000043\U0011FFFF"> ()').attr("s")
    assert attr == 'a"\\\nABC\\U0011FFFF'.replace("\\U", "U")


def test_graph_node_and_function_pairs() -> None:
    model = onnxlite.load(Path(__file__).parent / "fixtures" / "structure" / "subgraphs.onnx")
    text = format_graph(model.graph, full=True)
    graph = parse_graph(text)
    assert format_graph(graph, full=True) == text
    node = parse_node('# doc_string: "d"\n["n 1"] a, "" = dom.Op:ov <k: int = 1> (x, "")')
    assert (node.name, node.outputs, node.domain) == ("n 1", ("a", ""), "dom")
    assert (node.op_type, node.overload) == ("Op", "ov")
    assert node.inputs == ("x", "") and node.doc_string == "d" and node.attr("k") == 1
    with pytest.raises(ParseError, match="^1:12: expected end of input after the node, got 'z'"):
        parse_node("y = Op (x) z")


def test_parsed_model_saves_and_loads(tmp_path: Path) -> None:
    model = parse_model(_SAMPLE)
    onnxlite.save(model, tmp_path / "m.onnx")
    again = onnxlite.load(tmp_path / "m.onnx")
    assert semantic_diff(model.proto, again.proto) == []
    assert again.graph.initializers["w"].numpy().tolist() == [1.0, 2.0]


# --- errors ---------------------------------------------------------------------------------------

ERRORS = {
    "g () => () {\n  y = Op (a, b = c)\n}": "2:16: expected ')' after the node inputs, got '='",
    "g () => () {\n  y = Op (a)": "2:13: expected '}' to close the graph body, got end of input",
    "g (float[2] x => () {}": "1:15: expected ',' or ')' after a graph input, got '=>'",
    "g () => () <float[2] w = {1, 2, 3}> {}": "1:26: initializer 'w': 3 values for shape [2], expected 2",
    "g () => () <int8 w = {1.5}> {}": "1:23: initializer 'w': expected an integer, got '1.5'",
    "g () => () <float w = {x}> {}": "1:24: initializer 'w': expected a number, got 'x'",
    "g () => () <float[N] w = {1}> {}": "1:13: initializer 'w' needs dimensions that are numbers >= 0",
    "g () => () { y = Op <a: ints = [1, x]> () }": "1:36: expected an integer for attribute 'a', got 'x'",
    "g () => () { y = Op <a: blob = 1> () }": "1:25: expected an attribute type (int, float, string, tensor, "
                                             "graph, ints...), got 'blob'",
    "g () => () { y = Op <a = []> () }": "1:22: the empty list of attribute 'a' needs a type "
                                         "(e.g. ''a': ints = []')",
    '<ir_version: 1, color: "red"> g () => () {}': "1:17: expected a model header key (ir_version, "
        "opset_import, producer_name, producer_version, domain, model_version, doc_string, metadata_props), "
        "got 'color'",
    'g () => () { y = Op <s: string = "abc> () }': "1:34: expected a string for attribute 's', got an "
                                                   "unterminated string",
    'g () => () {}\n<domain: "d"> h {}': "2:17: expected '(' to start the function inputs, got '{'",
}


@pytest.mark.parametrize("text", list(ERRORS))
def test_error_messages(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_model(text)
    assert str(info.value) == ERRORS[text]
    line, column = map(int, ERRORS[text].split(":")[:2])
    assert (info.value.line, info.value.column) == (line, column)


def test_errors_inside_notes_and_training_blocks_point_into_the_comment() -> None:
    text = ('g () => () {\n   # doc_string: "a" "b"\n   y = Op ()\n}\n'
            '# training_info[0]:\n#    algorithm: a () => (\n')
    with pytest.raises(ParseError, match=r"^2:22: unexpected '\"b\"' after the node doc string"):
        parse_model(text)
    with pytest.raises(ParseError, match=r"^6:26: expected a graph output name, got end of input"):
        parse_model(text.replace('"a" "b"', '"a"'))


# --- hostile text -------------------------------------------------------------------------------


def test_deep_nesting_is_refused_without_recursion() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # the parser must not need Python's stack for nesting
    try:
        deep_types = "g (" + "seq(" * 50_000 + "float" + ")" * 50_000 + " x) => () {}"
        with pytest.raises(ParseError, match="nesting deeper than 100 protobuf message levels"):
            parse_model(deep_types)
        nested = "g () => () {\n" + "y = If <b: graph = g () => () {\n" * 2000 + "}>()\n" * 2000 + "}"
        with pytest.raises(ParseError, match="^33:[0-9]+: nesting deeper than 100"):
            parse_model(nested)
        ok = "g () => () {\n" + "y = If <b: graph = g () => () {\n" * 30 + "}>()\n" * 30 + "}"
        assert len(parse_model(ok).graph.nodes) == 1
    finally:
        sys.setrecursionlimit(limit)


def test_huge_declared_shapes_allocate_nothing() -> None:
    for shape in ("1000000000000", "4611686018427387904,4611686018427387904", "9223372036854775807,0"):
        with pytest.raises(ParseError, match="values for shape"):
            parse_model(f"g () => () <float[{shape}] x = {{1}}> {{}}")
    empty = parse_model("g () => () <float[9223372036854775807,0] x = {}> {}")
    assert empty.graph.initializers["x"].size == 0


_TOKENS = ["g", "x", "(", ")", "=>", "{", "}", "<", ">", "[", "]", ",", ":", "=", "@", ".", "?", "float",
           "int64", "seq", "map", "tensor", "graph", "ints", '"s"', '"\\x80"', "1", "-1", "1.5", "nan",
           "-inf", "#", "\n", "# doc_string:", '# input x: doc_string: "d"', "{1, 2}", "sparse_tensor", "...",
           "\\"]


def _assert_parse_error_or_model(text: str) -> None:
    try:
        parse_model(text)
    except ParseError as e:
        assert str(e).startswith(f"{e.line}:{e.column}: ") and "\n" not in str(e)


def test_fuzz_random_tokens() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(st.lists(st.sampled_from(_TOKENS), max_size=60), st.text(max_size=20))
    def check(tokens: list[str], noise: str) -> None:
        _assert_parse_error_or_model(" ".join(tokens) + noise)

    check()


def test_fuzz_mutated_dumps() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    fixtures = Path(__file__).parent / "fixtures" / "structure"
    texts = [format_model(onnxlite.load(fixtures / f"{name}.onnx"), full=True)
             for name in ("attributes", "metadata", "types", "functions", "training_info", "sparse")]

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(st.sampled_from(texts), st.integers(0, 10**9), st.integers(0, 40),
                      st.sampled_from(["", "(", "}", ",", "=", '"', "#", "\n", "[", "0", "-", "\\", "@"]))
    def check(text: str, where: int, cut: int, insert: str) -> None:
        k = where % len(text)
        _assert_parse_error_or_model(text[:k] + insert + text[k + cut:])

    check()


# --- hand-built edge cases -----------------------------------------------------------------------


def _edge_model() -> onnxlite.Model:
    """What the corpus does not hold, built message by message."""
    m = _proto.ModelProto(ir_version=11, producer_name="")
    m.opset_import.add(domain="", version=21)
    m.opset_import.add(domain="com.ex-ample", version=1)
    g = m.graph
    g.name = ""
    for name, doc in (("a b", "first"), ("a b", "second")):  # duplicate names pair up in order
        vi = g.input.add(name=name, doc_string=doc)
        vi.type.tensor_type.elem_type = 1
    weird = ["float", "", 'q"uo\\te', "tab\there", "é"]
    out = g.output.add(name="y")
    seq = out.type.sequence_type.elem_type
    out.type.denotation = "OUTER"
    seq.denotation = "INNER"
    seq.tensor_type.elem_type = 10
    seq.tensor_type.shape.dim.add(dim_param="N", denotation="BATCH")
    g.value_info.add(name="empty_seq").type.sequence_type.elem_type.SetInParent()
    opaque = g.value_info.add(name="opaque").type.opaque_type
    opaque.domain = "only.domain"
    t = g.initializer.add(name="payload", data_type=1, dims=[3], doc_string="typed floats")
    t.float_data.extend([1.0, -0.0, 3.5])
    nan = g.initializer.add(name="nan_payload", data_type=1, dims=[2])
    nan.raw_data = struct.pack("<2I", 0x7FC00001, 0xFFC00000)  # a payload the text cannot keep
    n = g.node.add(op_type="Op", domain="com.ex-ample", overload="v-2", name="")
    n.input.extend(weird)
    n.output.extend(["y"])
    untyped = n.attribute.add(name="old_int", i=7)  # type left unset, as old files do
    assert untyped.type == 0
    n.attribute.add(name="text", type=3, s=b"line\nbreak\r\t\"q\" \\ \x00 end")
    ts = n.attribute.add(name="ts", type=9)
    ts.tensors.add(data_type=7, dims=[1], int64_data=[5])
    second = ts.tensors.add(name="named", data_type=11, dims=[1], double_data=[0.1], doc_string="t doc")
    second.metadata_props.add(key="k", value="v")
    sps = n.attribute.add(name="sps", type=12)
    for k in range(2):
        sp = sps.sparse_tensors.add(dims=[4])
        sp.values.CopyFrom(_proto.TensorProto(name=f"v{k}", data_type=1, dims=[1], float_data=[2.0]))
        sp.indices.CopyFrom(_proto.TensorProto(data_type=7, dims=[1], int64_data=[k]))
    sps.sparse_tensors[1].values.doc_string = "second values"
    tps = n.attribute.add(name="tps", type=14)
    tps.type_protos.add().sequence_type.elem_type.SetInParent()
    n.attribute.add(name="ref", ref_attr_name="outer")  # a reference without a type
    f = m.functions.add(name="F", domain="com.ex-ample")
    f.input.append("x")
    f.output.append("x2")
    f.attribute_proto.add(name="w", type=4).t.CopyFrom(
        _proto.TensorProto(data_type=1, dims=[1], float_data=[1.0], doc_string="default w"))
    f.node.add(op_type="Identity", input=["x"], output=["x2"], doc_string="fn node")
    return onnxlite.Model(m)


def test_edge_cases_round_trip() -> None:
    model = _edge_model()
    text = format_model(model, full=True)
    parsed = parse_model(text)
    diff = semantic_diff(model.proto, parsed.proto)
    assert diff == [], text
    # the NaN payload is flagged in the text, and comes back as the quiet NaN of its sign
    flag = ",  # 1 NaN payload(s) print as nan\n"
    assert flag in text
    assert format_model(parsed, full=True) == text.replace(flag, ",\n")
    assert parsed.graph.initializers["nan_payload"].raw_bytes() == struct.pack("<2I", 0x7FC00000, 0xFFC00000)
    assert parsed.proto.graph.node[0].HasField("name") and parsed.proto.graph.node[0].name == ""


def test_inner_denotation_alone_is_ambiguous() -> None:
    """The printer writes one ``denotation`` note per type level that has one, without saying
    which level: alone, an inner level's denotation comes back on the outer level."""
    model = _edge_model()
    model.proto.graph.output[0].type.ClearField("denotation")
    parsed = parse_model(format_model(model, full=True))
    out = parsed.proto.graph.output[0].type
    assert (out.denotation, out.sequence_type.elem_type.denotation) == ("INNER", "")


def test_module_doctests_and_bytes_input() -> None:
    import doctest

    import onnxlite.parser._parser

    assert doctest.testmod(onnxlite.parser._parser).failed == 0
    assert parse_model(_SAMPLE.encode()).proto.graph.node[0].doc_string == "first"


# --- speed ----------------------------------------------------------------------------------------


def _chain_model(count: int) -> onnxlite.Model:
    """A chain of ``count`` nodes with realistic names and a few attributes (as tools/bench_io)."""
    model = _proto.ModelProto(ir_version=10)
    model.opset_import.add(domain="", version=21)
    g = model.graph
    g.name = "chain"
    for name in ("input", "output"):
        vi = (g.input if name == "input" else g.output).add(name=name)
        vi.type.tensor_type.elem_type = 1
        vi.type.tensor_type.shape.dim.add(dim_param="batch")
        vi.type.tensor_type.shape.dim.add(dim_value=64)
    ops = [("Mul", None), ("Add", None), ("Sigmoid", None), ("LeakyRelu", ("alpha", 1, 0.01)),
           ("Softmax", ("axis", 2, -1)), ("Transpose", ("perm", 7, [0, 1])), ("Relu", None)]
    prev = "input"
    for k in range(count):
        op, attr = ops[k % len(ops)]
        name = f"/model/layers.{k // 14}/{op}_{k}"
        out = "output" if k == count - 1 else f"{name}_output_0"
        node = g.node.add(name=name, op_type=op, input=[prev], output=[out])
        if attr is not None:
            a = node.attribute.add(name=attr[0], type=attr[1])
            if attr[1] == 7:
                a.ints.extend(attr[2])
            elif attr[1] == 2:
                a.i = attr[2]
            else:
                a.f = attr[2]
        prev = out
    return onnxlite.Model(model)


def test_a_100k_node_dump_parses_back() -> None:
    """Scale, not speed (timed against onnx.parser in tools/bench_storage.py): deep chains do
    not hit a recursion limit and every node comes back."""
    text = format_model(_chain_model(100_000), full=True)
    model = parse_model(text)
    assert len(model.graph.proto.node) == 100_000
    assert model.graph.proto.node[-1].output[0] == "output"
