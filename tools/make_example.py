"""Regenerate tools/example/tiny_cnn.onnx, the small model the README's quick start uses.

Built with onnxlite itself (no onnx package needed): a Conv -> Relu -> Flatten -> Gemm ->
Softmax classifier with a symbolic batch dimension, metadata and doc strings. Deterministic:
the same bytes every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import onnxlite
from onnxlite import _proto

OUT = Path(__file__).resolve().parent / "example" / "tiny_cnn.onnx"


def _value(proto: object, name: str, dims: list[int | str]) -> None:
    proto.name = name  # type: ignore[attr-defined]
    tensor_type = proto.type.tensor_type  # type: ignore[attr-defined]
    tensor_type.elem_type = int(onnxlite.DataType.FLOAT)
    for d in dims:
        dim = tensor_type.shape.dim.add()
        if isinstance(d, str):
            dim.dim_param = d
        else:
            dim.dim_value = d


def build() -> onnxlite.Model:
    rng = np.random.default_rng(0)
    m = _proto.ModelProto(ir_version=10, producer_name="onnxlite-example", producer_version="1")
    m.doc_string = "A tiny CNN classifier for 3x8x8 images (onnxlite's quick-start example)."
    m.opset_import.add(domain="", version=21)
    m.metadata_props.add(key="license", value="Apache-2.0")
    g = m.graph
    g.name = "tiny_cnn"
    _value(g.input.add(), "image", ["batch", 3, 8, 8])
    _value(g.output.add(), "probs", ["batch", 10])
    weights = {
        "conv.weight": rng.standard_normal((8, 3, 3, 3)).astype(np.float32),
        "conv.bias": np.zeros(8, np.float32),
        "fc.weight": rng.standard_normal((10, 8 * 6 * 6)).astype(np.float32) * 0.05,
        "fc.bias": np.zeros(10, np.float32),
    }
    for name, array in weights.items():
        g.initializer.append(onnxlite.Tensor.from_numpy(array, name).proto)
    conv = g.node.add(op_type="Conv", name="conv", input=["image", "conv.weight", "conv.bias"], output=["c"])
    conv.attribute.add(name="kernel_shape", type=7, ints=[3, 3])
    conv.doc_string = "3x3 convolution, no padding"
    g.node.add(op_type="Relu", name="relu", input=["c"], output=["r"])
    flat = g.node.add(op_type="Flatten", name="flatten", input=["r"], output=["f"])
    flat.attribute.add(name="axis", type=2, i=1)
    gemm = g.node.add(op_type="Gemm", name="fc", input=["f", "fc.weight", "fc.bias"], output=["logits"])
    gemm.attribute.add(name="transB", type=2, i=1)
    soft = g.node.add(op_type="Softmax", name="softmax", input=["logits"], output=["probs"])
    soft.attribute.add(name="axis", type=2, i=-1)
    return onnxlite.Model(m)


def main() -> None:
    OUT.parent.mkdir(exist_ok=True)
    onnxlite.save(build(), OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
