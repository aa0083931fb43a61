"""The nn-family rules (convolutions, pools, normalizations, recurrent layers, Attention, Resize,
spatial ops, Einsum, quantization, losses, signal, random and string ops), each case written
from the operator spec and checked against onnxruntime: the one-node models run on concrete
inputs; the types inferred with symbolic input sizes, evaluated with the real sizes, must equal
the real output shapes and element types. A size only the data decides (listed per case) must
be a fresh symbol; every other dim must be fully inferred."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnxruntime as ort
import pytest
from corpus import ORACLE, needs_onnx

import onnxlite
from onnxlite import infer


@dataclass
class Case:
    opset: int
    text: str
    sizes: dict[str, int]
    feeds: dict[str, np.ndarray] = field(default_factory=dict)
    #: outputs -> axes whose size comes from the data (a fresh symbol is the right answer)
    data_dims: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: outputs onnxruntime leaves out of the comparison (their values, not shapes, are random)
    ir: int = 8


_RNG = np.random.default_rng(1)
_ROIS = np.array([[0, 0, 0, 3, 3], [0, 1, 1, 4, 5], [1, 2, 0, 5, 2]], dtype=np.float32)

CASES: dict[str, Case] = {
    "conv_pads_strides_dilations_group": Case(18, """
g (float[N, 4, H, W] x, float[6, 2, 3, 3] w, float[6] b) => (y, s, v) {
  y = Conv<pads = [1, 0, 2, 1], strides = [2, 3], dilations = [1, 2], group = 2>(x, w, b)
  s = Conv<auto_pad = "SAME_UPPER", strides = [2, 2], group = 2>(x, w)
  v = Conv<auto_pad = "VALID", group = 2, kernel_shape = [3, 3]>(x, w)
}""", {"N": 2, "H": 11, "W": 13}),
    "conv_1d_3d": Case(11, """
g (float[N, 3, L] x, float[5, 3, 4] w, float[N, 2, D, H, W] v, float[4, 2, 2, 3, 2] k) => (y, z) {
  y = Conv<strides = [3], auto_pad = "SAME_LOWER">(x, w)
  z = Conv<pads = [1, 1, 0, 0, 1, 1]>(v, k)
}""", {"N": 2, "L": 10, "D": 5, "H": 6, "W": 7}),
    "conv_transpose": Case(18, """
g (float[N, 4, H, W] x, float[4, 3, 3, 2] w) => (a, b, c, d) {
  a = ConvTranspose<strides = [2, 3], pads = [1, 0, 0, 1], output_padding = [1, 2], dilations = [2, 1]>(x, w)
  b = ConvTranspose<output_shape = [12, 13], strides = [2, 3]>(x, w)
  c = ConvTranspose<auto_pad = "SAME_UPPER", strides = [2, 2]>(x, w)
  d = ConvTranspose<group = 2>(x, w)
}""", {"N": 2, "H": 5, "W": 4}),
    "conv_integer_qlinear_conv": Case(13, """
g (uint8[N, 2, H, W] x, uint8[3, 2, 2, 2] w) => (a, q) {
  a = ConvInteger<pads = [1, 1, 1, 1]>(x, w)
  xs = Constant<value = float {0.5}>()
  xz = Constant<value = uint8 {1}>()
  ws = Constant<value = float {0.25}>()
  wz = Constant<value = uint8 {2}>()
  ys = Constant<value = float {0.75}>()
  yz = Constant<value = uint8 {3}>()
  q = QLinearConv<strides = [2, 1]>(x, xs, xz, w, ws, wz, ys, yz)
}""", {"N": 1, "H": 7, "W": 6}),
    "deform_conv": Case(19, """
g (float[N, 2, 5, 6] x, float[4, 2, 3, 3] w, float[N, 18, 3, 4] off) => (y) {
  y = DeformConv<kernel_shape = [3, 3]>(x, w, off)
}""", {"N": 2}),
    "pools_ceil_dilations_indices": Case(18, """
g (float[N, C, H, W] x) => (m, i, a, l, c, d) {
  m, i = MaxPool<kernel_shape = [3, 2], strides = [2, 2], pads = [1, 0, 1, 0], ceil_mode = 1>(x)
  a = AveragePool<kernel_shape = [3, 3], strides = [2, 2], ceil_mode = 1, count_include_pad = 1,
                  pads = [0, 1, 1, 1]>(x)
  l = LpPool<kernel_shape = [2, 2], p = 3, dilations = [2, 1], strides = [1, 2]>(x)
  c = MaxPool<kernel_shape = [2, 2], dilations = [2, 2], strides = [1, 1]>(x)
  d = AveragePool<kernel_shape = [3, 3], auto_pad = "SAME_UPPER", strides = [2, 2]>(x)
}""", {"N": 2, "C": 3, "H": 9, "W": 8}),
    "pool_ceil_last_window_dropped": Case(18, """
g (float[1, 1, 6, 5] x) => (m, a) {
  m = MaxPool<kernel_shape = [2, 2], strides = [3, 3], pads = [0, 0, 1, 1], ceil_mode = 1>(x)
  a = AveragePool<kernel_shape = [1, 1], strides = [2, 4], ceil_mode = 1>(x)
}""", {}),
    "pools_old_versions_and_global": Case(9, """
g (float[N, C, L] x, float[N, C, H, W] y) => (m, a, g, gm, gl) {
  m = MaxPool<kernel_shape = [3], strides = [2]>(x)
  a = AveragePool<kernel_shape = [2, 2], auto_pad = "VALID">(y)
  g = GlobalAveragePool(y)
  gm = GlobalMaxPool(x)
  gl = GlobalLpPool<p = 2>(y)
}""", {"N": 2, "C": 3, "L": 9, "H": 5, "W": 4}),
    "maxunpool_roipool_roialign": Case(16, """
g (float[2, C, 8, 6] x, float[R, 5] rois, float[R, 4] boxes, int64[R] bi) => (u, us, r, al) {
  p, idx = MaxPool<kernel_shape = [2, 2], strides = [2, 2]>(x)
  u = MaxUnpool<kernel_shape = [2, 2], strides = [2, 2]>(p, idx)
  shape = Constant<value = int64[4] {2, 3, 9, 7}>()
  us = MaxUnpool<kernel_shape = [2, 2], strides = [2, 2]>(p, idx, shape)
  r = MaxRoiPool<pooled_shape = [2, 3]>(x, rois)
  al = RoiAlign<output_height = 3, output_width = 2>(x, boxes, bi)
}""", {"C": 3, "R": 3}, feeds={"rois": _ROIS, "boxes": _ROIS[:, 1:].copy(),
                               "bi": np.array([0, 1, 0], dtype=np.int64)}),
    "batch_norm_inference_and_training": Case(15, """
g (float[N, C, H] x, float[C] s, float[C] b, float[C] m, float[C] v) => (y, t, rm, rv) {
  y = BatchNormalization(x, s, b, m, v)
  t, rm, rv = BatchNormalization<training_mode = 1>(x, s, b, m, v)
}""", {"N": 4, "C": 3, "H": 5}, feeds={"v": np.ones(3, np.float32)}),
    "batch_norm_opset9": Case(9, """
g (float[N, C, H, W] x, float[C] s, float[C] b, float[C] m, float[C] v) => (y) {
  y = BatchNormalization(x, s, b, m, v)
}""", {"N": 2, "C": 3, "H": 2, "W": 2}, feeds={"v": np.ones(3, np.float32)}),
    "layer_group_instance_norm": Case(21, """
g (float[N, S, D] x, float[D] sc, float[D] bi, float[S, D] sc2, float[S] c)
    => (y, mean, inv, y1, m1, i1, gn, inn) {
  y, mean, inv = LayerNormalization(x, sc, bi)
  y1, m1, i1 = LayerNormalization<axis = 1>(x, sc2)
  gn = GroupNormalization<num_groups = 2>(x, c, c)
  inn = InstanceNormalization(x, c, c)
}""", {"N": 2, "S": 4, "D": 6}),
    "layer_norm_half_stash_float": Case(17, """
g (float16[N, D] x, float16[D] sc) => (y, mean, inv) {
  y, mean, inv = LayerNormalization<axis = -1, stash_type = 1>(x, sc)
}""", {"N": 3, "D": 5}),
    "rms_norm": Case(23, """
g (float[N, S, D] x, float[D] sc) => (y) {
  y = RMSNormalization<axis = -1>(x, sc)
}""", {"N": 2, "S": 3, "D": 4}, ir=10),
    "rnn_gru_lstm_bidirectional": Case(14, """
g (float[T, B, 5] x, float[2, 12, 5] wg, float[2, 12, 4] rg, float[2, 16, 5] wl, float[2, 16, 4] rl,
   float[1, 4, 5] wr, float[1, 4, 4] rr) => (gy, gh, ly, lh, lc, ry, rh) {
  gy, gh = GRU<hidden_size = 4, direction = "bidirectional">(x, wg, rg)
  ly, lh, lc = LSTM<hidden_size = 4, direction = "bidirectional">(x, wl, rl)
  ry, rh = RNN<hidden_size = 4>(x, wr, rr)
}""", {"T": 3, "B": 2}),
    "attention_4d_past_and_qk": Case(23, """
g (float[B, 4, S, 8] q, float[B, 2, L, 8] k, float[B, 2, L, 6] v, float[B, 2, P, 8] pk,
   float[B, 2, P, 6] pv) => (y, kk, vv, qk) {
  y, kk, vv, qk = Attention(q, k, v, "", pk, pv)
}""", {"B": 2, "S": 3, "L": 5, "P": 4}, ir=10),
    "attention_3d_heads": Case(23, """
g (float[B, S, 12] q, float[B, L, 6] k, float[B, L, 4] v) => (y) {
  y = Attention<q_num_heads = 4, kv_num_heads = 2>(q, k, v)
}""", {"B": 2, "S": 3, "L": 5}, ir=10),
    "resize_sizes_axes_policy": Case(19, """
g (float[N, C, 6, 8] x, float[N, C, H, W] z) => (a, b, c, d) {
  s1 = Constant<value = int64[2] {9, 5}>()
  a = Resize<axes = [2, 3], keep_aspect_ratio_policy = "not_larger">(x, "", "", s1)
  b = Resize<axes = [3, 2], keep_aspect_ratio_policy = "not_smaller">(x, "", "", s1)
  s4 = Constant<value = int64[4] {1, 2, 3, 4}>()
  c = Resize<mode = "nearest">(z, "", "", s4)
  sh = Shape(z)
  d = Resize(x, "", "", sh)
}""", {"N": 2, "C": 2, "H": 3, "W": 5}),
    "resize_opset11_sizes_upsample7": Case(11, """
g (float[N, C, H, W] x) => (a) {
  roi = Constant<value = float[0] {}>()
  sc = Constant<value = float[0] {}>()
  s = Constant<value = int64[4] {2, 3, 4, 5}>()
  a = Resize(x, roi, sc, s)
}""", {"N": 2, "C": 3, "H": 3, "W": 2}),
    "upsample_opset7": Case(7, """
g (float[N, C, H, W] x) => (a) {
  a = Upsample<scales = [1.0, 1.0, 2.0, 1.5]>(x)
}""", {"N": 2, "C": 3, "H": 3, "W": 4}),
    "depth_space_col2im": Case(18, """
g (float[N, 8, H, W] x, float[N, 12, 6] c) => (d, cr, s, im) {
  d = DepthToSpace<blocksize = 2>(x)
  cr = DepthToSpace<blocksize = 2, mode = "CRD">(x)
  s = SpaceToDepth<blocksize = 2>(x)
  ishape = Constant<value = int64[2] {3, 4}>()
  bshape = Constant<value = int64[2] {2, 2}>()
  im = Col2Im(c, ishape, bshape)
}""", {"N": 2, "H": 4, "W": 6}),
    "grid_sample_affine_grid_center_crop": Case(20, """
g (float[N, C, H, W] x, float[N, Ho, Wo, 2] grid, float[N, 2, 3] theta, float[N, C, 5, 3] z) => (gs, ag, cc) {
  gs = GridSample(x, grid)
  size = Constant<value = int64[4] {2, 3, 7, 5}>()
  ag = AffineGrid(theta, size)
  cs = Constant<value = int64[2] {3, 6}>()
  cc = CenterCropPad<axes = [2, 3]>(z, cs)
}""", {"N": 2, "C": 3, "H": 4, "W": 5, "Ho": 6, "Wo": 2}),
    "einsum": Case(12, """
g (float[B, I, J] a, float[B, J, K] b, float[I, I] sq, float[2, 3, I, J] e, float[J, K] m,
   float[I, J] p) => (bmm, tr, diag, ell, imp, out) {
  bmm = Einsum<equation = "bij,bjk->bik">(a, b)
  tr = Einsum<equation = "ii">(sq)
  diag = Einsum<equation = "ii->i">(sq)
  ell = Einsum<equation = "...ij,jk->...ik">(e, m)
  imp = Einsum<equation = "bij, bjk">(a, b)
  out = Einsum<equation = "ij,jk->kji">(p, m)
}""", {"B": 2, "I": 3, "J": 4, "K": 5}, feeds={}),
    "quantization": Case(21, """
g (float[N, C] x, uint8[C, K] qa, int8[K] qb, float[C] sc) => (q, q8, dq, da, y, ys, yz, mi, qm) {
  s = Constant<value = float {0.5}>()
  z = Constant<value = int8 {1}>()
  q = QuantizeLinear(x, s)
  q8 = QuantizeLinear(x, s, z)
  dq = DequantizeLinear(q8, s, z)
  qz = Constant<value = uint8[3] {1, 2, 3}>()
  da = DequantizeLinear<axis = 0>(qa, sc, qz)
  y, ys, yz = DynamicQuantizeLinear(x)
  mi = MatMulInteger(qa, qb)
  zu = Constant<value = uint8 {2}>()
  qm = QLinearMatMul(qa, s, zu, qa, s, zu, s, zu)
}""", {"N": 2, "C": 3, "K": 3}),
    "losses": Case(13, """
g (float[N, C, D] x, int64[N, D] t) => (nm, nn, sm, sn, lp) {
  nm = NegativeLogLikelihoodLoss(x, t)
  nn = NegativeLogLikelihoodLoss<reduction = "none">(x, t)
  sm = SoftmaxCrossEntropyLoss(x, t)
  sn, lp = SoftmaxCrossEntropyLoss<reduction = "none">(x, t)
}""", {"N": 2, "C": 3, "D": 4}),
    "det_dft_stft_windows_mel": Case(20, """
g (float[B, M, M] m, float[B, L, 1] sig, float[B, L, 2] cs) => (d, f, rf, irf, st, hw, bw, mw) {
  d = Det(m)
  ax = Constant<value = int64 {1}>()
  f = DFT(sig, "", ax)
  rf = DFT<onesided = 1>(sig, "", ax)
  irf = DFT<onesided = 1, inverse = 1>(cs, "", ax)
  step = Constant<value = int64 {2}>()
  fl = Constant<value = int64 {4}>()
  st = STFT(sig, step, "", fl)
  n = Constant<value = int64 {6}>()
  hw = HannWindow(n)
  bw = BlackmanWindow<output_datatype = 11, periodic = 0>(n)
  bins = Constant<value = int64 {5}>()
  dl = Constant<value = int64 {16}>()
  rate = Constant<value = int64 {8000}>()
  lo = Constant<value = float {0.0}>()
  hi = Constant<value = float {4000.0}>()
  mw = MelWeightMatrix(bins, dl, rate, lo, hi)
}""", {"B": 2, "M": 3, "L": 10}),
    "random_and_eyelike": Case(15, """
g (float[N, C] x, int32[C, C] sq) => (rn, ru, rnl, rul, be, mn, ey) {
  rn = RandomNormal<shape = [2, 3]>()
  ru = RandomUniform<shape = [4], dtype = 11>()
  rnl = RandomNormalLike(x)
  rul = RandomUniformLike<dtype = 11>(x)
  be = Bernoulli<dtype = 7>(x)
  mn = Multinomial<sample_size = 5, dtype = 7>(x)
  ey = EyeLike<k = 1>(sq)
}""", {"N": 2, "C": 3}, feeds={"x": _RNG.random((2, 3)).astype(np.float32)}),
    "strings": Case(20, """
g (string[N] s, string[1, C] w) => (lo, st, rm, cat, sp, cnt, tf) {
  lo = StringNormalizer<case_change_action = "LOWER", locale = "C">(s)
  st = StringNormalizer<stopwords = ["a", "b"], locale = "C">(w)
  rm = RegexFullMatch<pattern = "a.*">(s)
  cat = StringConcat(s, s)
  sp, cnt = StringSplit<delimiter = " ">(s)
  tf = TfIdfVectorizer<mode = "TF", min_gram_length = 1, max_gram_length = 1, max_skip_count = 0,
                       ngram_counts = [0], ngram_indexes = [0, 1, 4], pool_strings = ["a", "b", "c"]>(w)
}""", {"N": 3, "C": 4}, feeds={"s": np.array(["a b", "c", "ab cd e"], dtype=object),
                              "w": np.array([["a", "x", "b", "c"]], dtype=object)},
        data_dims={"st": (1,), "sp": (1,)}),
}


def _model(case: Case) -> onnxlite.Model:
    return onnxlite.parse_model(f'<ir_version: {case.ir}, opset_import: ["" : {case.opset}]>\n{case.text}')


_NP = {"float": np.float32, "float16": np.float16, "double": np.float64, "int64": np.int64,
       "int32": np.int32, "uint8": np.uint8, "int8": np.int8, "bool": np.bool_}


def _feeds(model: onnxlite.Model, case: Case) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    feeds = {}
    for vi in model.graph.inputs:
        if vi.name in case.feeds:
            feeds[vi.name] = case.feeds[vi.name]
            continue
        shape = [d if isinstance(d, int) else case.sizes[str(d)] for d in vi.shape or ()]
        assert vi.dtype is not None
        dt = _NP[vi.dtype.short_name]
        if dt in (np.int64, np.int32, np.uint8, np.int8):
            feeds[vi.name] = rng.integers(0, 3, shape).astype(dt)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(dt)
    return feeds


def _run(case: Case) -> tuple[onnxlite.Model, dict[str, np.ndarray]]:
    model = _model(case)
    session = ort.InferenceSession(onnxlite.dumps(model), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return model, dict(zip(names, session.run(None, _feeds(model, case)), strict=True))


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_matches_onnxruntime(name: str) -> None:
    case = CASES[name]
    model, real = _run(case)
    result = infer.infer_types(model)
    assert result.contradictions == []
    for out, array in real.items():
        t = result.type_of(out)
        assert isinstance(t, infer.TensorType), (out, t)
        assert t.dtype is not None, (out, t)
        want = np.dtype(object) if t.dtype.short_name == "string" else t.dtype.np_dtype
        assert want == array.dtype, (out, infer.format_type(t), array.dtype)
        assert t.shape is not None and len(t.shape) == array.ndim, (out, infer.format_type(t), array.shape)
        fresh = case.data_dims.get(out, ())
        for axis, (d, real_size) in enumerate(zip(t.shape, array.shape, strict=True)):
            value = infer.evaluate(d, case.sizes)
            if axis in fresh:
                assert isinstance(value, infer.Expr) and infer.free_symbols(value) <= infer.free_symbols(d), \
                    f"{out}: dim {axis} depends on the data, inferred {infer.format_dim(d)}"
                continue
            assert value == real_size, \
                f"{out}: {infer.format_type(t)} -> dim {axis} = {value}, real {array.shape}"
    bound = infer.infer_types(model, dims=case.sizes)
    for out, array in real.items():
        t = bound.type_of(out)
        assert isinstance(t, infer.TensorType) and t.shape is not None
        for axis, (d, real_size) in enumerate(zip(t.shape, array.shape, strict=True)):
            if axis not in case.data_dims.get(out, ()):
                assert d == real_size, (out, t, array.shape)


def _types(opset: int, text: str, ir: int = 8, **kw: object) -> dict[str, str]:
    model = onnxlite.parse_model(f'<ir_version: {ir}, opset_import: ["" : {opset}]>\n{text}')
    r = infer.infer_types(model, **kw)  # type: ignore[arg-type]
    return {o.name: infer.format_type(r.type_of(o.name)) for o in model.graph.outputs}


def test_symbolic_sizes_read_clearly() -> None:
    """The printed dims of the window formulas, as users see them."""
    assert _types(18, """
g (float[N, 4, H, W] x, float[6, 2, 3, 3] w) => (y, s, t) {
  y = Conv<pads = [1, 0, 2, 1], strides = [2, 3], dilations = [1, 2], group = 2>(x, w)
  s = Conv<auto_pad = "SAME_UPPER", strides = [2, 2], group = 2>(x, w)
  t = ConvTranspose<strides = [2, 2], pads = [1, 1, 1, 1], output_padding = [1, 0]>(x, w)
}""") == {"y": "float[N,6,H//2 + 1,(W - 4)//3 + 1]", "s": "float[N,6,(H + 1)//2,(W + 1)//2]",
          "t": "float[N,2,2*H,2*W - 1]"}


def test_ceil_mode_window_in_right_padding_is_a_fresh_symbol() -> None:
    """With ceil_mode, the last window is dropped when it would start in the right padding:
    whether it does depends on the size, so a symbolic size gets a fresh symbol (never a guess),
    and the bound size gets the exact number onnxruntime computes."""
    text = """
g (float[1, 1, H, W] x) => (m) {
  m = MaxPool<kernel_shape = [2, 3], strides = [3, 2], pads = [0, 1, 1, 1], ceil_mode = 1>(x)
}"""
    assert _types(18, text) == {"m": "float[1,1,unk_0,W//2 + 1]"}
    case = Case(18, text, {"H": 6, "W": 7})
    _, real = _run(case)
    assert real["m"].shape == (1, 1, 2, 4)
    assert _types(18, text, dims={"H": 6, "W": 7}) == {"m": "float[1,1,2,4]"}


def test_batchwise_recurrent_layout() -> None:
    """layout=1 (onnxruntime's CPU kernels refuse it, so the spec is the oracle): X [batch, seq,
    input] -> Y [batch, seq, dirs, hidden], Y_h/Y_c [batch, dirs, hidden]; hidden_size from R
    when the attribute is absent."""
    assert _types(14, """
g (float[B, T, 5] x, float[2, 16, 5] w, float[2, 16, 4] r, float[1, 12, 4] rg) => (y, h, c, gy, gh) {
  y, h, c = LSTM<layout = 1, direction = "bidirectional", hidden_size = 4>(x, w, r)
  gy, gh = GRU<layout = 1>(x, w, rg)
}""") == {"y": "float[B,T,2,4]", "h": "float[B,2,4]", "c": "float[B,2,4]", "gy": "float[B,T,1,4]",
          "gh": "float[B,1,4]"}


def test_sizes_from_shape_computations_and_unknown_data() -> None:
    """Resize's sizes computed from Shape flow through; scales fed at run time leave the resized
    axes as fresh symbols (the rank and the other types stay known)."""
    assert _types(18, """
g (float[N, C, H, W] x, float[4] sc) => (a, b) {
  sh = Shape(x)
  a = Resize(x, "", "", sh)
  b = Resize<axes = [2, 3]>(x, "", sc)
}""") == {"a": "float[N,C,H,W]", "b": "float[N,C,unk_0,unk_1]"}


@pytest.mark.parametrize(("text", "reason"), [
    ("y = Conv(x, w)", "weight has rank 3, 4 expected"),
    ("y = MaxPool<kernel_shape = [2, 2], pads = [1, 1]>(x)",
     "'pads' has 2 values, 4 expected for 2 spatial axes"),
    ("y = DepthToSpace<blocksize = 2>(x)", "channels 3 are not a multiple of blocksize^2 = 4"),
    ('y = Einsum<equation = "abcd->k">(x)', "output label 'k' is not in any input term"),
])
def test_broken_nodes_are_reported(text: str, reason: str) -> None:
    model = onnxlite.parse_model(f"""<ir_version: 8, opset_import: ["" : 18]>
g (float[1, 3, 4, 4] x, float[2, 3, 3] w) => (y) {{
  {text}
}}""")
    r = infer.infer_types(model)
    assert r.type_of("y") is None
    assert [u.reason for u in r.unknown if u.value == "y"] == [reason]


NN_OPS = frozenset("""Conv ConvTranspose ConvInteger QLinearConv DeformConv AveragePool MaxPool LpPool
GlobalAveragePool GlobalMaxPool GlobalLpPool MaxUnpool MaxRoiPool RoiAlign BatchNormalization
InstanceNormalization LayerNormalization GroupNormalization RMSNormalization RNN LSTM GRU Attention
Resize Upsample DepthToSpace SpaceToDepth Col2Im GridSample AffineGrid CenterCropPad Einsum
MatMulInteger QLinearMatMul QuantizeLinear DequantizeLinear DynamicQuantizeLinear
NegativeLogLikelihoodLoss SoftmaxCrossEntropyLoss Det DFT STFT MelWeightMatrix HannWindow
HammingWindow BlackmanWindow RandomNormal RandomUniform RandomNormalLike RandomUniformLike Bernoulli
Multinomial EyeLike ImageDecoder TfIdfVectorizer StringNormalizer RegexFullMatch StringConcat
StringSplit""".split())

#: Measured: the node cases whose single node is one of NN_OPS (tools/bench_infer.py --coverage).
NN_RIGHT_FLOOR = 528  # of 619 outputs; the other 91 need values fed at run time


@needs_onnx(ORACLE, "the node cases the floor was measured on")
def test_node_cases_of_the_nn_ops() -> None:
    """The onnx backend node cases of these ops: no output contradicted, at least the floor
    exactly right (the rest need values fed at run time: scales, sizes, axes, image bytes)."""
    from corpus import node_cases
    from infer_scoring import Score, score_case

    score = Score()
    for case in node_cases():
        if case.data is None:
            continue
        ops = {n.op_type for n in onnxlite.loads(case.data).graph.nodes}
        if len(ops) == 1 and ops <= NN_OPS:
            score_case(case, score)
    assert score.wrong_cases == []
    assert score.right >= NN_RIGHT_FLOOR, (score.right, score.missing_cases)
