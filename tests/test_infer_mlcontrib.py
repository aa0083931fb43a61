"""Rules for ai.onnx.ml, ai.onnx.preview.training and com.microsoft ops, each case written from
the operator spec and checked against onnxruntime: one-node (or few-node) models run on random
inputs of concrete sizes; the types inferred without those sizes, symbols evaluated with them,
must equal the real outputs' element types and shapes (fully inferred: no fresh symbol where the
spec fixes the size). Then real scikit-learn exports (fixtures and models exported here) must be
typed completely and agree with onnxruntime on every node output."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from corpus import FIXTURES
from infer_scoring import judge

import onnxlite
from onnxlite import infer
from onnxlite.dtypes import DataType

ML = '"ai.onnx.ml" : 3'
ML4 = '"ai.onnx.ml" : 4'
MS = '"com.microsoft" : 1'

# name: (extra opset imports, graph text, sizes of the input symbols)
CASES: dict[str, tuple[str, str, dict[str, int]]] = {
    "ml_elementwise": (ML, """
g (float[N, F] x, int64[N, F] i) => (b, im, s, nz, oh, ohi) {
  b = ai.onnx.ml.Binarizer<threshold = 0.5>(x)
  im = ai.onnx.ml.Imputer<imputed_value_int64s = [7], replaced_value_int64 = 0>(i)
  s = ai.onnx.ml.Scaler<offset = [1.0], scale = [2.0]>(i)
  nz = ai.onnx.ml.Normalizer<norm = "L1">(x)
  oh = ai.onnx.ml.OneHotEncoder<cats_int64s = [0, 1, 2]>(i)
  ohi = ai.onnx.ml.OneHotEncoder<cats_int64s = [0, 1]>(x)
}""", {"N": 3, "F": 4}),
    "ml_array_feature_extractor": (ML, """
g (float[N, C, F] x, float[F] v, int64[K] k, int64[2, 1] k2) => (a, b, c) {
  a = ai.onnx.ml.ArrayFeatureExtractor(x, k)
  b = ai.onnx.ml.ArrayFeatureExtractor(v, k2)
  c = ai.onnx.ml.ArrayFeatureExtractor(x, k2)
}""", {"N": 2, "C": 3, "F": 4, "K": 2}),
    "ml_feature_vectorizer": (ML, """
g (float[N, 2] a, float[N, 3] b, double[3] c) => (y, z) {
  y = ai.onnx.ml.FeatureVectorizer<inputdimensions = [2, 3]>(a, b)
  z = ai.onnx.ml.FeatureVectorizer<inputdimensions = [3]>(c)
}""", {"N": 5}),
    "ml_encoders": ('"ai.onnx.ml" : 2', """
g (string[N, 2] s, int64[N] i) => (cm, cmi, le, lef) {
  cm = ai.onnx.ml.CategoryMapper<cats_strings = ["a", "b"], cats_int64s = [1, 2]>(s)
  cmi = ai.onnx.ml.CategoryMapper<cats_strings = ["a", "b"], cats_int64s = [1, 2]>(i)
  le = ai.onnx.ml.LabelEncoder<keys_strings = ["a"], values_int64s = [3]>(s)
  lef = ai.onnx.ml.LabelEncoder<keys_int64s = [1], values_floats = [0.5]>(i)
}""", {"N": 3}),
    "ml_label_encoder_v1": ('"ai.onnx.ml" : 1', """
g (string[N] s, int64[N, 2] i) => (a, b) {
  a = ai.onnx.ml.LabelEncoder<classes_strings = ["a", "b"], default_int64 = 5>(s)
  b = ai.onnx.ml.LabelEncoder<classes_strings = ["a", "b"], default_string = "z">(i)
}""", {"N": 3}),
    "ml_label_encoder_v4_tensors": (ML4, """
g (string[N] s, int64[N, 2] i) => (a, b) {
  a = ai.onnx.ml.LabelEncoder<keys_strings = ["a"], values_tensor = int16[1] {3}>(s)
  b = ai.onnx.ml.LabelEncoder<keys_tensor = int64[2] {1, 2}, values_tensor = double[2] {0.5, 1.5}>(i)
}""", {"N": 3}),
    "ml_linear": (ML, """
g (float[N, 2] x, float[2] v) => (r, r1, y2, z2, y3, z3, ys, zs) {
  r = ai.onnx.ml.LinearRegressor<coefficients = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], targets = 3>(x)
  r1 = ai.onnx.ml.LinearRegressor<coefficients = [1.0, 2.0]>(v)
  y2, z2 = ai.onnx.ml.LinearClassifier<coefficients = [1.0, 2.0], intercepts = [0.5],
                                       classlabels_ints = [3, 7], post_transform = "LOGISTIC">(x)
  y3, z3 = ai.onnx.ml.LinearClassifier<coefficients = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                                       intercepts = [0.0, 0.1, 0.2], classlabels_ints = [0, 1, 2]>(x)
  ys, zs = ai.onnx.ml.LinearClassifier<coefficients = [1.0, 2.0, 3.0, 4.0], intercepts = [0.0, 0.1],
                                       classlabels_strings = ["no", "yes"]>(v)
}""", {"N": 3}),
    "ml_svm": (ML, """
g (float[N, 2] x, float[2] v) => (r, y2, z2, yp, zp, y3, z3) {
  r = ai.onnx.ml.SVMRegressor<coefficients = [1.0, -1.0], support_vectors = [1.0, 0.0, 0.0, 1.0],
      n_supports = 2, rho = [0.5], kernel_type = "RBF", kernel_params = [0.5, 0.0, 3.0]>(x)
  y2, z2 = ai.onnx.ml.SVMClassifier<coefficients = [1.0, -1.0], support_vectors = [1.0, 0.0, 0.0, 1.0],
      vectors_per_class = [1, 1], rho = [0.1], classlabels_ints = [0, 1], kernel_type = "RBF",
      kernel_params = [0.5, 0.0, 3.0]>(x)
  yp, zp = ai.onnx.ml.SVMClassifier<coefficients = [1.0, -1.0], support_vectors = [1.0, 0.0, 0.0, 1.0],
      vectors_per_class = [1, 1], rho = [0.1], classlabels_strings = ["a", "b"], prob_a = [-1.0],
      prob_b = [0.2], kernel_type = "RBF", kernel_params = [0.5, 0.0, 3.0]>(v)
  y3, z3 = ai.onnx.ml.SVMClassifier<coefficients = [1.0, -1.0, 1.0, 1.0, -1.0, 1.0],
      support_vectors = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0], vectors_per_class = [1, 1, 1], rho = [0.1, 0.2, 0.3],
      classlabels_ints = [4, 5, 6], kernel_type = "RBF", kernel_params = [0.5, 0.0, 3.0]>(x)
}""", {"N": 3}),
    "ml_trees": (ML, """
g (float[N, 2] x, double[N, 2] v) => (r, y2, z2, y3, z3) {
  r = ai.onnx.ml.TreeEnsembleRegressor<n_targets = 2, nodes_treeids = [0, 0, 0], nodes_nodeids = [0, 1, 2],
      nodes_featureids = [0, 0, 0], nodes_modes = ["BRANCH_LEQ", "LEAF", "LEAF"],
      nodes_values = [0.5, 0.0, 0.0],
      nodes_truenodeids = [1, 0, 0], nodes_falsenodeids = [2, 0, 0], target_treeids = [0, 0],
      target_nodeids = [1, 2], target_ids = [0, 1], target_weights = [1.0, 2.0]>(x)
  y2, z2 = ai.onnx.ml.TreeEnsembleClassifier<nodes_treeids = [0, 0, 0], nodes_nodeids = [0, 1, 2],
      nodes_featureids = [1, 0, 0], nodes_modes = ["BRANCH_LT", "LEAF", "LEAF"],
      nodes_values = [0.5, 0.0, 0.0],
      nodes_truenodeids = [1, 0, 0], nodes_falsenodeids = [2, 0, 0], class_treeids = [0, 0],
      class_nodeids = [1, 2], class_ids = [0, 0], class_weights = [0.2, 0.8], classlabels_int64s = [0, 1]>(x)
  y3, z3 = ai.onnx.ml.TreeEnsembleClassifier<nodes_treeids = [0, 0, 0], nodes_nodeids = [0, 1, 2],
      nodes_featureids = [1, 0, 0], nodes_modes = ["BRANCH_LT", "LEAF", "LEAF"],
      nodes_values = [0.5, 0.0, 0.0],
      nodes_truenodeids = [1, 0, 0], nodes_falsenodeids = [2, 0, 0], class_treeids = [0, 0, 0],
      class_nodeids = [1, 2, 2], class_ids = [0, 1, 2], class_weights = [0.2, 0.8, 0.1],
      classlabels_strings = ["a", "b", "c"]>(v)
}""", {"N": 3}),
    "ml_tree_ensemble_v5": ('"ai.onnx.ml" : 5', """
g (double[N, 2] x) => (y) {
  y = ai.onnx.ml.TreeEnsemble<n_targets = 3, tree_roots = [0], nodes_featureids = [0],
      nodes_modes = uint8[1] {0}, nodes_splits = double[1] {0.5}, nodes_truenodeids = [0],
      nodes_trueleafs = [1], nodes_falsenodeids = [1], nodes_falseleafs = [1], leaf_targetids = [0, 2],
      leaf_weights = double[2] {1.0, 2.0}>(x)
}""", {"N": 4}),
}

MS_CASES: dict[str, tuple[str, str, dict[str, int]]] = {
    "ms_elementwise": (MS, """
g (float[B, S, 8] x, float[8] bias, float16[S, 4] h) => (g, fg, fgb, qg, bg, hg) {
  g = com.microsoft.Gelu(x)
  fg = com.microsoft.FastGelu(x)
  fgb = com.microsoft.FastGelu(x, bias)
  qg = com.microsoft.QuickGelu<alpha = 1.5>(x)
  bg = com.microsoft.BiasGelu(x, bias)
  hg = com.microsoft.Gelu(h)
}""", {"B": 2, "S": 3}),
    "ms_normalizations": (MS, """
g (float[B, S, 8] x, float[B, S, 8] skip, float[8] gamma, float[8] beta, float[8] bias) =>
  (o, m, v, sm, o2, m2, v2, sm2, y, inv) {
  o, m, v, sm = com.microsoft.SkipLayerNormalization<epsilon = 0.00001>(x, skip, gamma, beta, bias)
  o2, m2, v2, sm2 = com.microsoft.SkipSimplifiedLayerNormalization(x, skip, gamma, bias)
  y, inv = SimplifiedLayerNormalization<axis = -1>(x, gamma)
}""", {"B": 2, "S": 3}),
    "ms_matmuls": (MS, """
g (float[B, M, K] a, float[B, N, K] bt, float[B, K, M] at, float[B, K, N] bn, int16[M, K] i, int16[K, 5] j,
   uint8[6, 2, 8] nb, float[6, 2] sc, float[B, M, 32] a32, int8[K, 5] q8, float qs) => (y, yt, yi, yn, yd) {
  y = com.microsoft.FusedMatMul<alpha = 2.0, transB = 1>(a, bt)
  yt = com.microsoft.FusedMatMul<transA = 1>(at, bn)
  yi = com.microsoft.MatMulInteger16(i, j)
  yn = com.microsoft.MatMulNBits<K = 32, N = 6, bits = 4, block_size = 16>(a32, nb, sc)
  yd = com.microsoft.DynamicQuantizeMatMul(a, q8, qs)
}""", {"B": 2, "M": 3, "K": 4, "N": 5}),
    "ms_attention": (MS, """
g (float[B, S, 8] x, float[8, 24] w, float[24] bias, float[2, B, 2, P, 4] past) => (o, pr, o2, pr2) {
  o, pr = com.microsoft.Attention<num_heads = 2>(x, w, bias)
  o2, pr2 = com.microsoft.Attention<num_heads = 2, unidirectional = 1>(x, w, bias, "", past)
}""", {"B": 2, "S": 3, "P": 4}),
    "ms_multi_head_attention": (MS, """
g (float[B, S, 8] q, float[B, L, 8] k, float[B, L, 6] v, float[B, 2, P, 4] pk, float[B, 2, P, 4] pv)
  => (o, o2, pk2, pv2) {
  o = com.microsoft.MultiHeadAttention<num_heads = 2>(q, k, v)
  o2, pk2, pv2 = com.microsoft.MultiHeadAttention<num_heads = 2>(q, k, k, "", "", "", pk, pv)
}""", {"B": 2, "S": 3, "L": 5, "P": 4}),
    "ms_group_query_attention_output": (MS, """
g (float[1, 3, 32] q, float[1, 3, 16] k, float[1, 3, 16] v) => (o) {
  seqlens = Constant<value = int32[1] {2}>()
  total = Constant<value = int32 {3}>()
  o = com.microsoft.GroupQueryAttention<num_heads = 2, kv_num_heads = 1>(q, k, v, "", "", seqlens, total)
}""", {}),
    "ms_rotary_embedding_embed_layer_norm": (MS, """
g (float[B, S, 8] x, int64[B, S] pos, float[16, 4] cos, float[16, 4] sin, int32[B, S] ids, float[10, 8] we,
   float[16, 8] pe, float[8] gamma, float[8] beta) => (r, e, mi, es) {
  r = com.microsoft.RotaryEmbedding(x, pos, cos, sin)
  e, mi, es = com.microsoft.EmbedLayerNormalization(ids, "", we, pe, "", gamma, beta)
}""", {"B": 2, "S": 3}),
    "ms_quantize_dequantize": (MS, """
g (float[N, C] x, int8 zp, uint8[N, C] q) => (a, b, c) {
  s = Constant<value_float = 0.5>()
  a = com.microsoft.QuantizeLinear(x, s, zp)
  b = com.microsoft.QuantizeLinear(x, s)
  c = com.microsoft.DequantizeLinear(q, s)
}""", {"N": 2, "C": 3}),
    "ms_qlinear_elementwise": (MS, """
g (uint8[N, 1, C] a, uint8[4, C] b, uint8 zp, bool[C] cond) => (ad, mu, sg, lr, sm, wh) {
  s = Constant<value_float = 0.5>()
  ad = com.microsoft.QLinearAdd(a, s, zp, b, s, zp, s, zp)
  mu = com.microsoft.QLinearMul(a, s, zp, b, s, zp, s, zp)
  sg = com.microsoft.QLinearSigmoid(a, s, zp, s, zp)
  lr = com.microsoft.QLinearLeakyRelu<alpha = 0.1>(a, s, zp, s, zp)
  sm = com.microsoft.QLinearSoftmax<axis = -1, opset = 13>(a, s, zp, s, zp)
  wh = com.microsoft.QLinearWhere(cond, a, s, zp, b, s, zp, s, zp)
}""", {"N": 2, "C": 3}),
    "ms_qlinear_shapes": (MS, """
g (uint8[N, C, 7, 6] x, uint8[N, 7, 6, C] xl, uint8[N, 2, 7, 6] y, uint8 zp, uint8[5, C, 3, 3] w)
  => (cc, gp, gpl, ap, apl, cv) {
  s = Constant<value_float = 0.5>()
  cc = com.microsoft.QLinearConcat<axis = 1>(s, zp, x, s, zp, y, s, zp)
  gp = com.microsoft.QLinearGlobalAveragePool(x, s, zp, s, zp)
  gpl = com.microsoft.QLinearGlobalAveragePool<channels_last = 1>(xl, s, zp, s, zp)
  ap = com.microsoft.QLinearAveragePool<kernel_shape = [3, 2], strides = [2, 2], ceil_mode = 1>(
      x, s, zp, s, zp)
  apl = com.microsoft.QLinearAveragePool<kernel_shape = [2, 2], pads = [1, 1, 1, 1], channels_last = 1>(
      xl, s, zp, s, zp)
  cv = com.microsoft.QLinearConv<strides = [2, 2]>(x, s, zp, w, s, zp, s, zp)
}""", {"N": 2, "C": 3}),
    "ms_qgemm_fused_conv": (MS, """
g (uint8[M, K] a, uint8 zp, int8[N, K] b, int8 bzp, float[B, 3, 9, 9] x, float[4, 3, 3, 3] w)
  => (yf, yq, fc) {
  s = Constant<value_float = 0.5>()
  yf = com.microsoft.QGemm<transB = 1>(a, s, zp, b, s, bzp)
  yq = com.microsoft.QGemm<transB = 1>(a, s, zp, b, s, bzp, "", s, zp)
  fc = com.microsoft.FusedConv<activation = "Relu", pads = [1, 1, 1, 1], strides = [2, 2]>(x, w)
}""", {"M": 2, "K": 3, "N": 4, "B": 2}),
    "ms_dynamic_quantize_lstm": (MS, """
g (float[T, B, 3] x, int8[2, 3, 16] w, int8[2, 4, 16] r, float[2] ws, int8[2] wz, float[2] rs, int8[2] rz)
  => (y, yh, yc) {
  y, yh, yc = com.microsoft.DynamicQuantizeLSTM<hidden_size = 4, direction = "bidirectional">(
      x, w, r, "", "", "", "", "", ws, wz, rs, rz)
}""", {"T": 5, "B": 2}),
    # what onnxruntime's quantize_dynamic makes of an optimized BERT (QAttention,
    # QEmbedLayerNormalization) and its session optimizer of quantized models (MatMulIntegerToFloat,
    # NhwcMaxPool): tests/fixtures/ortools
    "ms_qattention": (MS, """
g (uint8[B, S, 8] x, int8[8, 24] w, float[24] bias, uint8 xzp, int8 wzp, int32[B] mask,
   float[2, B, 2, P, 4] past) => (o, pr, o2, pr2) {
  s = Constant<value_float = 0.05>()
  o, pr = com.microsoft.QAttention<num_heads = 2>(x, w, bias, s, s, "", xzp, wzp)
  o2, pr2 = com.microsoft.QAttention<num_heads = 2, unidirectional = 1>(
      x, w, bias, s, s, mask, xzp, wzp, past)
}""", {"B": 2, "S": 3, "P": 4}),
    "ms_qembed_layer_norm": (MS, """
g (int32[B, S] ids, int32[B, S] seg, uint8[10, 8] we, uint8[16, 8] pe, uint8[2, 8] se, uint8[8] gamma,
   uint8[8] beta, int32[B, S] mask, uint8 zp) => (y, mi) {
  s = Constant<value_float = 0.02>()
  y, mi = com.microsoft.QEmbedLayerNormalization<epsilon = 0.00001>(
      ids, seg, we, pe, se, gamma, beta, mask, s, s, s, s, s, zp, zp, zp, zp, zp)
}""", {"B": 2, "S": 3}),
    "ms_matmul_integer_to_float": (MS, """
g (uint8[B, M, K] a, int8[K, N] b, uint8 azp, int8 bzp, float[N] bias, int8[B, K, N] bb) => (y, yb, y3) {
  s = Constant<value_float = 0.05>()
  y = com.microsoft.MatMulIntegerToFloat(a, b, s, s, azp, bzp)
  yb = com.microsoft.MatMulIntegerToFloat(a, b, s, s, azp, bzp, bias)
  y3 = com.microsoft.MatMulIntegerToFloat(a, bb, s, s)
}""", {"B": 2, "M": 3, "K": 4, "N": 5}),
    "ms_matmul_bnb4": (MS, """
g (float[B, M, 32] a, uint8[96] q, float[12] absmax, float[B, M, 6] at) => (y, yt) {
  y = com.microsoft.MatMulBnb4<K = 32, N = 6, block_size = 16, quant_type = 1>(a, q, absmax)
  yt = com.microsoft.MatMulBnb4<K = 32, N = 6, block_size = 16, quant_type = 0, transB = 0>(at, q, absmax)
}""", {"B": 2, "M": 3}),
    "ms_gather_block_quantized": (MS, """
g (int64[B, S] ids, uint8[10, 16] packed, float[10, 1] sc, uint8[10, 1] zp, int32[S] pos, float[10, 4] sc4)
  => (y, y8, y2, yp) {
  q4 = Constant<value = uint4[10, 32] {""" + ", ".join(str(k % 16) for k in range(320)) + """}>()
  s4 = Constant<value = float[10, 1] {""" + ", ".join(["0.1"] * 10) + """}>()
  y = com.microsoft.GatherBlockQuantized<block_size = 32, quantize_axis = 1>(q4, ids, s4)
  y8 = com.microsoft.GatherBlockQuantized<block_size = 16, bits = 8, quantize_axis = 1>(packed, ids, sc, zp)
  y2 = com.microsoft.GatherBlockQuantized<block_size = 16, bits = 2, quantize_axis = 1>(packed, pos, sc4)
  yp = com.microsoft.GatherBlockQuantized<block_size = 32, quantize_axis = 1>(packed, ids, sc, zp)
}""", {"B": 2, "S": 3}),
    "ms_nhwc_max_pool": (MS, """
g (uint8[N, 7, 6, C] x, int8[N, 9, 9, C] xi) => (y, yc, yi) {
  y = com.microsoft.NhwcMaxPool<kernel_shape = [3, 3], strides = [2, 2]>(x)
  yc = com.microsoft.NhwcMaxPool<kernel_shape = [2, 2], strides = [2, 2], ceil_mode = 1>(x)
  yi = com.microsoft.NhwcMaxPool<kernel_shape = [3, 3], pads = [1, 1, 1, 1]>(xi)
}""", {"N": 2, "C": 3}),
    # onnxruntime's CPU session at ORT_ENABLE_ALL saves the blocked layout: ReorderInput pads the
    # channels to the CPU's block (8 or 16), so only a multiple of 16 is known
    "nchwc_layout": ('"com.microsoft.nchwc" : 1', """
g (float[N, 16, H, W] x, float[N, H, W, 32] xl) => (y, yl, c, mp, ap, gp, up) {
  b = com.microsoft.nchwc.ReorderInput(x)
  bl = com.microsoft.nchwc.ReorderInput<channels_last = 1>(xl)
  wt = Constant<value = float[16, 16, 3, 3] {""" + ", ".join(["0.01"] * 16 * 16 * 9) + """}>()
  c = com.microsoft.nchwc.Conv<pads = [1, 1, 1, 1], strides = [2, 2], activation = "Relu">(b, wt)
  y = com.microsoft.nchwc.ReorderOutput<channels = 16>(c)
  yl = com.microsoft.nchwc.ReorderOutput<channels = 32, channels_last = 1>(bl)
  mp0 = com.microsoft.nchwc.MaxPool<kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]>(b)
  mp = com.microsoft.nchwc.ReorderOutput<channels = 16>(mp0)
  ap0 = com.microsoft.nchwc.AveragePool<kernel_shape = [2, 2], strides = [2, 2], ceil_mode = 1>(b)
  ap = com.microsoft.nchwc.ReorderOutput<channels = 16>(ap0)
  gp0 = com.microsoft.nchwc.GlobalAveragePool(b)
  gp = com.microsoft.nchwc.ReorderOutput<channels = 16>(gp0)
  up0 = com.microsoft.nchwc.Upsample<scales = [1, 1, 2, 2]>(b)
  up = com.microsoft.nchwc.ReorderOutput<channels = 16>(up0)
}""", {"N": 2, "H": 7, "W": 6}),
}


_NP_FEEDS = {DataType.FLOAT: np.float32, DataType.DOUBLE: np.float64, DataType.INT64: np.int64,
             DataType.INT32: np.int32, DataType.BOOL: np.bool_, DataType.UINT8: np.uint8,
             DataType.INT8: np.int8, DataType.FLOAT16: np.float16, DataType.INT16: np.int16}


def _feeds(model: onnxlite.Model, sizes: dict[str, int], ints_high: int = 2) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    feeds: dict[str, Any] = {}
    for vi in model.graph.inputs:
        shape = [d if isinstance(d, int) else sizes[d] for d in vi.shape or ()]
        if vi.dtype == DataType.STRING:
            feeds[vi.name] = rng.choice(np.array(["a", "b", "z"], dtype=object), shape)
            continue
        dt = _NP_FEEDS[vi.dtype]  # type: ignore[index]
        if dt is np.bool_:
            feeds[vi.name] = np.asarray(rng.random(shape) < 0.5)
        elif np.issubdtype(dt, np.integer):
            feeds[vi.name] = rng.integers(0, ints_high, shape).astype(dt)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(dt)
    return feeds


def check_against_onnxruntime(model: onnxlite.Model, sizes: dict[str, int],
                              feeds: dict[str, Any] | None = None) -> None:
    """Run ``model`` in onnxruntime and compare every graph output with the inferred type."""
    session = ort.InferenceSession(onnxlite.dumps(model), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    real = dict(zip(names, session.run(None, feeds if feeds is not None else _feeds(model, sizes)),
                    strict=True))
    result = infer.infer_types(model)
    assert result.contradictions == []
    assert result.unknown == [], [(u.value, u.reason) for u in result.unknown]
    for out, array in real.items():
        t = result.type_of(out)
        if isinstance(array, list):  # ZipMap: a sequence of maps
            assert isinstance(t, infer.SequenceType) and isinstance(t.elem, infer.MapType), (out, t)
            key = next(iter(array[0])) if array and array[0] else None
            want = DataType.STRING if isinstance(key, str) else DataType.INT64
            assert t.elem.key == want, (out, t)
            continue
        assert isinstance(t, infer.TensorType), (out, t)
        dtype = DataType.STRING if array.dtype.kind in "OSU" else \
            DataType(onnx.helper.np_dtype_to_tensor_dtype(array.dtype))
        assert t.dtype == dtype, (out, infer.format_type(t), array.dtype)
        assert t.shape is not None, (out, t)
        evaluated = tuple(infer.evaluate(d, sizes) for d in t.shape)
        assert evaluated == array.shape, f"{out}: {infer.format_type(t)} -> {evaluated}, real {array.shape}"


def _model(imports: str, text: str, default_opset: int = 17) -> onnxlite.Model:
    return onnxlite.parse_model(f'<ir_version: 9, opset_import: ["" : {default_opset}, {imports}]>\n{text}')


@pytest.mark.parametrize("name", sorted(CASES) + sorted(MS_CASES))
def test_rule_matches_onnxruntime(name: str) -> None:
    imports, text, sizes = CASES.get(name) or MS_CASES[name]
    check_against_onnxruntime(_model(imports, text), sizes)


def _map_model(op: str, key: int, value: int, attrs: dict[str, Any]) -> onnx.ModelProto:
    h = onnx.helper
    node = h.make_node(op, ["x"], ["y"], domain="ai.onnx.ml", **attrs)
    x = h.make_value_info("x", h.make_map_type_proto(key, h.make_tensor_type_proto(value, None)))
    g = h.make_graph([node], "g", [x], [h.make_empty_tensor_value_info("y")])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 17), h.make_opsetid("ai.onnx.ml", 3)],
                        ir_version=9)


@pytest.mark.parametrize(("op", "key", "value", "attrs", "feed", "expected"), [
    ("CastMap", 7, 1, {}, {1: 2.0, 3: 4.0, 5: 1.0}, "float[1,unk_0]"),
    ("CastMap", 7, 1, {"cast_to": "TO_STRING"}, {1: 2.0}, "string[1,unk_0]"),
    ("CastMap", 7, 1, {"cast_to": "TO_INT64", "map_form": "SPARSE", "max_map": 7}, {1: 2.0}, "int64[1,7]"),
    ("DictVectorizer", 7, 1, {"int64_vocabulary": [1, 3, 5, 7]}, {1: 2.0, 3: 4.0}, "float[1,4]"),
    ("DictVectorizer", 8, 1, {"string_vocabulary": ["a", "b", "c"]}, {"a": 1.5}, "float[1,3]"),
])
def test_map_inputs(op: str, key: int, value: int, attrs: dict[str, Any], feed: dict[Any, Any],
                    expected: str) -> None:
    """Ops on a map input: the inferred type printed, and the shape onnxruntime computes (the
    dense CastMap's width is the map's size: a fresh symbol)."""
    m = _map_model(op, key, value, attrs)
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": feed})
    t = infer.infer_types(onnxlite.loads(m.SerializeToString())).type_of("y")
    assert infer.format_type(t) == expected
    assert isinstance(t, infer.TensorType) and t.shape is not None
    assert tuple(infer.evaluate(d, {"unk_0": len(feed)}) for d in t.shape) == y.shape


def test_zipmap_sequence_of_maps() -> None:
    m = _model(ML, """
g (float[N, 2] x) => (a, b) {
  a = ai.onnx.ml.ZipMap<classlabels_int64s = [1, 2]>(x)
  b = ai.onnx.ml.ZipMap<classlabels_strings = ["p", "q"]>(x)
}""")
    check_against_onnxruntime(m, {"N": 3})
    r = infer.infer_types(m)
    assert infer.format_type(r.type_of("a")) == "seq(map(int64, float[]))"
    assert infer.format_type(r.type_of("b")) == "seq(map(string, float[]))"


@pytest.mark.parametrize(("op", "groups", "states"), [("Adagrad", 3, 1), ("Momentum", 3, 1), ("Adam", 4, 2)])
def test_training_optimizers(op: str, groups: int, states: int) -> None:
    """X_new.. then each state's new values, typed as the tensors they replace (onnxruntime has
    no kernels for these: the spec's layout is the oracle)."""
    xs = ["float[N, 3] x1", "double[2] x2"]
    gs = ["float[N, 3] g1", "double[2] g2"]
    ss = [f"float[N, 3] s{k}1, double[2] s{k}2" for k in range(states)]
    outs = ["o1", "o2", *[f"ns{k}{j}" for k in range(states) for j in (1, 2)]]
    attrs = '<alpha = 0.9, beta = 1.0, mode = "standard", norm_coefficient = 0.0>' if op == "Momentum" else ""
    text = f"""
g (float r, int64 t, {", ".join(xs)}, {", ".join(gs)}, {", ".join(ss)}) => ({", ".join(outs)}) {{
  {", ".join(outs)} = ai.onnx.preview.training.{op}{attrs}(r, t, x1, x2, g1, g2,
      {", ".join(f"s{k}{j}" for k in range(states) for j in (1, 2))})
}}"""
    m = _model('"ai.onnx.preview.training" : 1', text)
    r = infer.infer_types(m)
    got = [infer.format_type(r.type_of(o)) for o in outs]
    assert got == ["float[N,3]", "double[2]"] * (1 + states)
    assert len(m.graph.nodes[0].inputs) == 2 + 2 * groups


def test_gradient_outputs_have_the_shapes_of_xs() -> None:
    """Gradient: output i is d(y)/d(xs[i]), shaped as input i; zs are inputs after xs with no
    output (the spec is the oracle: onnx has no inference and onnxruntime no kernel for it)."""
    text = """
g (float[N, 3] w, double[4] z, float[N, 2] x) => (dw, dz) {
  h = MatMul(x, w2)
  w2 = Constant<value = float[2, 3] {1, 2, 3, 4, 5, 6}>()
  dw, dz = ai.onnx.preview.training.Gradient<xs = ["w", "z"], zs = ["x"], y = "h">(w, z, x)
  dw2, dz2 = ai.onnx.preview.training.Gradient<xs = ["w", "z"], y = "h">(w, z)
}"""
    m = _model('"ai.onnx.preview.training" : 1', text)
    r = infer.infer_types(m)
    assert infer.format_type(r.type_of("dw")) == "float[N,3]"
    assert infer.format_type(r.type_of("dz")) == "double[4]"
    assert infer.format_type(r.type_of("dz2")) == "double[4]"
    bad = _model('"ai.onnx.preview.training" : 1', """
g (float[N, 3] w) => (dw) {
  dw = ai.onnx.preview.training.Gradient<xs = ["w"], zs = ["q"], y = "h">(w)
}""")
    r = infer.infer_types(bad)
    assert [u.reason for u in r.unknown if u.value == "dw"] == ["1 inputs for 1 xs and 1 zs"]


# --- real scikit-learn exports --------------------------------------------------------------


def _typed_everywhere(m: onnx.ModelProto, batch: int) -> tuple[dict[str, int], list[str]]:
    """Infer ``m`` (value_info stripped), run it with every node output exposed, and compare;
    returns the verdict counts and the problems (wrong or not fully inferred)."""
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    m = m2
    for vi in m.graph.input:  # skl2onnx leaves the batch dim unnamed: name it so it can be evaluated
        for d in vi.type.tensor_type.shape.dim:
            if not d.HasField("dim_value") and not d.dim_param:
                d.dim_param = "N"
    probe = onnx.ModelProto()
    probe.CopyFrom(m)
    del probe.graph.value_info[:]
    declared = {o.name for o in probe.graph.output}
    probe.graph.output.extend(onnx.helper.make_empty_tensor_value_info(o) for n in probe.graph.node
                              for o in n.output if o and o not in declared)
    feeds: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    rng = np.random.default_rng(1)
    for vi in m.graph.input:
        tt = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else sizes.setdefault(d.dim_param, batch)
                 for d in tt.shape.dim]
        dtype = DataType(tt.elem_type).np_dtype
        feeds[vi.name] = (rng.integers(0, 3, shape) if dtype.kind in "iu" else rng.standard_normal(shape)
                          ).astype(dtype)
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    real = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds), strict=True))
    stripped = onnx.ModelProto()
    stripped.CopyFrom(m)
    del stripped.graph.value_info[:]
    for o in stripped.graph.output:
        o.ClearField("type")
    result = infer.infer_types(onnxlite.loads(stripped.SerializeToString()))
    counts = {"right": 0, "wrong": 0, "missing": 0}
    problems = []
    for name, value in real.items():
        t = result.type_of(name)
        if isinstance(value, list):
            verdict = "right" if isinstance(t, infer.SequenceType) and isinstance(t.elem, infer.MapType) \
                else "missing"
        else:
            if isinstance(t, infer.TensorType) and t.shape is not None:
                t = infer.TensorType(t.dtype, tuple(infer.evaluate(d, sizes) for d in t.shape))
            dtype = DataType.STRING if value.dtype.kind in "OSU" else \
                DataType(onnx.helper.np_dtype_to_tensor_dtype(value.dtype))
            verdict = judge(t, (dtype, value.shape))
        counts[verdict] += 1
        if verdict != "right":
            problems.append(f"{name}: {verdict}, inferred {infer.format_type(result.type_of(name))}")
    assert result.contradictions == []
    return counts, problems


@pytest.mark.parametrize("name", ["scaler_logreg", "random_forest_strings"])
def test_sklearn_fixtures_typed_fully(name: str) -> None:
    m = onnx.load(str(FIXTURES / "sklearn" / f"{name}.onnx"))
    counts, problems = _typed_everywhere(m, 3)
    assert problems == []
    assert counts["right"] >= 3


def test_sklearn_dictvectorizer_fixture() -> None:
    """A map(string, float) graph input through DictVectorizer and TreeEnsembleRegressor."""
    m = onnx.load(str(FIXTURES / "sklearn" / "dictvectorizer_tree.onnx"))
    del m.graph.value_info[:]
    names = [o for n in m.graph.node for o in n.output]
    declared = {o.name for o in m.graph.output}
    m.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n) for n in names if n not in declared)
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    real = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input": {"a": 1.0}}),
                    strict=True))
    for o in m.graph.output:
        o.ClearField("type")
    r = infer.infer_types(onnxlite.loads(m.SerializeToString()))
    assert r.unknown == []
    assert {n: infer.format_type(r.type_of(n)) for n in names} == \
        {n: f"float[{','.join(map(str, real[n].shape))}]" for n in names}


def _sklearn_exports() -> dict[str, onnx.ModelProto]:
    sklearn = pytest.importorskip("sklearn")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn import ensemble, linear_model, neighbors, pipeline, preprocessing, svm, tree

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4)).astype(np.float32)
    y2 = (x[:, 0] > 0).astype(np.int64)
    y3 = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5).astype(np.int64)
    yr = x @ np.array([1.0, 2.0, -1.0, 0.5], dtype=np.float32)
    models: dict[str, Any] = {
        "logreg3": (linear_model.LogisticRegression(max_iter=200), y3),
        "linear_svc2": (svm.LinearSVC(), y2),
        "svc2_prob": (svm.SVC(probability=True, random_state=0), y2),
        "svc3": (svm.SVC(), y3),
        "svr": (svm.SVR(), yr),
        "tree3": (tree.DecisionTreeClassifier(max_depth=3), y3),
        "forest_reg": (ensemble.RandomForestRegressor(n_estimators=3, max_depth=3), yr),
        "gbc2": (ensemble.GradientBoostingClassifier(n_estimators=3), y2),
        "knn": (neighbors.KNeighborsClassifier(n_neighbors=3), y3),
        "pipeline": (pipeline.make_pipeline(preprocessing.Normalizer(), preprocessing.Binarizer(),
                                            preprocessing.StandardScaler(), linear_model.LinearRegression()),
                     yr),
    }
    out = {}
    for name, (est, target) in models.items():
        est.fit(x, target)
        out[name] = skl2onnx.to_onnx(est, initial_types=[("x", FloatTensorType([None, 4]))],
                                     target_opset={"": 17, "ai.onnx.ml": 3})
    assert sklearn is not None
    return out


@pytest.fixture(scope="module")
def sklearn_exports() -> dict[str, onnx.ModelProto]:
    return _sklearn_exports()


SKLEARN_MODELS = ["logreg3", "linear_svc2", "svc2_prob", "svc3", "svr", "tree3", "forest_reg", "gbc2", "knn",
                  "pipeline"]


@pytest.mark.parametrize("name", SKLEARN_MODELS)
def test_sklearn_exports_typed_fully(name: str, sklearn_exports: dict[str, onnx.ModelProto]) -> None:
    """Every node output of a fresh skl2onnx export: inferred exactly (batch symbol evaluated)."""
    counts, problems = _typed_everywhere(sklearn_exports[name], 5)
    assert problems == []
    assert counts["right"] >= 1


@pytest.mark.parametrize(("text", "expected"), [
    # onnxruntime has no CPU kernel for these: the types the specs give, printed
    ("""g (float[B, S, 8] x, float[8] b, float[B, S, 8] skip) => (y) {
  y = com.microsoft.BiasAdd(x, b, skip)
}""", "float[B,S,8]"),
    ("""g (float16[B, S, 10] x, float16[10] b, float16[B, S, D] z) => (y, w) {
  y = com.microsoft.BiasSplitGelu(x, b)
  w = com.microsoft.BiasSplitGelu(z, b)
}""", "float16[B,S,5] float16[B,S,D//2]"),
    ("""g (uint8[N, C, 7, 6] x, float s, uint8 zp) => (y) {
  y = com.microsoft.QLinearReduceMean<axes = [2, -1], keepdims = 0>(x, s, zp, s, zp)
}""", "uint8[N,C]"),
    ("""g (uint8[N, C, 7, 6] x, float s, uint8 zp) => (y) {
  y = com.microsoft.QLinearReduceMean<axes = [1], keepdims = 1>(x, s, zp, s, zp)
}""", "uint8[N,1,7,6]"),
    ("""g (float[B, S, 2, 3, 4] qkv) => (y) { y = com.microsoft.MultiHeadAttention<num_heads = 2>(qkv) }""",
     "float[B,S,8]"),
    ("""g (float16[B, S, 32] qkv, int32[B] sl, int32 t) => (y, pk, pv) {
  y, pk, pv = com.microsoft.GroupQueryAttention<num_heads = 2, kv_num_heads = 1>(qkv, "", "", "", "", sl, t)
}""", "float16[B,S,16] float16[B,1,unk_0,8] float16[B,1,unk_1,8]"),
    ("""g (float[N, 9, 9, 3] x, float[4, 3, 3, 3] w) => (y) {
  y = com.microsoft.NhwcConv<strides = [2, 2]>(x, w)
}""", "float[N,4,4,4]"),
    ("""g (int8[B, S, 8] x, float s, float[8] g) => (y, z) {
  y = com.microsoft.QOrderedGelu(x, s, s)
  z = com.microsoft.QOrderedLayerNormalization(x, s, g, "", s)
}""", "int8[B,S,8] int8[B,S,8]"),
    ("""g (int8[B, S, 8] a, float s, int8[8, 5] b) => (y) {
  y = com.microsoft.QOrderedMatMul<order_A = 1, order_B = 0, order_Y = 1>(a, s, b, s, s)
}""", "int8[B,S,unk_0]"),
])
def test_contrib_types_printed(text: str, expected: str) -> None:
    m = _model(MS, text)
    r = infer.infer_types(m)
    assert " ".join(infer.format_type(r.type_of(o.name)) for o in m.graph.outputs) == expected


def test_nchwc_reorder_input_pads_channels_to_the_cpus_block() -> None:
    """4 channels become 8 or 16 (the CPU's block, unknown to the model): a fresh symbol, never a
    number; ReorderOutput's channels attribute gives the real count back."""
    m = _model('"com.microsoft.nchwc" : 1', """
g (float[N, 4, 5, 4] x) => (b, y) {
  b = com.microsoft.nchwc.ReorderInput(x)
  y = com.microsoft.nchwc.ReorderOutput<channels = 4>(b)
}""")
    r = infer.infer_types(m)
    b = r.type_of("b")
    assert isinstance(b, infer.TensorType) and b.shape is not None
    assert b.shape[0] == infer.symbol("N") and not isinstance(b.shape[1], int) and b.shape[2:] == (5, 4)
    assert infer.format_type(r.type_of("y")) == "float[N,4,5,4]"
    session = ort.InferenceSession(onnxlite.dumps(m), providers=["CPUExecutionProvider"])
    real_b, real_y = session.run(None, {"x": np.ones((2, 4, 5, 4), np.float32)})
    assert real_b.shape[0] == 2 and real_b.shape[1] in (8, 16) and real_y.shape == (2, 4, 5, 4)


def test_qattention_needs_num_heads() -> None:
    m = _model(MS, """
g (uint8[B, S, 8] x, int8[8, 24] w, float[24] bias, float s) => (o) {
  o = com.microsoft.QAttention(x, w, bias, s, s)
}""")
    r = infer.infer_types(m)
    assert r.type_of("o") is None
    assert any("num_heads" in u.reason for u in r.unknown)
