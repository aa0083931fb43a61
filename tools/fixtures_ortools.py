"""Section "ortools" of tools/make_fixtures.py: what onnxruntime's own model tools make of small
PyTorch exports. Deployed models very often went through one of these before they were shipped:

- onnxruntime.quantization.quantize_dynamic (DynamicQuantizeLinear + MatMulInteger; on a model the
  transformer optimizer fused first: com.microsoft QAttention / QEmbedLayerNormalization...);
- quantize_static with a calibration reader, QDQ and QOperator formats (QLinearConv, QLinearAdd,
  com.microsoft QLinearConcat / QLinearSigmoid / QLinearGlobalAveragePool...);
- onnxruntime.transformers.optimizer.optimize_model, model types "bert" and "gpt2" (Attention,
  SkipLayerNormalization, EmbedLayerNormalization, BiasGelu / FastGelu...);
- MatMulNBitsQuantizer (com.microsoft MatMulNBits);
- onnxruntime.transformers.float16 (float16 conversion of an optimized model);
- an InferenceSession's optimized_model_filepath (onnxruntime's own graph fusions, saved: e.g.
  DynamicQuantizeMatMul, FusedConv).

Every model is tiny (a few thousand weights), seeded, and keeps symbolic batch / sequence dims.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from make_fixtures import Fixture, SectionResult, _quiet, _require, _save

SEQ_MAX = 16  # position table size of the text models


def _count_ops(model: onnx.ModelProto) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in model.graph.node:
        key = f"{n.domain}:{n.op_type}" if n.domain not in ("", "ai.onnx") else n.op_type
        counts[key] = counts.get(key, 0) + 1
    return counts


def _has(model: onnx.ModelProto, *ops: str) -> list[str]:
    """The ops of ``ops`` the model does not carry."""
    present = {n.op_type for n in model.graph.node}
    return [o for o in ops if o not in present]


def _op_tags(model: onnx.ModelProto) -> list[str]:
    tags = []
    for n in model.graph.node:
        if n.domain not in ("", "ai.onnx"):
            tags.append(f"domain:{n.domain}")
            tags.append(f"op:{n.op_type}")
        elif n.op_type in {"MatMulInteger", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul",
                           "QuantizeLinear", "DequantizeLinear", "ConvInteger"}:
            tags.append(f"op:{n.op_type}")
    return tags


def build(root: Path) -> SectionResult:
    """Write the section's models under ``root / "ortools"`` (intermediate files in a temporary
    folder, removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="ortools_") as tmp:
        return _build(root, Path(tmp))


def _build(root: Path, tmp: Path) -> SectionResult:
    torch = _require("torch")
    ort = _require("onnxruntime")
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        HQQWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )
    from onnxruntime.transformers import float16
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    nn = torch.nn
    Module: Any = nn.Module
    version = ort.__version__
    out: list[Fixture] = []
    notes: list[str] = []
    d = root / "ortools"
    d.mkdir(parents=True, exist_ok=True)

    # --- small PyTorch models ---------------------------------------------------------------

    class MLP(Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(32, 64)
            self.fc2 = nn.Linear(64, 64)
            self.fc3 = nn.Linear(64, 8)

        def forward(self, x: Any) -> Any:
            h = torch.nn.functional.gelu(self.fc1(x))
            return self.fc3(torch.relu(self.fc2(h)) + h)

    class CNN(Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.a = nn.Conv2d(8, 8, 3, padding=1)
            self.b = nn.Conv2d(8, 8, 1)
            self.c = nn.Conv2d(16, 8, 3, stride=2, padding=1)
            self.fc = nn.Linear(8, 4)

        def forward(self, x: Any) -> Any:
            h = torch.nn.functional.max_pool2d(torch.relu(self.stem(x)), 2)
            s = self.a(h) + self.b(h)
            cat = torch.cat([torch.relu(s), h], dim=1)
            g = torch.sigmoid(self.c(cat))
            p = torch.nn.functional.adaptive_avg_pool2d(g, 1).flatten(1)
            return self.fc(p)

    hidden, heads, inter, vocab = 32, 2, 64, 64

    class BertLayer(Module):
        """The attention of Hugging Face's BertSelfAttention, written out."""

        def __init__(self) -> None:
            super().__init__()
            self.q = nn.Linear(hidden, hidden)
            self.k = nn.Linear(hidden, hidden)
            self.v = nn.Linear(hidden, hidden)
            self.o = nn.Linear(hidden, hidden)
            self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
            self.up = nn.Linear(hidden, inter)
            self.down = nn.Linear(inter, hidden)
            self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

        def split(self, x: Any) -> Any:
            new = x.size()[:-1] + (heads, hidden // heads)
            return x.view(new).permute(0, 2, 1, 3)

        def forward(self, x: Any, mask: Any) -> Any:
            q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
            scores = torch.matmul(q, k.transpose(-1, -2)) / float((hidden // heads) ** 0.5)
            probs = torch.softmax(scores + mask, dim=-1)
            ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
            ctx = ctx.view(ctx.size()[:-2] + (hidden,))
            a = self.ln1(self.o(ctx) + x)
            return self.ln2(self.down(torch.nn.functional.gelu(self.up(a))) + a)

    class Bert(Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(vocab, hidden)
            self.pos = nn.Embedding(SEQ_MAX, hidden)
            self.tok = nn.Embedding(2, hidden)
            self.ln = nn.LayerNorm(hidden, eps=1e-12)
            self.layers = nn.ModuleList([BertLayer(), BertLayer()])
            self.pool = nn.Linear(hidden, hidden)
            self.register_buffer("position_ids", torch.arange(SEQ_MAX).unsqueeze(0))

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            seq = input_ids.size(1)
            pos = self.position_ids[:, :seq]
            x = self.ln(self.word(input_ids) + self.pos(pos) + self.tok(token_type_ids))
            mask = attention_mask.unsqueeze(1).unsqueeze(2).to(torch.float32)
            mask = (1.0 - mask) * -10000.0
            for layer in self.layers:
                x = layer(x, mask)
            return x, torch.tanh(self.pool(x[:, 0]))

    class Conv1D(Module):
        """GPT-2's Conv1D: addmm over the flattened tokens."""

        def __init__(self, nx: int, nf: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.randn(nx, nf) * 0.02)
            self.bias = nn.Parameter(torch.randn(nf) * 0.02)

        def forward(self, x: Any) -> Any:
            size_out = x.size()[:-1] + (self.weight.size(-1),)
            return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(size_out)

    class GptBlock(Module):
        """GPT-2's block as Hugging Face wrote it (before SDPA): Conv1D projections, keys split
        pre-transposed, a boolean tril buffer sliced and applied with Where, tanh GELU."""

        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(hidden)
            self.c_attn = Conv1D(hidden, 3 * hidden)
            self.c_proj = Conv1D(hidden, hidden)
            self.ln_2 = nn.LayerNorm(hidden)
            self.c_fc = Conv1D(hidden, inter)
            self.mlp_proj = Conv1D(inter, hidden)
            tril = torch.tril(torch.ones((SEQ_MAX, SEQ_MAX), dtype=torch.bool))
            self.register_buffer("bias", tril.view(1, 1, SEQ_MAX, SEQ_MAX))
            self.register_buffer("masked_bias", torch.tensor(-1e4))

        def split(self, x: Any, k: bool = False) -> Any:
            x = x.view(x.size()[:-1] + (heads, x.size(-1) // heads))
            return x.permute(0, 2, 3, 1) if k else x.permute(0, 2, 1, 3)

        def forward(self, x: Any, layer_past: Any = None, attention_mask: Any = None) -> Any:
            q, k, v = self.c_attn(self.ln_1(x)).split(hidden, dim=2)
            q, k, v = self.split(q), self.split(k, k=True), self.split(v)
            present = None
            if layer_past is not None:  # [2, B, heads, past, head]: keys stored untransposed
                k = torch.cat((layer_past[0].transpose(-2, -1), k), dim=-1)
                v = torch.cat((layer_past[1], v), dim=-2)
                present = torch.stack((k.transpose(-2, -1), v))
            w = torch.matmul(q, k)
            w = w / (float(v.size(-1)) ** 0.5)
            nd, ns = w.size(-2), w.size(-1)
            mask = self.bias[:, :, ns - nd:ns, :ns]
            w = torch.where(mask, w, self.masked_bias.to(w.dtype))
            if attention_mask is not None:
                w = w + attention_mask
            a = torch.matmul(torch.softmax(w, dim=-1), v).permute(0, 2, 1, 3).contiguous()
            a = a.view(a.size()[:-2] + (a.size(-2) * a.size(-1),))
            x = x + self.c_proj(a)
            h = torch.nn.functional.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")
            out = x + self.mlp_proj(h)
            return out if present is None else (out, present)

    class Gpt(Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(vocab, hidden)
            self.wpe = nn.Embedding(SEQ_MAX, hidden)
            self.blocks = nn.ModuleList([GptBlock(), GptBlock()])
            self.ln_f = nn.LayerNorm(hidden)

        def forward(self, input_ids: Any) -> Any:
            pos = torch.arange(0, input_ids.size(-1), dtype=torch.long).unsqueeze(0)
            x = self.wte(input_ids) + self.wpe(pos)
            for blk in self.blocks:
                x = blk(x)
            return self.ln_f(x) @ self.wte.weight.t()

    class GptPast(Gpt):
        """GPT-2 as exported for generation before Hugging Face's cache classes: one stacked past
        per layer, the attention mask over past + new tokens, positions after the past."""

        def forward(self, input_ids: Any, past_0: Any, past_1: Any, attention_mask: Any) -> Any:
            past_length = past_0.size(-2)
            pos = torch.arange(past_length, input_ids.size(-1) + past_length, dtype=torch.long).unsqueeze(0)
            mask = attention_mask.view(input_ids.size(0), -1)[:, None, None, :].to(torch.float32)
            mask = (1.0 - mask) * -10000.0
            x = self.wte(input_ids) + self.wpe(pos)
            x, p0 = self.blocks[0](x, past_0, mask)
            x, p1 = self.blocks[1](x, past_1, mask)
            return self.ln_f(x) @ self.wte.weight.t(), p0, p1

    def seeded(cls: type) -> Any:
        torch.manual_seed(0)
        return cls().eval()

    def export(m: Any, args: tuple[Any, ...], names: list[str], outs: list[str],
               axes: dict[str, dict[int, str]], name: str) -> onnx.ModelProto:
        p = tmp / f"{name}.onnx"
        with _quiet():
            torch.onnx.export(m, args, str(p), dynamo=False, opset_version=17, input_names=names,
                              output_names=outs, dynamic_axes=axes, do_constant_folding=True)
        return onnx.load(str(p))

    gen = torch.Generator().manual_seed(1)
    mlp = export(seeded(MLP), (torch.randn(2, 5, 32, generator=gen),), ["x"], ["y"],
                 {"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}}, "mlp")
    cnn = export(seeded(CNN), (torch.randn(2, 3, 16, 16, generator=gen),), ["x"], ["y"],
                 {"x": {0: "batch", 2: "height", 3: "width"}, "y": {0: "batch"}}, "cnn")
    ids = torch.tensor([[1, 5, 7, 9, 2], [3, 0, 15, 4, 8]])
    text_axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                 "token_type_ids": {0: "batch", 1: "seq"}}
    bert = export(seeded(Bert), (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                  ["input_ids", "attention_mask", "token_type_ids"], ["last_hidden_state", "pooled"],
                  {**text_axes, "last_hidden_state": {0: "batch", 1: "seq"}, "pooled": {0: "batch"}}, "bert")
    gpt = export(seeded(Gpt), (ids,), ["input_ids"], ["logits"],
                 {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}, "gpt2")

    past = torch.randn(2, 2, heads, 4, hidden // heads, generator=gen)
    past_axes = {1: "batch", 3: "past"}
    present_axes = {1: "batch", 3: "past + seq"}
    gpt_past = export(seeded(GptPast), (ids, past, past, torch.ones(2, 9, dtype=torch.int64)),
                      ["input_ids", "past_0", "past_1", "attention_mask"],
                      ["logits", "present_0", "present_1"],
                      {"input_ids": {0: "batch", 1: "seq"}, "past_0": past_axes, "past_1": past_axes,
                       "attention_mask": {0: "batch", 1: "past + seq"}, "logits": {0: "batch", 1: "seq"},
                       "present_0": present_axes, "present_1": present_axes}, "gpt2_past")

    def add(name: str, model: onnx.ModelProto, tool: str, description: str, tags: list[str],
            expect_ops: tuple[str, ...] = ()) -> None:
        absent = _has(model, *expect_ops)
        if absent:
            notes.append(f"{name}: {tool} did not emit {', '.join(absent)}")
        rel = f"ortools/{name}.onnx"
        _save(model, root / rel)
        counts = _count_ops(model)
        ops = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in sorted(counts.items()))
        out.append(Fixture(rel, f"{description} Ops: {ops}.", f"onnxruntime {version} {tool}",
                           sorted({"dims:symbolic", "real_model", *tags, *_op_tags(model)})))

    def path_of(model: onnx.ModelProto, name: str) -> Path:
        p = tmp / f"{name}_in.onnx"
        onnx.save(model, str(p))
        return p

    def quantized(fn: Callable[[Path, Path], None], model: onnx.ModelProto, name: str) -> onnx.ModelProto:
        src, dst = path_of(model, name), tmp / f"{name}_q.onnx"
        with _quiet():
            fn(src, dst)
        return onnx.load(str(dst))

    # --- quantize_dynamic ------------------------------------------------------------------------
    mlp_dyn = quantized(lambda s, t: quantize_dynamic(s, t, weight_type=QuantType.QUInt8), mlp, "mlp_dyn")
    add("mlp_quantize_dynamic", mlp_dyn, "quantize_dynamic",
        "TorchScript MLP on [batch, seq, 32] (MatMul/Add/Gelu/Relu), dynamically quantized: MatMul "
        "weights uint8, activations by DynamicQuantizeLinear.", ["tool:ort-quantize-dynamic"],
        ("DynamicQuantizeLinear", "MatMulInteger"))
    bert_dyn = quantized(lambda s, t: quantize_dynamic(s, t, weight_type=QuantType.QInt8), bert, "bert_dyn")
    add("bert_quantize_dynamic", bert_dyn, "quantize_dynamic",
        "TorchScript 2-layer BERT-like encoder, dynamically quantized (int8 weights).",
        ["tool:ort-quantize-dynamic"], ("DynamicQuantizeLinear", "MatMulInteger"))

    # --- transformer optimizer -------------------------------------------------------------------
    def optimized(model: onnx.ModelProto, model_type: str, name: str, options: Any = None) -> onnx.ModelProto:
        with _quiet():
            opt = optimize_model(str(path_of(model, name)), model_type=model_type, num_heads=heads,
                                 hidden_size=hidden, opt_level=0, optimization_options=options)
            dst = tmp / f"{name}_out.onnx"
            opt.save_model_to_file(str(dst))  # adds the com.microsoft opset import
        return onnx.load(str(dst))

    bert_opt = optimized(bert, "bert", "bert_opt")
    add("bert_optimized", bert_opt, "transformers.optimizer (bert)",
        "TorchScript 2-layer BERT-like encoder after optimize_model(model_type='bert').",
        ["tool:ort-transformers-optimizer"],
        ("Attention", "SkipLayerNormalization", "EmbedLayerNormalization", "BiasGelu"))
    gpt_opt = optimized(gpt, "gpt2", "gpt_opt")
    add("gpt2_optimized", gpt_opt, "transformers.optimizer (gpt2)",
        "TorchScript 2-block GPT-2-like decoder (no past) after optimize_model(model_type='gpt2').",
        ["tool:ort-transformers-optimizer"], ("Attention", "SkipLayerNormalization", "FastGelu"))

    mha = FusionOptions("bert")
    mha.use_multi_head_attention = True
    mha.use_raw_attention_mask(True)
    add("bert_optimized_mha", optimized(bert, "bert", "bert_mha", mha), "transformers.optimizer (bert)",
        "TorchScript 2-layer BERT-like encoder after optimize_model(model_type='bert') with "
        "use_multi_head_attention and the raw attention mask (MultiHeadAttention, no mask index).",
        ["tool:ort-transformers-optimizer"], ("MultiHeadAttention",))

    gpt_past_opt = optimized(gpt_past, "gpt2", "gpt_past_opt")
    add("gpt2_past_optimized", gpt_past_opt, "transformers.optimizer (gpt2)",
        "TorchScript 2-block GPT-2-like decoder with a KV cache (stacked past per layer, attention mask "
        "over past + seq) after optimize_model(model_type='gpt2'): Attention with past and present.",
        ["tool:ort-transformers-optimizer", "kv_cache"], ("Attention", "EmbedLayerNormalization"))
    add("gpt2_past_optimized_quantize_dynamic", quantized(lambda s, t: quantize_dynamic(
        s, t, weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}),
        gpt_past_opt, "gpt_past_opt_dyn"), "quantize_dynamic",
        "The optimized GPT-2-like decoder with a KV cache, dynamically quantized (QAttention with past).",
        ["tool:ort-transformers-optimizer", "tool:ort-quantize-dynamic", "kv_cache"], ("QAttention",))

    bert_opt_dyn = quantized(lambda s, t: quantize_dynamic(
        s, t, weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}),
        bert_opt, "bert_opt_dyn")
    add("bert_optimized_quantize_dynamic", bert_opt_dyn, "quantize_dynamic",
        "The optimized BERT-like encoder (Attention, EmbedLayerNormalization...), then dynamically "
        "quantized: onnxruntime's documented recipe for transformer models.",
        ["tool:ort-transformers-optimizer", "tool:ort-quantize-dynamic"],
        ("QAttention", "DynamicQuantizeLinear", "MatMulInteger"))

    bert_fp16 = float16.convert_float_to_float16(bert_opt, keep_io_types=True)
    add("bert_optimized_fp16", bert_fp16, "transformers.float16",
        "The optimized BERT-like encoder converted to float16 with keep_io_types (Cast at the edges).",
        ["tool:ort-float16", "tool:ort-transformers-optimizer", "dtype:float16"])

    # --- quantize_static ------------------------------------------------------------------------
    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            rng = np.random.default_rng(7)
            self.batches = iter([{"x": rng.standard_normal((2, 3, 16, 16)).astype(np.float32)}
                                 for _ in range(4)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    static: dict[str, onnx.ModelProto] = {}
    for fmt, label in ((QuantFormat.QDQ, "qdq"), (QuantFormat.QOperator, "qoperator")):

        def quantize(src: Path, dst: Path, fmt: Any = fmt) -> None:
            quantize_static(src, dst, Reader(), quant_format=fmt, activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8, per_channel=fmt == QuantFormat.QDQ)

        q = static[label] = quantized(quantize, cnn, f"cnn_{label}")
        expect = ("QuantizeLinear", "DequantizeLinear") if fmt == QuantFormat.QDQ else (
            "QLinearConv", "QLinearAdd", "QLinearConcat", "QLinearSigmoid", "QLinearGlobalAveragePool")
        add(f"cnn_quantize_static_{label}", q, f"quantize_static ({label})",
            f"TorchScript CNN (Conv/Relu/MaxPool/Add/Concat/Sigmoid/GlobalAveragePool/Gemm), statically "
            f"quantized in the {label.upper()} format with a 4-batch MinMax calibration; dynamic batch, "
            "height and width.", ["tool:ort-quantize-static", f"format:{label}"], expect)

    def quantize16(src: Path, dst: Path) -> None:
        quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt16,
                        weight_type=QuantType.QInt4, per_channel=True)

    add("cnn_quantize_static_qdq_a16w4", quantized(quantize16, cnn, "cnn_a16w4"), "quantize_static (qdq)",
        "TorchScript CNN statically quantized in the QDQ format with uint16 activations and int4 "
        "per-channel weights.", ["tool:ort-quantize-static", "format:qdq", "dtype:int4", "dtype:uint16"],
        ("QuantizeLinear", "DequantizeLinear"))

    # --- MatMulNBits --------------------------------------------------------------------------
    for bits, block in ((4, 32), (8, 16)):
        qz = MatMulNBitsQuantizer(onnx.ModelProto.FromString(mlp.SerializeToString()), bits=bits,
                                  block_size=block, is_symmetric=bits == 4)
        with _quiet():
            qz.process()
        add(f"mlp_matmul{bits}bits", qz.model.model, "MatMulNBitsQuantizer",
            f"TorchScript MLP on [batch, seq, 32], MatMul weights block-quantized to {bits} bits "
            f"(block {block}) into com.microsoft MatMulNBits.", ["tool:ort-matmul-nbits"], ("MatMulNBits",))

    def nbits(model: onnx.ModelProto, config: Any) -> onnx.ModelProto:
        qz = MatMulNBitsQuantizer(onnx.ModelProto.FromString(model.SerializeToString()), algo_config=config)
        with _quiet():
            qz.process()
        return qz.model.model  # type: ignore[no-any-return]

    add("gpt2_matmul4bits_gather", nbits(gpt, DefaultWeightOnlyQuantConfig(
        block_size=32, is_symmetric=False, op_types_to_quantize=("MatMul", "Gather"),
        quant_axes=(("MatMul", 0), ("Gather", 1)))), "MatMulNBitsQuantizer",
        "TorchScript 2-block GPT-2-like decoder, MatMul weights and the embedding tables (Gather) "
        "block-quantized to 4 bits with zero points (MatMulNBits, GatherBlockQuantized).",
        ["tool:ort-matmul-nbits"], ("MatMulNBits", "GatherBlockQuantized"))
    add("gpt2_optimized_matmul4bits_qdq", nbits(gpt_opt, DefaultWeightOnlyQuantConfig(
        block_size=32, is_symmetric=True, quant_format=QuantFormat.QDQ)), "MatMulNBitsQuantizer (QDQ)",
        "The optimized GPT-2-like decoder, MatMul weights as int4 initializers behind blocked "
        "DequantizeLinear (block_size attribute; the tool raises the opset to 21).",
        ["tool:ort-matmul-nbits", "dtype:int4", "format:qdq"], ("DequantizeLinear",))
    add("bert_optimized_matmul4bits_hqq", nbits(bert_opt, HQQWeightOnlyQuantConfig(block_size=32)),
        "MatMulNBitsQuantizer (HQQ)",
        "The optimized BERT-like encoder, MatMul weights 4-bit quantized by HQQ (MatMulNBits with float "
        "zero points).", ["tool:ort-matmul-nbits", "tool:ort-transformers-optimizer"], ("MatMulNBits",))

    # --- onnxruntime's own graph optimizations, saved -------------------------------------------
    def session_optimized(model: onnx.ModelProto, name: str,
                          level: Any = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED) -> onnx.ModelProto:
        so = ort.SessionOptions()
        so.graph_optimization_level = level
        so.optimized_model_filepath = str(tmp / f"{name}_ort.onnx")
        so.log_severity_level = 3
        ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        saved = onnx.load(so.optimized_model_filepath)
        # the session names the nodes it adds from a counter shared in hash-map order
        # ("ReorderOutput_token_19"): renamed by position so that the file is the same every run
        for k, n in enumerate(saved.graph.node):
            if re.fullmatch(r"[A-Za-z]+(_token_\d+)?", n.name):
                n.name = f"{n.op_type}_{k}"
        return saved

    add("mlp_quantize_dynamic_ort_optimized", session_optimized(mlp_dyn, "mlp_dyn"),
        "InferenceSession optimized_model_filepath (extended)",
        "The dynamically quantized MLP as onnxruntime's CPU session optimizes it (extended level), "
        "saved with SessionOptions.optimized_model_filepath.", ["tool:ort-session-optimizer"],
        ("DynamicQuantizeMatMul",))
    add("bert_quantize_dynamic_ort_optimized", session_optimized(bert_dyn, "bert_dyn"),
        "InferenceSession optimized_model_filepath (extended)",
        "The dynamically quantized BERT-like encoder as onnxruntime's CPU session optimizes it "
        "(extended level), saved with SessionOptions.optimized_model_filepath.",
        ["tool:ort-session-optimizer", "tool:ort-quantize-dynamic"],
        ("MatMulIntegerToFloat", "DynamicQuantizeMatMul", "FusedMatMul"))
    add("cnn_quantize_static_qdq_ort_optimized", session_optimized(static["qdq"], "cnn_qdq"),
        "InferenceSession optimized_model_filepath (extended)",
        "The QDQ-quantized CNN as onnxruntime's CPU session optimizes it (extended level: QDQ node "
        "groups become QLinear* operators), saved with SessionOptions.optimized_model_filepath.",
        ["tool:ort-session-optimizer", "tool:ort-quantize-static"], ("QLinearConv", "QLinearConcat"))
    add("cnn_quantize_static_qoperator_ort_optimized_all", session_optimized(
        static["qoperator"], "cnn_qop", ort.GraphOptimizationLevel.ORT_ENABLE_ALL),
        "InferenceSession optimized_model_filepath (all)",
        "The QOperator-quantized CNN as onnxruntime's CPU session optimizes it at the highest level "
        "(layout: channels-last QLinearConv, NhwcMaxPool, Transposes at the edges), saved with "
        "SessionOptions.optimized_model_filepath.", ["tool:ort-session-optimizer", "tool:ort-quantize-static",
                                                     "layout:nhwc"], ("NhwcMaxPool",))
    cnn_all = session_optimized(cnn, "cnn_all", ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    add("cnn_ort_optimized_all", cnn_all, "InferenceSession optimized_model_filepath (all)",
        "The float CNN as onnxruntime's CPU session optimizes it at the highest level (layout: "
        "com.microsoft.nchwc blocked Conv, ReorderInput / ReorderOutput; the block size follows the CPU's "
        "vector width), saved with SessionOptions.optimized_model_filepath.",
        ["tool:ort-session-optimizer", "layout:nchwc"], ("ReorderInput", "ReorderOutput"))
    add("cnn_ort_optimized", session_optimized(cnn, "cnn"),
        "InferenceSession optimized_model_filepath (extended)",
        "The float CNN as onnxruntime's CPU session optimizes it (extended level: FusedConv...), saved "
        "with SessionOptions.optimized_model_filepath.", ["tool:ort-session-optimizer"], ("FusedConv",))

    for n in notes:
        print("  note:", n)
    return SectionResult(out, {"onnxruntime": version, "torch": torch.__version__})

