"""Rules of the tensor family (reductions, Split/Pad, indexing and selection, sequences and
optionals, same-shape ops, the opset-27 stateful ops), each case written from the operator spec and
checked against a runtime: onnxruntime, or onnx's reference evaluator for ops onnxruntime does not
run yet. The model runs on random inputs of concrete sizes; the types inferred without those sizes,
evaluated with them, must equal the real output shapes and element types. Every dim must be known
except those the case lists as data-dependent, which must be fresh symbols (``unk_K``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnx.reference
import onnxruntime as ort
import pytest
from corpus import needs_onnx

import onnxlite
from onnxlite import infer
from onnxlite.dtypes import DataType


class Case:
    def __init__(self, opset: int, text: str, sizes: dict[str, int], oracle: str = "ort",
                 free: dict[str, tuple[int, ...]] | None = None, ints: tuple[int, int] = (0, 2)) -> None:
        self.opset, self.text, self.sizes, self.oracle = opset, text, sizes, oracle
        self.free = free or {}  # output -> axes whose size depends on the data
        self.ints = ints  # range of random integer inputs


CASES: dict[str, Case] = {
    "reduce_axes_attribute": Case(11, """
g (float[N, C, H] x) => (s, m, mx, p, l1) {
  s = ReduceSum<axes = [1]>(x)
  m = ReduceMean(x)
  mx = ReduceMax<axes = [-1, 0], keepdims = 0>(x)
  p = ReduceProd<axes = [2], keepdims = 0>(x)
  l1 = ReduceL1<axes = [0, 2]>(x)
}""", {"N": 2, "C": 3, "H": 4}),
    "reduce_sum_axes_input_13": Case(13, """
g (float[N, C, H] x) => (s, k, all, noop) {
  a = Constant<value = int64[1] {-2}>()
  s = ReduceSum<keepdims = 0>(x, a)
  k = ReduceSum(x, a)
  all = ReduceSum<keepdims = 0>(x)
  noop = ReduceSum<noop_with_empty_axes = 1>(x)
}""", {"N": 2, "C": 3, "H": 4}),
    "reduce_axes_input_18": Case(18, """
g (float[N, C, H] x) => (l2, lse, ss, ls, mn, e, noop) {
  a = Constant<value = int64[2] {0, 2}>()
  l2 = ReduceL2<keepdims = 0>(x, a)
  lse = ReduceLogSumExp(x, a)
  ss = ReduceSumSquare<keepdims = 0>(x)
  ls = ReduceLogSum<keepdims = 1>(x)
  mn = ReduceMin<keepdims = 0>(x, a)
  empty = Constant<value = int64[0] {}>()
  e = ReduceMean<keepdims = 0>(x, empty)
  noop = ReduceMax<noop_with_empty_axes = 1>(x, empty)
}""", {"N": 2, "C": 3, "H": 4}),
    "reduce_prod_of_shape_reshapes": Case(18, """
g (float[N, C, H] x) => (y) {
  sh = Shape(x)
  n = ReduceProd(sh)
  y = Reshape(x, n)
}""", {"N": 2, "C": 3, "H": 4}),
    "reduce_max_min_sum_of_shapes": Case(18, """
g (float[N, C] x, float[M, C] z) => (y) {
  a = Shape(x)
  b = Shape(z)
  both = Concat<axis = 0>(a, b)
  two_by_two = Constant<value = int64[2] {2, 2}>()
  r = Reshape(both, two_by_two)
  zero = Constant<value = int64[1] {0}>()
  mx = ReduceMax<keepdims = 0>(r, zero)
  y = ConstantOfShape(mx)
}""", {"N": 2, "M": 5, "C": 3}),
    "argmax_argmin": Case(13, """
g (float[N, C, H] x) => (a, b, c) {
  a = ArgMax<axis = 1>(x)
  b = ArgMin<axis = -1, keepdims = 0, select_last_index = 1>(x)
  c = ArgMax(x)
}""", {"N": 2, "C": 3, "H": 4}),
    "split_attribute_11": Case(11, """
g (float[N, 6] x) => (a, b, c, d, e) {
  a, b = Split<axis = 1, split = [2, 4]>(x)
  c, d, e = Split<axis = -1>(x)
}""", {"N": 2}),
    "split_input_13_and_equal_symbolic": Case(13, """
g (float[N, 6] x, float[C, 3] y) => (a, b, p, q) {
  s = Constant<value = int64[2] {1, 5}>()
  a, b = Split<axis = 1>(x, s)
  p, q = Split<axis = 0>(y)
}""", {"N": 2, "C": 4}),
    "split_num_outputs_18": Case(18, """
g (float[N, 7] x, float[C] y) => (a, b, c, d, p, q, r) {
  a, b, c, d = Split<axis = 1, num_outputs = 4>(x)
  p, q, r = Split<num_outputs = 3>(y)
}""", {"N": 2, "C": 5}),
    "split_unknown_sizes": Case(18, """
g (float[N, 6] x, int64[2] s, float[N, 0] z) => (a, b, z1, z2) {
  a, b = Split<axis = 1>(x, s)
  zs = Constant<value = int64[2] {0, 0}>()
  z1, z2 = Split<axis = 1>(z, zs)
}""", {"N": 2}, free={"a": (1,), "b": (1,)}, ints=(3, 4)),
    "split_of_tracked_vectors": Case(13, """
g (float[N, C, H, W] x) => (y, z) {
  sh = Shape(x)
  nc, hw = Split<axis = 0>(sh)
  t = Concat<axis = 0>(hw, nc)
  y = Reshape(x, t)
  p = Constant<value = int64[8] {0, 0, 1, 0, 0, 2, 0, 1}>()
  p0, p1, p2, p3, p4, p5, p6, p7 = Split(p)
  q = Concat<axis = 0>(p0, p3, p1, p2, p4, p7, p5, p6)
  s = Constant<value = int64[2] {3, 5}>()
  r0, r1 = Split(q, s)
  z = Pad(x, q)
}""", {"N": 2, "C": 3, "H": 4, "W": 5}),
    "pad_attribute_2": Case(2, """
g (float[N, C] x) => (y) {
  y = Pad<pads = [0, 1, 2, 3], mode = "constant">(x)
}""", {"N": 2, "C": 3}),
    "pad_input_11_from_shape": Case(13, """
g (float[N, C] x) => (y, r) {
  sh = Shape(x)
  p = Concat<axis = 0>(sh, sh)
  y = Pad(x, p)
  q = Constant<value = int64[4] {1, 1, 1, 0}>()
  r = Pad<mode = "reflect">(x, q)
}""", {"N": 2, "C": 3}),
    "pad_axes_18_negative": Case(18, """
g (float[N, C, H] x) => (y, w) {
  p = Constant<value = int64[4] {1, -1, 2, 0}>()
  ax = Constant<value = int64[2] {-1, 0}>()
  y = Pad(x, p, "", ax)
  w = Pad<mode = "edge">(x, p, "", ax)
}""", {"N": 2, "C": 3, "H": 4}),
    "pad_unknown_pads_keeps_rank": Case(18, """
g (float[N, C] x, int64[2] p) => (y) {
  ax = Constant<value = int64[1] {1}>()
  y = Pad(x, p, "", ax)
}""", {"N": 2, "C": 3}, free={"y": (1,)}),
    "gather_elements_nd_scatter": Case(13, """
g (float[N, C] x, int64[N, K] i, int64[N, 1] j, float[N, K] u) => (ge, nd, se, snd, sc) {
  ge = GatherElements<axis = 1>(x, i)
  nd = GatherND(x, j)
  se = ScatterElements<axis = 1>(x, i, u)
  snd_idx = Constant<value = int64[1, 1] {1}>()
  row = Constant<value = float[1, 3] {1, 2, 3}>()
  snd = ScatterND(x, snd_idx, row)
  sc = Identity(se)
}""", {"N": 2, "C": 3, "K": 2}),
    "gather_nd_batch_dims": Case(13, """
g (float[B, C, D] x, int64[B, K, 1] i, int64[B, 2] j) => (y, z) {
  y = GatherND<batch_dims = 1>(x, i)
  z = GatherND<batch_dims = 1>(x, j)
}""", {"B": 2, "C": 3, "D": 4, "K": 5}),
    "scatter_9": Case(9, """
g (float[N, C] x, int64[N, K] i, float[N, K] u) => (y) {
  y = Scatter<axis = 1>(x, i, u)
}""", {"N": 2, "C": 3, "K": 2}),
    "onehot_topk": Case(11, """
g (int64[N, K] i, float[N, C] x) => (h, v, ix, h0) {
  depth = Constant<value = int64 {5}>()
  vals = Constant<value = float[2] {0, 1}>()
  h = OneHot(i, depth, vals)
  h0 = OneHot<axis = 0>(i, depth, vals)
  k = Constant<value = int64[1] {2}>()
  v, ix = TopK<axis = 1, largest = 0>(x, k)
}""", {"N": 2, "K": 3, "C": 4}),
    "topk_from_shape_and_attribute": Case(9, """
g (float[N, C] x) => (v, ix) {
  v, ix = TopK<k = 2>(x)
}""", {"N": 2, "C": 4}),
    "topk_k_from_shape": Case(13, """
g (float[N, C] x, float[K] s) => (v, ix) {
  k = Shape(s)
  v, ix = TopK<axis = 1>(x, k)
}""", {"N": 2, "C": 4, "K": 3}),
    "nonzero_compress_unique_nms": Case(13, """
g (float[N, C] x, float[N, 3] w, float[B, S, 4] boxes, float[B, 1, S] scores)
  => (nz, c, c0, csym, u, ui, uinv, uc, sel) {
  nz = NonZero(x)
  cond = Constant<value = bool[3] {1, 0, 1}>()
  c = Compress<axis = 1>(w, cond)
  c0 = Compress(x, cond)
  csym = Compress<axis = 1>(x, cond)
  u, ui, uinv, uc = Unique(x)
  sel = NonMaxSuppression(boxes, scores)
}""", {"N": 2, "C": 3, "B": 1, "S": 3}, free={"nz": (1,), "c0": (0,), "csym": (1,), "u": (0,), "ui": (0,),
                                              "uc": (0,), "sel": (0,)}),
    "nonzero_of_a_known_value": Case(13, """
g (float[N] x) => (nz, y) {
  v = Constant<value = int64[2, 3] {0, 1, 2, 0, 0, 5}>()
  nz = NonZero(v)
  y = Identity(x)
}""", {"N": 2}),
    "unique_axis": Case(13, """
g (float[N, C] x, float[1] one) => (u, ui, uinv, uc, o) {
  u, ui, uinv, uc = Unique<axis = 1, sorted = 1>(x)
  o = Unique(one)
}""", {"N": 2, "C": 3}, free={"u": (1,), "ui": (0,), "uc": (0,)}),
    "cumsum_trilu_reverse_lpnorm": Case(14, """
g (float[N, C] x, int64[C] lens) => (cs, tr, rs, lp) {
  ax = Constant<value = int64 {1}>()
  cs = CumSum<exclusive = 1>(x, ax)
  tr = Trilu<upper = 0>(x)
  rs = ReverseSequence<batch_axis = 1, time_axis = 0>(x, lens)
  lp = LpNormalization<axis = -1, p = 1>(x)
}""", {"N": 3, "C": 2}, ints=(1, 2)),
    "sequences": Case(13, """
g (float[N, C] x, float[N, C] y) => (at, l, cat, stacked, after) {
  s = SequenceConstruct(x, y)
  i = Constant<value = int64 {1}>()
  at = SequenceAt(s, i)
  l = SequenceLength(s)
  cat = ConcatFromSequence<axis = 1>(s)
  stacked = ConcatFromSequence<axis = -1, new_axis = 1>(s)
  e = SequenceEmpty()
  one = SequenceInsert(e, x)
  er = SequenceErase(s)
  zero = Constant<value = int64 {0}>()
  after = SequenceAt(er, zero)
}""", {"N": 2, "C": 3}, free={"cat": (1,), "stacked": (2,)}),
    "split_to_sequence": Case(13, """
g (float[N, 6] x) => (a, b, c) {
  s1 = SplitToSequence<axis = 1, keepdims = 0>(x)
  zero = Constant<value = int64 {0}>()
  a = SequenceAt(s1, zero)
  two = Constant<value = int64 {2}>()
  s2 = SplitToSequence<axis = 1>(x, two)
  b = SequenceAt(s2, zero)
  sizes = Constant<value = int64[2] {3, 3}>()
  s3 = SplitToSequence<axis = 1>(x, sizes)
  c = SequenceAt(s3, zero)
}""", {"N": 2}),
    "sequence_map": Case(17, """
g (float[N, C] x, float[N, C] y, float[C] t) => (r) {
  s = SequenceConstruct(x, y)
  m = SequenceMap <body = body (float[N, C] e, float[C] b) => (float[N, C] o) {
      o = Add(e, b)
  }> (s, t)
  zero = Constant<value = int64 {0}>()
  r = SequenceAt(m, zero)
}""", {"N": 2, "C": 3}),
    "optionals": Case(18, """
g (float[N, C] x) => (got, has, has_tensor, plain) {
  o = Optional(x)
  got = OptionalGetElement(o)
  has = OptionalHasElement(o)
  has_tensor = OptionalHasElement(x)
  plain = OptionalGetElement(x)
}""", {"N": 2, "C": 3}),
    "rotary_embedding_23": Case(23, """
g (float[B, H, S, D] x, float[P, 2] cos, float[P, 2] sin, int64[B, S] pos) => (y) {
  y = RotaryEmbedding(x, cos, sin, pos)
}""", {"B": 1, "H": 2, "S": 3, "D": 4, "P": 5}, oracle="ref"),
    "tensor_scatter_24": Case(24, """
g (float[B, H, M, D] past, float[B, H, S, D] upd) => (y) {
  y = TensorScatter<axis = 2>(past, upd)
}""", {"B": 1, "H": 2, "M": 6, "S": 2, "D": 3}, oracle="ref"),
    "bitcast_cumprod_swiglu": Case(28, """
g (float[N, C] x, float[N, C] g2) => (b, cp, sw) {
  b = BitCast<to = 6>(x)
  ax = Constant<value = int64 {0}>()
  cp = CumProd<reverse = 1>(x, ax)
  sw = SwiGLU(x, g2)
}""", {"N": 2, "C": 3}, oracle="ref"),
    "causal_conv_with_state_27": Case(27, """
g (float[B, C, L] x, float[C, 1, 4] w, float[B, C, 3] past) => (y, st, y2, st2) {
  y, st = CausalConvWithState<activation = "silu">(x, w)
  y2, st2 = CausalConvWithState(x, w, "", past)
}""", {"B": 2, "C": 3, "L": 5}, oracle="ref"),
    "linear_attention_27_gqa": Case(27, """
g (float[B, T, 64] q, float[B, T, 32] k, float[B, T, 16] v, float[B, T, 4] beta) => (o, st) {
  o, st = LinearAttention<q_num_heads = 8, kv_num_heads = 4, update_rule = "delta">(q, k, v, "", "", beta)
}""", {"B": 2, "T": 3}, oracle="ref"),
    # BERT/DistilBERT by the dynamo exporter: the position table sliced to min(64, S) meets the
    # token embeddings (B, S); a valid model has S <= 64, so the sum is (B, S, 8), not a fresh dim,
    # and the heads split by Reshape(-1) are 2
    "position_table_sliced_to_the_sequence": Case(18, """
g (int64[B, S] ids, float[64, 8] table, float[B, S, 8] tokens) => (y, heads) {
  len = Shape<start = 1, end = 2>(ids)
  zero = Constant<value = int64[1] {0}>()
  start = Constant<value = int64 {0}>()
  limit = Constant<value = int64 {64}>()
  step = Constant<value = int64 {1}>()
  positions = Range(start, limit, step)
  pos = Unsqueeze(positions, zero)
  one = Constant<value = int64[1] {1}>()
  sliced = Slice(pos, zero, len, one, one)
  table_rows = Gather(table, sliced)
  y = Add(tokens, table_rows)
  b = Shape<start = 0, end = 1>(ids)
  rest = Constant<value = int64[2] {-1, 4}>()
  target = Concat<axis = 0>(b, len, rest)
  heads = Reshape(y, target)
}""", {"B": 2, "S": 5}),
    # Wav2Vec2's feature extractor: three strided Conv1d, and the frame count the dynamo exporter
    # folded to one division (S//20 - 1) for the attention heads' Reshape: both must be one size
    "strided_convs_and_the_folded_frame_count": Case(18, """
g (float[B, S] audio, float[4, 1, 10] w1, float[4, 4, 3] w2, float[4, 4, 3] w3) => (frames, heads) {
  ax = Constant<value = int64[1] {1}>()
  x = Unsqueeze(audio, ax)
  c1 = Conv<strides = [5]>(x, w1)
  c2 = Conv<strides = [2]>(c1, w2)
  frames = Conv<strides = [2]>(c2, w3)
  s = Shape<start = 1, end = 2>(audio)
  twenty = Constant<value = int64[1] {20}>()
  one = Constant<value = int64[1] {1}>()
  q = Div(s, twenty)
  t = Sub(q, one)
  b = Shape<start = 0, end = 1>(audio)
  two = Constant<value = int64[2] {2, -1}>()
  target = Concat<axis = 0>(b, two, t)
  heads = Reshape(frames, target)
}""", {"B": 2, "S": 403}),
    # DINOv2's TorchScript export sizes its position grid as int(num_positions ** 0.5): Pow on float
    # constants, then Cast; the float arithmetic is rounded to float32 as the runtime does
    # (sqrt(2) * sqrt(2) is 2 in float32, above 2 in double: Ceil tells them apart)
    "float_constant_arithmetic_sizes": Case(13, """
g (float[N, 16] x) => (y, z, w) {
  sixteen = Constant<value = float {16.0}>()
  half = Constant<value = float {0.5}>()
  r = Pow(sixteen, half)
  ri = Cast<to = 7>(r)
  zero = Constant<value = int64[1] {0}>()
  ru = Unsqueeze(ri, zero)
  m1 = Constant<value = int64[1] {-1}>()
  shape = Concat<axis = 0>(m1, ru, ru)
  y = Reshape(x, shape)
  two = Constant<value = float {2.0}>()
  s = Sqrt(two)
  ss = Mul(s, s)
  c = Ceil(ss)
  ci = Cast<to = 7>(c)
  cu = Unsqueeze(ci, zero)
  z = ConstantOfShape(cu)
  ten = Constant<value = float {10.0}>()
  three = Constant<value = float {3.0}>()
  q = Div(ten, three)
  f = Floor(q)
  a = Add(f, half)
  n = Neg(a)
  b = Abs(n)
  bi = Cast<to = 7>(b)
  bu = Unsqueeze(bi, zero)
  w = ConstantOfShape(bu)
}""", {"N": 2}),
    # XLNet's relative positions: arange(klen, -qlen, -1) over the sequence length, counting down
    "range_counting_down": Case(13, """
g (int64[B, S] ids) => (down, by3, none) {
  sh = Shape(ids)
  one = Constant<value = int64[1] {1}>()
  s1 = Gather<axis = 0>(sh, one)
  s = Squeeze(s1)
  ns = Neg(s)
  m1 = Constant<value = int64 {-1}>()
  down = Range(s, ns, m1)
  zero = Constant<value = int64 {0}>()
  m3 = Constant<value = int64 {-3}>()
  by3 = Range(s, zero, m3)
  none = Range(zero, s, m1)
}""", {"B": 2, "S": 7}),
}

_NP = {DataType.FLOAT: np.float32, DataType.INT64: np.int64, DataType.INT32: np.int32,
       DataType.BOOL: np.bool_}


def _model(opset: int, text: str) -> onnxlite.Model:
    return onnxlite.parse_model(f'<ir_version: 10, opset_import: ["" : {opset}]>\n{text}')


def _feeds(model: onnxlite.Model, case: Case) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    feeds = {}
    for vi in model.graph.inputs:
        shape = [infer.evaluate(infer.parse_dim(d), case.sizes) if isinstance(d, str) else d
                 for d in vi.shape or ()]
        dt = _NP[vi.dtype]  # type: ignore[index]
        if dt is np.bool_:
            feeds[vi.name] = np.asarray(rng.random(shape) < 0.5)
        elif dt in (np.int64, np.int32):
            feeds[vi.name] = rng.integers(*case.ints, shape).astype(dt)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(dt)
    return feeds


def _run(model: onnxlite.Model, case: Case) -> dict[str, Any]:
    feeds = _feeds(model, case)
    names = [o.name for o in model.graph.outputs]
    if case.oracle == "ort":
        session = ort.InferenceSession(onnxlite.dumps(model), providers=["CPUExecutionProvider"])
        results = session.run(None, feeds)
    else:
        evaluator = onnx.reference.ReferenceEvaluator(onnx.ModelProto.FromString(onnxlite.dumps(model)))
        results = evaluator.run(None, feeds)
    return dict(zip(names, (np.asarray(r) for r in results), strict=True))


def _is_fresh(d: Any) -> bool:
    return isinstance(d, infer.Expr) and infer.format_dim(d).startswith("unk_")


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=needs_onnx("1.23", f"opset {CASES[n].opset} in its reference runtime"))
    if CASES[n].opset > 27 else n for n in sorted(CASES)])
def test_rule_matches_the_runtime(name: str) -> None:
    case = CASES[name]
    model = _model(case.opset, case.text)
    real = _run(model, case)
    result = infer.infer_types(model)
    assert result.contradictions == []
    for out, array in real.items():
        t = result.type_of(out)
        assert isinstance(t, infer.TensorType), (out, t)
        text = infer.format_type(t)
        assert t.dtype is not None and t.dtype.np_dtype == array.dtype, (out, text, array.dtype)
        assert t.shape is not None and len(t.shape) == array.ndim, (out, infer.format_type(t), array.shape)
        free = case.free.get(out, ())
        for axis, (d, n) in enumerate(zip(t.shape, array.shape, strict=True)):
            if axis in free:
                assert _is_fresh(d), f"{out}: {infer.format_type(t)}: axis {axis} depends on the data"
            else:
                assert infer.evaluate(d, case.sizes) == n, f"{out}: {text}, real {array.shape}"
    # the same with the sizes bound up front: every dim a number but the data-dependent ones
    bound = infer.infer_types(model, dims=case.sizes)
    for out, array in real.items():
        t = bound.type_of(out)
        assert isinstance(t, infer.TensorType) and t.shape is not None, (out, t)
        free = case.free.get(out, ())
        assert tuple(n for k, n in enumerate(array.shape) if k not in free) == \
            tuple(d for k, d in enumerate(t.shape) if k not in free), (out, infer.format_type(t))


def _types(name: str) -> dict[str, str]:
    case = CASES[name]
    model = _model(case.opset, case.text)
    r = infer.infer_types(model)
    return {o.name: infer.format_type(r.type_of(o.name)) for o in model.graph.outputs}


@pytest.mark.parametrize(("name", "expected"), [
    ("reduce_axes_attribute", {"s": "float[N,1,H]", "m": "float[1,1,1]", "mx": "float[C]", "p": "float[N,C]",
                               "l1": "float[1,C,1]"}),
    ("reduce_axes_input_18", {"l2": "float[C]", "lse": "float[1,C,1]", "ss": "float[]", "ls": "float[1,1,1]",
                              "mn": "float[C]", "e": "float[]", "noop": "float[N,C,H]"}),
    ("reduce_prod_of_shape_reshapes", {"y": "float[C*H*N]"}),
    ("reduce_max_min_sum_of_shapes", {"y": "float[max(M, N),C]"}),
    ("split_num_outputs_18", {"a": "float[N,2]", "b": "float[N,2]", "c": "float[N,2]", "d": "float[N,1]",
                              "p": "float[(C + 2)//3]", "q": "float[(C + 2)//3]",
                              "r": "float[C - 2*((C + 2)//3)]"}),
    ("split_input_13_and_equal_symbolic", {"a": "float[N,1]", "b": "float[N,5]", "p": "float[C//2,3]",
                                           "q": "float[C//2,3]"}),
    ("pad_input_11_from_shape", {"y": "float[3*N,3*C]", "r": "float[N + 2,C + 1]"}),
    ("topk_k_from_shape", {"v": "float[N,K]", "ix": "int64[N,K]"}),
    ("nonzero_compress_unique_nms", {"nz": "int64[2,unk_0]", "c": "float[N,2]", "c0": "float[unk_1]",
                                     "csym": "float[N,unk_2]", "u": "float[unk_3]", "ui": "int64[unk_3]",
                                     "uinv": "int64[C*N]", "uc": "int64[unk_3]", "sel": "int64[unk_4,3]"}),
    ("nonzero_of_a_known_value", {"nz": "int64[2,3]", "y": "float[N]"}),
    ("gather_nd_batch_dims", {"y": "float[B,K,D]", "z": "float[B]"}),
    ("position_table_sliced_to_the_sequence", {"y": "float[B,S,8]", "heads": "float[B,S,2,4]"}),
    ("strided_convs_and_the_folded_frame_count", {"frames": "float[B,4,S//20 - 1]",
                                                  "heads": "float[B,2,2,S//20 - 1]"}),
    ("range_counting_down", {"down": "int64[2*S]", "by3": "int64[(S + 2)//3]", "none": "int64[0]"}),
    ("float_constant_arithmetic_sizes", {"y": "float[N,4,4]", "z": "float[2]", "w": "float[3]"}),
    ("linear_attention_27_gqa", {"o": "float[B,T,32]", "st": "float[B,4,8,4]"}),
    ("causal_conv_with_state_27", {"y": "float[B,C,L]", "st": "float[B,C,3]", "y2": "float[B,C,L]",
                                   "st2": "float[B,C,3]"}),
])
def test_symbolic_results_read_clearly(name: str, expected: dict[str, str]) -> None:
    """The printed dims users see, including the fresh symbols of data-dependent sizes (the same
    symbol where the spec says the sizes are equal, as Unique's outputs)."""
    assert _types(name) == expected


def _infer_one(opset: int, text: str) -> infer.Inference:
    return infer.infer_types(_model(opset, text))


@pytest.mark.parametrize(("opset", "text", "reason"), [
    (13, "g (float[N, 6] x) => (a, b) {\n s = Constant<value = int64[2] {1, 2}>()\n"
         " a, b = Split<axis = 1>(x, s)\n}", "do not add up"),
    (18, "g (float[N, 6] x) => (a, b) {\n a, b = Split<axis = 1>(x)\n}",
     "either the split input or num_outputs"),
    (11, "g (float[N, 5] x) => (a, b) {\n a, b = Split<axis = 1>(x)\n}", "equal parts"),
    (11, "g (float[N, 5] x) => (y) {\n p = Constant<value = int64[4] {0, 0, 0, -6}>()\n y = Pad(x, p)\n}",
     "negative"),
    (11, "g (float[N, 5] x) => (y) {\n y = ReduceSum<axes = [2]>(x)\n}", "out of range"),
    (11, "g (float[N, 5] x) => (v, i) {\n k = Constant<value = int64[1] {7}>()\n v, i = TopK(x, k)\n}",
     "out of range"),
    (26, "g (float[N, 5] x) => (y) {\n y = BitCast<to = 7>(x)\n}", "bit width"),
    (28, "g (float[N, 5] x, float[N, 4] z) => (y) {\n y = SwiGLU(x, z)\n}", "differ in shape"),
])
def test_spec_violations_are_reported(opset: int, text: str, reason: str) -> None:
    """A node that breaks its operator's spec leaves its outputs unknown, with the reason."""
    r = _infer_one(opset, text)
    reasons = [u.reason for u in r.unknown]
    assert reasons and all(reason in why for why in reasons), reasons


def test_unknown_axes_keep_what_they_can() -> None:
    """Axes fed at run time: with keepdims the rank stays (and a dim of 1 stays 1); without it
    nothing about the shape is known; the element type always is."""
    r = _infer_one(18, """
g (float[N, 1, C] x, int64[1] a) => (k, d) {
  k = ReduceSum(x, a)
  d = ReduceSum<keepdims = 0>(x, a)
}""")
    k, d = r.type_of("k"), r.type_of("d")
    assert isinstance(k, infer.TensorType) and k.shape is not None and k.shape[1] == 1
    assert _is_fresh(k.shape[0]) and _is_fresh(k.shape[2])
    assert d == infer.TensorType(DataType.FLOAT, None)
    assert [u.reason for u in r.unknown if u.value == "d"] == ["axes are not known"]


def test_sequence_types() -> None:
    """Sequence element types merge (differing dims become fresh symbols), SequenceEmpty's
    element has only its dtype; the first tensor inserted into an empty sequence gives the
    element type, later ones merge with it."""
    r = _infer_one(13, """
g (float[N, 3] x, float[N, 4] y) => (s, e, ins, ins2, l, l0) {
  s = SequenceConstruct(x, y)
  e = SequenceEmpty<dtype = 7>()
  e2 = SequenceEmpty()
  ins = SequenceInsert(e2, x)
  ins2 = SequenceInsert(ins, y)
  l = SequenceLength(s)
  l0 = SequenceLength(e2)
}""")
    s = r.type_of("s")
    assert isinstance(s, infer.SequenceType) and isinstance(s.elem, infer.TensorType)
    assert s.elem.shape is not None and s.elem.shape[0] == infer.symbol("N") and _is_fresh(s.elem.shape[1])
    assert r.type_of("e") == infer.SequenceType(infer.TensorType(DataType.INT64, None))
    assert r.type_of("ins") == infer.SequenceType(infer.TensorType(DataType.FLOAT, (infer.symbol("N"), 3)))
    ins2 = r.type_of("ins2")
    assert isinstance(ins2, infer.SequenceType) and isinstance(ins2.elem, infer.TensorType)
    assert ins2.elem.shape is not None and ins2.elem.shape[0] == infer.symbol("N")
    assert _is_fresh(ins2.elem.shape[1])
    assert r.type_of("l") == infer.TensorType(DataType.INT64, ())
    assert r.value_of("l0") == infer.Known((), (0,)) and r.value_of("l") is None


def test_a_sequence_filled_in_a_loop_or_a_branch_takes_its_elements_type() -> None:
    """A sequence started empty and filled by a Loop body (what torch.jit.script exports for a
    list appended in a loop) carries the element type the body inserts; the first iteration's
    emptiness is not kept (SequenceLength in the body is not a known 0). An If with one empty
    branch takes the other branch's element type."""
    r = _infer_one(17, """
g (float[B, 6] x, int64 n, bool c) => (h, sq, ys, lens, pick) {
  e = SequenceEmpty()
  t = Constant<value = bool {1}>()
  h, sq, lens = Loop(n, t, x, e) <body = body (int64 i, bool cond, float[B, 6] hi, seq(float) si) => (
      bool co, float[B, 6] ho, seq(float) so, int64 len) {
    co = Identity(cond)
    ho = Tanh(hi)
    so = SequenceInsert(si, ho)
    len = SequenceLength(si)
  }>
  ys = ConcatFromSequence<axis = 1, new_axis = 1>(sq)
  pick = If(c) <then_branch = a () => (seq(float[]) ea) {
      ea = SequenceEmpty()
    }, else_branch = b () => (seq(float[]) sb) {
      sb = SequenceConstruct(x)
    }>
}""")
    elem = infer.TensorType(DataType.FLOAT, (infer.symbol("B"), 6))
    assert r.type_of("sq") == infer.SequenceType(elem)
    assert r.type_of("pick") == infer.SequenceType(elem)
    ys = r.type_of("ys")
    assert isinstance(ys, infer.TensorType) and ys.shape is not None
    assert ys.shape[0] == infer.symbol("B") and ys.shape[2] == 6 and _is_fresh(ys.shape[1])
    assert r.value_of("len", "Loop#1.body") is None  # not the first iteration's 0


def test_optional_from_type_attribute() -> None:
    """Optional without an input takes its element type from the ``type`` attribute."""
    from onnx import helper

    seq_float = helper.make_sequence_type_proto(helper.make_tensor_type_proto(onnx.TensorProto.FLOAT, None))
    nodes = [helper.make_node("Optional", [], ["o"], type=seq_float),
             helper.make_node("OptionalHasElement", [], ["h"])]
    graph = helper.make_graph(nodes, "g", [], [helper.make_value_info("o", helper.make_optional_type_proto(
        seq_float)), helper.make_tensor_value_info("h", onnx.TensorProto.BOOL, [])])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)
    for out in proto.graph.output:
        out.ClearField("type")
    r = infer.infer_types(onnxlite.loads(proto.SerializeToString()))
    assert r.type_of("o") == infer.OptionalType(infer.SequenceType(infer.TensorType(DataType.FLOAT, None)))
    assert r.type_of("h") == infer.TensorType(DataType.BOOL, ())


def test_split_opset_1_and_2() -> None:
    """No runtime runs Split-1 any more: its sizes come from the attribute (or the second input);
    Split-2 ignores a second input (it has none) and splits equally without the attribute."""
    r = _infer_one(1, "g (float[N, 6] x) => (a, b) {\n a, b = Split<axis = 1, split = [4, 2]>(x)\n}")
    assert [infer.format_type(r.type_of(n)) for n in "ab"] == ["float[N,4]", "float[N,2]"]
    r = _infer_one(2, "g (float[N, 6] x) => (a, b) {\n a, b = Split<axis = 1>(x)\n}")
    assert [infer.format_type(r.type_of(n)) for n in "ab"] == ["float[N,3]", "float[N,3]"]


def test_flex_attention_and_its_modifier_body() -> None:
    """ai.onnx.preview FlexAttention: Y is (B, Hq, L, Ev); the score_mod body is inferred on
    the float (B, Hq, L, S) scores (checked against onnx's reference evaluator)."""
    model = onnxlite.parse_model("""<ir_version: 10, opset_import: ["" : 21, "ai.onnx.preview" : 1]>
g (float[B, 4, L, 8] q, float[B, 2, S, 8] k, float[B, 2, S, 5] v) => (y) {
  y = ai.onnx.preview.FlexAttention <score_mod = m (float[B, 4, L, S] s) => (float[B, 4, L, S] o) {
      half = Constant<value_float = 0.5>()
      o = Mul(s, half)
  }> (q, k, v)
}""")
    sizes = {"B": 2, "L": 3, "S": 6}
    rng = np.random.default_rng(0)
    feeds = {vi.name: rng.standard_normal([sizes[d] if isinstance(d, str) else d for d in vi.shape or ()])
             .astype(np.float32) for vi in model.graph.inputs}
    evaluator = onnx.reference.ReferenceEvaluator(onnx.ModelProto.FromString(onnxlite.dumps(model)))
    (y,) = evaluator.run(None, feeds)
    r = infer.infer_types(model)
    assert infer.format_type(r.type_of("y")) == "float[B,4,L,5]"
    t = r.type_of("y")
    assert isinstance(t, infer.TensorType) and t.shape is not None
    assert tuple(infer.evaluate(d, sizes) for d in t.shape) == np.asarray(y).shape
    assert infer.format_type(r.type_of("o", "#0.score_mod")) == "float[B,4,L,S]"
    assert r.contradictions == []


_REDUCE_OPS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
               "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]


@pytest.mark.parametrize("opset", [11, 13, 18])
@pytest.mark.parametrize("op", _REDUCE_OPS)
def test_every_reduction_in_every_axes_form(op: str, opset: int) -> None:
    """Each reduction with the axes it takes at that opset (attribute, or input: ReduceSum from 13,
    the others from 18), keepdims both ways, negative and repeated-free axes, and no axes (all
    axes, or none with noop_with_empty_axes), against onnxruntime."""
    as_input = opset >= (13 if op == "ReduceSum" else 18)
    lines, outs = [], []
    for k, (axes, keep) in enumerate([([0, -1], 1), ([1], 0), (None, 0), (None, 1)]):
        attrs = [f"keepdims = {keep}"]
        args = "x"
        if axes is not None and as_input:
            lines.append(f"  a{k} = Constant<value = int64[{len(axes)}] {{{', '.join(map(str, axes))}}}>()")
            args = f"x, a{k}"
        elif axes is not None:
            attrs.append(f"axes = [{', '.join(map(str, axes))}]")
        lines.append(f"  y{k} = {op}<{', '.join(attrs)}>({args})")
        outs.append(f"y{k}")
    if as_input:
        lines.append(f"  noop = {op}<noop_with_empty_axes = 1>(x)")
        outs.append("noop")
    text = f"g (float[N, C, H] x) => ({', '.join(outs)}) {{\n" + "\n".join(lines) + "\n}"
    case = Case(opset, text, {"N": 2, "C": 3, "H": 4})
    model = _model(opset, text)
    real = _run(model, case)
    result = infer.infer_types(model)
    for out, array in real.items():
        t = result.type_of(out)
        assert isinstance(t, infer.TensorType) and t.dtype == DataType.FLOAT and t.shape is not None, (out, t)
        evaluated = tuple(infer.evaluate(d, case.sizes) for d in t.shape)
        assert evaluated == array.shape, (out, infer.format_type(t))
