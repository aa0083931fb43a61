"""Build a decoder-only transformer of about 10,000 nodes, named the way PyTorch's TorchScript
exporter names nodes (``/model/layers.3/self_attn/q_proj/MatMul``), with the shape-computation
chains (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) and scalar Constant nodes such exports
carry. Weights are tiny (hidden size 16) so the file stays small; the structure is what matters.

    python tools/make_big_transformer.py OUT.onnx [--layers N]

Used by tools/bench_draw.py and tests/test_draw*.py (with few layers there).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import onnxlite  # noqa: E402
from onnxlite.builder import GraphBuilder  # noqa: E402


class _Layer:
    """Adds nodes under one scope prefix with TorchScript-like unique names."""

    def __init__(self, g: GraphBuilder, counts: dict[str, int]) -> None:
        self.g = g
        self.counts = counts

    def op(self, scope: str, op_type: str, *inputs: object, **attrs: object) -> object:
        key = f"{scope}/{op_type}"
        k = self.counts.get(key, 0)
        self.counts[key] = k + 1
        name = key if k == 0 else f"{key}_{k}"
        return self.g.op(op_type, *inputs, name=name, outputs=name + "_output_0", **attrs)

    def const(self, scope: str, value: object) -> object:
        return self.op(scope, "Constant", value=np.asarray(value))


def _rms_norm(b: _Layer, scope: str, x: object, weight: object) -> object:
    two = b.const(scope, np.float32(2.0))
    sq = b.op(scope, "Pow", x, two)
    mean = b.op(scope, "ReduceMean", sq, b.const(scope, np.array([-1], np.int64)), keepdims=1)
    eps = b.const(scope, np.float32(1e-6))
    std = b.op(scope, "Sqrt", b.op(scope, "Add", mean, eps))
    inv = b.op(scope, "Reciprocal", std)
    return b.op(scope, "Mul", weight, b.op(scope, "Mul", x, inv))


def _heads(b: _Layer, scope: str, x: object, heads: int) -> object:
    """[B, T, H*D] -> [B, H, T, D] through a runtime-built shape, as exporters write it."""
    shape = b.op(scope, "Shape", x)
    bsz = b.op(scope, "Gather", shape, b.const(scope, np.int64(0)), axis=0)
    seq = b.op(scope, "Gather", b.op(scope, "Shape", x), b.const(scope, np.int64(1)), axis=0)
    ub = b.op(scope, "Unsqueeze", bsz, b.const(scope, np.array([0], np.int64)))
    us = b.op(scope, "Unsqueeze", seq, b.const(scope, np.array([0], np.int64)))
    target = b.op(scope, "Concat", ub, us, b.const(scope, np.array([heads, -1], np.int64)), axis=0)
    return b.op(scope, "Transpose", b.op(scope, "Reshape", x, target), perm=[0, 2, 1, 3])


def _rotary(b: _Layer, scope: str, x: object, cos: object, sin: object, half: int) -> object:
    first = b.op(
        scope,
        "Slice",
        x,
        b.const(scope, np.array([0], np.int64)),
        b.const(scope, np.array([half], np.int64)),
        b.const(scope, np.array([-1], np.int64)),
    )
    second = b.op(
        scope,
        "Slice",
        x,
        b.const(scope, np.array([half], np.int64)),
        b.const(scope, np.array([2**62], np.int64)),
        b.const(scope, np.array([-1], np.int64)),
    )
    rotated = b.op(scope, "Concat", b.op(scope, "Neg", second), first, axis=-1)
    return b.op(scope, "Add", b.op(scope, "Mul", x, cos), b.op(scope, "Mul", rotated, sin))


def build(layers: int = 91, hidden: int = 16, heads: int = 2, vocab: int = 32) -> onnxlite.Model:
    """A decoder with ``layers`` identical blocks (91 gives just over 10,000 nodes)."""
    rng = np.random.default_rng(0)
    g = GraphBuilder("big_transformer", opset=18)
    counts: dict[str, int] = {}
    b = _Layer(g, counts)
    head_dim = hidden // heads

    def weight(name: str, *shape: int) -> object:
        return g.initializer(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    ids = g.input("input_ids", "int64", ["batch", "sequence"])
    mask = g.input("attention_mask", "float32", ["batch", 1, "sequence", "sequence"])
    cos = g.input("cos", "float32", ["sequence", head_dim])
    sin = g.input("sin", "float32", ["sequence", head_dim])
    x = b.op("/model/embed_tokens", "Gather", weight("model.embed_tokens.weight", vocab, hidden), ids, axis=0)
    scale = np.float32(np.sqrt(head_dim))
    for i in range(layers):
        p = f"/model/layers.{i}"
        w = f"model.layers.{i}"
        h = _rms_norm(b, f"{p}/input_layernorm", x, weight(f"{w}.input_layernorm.weight", hidden))
        sa = f"{p}/self_attn"
        q = b.op(f"{sa}/q_proj", "MatMul", h, weight(f"{w}.self_attn.q_proj.weight", hidden, hidden))
        k = b.op(f"{sa}/k_proj", "MatMul", h, weight(f"{w}.self_attn.k_proj.weight", hidden, hidden))
        v = b.op(f"{sa}/v_proj", "MatMul", h, weight(f"{w}.self_attn.v_proj.weight", hidden, hidden))
        q = _rotary(b, sa, _heads(b, sa, q, heads), cos, sin, head_dim // 2)
        k = _rotary(b, sa, _heads(b, sa, k, heads), cos, sin, head_dim // 2)
        v = _heads(b, sa, v, heads)
        scores = b.op(sa, "MatMul", q, b.op(sa, "Transpose", k, perm=[0, 1, 3, 2]))
        scores = b.op(sa, "Add", b.op(sa, "Div", scores, b.const(sa, scale)), mask)
        attn = b.op(sa, "MatMul", b.op(sa, "Softmax", scores, axis=-1), v)
        attn = b.op(sa, "Transpose", attn, perm=[0, 2, 1, 3])
        shape = b.op(sa, "Shape", h)
        flat = b.op(sa, "Reshape", attn, shape)
        o = b.op(f"{sa}/o_proj", "MatMul", flat, weight(f"{w}.self_attn.o_proj.weight", hidden, hidden))
        x = b.op(p, "Add", x, o)
        h = _rms_norm(
            b, f"{p}/post_attention_layernorm", x, weight(f"{w}.post_attention_layernorm.weight", hidden)
        )
        mlp = f"{p}/mlp"
        gate = b.op(f"{mlp}/gate_proj", "MatMul", h, weight(f"{w}.mlp.gate_proj.weight", hidden, 2 * hidden))
        up = b.op(f"{mlp}/up_proj", "MatMul", h, weight(f"{w}.mlp.up_proj.weight", hidden, 2 * hidden))
        act = b.op(f"{mlp}/act_fn", "Mul", gate, b.op(f"{mlp}/act_fn", "Sigmoid", gate))
        down = b.op(
            f"{mlp}/down_proj",
            "MatMul",
            b.op(mlp, "Mul", act, up),
            weight(f"{w}.mlp.down_proj.weight", 2 * hidden, hidden),
        )
        x = b.op(p, "Add", x, down)
    x = _rms_norm(b, "/model/norm", x, weight("model.norm.weight", hidden))
    logits = b.op("/lm_head", "MatMul", x, weight("lm_head.weight", hidden, vocab))
    g.output(logits, "float32", ["batch", "sequence", vocab])
    return g.model(producer_name="onnxlite-tools", producer_version="make_big_transformer")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=91)
    args = ap.parse_args()
    model = build(args.layers)
    onnxlite.save(model, args.out)
    print(f"{args.out}: {len(model.graph.nodes)} nodes")


if __name__ == "__main__":
    main()
