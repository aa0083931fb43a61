"""Section "hf" of tools/make_fixtures.py: Hugging Face transformers architectures, exported by PyTorch.

Each model is built from a tiny config (hidden size 16, one or two layers, vocabulary 64) with
random weights under a fixed seed; nothing is downloaded.  Each is exported with the TorchScript
exporter (dynamic_axes; some also at an old opset with eager attention) and/or the dynamo exporter
(dynamic_shapes), with symbolic batch, sequence, past and image dims, so the real-model inference
test (tests/test_infer_real.py) sees the graphs that transformers' code really produces: rotary
embeddings, RMSNorm, grouped-query attention, causal masks built from shapes, KV caches, ALiBi,
relative position buckets, position tables resized to the image, conv front ends.  Where the two
exporters' graphs of an architecture differ little, only one is kept: the whole section stays
under 1.5 MB (every fixture also seeds the fuzzer).

Exporters that fail (not written): Mixtral (TorchScript: aten::histc; dynamo: conversion error),
Swin (dynamo decomposition), XLNet (dynamo), full Whisper (TorchScript: aten::diff); written but
not kept, as onnxruntime cannot run them: Falcon (a complex128 Mul; a boolean Mul from dynamo),
Mamba TorchScript (a Tile whose repeats are not 1-D).

The dynamo exporter writes a stack trace into every node's metadata_props; those are dropped here
(the torch section keeps them) to keep the files small.  transformers is needed only to generate
these files, never to read or test them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
from make_fixtures import Fixture, SectionResult, _load, _quiet, _require, _save, _version_of


@dataclass
class _HFModel:
    """One architecture, exported as hf/<stem>_torchscript.onnx and hf/<stem>_dynamo.onnx."""

    stem: str
    description: str
    features: list[str]
    build: Callable[[], Any]  # returns the nn.Module to export (seeded, eval mode)
    args: tuple[Any, ...]
    input_names: list[str]
    output_names: list[str]
    dynamic_axes: dict[str, dict[int, str]]  # TorchScript exporter, by input name
    dynamic_shapes: dict[str, Any] | tuple[Any, ...] | None  # dynamo, by forward() argument; None: skip
    opset: int = 17
    # also exported by TorchScript at these opsets with eager attention: hf/<stem>_torchscript_opsetN.onnx
    old_opsets: tuple[int, ...] = ()
    torchscript: bool = True  # False: dynamo only (a near twin of another fixture's TorchScript graph)


def _models(torch: Any, transformers: Any) -> list[_HFModel]:
    T = transformers
    nn = torch.nn
    Module: Any = nn.Module
    dim = torch.export.Dim
    bsz, seq, past = dim("batch"), dim("seq"), dim("past")
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, 64, (2, 5), generator=g)
    mask = torch.ones(2, 5, dtype=torch.int64)
    mask[1, 3:] = 0
    by_seq = {0: "batch", 1: "seq"}

    def seeded(make: Callable[[], Any]) -> Callable[[], Any]:
        def build() -> Any:
            torch.manual_seed(0)
            return make().eval()

        return build

    class CausalLM(Module):
        """logits of a decoder-only LM from ids and a padding mask, no cache."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    class CausalLMWithPast(Module):
        """logits and the present key/values of a decoder-only LM from ids and flat past key/values."""

        def __init__(self, model: Any, layers: int, mask: bool = False) -> None:
            super().__init__()
            self.model = model
            self.layers = layers
            self.mask = mask  # the first of `past` is the attention mask (batch, past + seq)

        def forward(self, input_ids: Any, *past: Any) -> Any:
            mask = past[0] if self.mask else None
            past = past[1:] if self.mask else past
            cache = T.DynamicCache([(past[2 * i], past[2 * i + 1]) for i in range(self.layers)])
            out = self.model(input_ids=input_ids, attention_mask=mask, past_key_values=cache, use_cache=True)
            flat: list[Any] = []
            for layer in out.past_key_values.layers:
                flat += [layer.keys, layer.values]
            return (out.logits, *flat)

    class Encoder(Module):
        """last_hidden_state (and pooler_output when there is one) of an encoder."""

        def __init__(self, model: Any, pooled: bool) -> None:
            super().__init__()
            self.model = model
            self.pooled = pooled

        def forward(self, *inputs: Any) -> Any:
            out = self.model(*inputs)
            return (out.last_hidden_state, out.pooler_output) if self.pooled else out.last_hidden_state

    class Logits(Module):
        """logits of a task head."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> Any:
            return self.model(*inputs).logits

    class Seq2Seq(Module):
        """logits of an encoder-decoder from source ids, source mask and decoder ids, no cache."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, decoder_input_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              decoder_input_ids=decoder_input_ids, use_cache=False).logits

    def decoder_config(cls: Any, **extra: Any) -> Any:
        return cls(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32, **extra)

    def causal_lm(stem: str, arch: str, text: str, make: Callable[[], Any], extra: list[str],
                  old_opsets: tuple[int, ...] = (), torchscript: bool = True) -> _HFModel:
        names = ["input_ids", "attention_mask"]
        return _HFModel(
            stem, text + " Inputs input_ids and attention_mask (batch, seq), output logits, no cache.",
            [f"arch:{arch}", "attention_mask", "shape_arithmetic", *extra],
            seeded(lambda: CausalLM(make())), (ids, mask), names, ["logits"],
            {n: by_seq for n in names}, {"input_ids": {0: bsz, 1: seq}, "attention_mask": {0: bsz, 1: seq}},
            old_opsets=old_opsets, torchscript=torchscript)

    # GPT-2 with a KV cache: 2 heads of 8
    gpt2_past = tuple(torch.randn(2, 2, 3, 8, generator=g) for _ in range(4))
    past_names = [f"past_{kind}_{i}" for i in range(2) for kind in ("key", "value")]
    present_names = [f"present_{kind}_{i}" for i in range(2) for kind in ("key", "value")]

    # LLaMA with a KV cache: 2 key/value heads of 4, a padding mask over past + new tokens
    llama_past = tuple(torch.randn(2, 2, 3, 4, generator=g) for _ in range(4))
    full_mask = torch.ones(2, 8, dtype=torch.int64)
    full_mask[1, :2] = 0  # left padding

    def t5() -> Any:
        config = T.T5Config(vocab_size=64, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_decoder_layers=1,
                            num_heads=2, relative_attention_num_buckets=8, decoder_start_token_id=0)
        # eager attention, as T5's own code and most published T5 exports: with sdpa the dynamo
        # exporter fails to decompose a view of a transposed tensor
        config._attn_implementation = "eager"
        return Seq2Seq(T.T5ForConditionalGeneration(config))

    vit_config = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                      image_size=16, patch_size=4, num_channels=3)
    images = torch.randn(2, 3, 16, 16, generator=g)
    seg_images = torch.randn(2, 3, 32, 32, generator=g)
    whisper_frames = 2 * 16  # the encoder insists on 2 * max_source_positions mel frames
    mels = torch.randn(2, 8, whisper_frames, generator=g)
    audio = torch.randn(2, 400, generator=g)

    return [
        causal_lm(
            "llama", "llama",
            "LlamaForCausalLM (hidden 16, 2 layers, 4 heads, 2 key/value heads: grouped-query attention "
            "with repeat_kv, rotary position embedding from position ids, RMSNorm, SiLU gated MLP, causal "
            "mask built from the input shapes and the padding mask).",
            lambda: T.LlamaForCausalLM(decoder_config(T.LlamaConfig)),
            ["op:rotary", "op:rmsnorm", "gqa"], old_opsets=(12,), torchscript=False),
        causal_lm(
            "phi", "phi",
            "PhiForCausalLM (hidden 16, 2 layers, 2 heads): rotary embedding on half of each head "
            "(partial_rotary_factor 0.5: the head is sliced, rotated in part and concatenated back), "
            "LayerNorm, attention and MLP in parallel from one normalized input.",
            lambda: T.PhiForCausalLM(T.PhiConfig(vocab_size=64, hidden_size=16, intermediate_size=32,
                                                 num_hidden_layers=2, num_attention_heads=2,
                                                 partial_rotary_factor=0.5, max_position_embeddings=32)),
            ["op:rotary", "partial_rotary", "op:layernorm"], torchscript=False),
        causal_lm(
            "bloom", "bloom",
            "BloomForCausalLM (hidden 16, 2 layers, 2 heads): no position embedding but ALiBi biases "
            "built from the cumulative sum of the padding mask and per-head slopes, baddbmm attention.",
            lambda: T.BloomForCausalLM(T.BloomConfig(vocab_size=64, hidden_size=16, n_layer=2, n_head=2)),
            ["alibi", "op:cumsum", "op:layernorm"], torchscript=False),
        _HFModel(
            "gpt2_past", "GPT2LMHeadModel (hidden 16, 2 layers, 2 heads) run with a KV cache: inputs "
            "input_ids (batch, seq) and each layer's past key and value (batch, 2, past, 8); outputs "
            "logits and the present key/values (batch, 2, past + seq, 8); position ids from the past "
            "length, Conv1D projections, tanh GELU.",
            ["arch:gpt2", "kv_cache", "shape_arithmetic"],
            seeded(lambda: CausalLMWithPast(T.GPT2LMHeadModel(T.GPT2Config(
                vocab_size=64, n_embd=16, n_layer=2, n_head=2, n_positions=32,
                bos_token_id=0, eos_token_id=0)), 2)),
            (ids, *gpt2_past), ["input_ids", *past_names], ["logits", *present_names],
            {"input_ids": by_seq, **{n: {0: "batch", 2: "past"} for n in past_names}},
            {"input_ids": {0: bsz, 1: seq}, "past": tuple({0: bsz, 2: past} for _ in past_names)}),
        _HFModel(
            "qwen2_past", "Qwen2ForCausalLM (LLaMA-like with biases on the q/k/v projections, tied "
            "embeddings) run with a KV cache and no mask: inputs input_ids "
            "(batch, seq) and each layer's past key and value (batch, 2, past, 4); outputs logits and "
            "the present key/values (batch, 2, past + seq, 4); grouped-query attention over the cache.",
            ["arch:qwen2", "kv_cache", "gqa", "op:rotary", "shape_arithmetic"],
            seeded(lambda: CausalLMWithPast(T.Qwen2ForCausalLM(decoder_config(
                T.Qwen2Config, tie_word_embeddings=True)), 2)),
            (ids, *llama_past), ["input_ids", *past_names], ["logits", *present_names],
            {"input_ids": by_seq, **{n: {0: "batch", 2: "past"} for n in past_names}},
            {"input_ids": {0: bsz, 1: seq}, "past": tuple({0: bsz, 2: past} for _ in past_names)},
            torchscript=False),
        _HFModel(
            "llama_past", "LlamaForCausalLM (as llama) run with a KV cache and a left-padding mask: inputs "
            "input_ids (batch, seq), attention_mask (batch, past + seq) and each layer's past key and "
            "value (batch, 2, past, 4) for the 2 key/value heads; outputs logits and the present "
            "key/values (batch, 2, past + seq, 4); cache positions from the past length, causal mask "
            "offset by it. TorchScript only: torch.export cannot name a dim past + seq.",
            ["arch:llama", "kv_cache", "gqa", "op:rotary", "attention_mask", "shape_arithmetic"],
            seeded(lambda: CausalLMWithPast(T.LlamaForCausalLM(decoder_config(T.LlamaConfig)), 2, mask=True)),
            (ids, full_mask, *llama_past), ["input_ids", "attention_mask", *past_names],
            ["logits", *present_names],
            {"input_ids": by_seq, "attention_mask": {0: "batch", 1: "past + seq"},
             **{n: {0: "batch", 2: "past"} for n in past_names}},
            None),
        _HFModel(
            "bert", "BertModel (hidden 16, 2 layers, 2 heads) with input_ids, attention_mask and "
            "token_type_ids (batch, seq): extended additive attention mask, absolute position embedding "
            "sliced to the sequence length, tanh pooler on the first token.",
            ["arch:bert", "attention_mask", "op:layernorm", "shape_arithmetic"],
            seeded(lambda: Encoder(T.BertModel(T.BertConfig(
                vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=32, max_position_embeddings=32)), True)),
            (ids, mask, torch.zeros_like(ids)), ["input_ids", "attention_mask", "token_type_ids"],
            ["last_hidden_state", "pooler_output"],
            {n: by_seq for n in ("input_ids", "attention_mask", "token_type_ids")},
            {"inputs": ({0: bsz, 1: seq}, {0: bsz, 1: seq}, {0: bsz, 1: seq})}),
        _HFModel(
            "distilbert", "DistilBertModel (dim 16, 2 layers, 2 heads) with input_ids and attention_mask "
            "(batch, seq): no token types, position ids from a Range over the sequence length.",
            ["arch:distilbert", "attention_mask", "shape_arithmetic"],
            seeded(lambda: Encoder(T.DistilBertModel(T.DistilBertConfig(
                vocab_size=64, dim=16, n_layers=2, n_heads=2, hidden_dim=32, max_position_embeddings=32)),
                False)),
            (ids, mask), ["input_ids", "attention_mask"], ["last_hidden_state"],
            {n: by_seq for n in ("input_ids", "attention_mask")},
            {"inputs": ({0: bsz, 1: seq}, {0: bsz, 1: seq})}, torchscript=False),
        _HFModel(
            "deberta", "DebertaV2Model (hidden 16, 2 layers, 2 heads) with input_ids and attention_mask "
            "(batch, seq): disentangled attention with log-bucketed relative positions built from two "
            "Ranges over the sequence length (Sign, Abs, Log, Where, Clip), content-to-position and "
            "position-to-content scores gathered with computed indices.",
            ["arch:deberta", "attention_mask", "relative_position", "shape_arithmetic"],
            seeded(lambda: Encoder(T.DebertaV2Model(T.DebertaV2Config(
                vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=32, max_position_embeddings=32, relative_attention=True,
                position_buckets=8, max_relative_positions=16, pos_att_type=["p2c", "c2p"])), False)),
            (ids, mask), ["input_ids", "attention_mask"], ["last_hidden_state"],
            {n: by_seq for n in ("input_ids", "attention_mask")},
            {"inputs": ({0: bsz, 1: seq}, {0: bsz, 1: seq})}, torchscript=False),
        _HFModel(
            "xlnet", "XLNetModel (d_model 16, 2 layers, 2 heads) with input_ids and attention_mask (batch, "
            "seq), transposed to sequence-first inside: sinusoidal relative positions from arange(seq, "
            "-seq, -1) counting down, relative attention in Einsum with the relative shift done by "
            "Reshape, Slice and a Gather over a Range, the mask combined with EyeLike. TorchScript "
            "only: the dynamo exporter fails to decompose it.",
            ["arch:xlnet", "attention_mask", "op:einsum", "relative_position", "shape_arithmetic"],
            seeded(lambda: Encoder(T.XLNetModel(T.XLNetConfig(vocab_size=64, d_model=16, n_layer=2, n_head=2,
                                                              d_inner=32)), False)),
            (ids, mask), ["input_ids", "attention_mask"], ["last_hidden_state"],
            {n: by_seq for n in ("input_ids", "attention_mask")}, None),
        _HFModel(
            "t5", "T5ForConditionalGeneration (d_model 16, 1+1 layers, 2 heads, eager attention): encoder "
            "with input_ids and attention_mask (batch, seq), decoder with decoder_input_ids (batch, "
            "dec_seq), relative position buckets computed from Range over both lengths (Log, Min, "
            "Where), causal mask, cross attention, T5 RMS LayerNorm; output logits, no cache.",
            ["arch:t5", "encoder_decoder", "attention_mask", "shape_arithmetic"],
            seeded(t5),
            (ids, mask, ids[:, :3]), ["input_ids", "attention_mask", "decoder_input_ids"], ["logits"],
            {"input_ids": by_seq, "attention_mask": by_seq, "decoder_input_ids": {0: "batch", 1: "dec_seq"}},
            {"input_ids": {0: bsz, 1: seq}, "attention_mask": {0: bsz, 1: seq},
             "decoder_input_ids": {0: bsz, 1: dim("dec_seq")}}),
        _HFModel(
            "bart", "BartForConditionalGeneration (d_model 16, 1+1 layers, 2 heads): learned positions "
            "with an offset, encoder padding mask, decoder causal mask and cross attention; decoder ids "
            "shifted from the labels are given directly (batch, dec_seq); output logits, no cache.",
            ["arch:bart", "encoder_decoder", "attention_mask", "shape_arithmetic"],
            seeded(lambda: Seq2Seq(T.BartForConditionalGeneration(T.BartConfig(
                vocab_size=64, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                max_position_embeddings=32, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                decoder_start_token_id=2, forced_eos_token_id=None)))),
            (ids, mask, ids[:, :3]), ["input_ids", "attention_mask", "decoder_input_ids"], ["logits"],
            {"input_ids": by_seq, "attention_mask": by_seq, "decoder_input_ids": {0: "batch", 1: "dec_seq"}},
            {"input_ids": {0: bsz, 1: seq}, "attention_mask": {0: bsz, 1: seq},
             "decoder_input_ids": {0: bsz, 1: dim("dec_seq")}}, torchscript=False),
        _HFModel(
            "vit", "ViTModel (hidden 16, 2 layers, 2 heads, 16x16 images in 4x4 patches): Conv patch "
            "embedding, class token, position embedding, pooler; dynamic batch (the image size is fixed "
            "by the position table).",
            ["arch:vit", "op:conv", "attention"],
            seeded(lambda: Encoder(T.ViTModel(T.ViTConfig(**vit_config)), True)),
            (images,), ["pixel_values"], ["last_hidden_state", "pooler_output"],
            {"pixel_values": {0: "batch"}}, {"inputs": ({0: bsz},)}, torchscript=False),
        _HFModel(
            "segformer", "SegformerForSemanticSegmentation (2 stages of widths 8 and 16, 1 block each, "
            "spatial-reduction attention with a strided Conv, Mix-FFN depthwise Conv) on images of "
            "symbolic height and width: overlapping patch embeddings, sequence reshaped back to "
            "(batch, C, H/4, W/4) from shapes, the stage outputs resized to the first stage's size "
            "(bilinear Resize to a computed size) and fused; output 3-class logits at 1/4 resolution.",
            ["arch:segformer", "op:conv", "op:resize", "attention", "shape_arithmetic"],
            seeded(lambda: Logits(T.SegformerForSemanticSegmentation(T.SegformerConfig(
                num_channels=3, num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1], hidden_sizes=[8, 16],
                num_attention_heads=[1, 2], decoder_hidden_size=16, num_labels=3)))),
            (seg_images,), ["pixel_values"], ["logits"],
            {"pixel_values": {0: "batch", 2: "height", 3: "width"}},
            {"inputs": ({0: bsz, 2: dim("height", min=8, max=256), 3: dim("width", min=8, max=256)},)},
            torchscript=False),
        _HFModel(
            "dinov2", "Dinov2Model (hidden 16, 2 layers, 2 heads, 8x8 patches, position table for 32x32) "
            "on images of symbolic height and width: the position grid is resized (bicubic) to the "
            "patch grid, its side int(num_positions ** 0.5) computed from float constants; layer scale, "
            "class token, LayerNorm. TorchScript only: the dynamo graph is a plain ViT's.",
            ["arch:dinov2", "op:conv", "op:resize", "attention", "shape_arithmetic"],
            seeded(lambda: Encoder(T.Dinov2Model(T.Dinov2Config(
                hidden_size=16, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, image_size=32,
                patch_size=8)), False)),
            (seg_images,), ["pixel_values"], ["last_hidden_state"],
            {"pixel_values": {0: "batch", 2: "height", 3: "width"}}, None),
        _HFModel(
            "whisper_encoder", "WhisperModel's encoder (d_model 16, 2 layers, 2 heads, 8 mel bins, 32 "
            "frames): two Conv1d + GELU with stride 2, sinusoidal position table, pre-LayerNorm "
            "attention; dynamic batch (the frame count is fixed by the model).",
            ["arch:whisper", "op:conv", "audio"],
            seeded(lambda: Encoder(T.WhisperModel(T.WhisperConfig(
                vocab_size=64, num_mel_bins=8, d_model=16, encoder_layers=2, decoder_layers=2,
                encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                decoder_ffn_dim=32, max_source_positions=whisper_frames // 2, max_target_positions=32,
                pad_token_id=0, bos_token_id=0, eos_token_id=0, decoder_start_token_id=0)).encoder,
                False)),
            (mels,), ["input_features"], ["last_hidden_state"],
            {"input_features": {0: "batch"}}, {"inputs": ({0: bsz},)}, torchscript=False),
        _HFModel(
            "wav2vec2", "Wav2Vec2Model (hidden 16, 2 layers, 2 heads) on raw audio (batch, samples): "
            "strided Conv1d feature extractor with GroupNorm, feature projection, grouped positional "
            "Conv1d with padding removed by a slice; dynamic batch and sample count.",
            ["arch:wav2vec2", "op:conv", "op:groupnorm", "audio", "shape_arithmetic"],
            seeded(lambda: Encoder(T.Wav2Vec2Model(T.Wav2Vec2Config(
                vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=32, conv_dim=(8, 8, 8), conv_stride=(5, 2, 2), conv_kernel=(10, 3, 3),
                num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=4, do_stable_layer_norm=False,
                feat_extract_norm="group")), False)),
            (audio,), ["input_values"], ["last_hidden_state"],
            {"input_values": {0: "batch", 1: "samples"}},
            {"inputs": ({0: bsz, 1: dim("samples", min=64, max=4096)},)}, torchscript=False),
    ]


def _strip_node_metadata(model: onnx.ModelProto) -> None:
    """Drop the dynamo exporter's per-node stack traces (most of a tiny model's bytes)."""

    def graphs(graph: onnx.GraphProto) -> Any:
        yield graph
        for node in graph.node:
            for attr in node.attribute:
                if attr.HasField("g"):
                    yield from graphs(attr.g)
                for sub in attr.graphs:
                    yield from graphs(sub)

    for graph in graphs(model.graph):
        for node in graph.node:
            del node.metadata_props[:]
    for function in model.functions:
        for node in function.node:
            del node.metadata_props[:]


def build(root: Path) -> SectionResult:
    torch = _require("torch")
    transformers = _require("transformers")
    _require("onnxscript")  # the dynamo exporter needs it
    version = torch.__version__
    d = root / "hf"
    d.mkdir(parents=True, exist_ok=True)
    out: list[Fixture] = []
    failures: list[str] = []
    for spec in _models(torch, transformers):
        # (dynamo?, opset): TorchScript at the spec's opset and at its old ones, dynamo at its default
        runs = [(False, spec.opset)] if spec.torchscript else []
        runs += [(False, o) for o in spec.old_opsets]
        if spec.dynamic_shapes is not None:
            runs.append((True, 0))
        for dynamo, opset in runs:
            old = not dynamo and opset != spec.opset
            suffix = "dynamo" if dynamo else f"torchscript_opset{opset}" if old else "torchscript"
            rel = f"{spec.stem}_{suffix}.onnx"
            path = d / rel
            with _quiet() as log:
                try:
                    module = spec.build()
                    if old:  # scaled_dot_product_attention exports from opset 14 on
                        module.model.set_attn_implementation("eager")
                    if dynamo:
                        torch.onnx.export(module, spec.args, str(path), dynamo=True, external_data=False,
                                          input_names=spec.input_names, output_names=spec.output_names,
                                          dynamic_shapes=spec.dynamic_shapes)
                    else:
                        torch.onnx.export(module, spec.args, str(path), dynamo=False,
                                          opset_version=opset, input_names=spec.input_names,
                                          output_names=spec.output_names, dynamic_axes=spec.dynamic_axes)
                except Exception as exc:  # an exporter failure is reported, not fatal
                    failures.append(f"hf/{rel}: {type(exc).__name__}: {str(exc).strip()[:300]}")
                    print(f"  ! hf/{rel} failed to export:\n{log.getvalue()[-2000:]}", file=sys.stderr)
                    path.unlink(missing_ok=True)
                    continue
            model = _load(path, external=False)
            if dynamo:
                _strip_node_metadata(model)
                _save(model, path)
            how = ("Dynamo exporter (node stack traces dropped by the generator)." if dynamo
                   else f"TorchScript exporter, opset {opset}, eager attention." if old
                   else f"TorchScript exporter, opset {opset}.")
            features = [f"opset:{opset}"] if old else []
            out.append(Fixture(
                f"hf/{rel}", f"{spec.description} {how}",
                f"transformers {transformers.__version__}, pytorch {version} "
                f"torch.onnx.export(dynamo={dynamo})",
                ["exporter:dynamo" if dynamo else "exporter:torchscript", "dims:symbolic", "real_model",
                 "exporter:transformers", *features, *spec.features]))
    for failure in failures:
        print(f"  ! {failure}", file=sys.stderr)
    return SectionResult(out, {"torch": version, "transformers": transformers.__version__,
                               "onnxscript": _version_of("onnxscript")})
