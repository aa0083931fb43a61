"""The inference engine: data propagation, declared types, contradictions, subgraphs, functions,
custom rules, bounds, and `apply`. Models are written in the ONNX textual syntax."""

from __future__ import annotations

import pytest

import onnxlite
from onnxlite import infer
from onnxlite.dtypes import DataType
from onnxlite.infer import TensorType, parse_dim


def model(body: str, opset: int = 18, extra: str = "") -> onnxlite.Model:
    return onnxlite.parse_model(f'<ir_version: 8, opset_import: ["" : {opset}{extra}]>\n{body}')


def tt(dtype: str, *dims: int | str) -> TensorType:
    return TensorType(DataType[dtype.upper()], tuple(parse_dim(d) if isinstance(d, str) else d for d in dims))


SHAPE_CHAIN = """
g (float[N, 6] x) => (y) {
  zero = Constant<value = int64[1] {0}>()
  two = Constant<value_int = 2>()
  minus1 = Constant<value_ints = [-1]>()
  sh = Shape(x)
  a = Gather(sh, zero)
  b = Mul(a, two)
  c = Concat<axis=0>(b, minus1)
  y = Reshape(x, c)
}"""


def test_shape_computation_resolves_reshape() -> None:
    """Shape -> Gather -> Mul -> Concat -> Reshape: the target [2*N, -1] is known symbolically."""
    r = infer.infer_types(model(SHAPE_CHAIN))
    assert r.type_of("c") == tt("int64", 2)
    assert r.type_of("y") == tt("float", "2*N", 3)
    assert r.to_json() == {"values": 8, "inferred": 8, "unknown": [], "contradictions": []}


def test_dims_bind_symbols_and_input_shapes_override() -> None:
    r = infer.infer_types(model(SHAPE_CHAIN), dims={"N": 5})
    assert r.type_of("y") == tt("float", 10, 3)
    r = infer.infer_types(model(SHAPE_CHAIN), input_shapes={"x": ["B", 6]})
    assert r.type_of("y") == tt("float", "2*B", 3)
    with pytest.raises(infer.InferError, match="'nope'"):
        infer.infer_types(model(SHAPE_CHAIN), input_shapes={"nope": [1]})


def test_custom_rule_registration_and_lookup_by_opset() -> None:
    @infer.register_rule("Twice", domain="test.custom")
    def _v1(ctx: infer.Context) -> None:
        ctx.set_tensor(0, ctx.dtype(0), [2 * d for d in ctx.shape(0)])

    @infer.register_rule("Twice", domain="test.custom", since=3)
    def _v3(ctx: infer.Context) -> None:
        ctx.set_tensor(0, ctx.dtype(0), [3 * d for d in ctx.shape(0)])

    body = 'g (float[N] x) => (y) { y = test.custom.Twice(x) }'
    assert infer.infer_types(model(body, extra=', "test.custom" : 2')).type_of("y") == tt("float", "2*N")
    assert infer.infer_types(model(body, extra=', "test.custom" : 3')).type_of("y") == tt("float", "3*N")
    assert infer.find_rule("test.custom", "Twice", 1) is _v1


def test_unknown_op_is_reported() -> None:
    r = infer.infer_types(model('g (float[N] x) => (y) { y = test.none.Mystery(x) }',
                                extra=', "test.none" : 1'))
    assert r.type_of("y") is None
    assert [(u.value, u.node, u.op_type, u.graph) for u in r.unknown] == [("y", "#0", "Mystery", "")]
    assert "test.none.Mystery" in r.unknown[0].reason
