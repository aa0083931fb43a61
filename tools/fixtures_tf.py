"""Section "tf" of tools/make_fixtures.py: Keras / TensorFlow models converted by tf2onnx.

tf2onnx pins an old protobuf, so it lives in its own Python environment: build() runs this file
there (``$ONNXLITE_TF_PYTHON``, default /work/venvtf/bin/python; the section is skipped when it is
absent), which exports into a temporary folder and prints what it wrote as JSON; build() then
saves the files with this environment's onnx. Set up that environment with
``python3 -m venv /work/venvtf && /work/venvtf/bin/pip install tensorflow-cpu==2.15.1 tf2onnx==1.16.1``.

Models (random weights, fixed seeds, symbolic batch): a small CNN on NHWC images (Conv2D /
BatchNormalization / MaxPooling2D / Dense: tf2onnx's NHWC <-> NCHW Transposes), an Embedding + LSTM
and an Embedding + GRU text classifier (symbolic batch and sequence), a functional two-input model
(Concatenate / Add / Reshape / GlobalAveragePooling2D), a MobileNet-like model on images of any
size (depthwise / separable / transposed convolutions, upsampling, cropping), a transformer block
(MultiHeadAttention, LayerNormalization), bidirectional RNNs behind Masking (a tf.while Loop), a
tf.function with tf.while_loop and tf.cond (Loop, If), and tf.functions over raw tensor and image
ops; at opsets 13 and 17, the CNN also at opset 11, the bidirectional RNNs at 15.

tf2onnx's output is not byte-stable: merged constants keep one of their names (renamed here), but
its name counter ("Slice__2772") and, for some models, node order and which of two merged
duplicates survives change run to run; regenerating rewrites those files with equivalent graphs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_PYTHON = "/work/venvtf/bin/python"


_DEDUP = re.compile(r"const_[A-Za-z]+(_[A-Za-z]+)*__\d+")


def _canonical_constants(model: Any) -> Any:
    """tf2onnx merges equal constants and keeps one of their names in an order that changes run
    to run (const_starts__183 or const_axes__187): those initializers are renamed const_K by
    first use and listed in that order, so that the file is the same every run."""
    graph = model.graph
    uses: list[str] = []

    def walk(g: Any) -> None:
        for n in g.node:
            uses.extend(n.input)
            for a in n.attribute:
                if a.HasField("g"):
                    walk(a.g)
                for sub in a.graphs:
                    walk(sub)

    walk(graph)
    dedup = {i.name for i in graph.initializer if _DEDUP.fullmatch(i.name)}
    order = list(dict.fromkeys(u for u in uses if u in dedup))
    order += sorted(dedup - set(order))
    taken = {i.name for i in graph.initializer} | set(uses)
    new: dict[str, str] = {}
    k = 0
    for old in order:
        while f"const_{k}" in taken:
            k += 1
        new[old] = f"const_{k}"
        k += 1

    def rename(g: Any) -> None:
        for n in g.node:
            n.input[:] = [new.get(v, v) for v in n.input]
            for a in n.attribute:
                if a.HasField("g"):
                    rename(a.g)
                for sub in a.graphs:
                    rename(sub)
        for o in g.output:
            o.name = new.get(o.name, o.name)

    rename(graph)
    rank = {name: r for r, name in enumerate(order)}
    inits = list(graph.initializer)
    kept = [i for i in inits if i.name not in dedup]
    moved = sorted((i for i in inits if i.name in dedup), key=lambda i: rank[i.name])
    for i in moved:
        i.name = new[i.name]
    del graph.initializer[:]
    graph.initializer.extend([*kept, *moved])
    return model


def build(root: Path) -> Any:
    """Write the section's models under ``root / "tf"``."""
    import onnx
    from make_fixtures import Fixture, SectionResult, SectionUnavailable, _save

    python = os.environ.get("ONNXLITE_TF_PYTHON", DEFAULT_PYTHON)
    if not Path(python).exists():
        raise SectionUnavailable(f"no TensorFlow environment at {python} (set ONNXLITE_TF_PYTHON)")
    with tempfile.TemporaryDirectory(prefix="tf_") as tmp:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PYTHONHASHSEED": "0",
               "TF_NUM_INTEROP_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_ENABLE_ONEDNN_OPTS": "0"}
        env.pop("PYTHONPATH", None)
        proc = subprocess.run([python, str(Path(__file__).resolve()), tmp], capture_output=True, text=True,
                              env=env, timeout=900)
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            if "ModuleNotFoundError" in tail:
                raise SectionUnavailable(f"{python}: {tail.splitlines()[-1]}")
            raise RuntimeError(f"tf export failed:\n{tail}")
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        producer = f"tf2onnx {report['tf2onnx']} (tensorflow {report['tensorflow']})"
        out = []
        for item in report["models"]:
            model = _canonical_constants(onnx.load(str(Path(tmp) / item["name"])))
            rel = f"tf/{item['name']}"
            _save(model, root / rel)
            size = (root / rel).stat().st_size
            assert size < 100_000, (rel, size)
            ops = sorted({n.op_type for n in model.graph.node})
            sub = any(a.type == onnx.AttributeProto.GRAPH for n in model.graph.node for a in n.attribute)
            tags = ["exporter:tf2onnx", "lib:keras" if item["keras"] else "lib:tensorflow", "real_model",
                    "dims:symbolic", f"opset:{item['opset']}", *item["tags"]]
            if sub:
                tags.append("subgraph")
            description = f"{item['description']} Ops: {', '.join(ops)}."
            out.append(Fixture(rel, description, producer, sorted(set(tags))))
        for note in report.get("notes", []):
            print("  note:", note)
    return SectionResult(out, {"tensorflow": report["tensorflow"], "tf2onnx": report["tf2onnx"],
                               "keras": report["keras_version"]})


# ---------------------------------------------------------------------------------------------
# The export itself: runs in the TensorFlow environment (no onnxlite, no make_fixtures there)
# ---------------------------------------------------------------------------------------------


def _export(out_dir: Path) -> dict[str, Any]:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import numpy as np
    import tensorflow as tf
    import tf2onnx

    tf.get_logger().setLevel("ERROR")
    keras = tf.keras
    layers = keras.layers
    models: list[dict[str, Any]] = []
    notes: list[str] = []

    def seeded() -> None:
        keras.utils.set_random_seed(0)
        tf.config.experimental.enable_op_determinism()

    def save_keras(name: str, make: Any, signature: list[Any], opset: int, description: str,
                   tags: list[str]) -> None:
        seeded()
        model = make()
        # non-trivial BatchNorm statistics, deterministic
        rng = np.random.default_rng(1)
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                g, b, mean, var = layer.get_weights()
                layer.set_weights([g, b, rng.normal(0, 0.1, mean.shape).astype("float32"),
                                   rng.uniform(0.5, 1.5, var.shape).astype("float32")])
        path = out_dir / f"{name}.onnx"
        tf2onnx.convert.from_keras(model, input_signature=signature, opset=opset, output_path=str(path))
        models.append({"name": path.name, "opset": opset, "keras": True, "description": description,
                       "tags": tags})

    def save_function(stem: str, fn: Any, description: str, tags: list[str]) -> None:
        """A tf.function at opsets 13 and 17 (``description`` gets the opset appended)."""
        for opset in (13, 17):
            path = out_dir / f"{stem}_opset{opset}.onnx"
            tf2onnx.convert.from_function(fn, input_signature=fn.input_signature, opset=opset,
                                          output_path=str(path))
            models.append({"name": path.name, "opset": opset, "keras": False, "tags": tags,
                           "description": f"{description} Opset {opset}."})

    def cnn() -> Any:
        x = inp = keras.Input((16, 16, 3), name="image")
        x = layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(12, 3, strides=2, padding="valid")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Flatten()(x)
        x = layers.Dense(10, activation="softmax")(x)
        return keras.Model(inp, x, name="cnn")

    image = [tf.TensorSpec((None, 16, 16, 3), tf.float32, name="image")]
    for opset in (11, 13, 17):
        save_keras(f"keras_cnn_opset{opset}", cnn, image, opset,
                   "Keras Sequential-style CNN on NHWC [batch, 16, 16, 3] images: Conv2D (same / valid, "
                   "strided), BatchNormalization, ReLU, MaxPooling2D, Flatten, Dense + softmax; tf2onnx "
                   f"wraps the convolutions in NHWC <-> NCHW Transposes. Opset {opset}.",
                   ["layout:nhwc"])

    def lstm() -> Any:
        inp = keras.Input((None,), dtype="int32", name="tokens")
        x = layers.Embedding(50, 8)(inp)
        x = layers.LSTM(8)(x)
        x = layers.Dense(3, activation="softmax")(x)
        return keras.Model(inp, x, name="lstm")

    def gru() -> Any:
        inp = keras.Input((None,), dtype="int32", name="tokens")
        x = layers.Embedding(50, 8)(inp)
        x = layers.GRU(8, return_sequences=True)(x)
        x = layers.GlobalMaxPooling1D()(x)
        x = layers.Dense(2)(x)
        return keras.Model(inp, x, name="gru")

    tokens = [tf.TensorSpec((None, None), tf.int32, name="tokens")]
    for opset in (13, 17):
        save_keras(f"keras_lstm_opset{opset}", lstm, tokens, opset,
                   "Keras text classifier: Embedding(50, 8) on int32 tokens [batch, seq], LSTM(8) "
                   f"(last state), Dense + softmax. Opset {opset}.", ["rnn", "dims:symbolic_seq"])
        save_keras(f"keras_gru_opset{opset}", gru, tokens, opset,
                   "Keras text model: Embedding(50, 8) on int32 tokens [batch, seq], GRU(8) returning "
                   f"sequences, GlobalMaxPooling1D, Dense. Opset {opset}.", ["rnn", "dims:symbolic_seq"])

    def functional() -> Any:
        img = keras.Input((8, 8, 4), name="pixels")
        vec = keras.Input((6,), name="meta")
        a = layers.Conv2D(6, 1, activation="relu")(img)
        b = layers.Conv2D(6, 3, padding="same")(img)
        s = layers.Add()([a, b])
        c = layers.Concatenate(axis=-1)([s, img])
        p = layers.GlobalAveragePooling2D()(c)
        m = layers.Dense(10, activation="tanh")(vec)
        joined = layers.Concatenate()([p, m])
        r = layers.Reshape((4, 5))(joined)
        r = layers.Dense(3)(r)
        r = layers.Permute((2, 1))(r)
        out = layers.Flatten()(r)
        return keras.Model([img, vec], [out, p], name="functional")

    two = [tf.TensorSpec((None, 8, 8, 4), tf.float32, name="pixels"),
           tf.TensorSpec((None, 6), tf.float32, name="meta")]
    for opset in (13, 17):
        save_keras(f"keras_functional_opset{opset}", functional, two, opset,
                   "Keras functional model with two inputs (NHWC pixels [batch, 8, 8, 4], meta [batch, 6]) "
                   "and two outputs: Conv2D branches, Add, Concatenate (channels, then features), "
                   f"GlobalAveragePooling2D, Reshape, Dense on 3-D, Permute, Flatten. Opset {opset}.",
                   ["layout:nhwc", "multi_input", "multi_output"])

    # --- tf.function with control flow ----------------------------------------------------------
    tf.random.set_seed(0)
    w_np = np.random.default_rng(2).normal(0, 0.5, (4, 4)).astype("float32")

    @tf.function(input_signature=[tf.TensorSpec((None, 4), tf.float32, name="x"),
                                  tf.TensorSpec((), tf.int32, name="steps")])
    def loop_cond(x: Any, steps: Any) -> Any:
        w = tf.constant(w_np)  # made inside: a captured tensor would become a graph input

        def body(i: Any, h: Any, acc: Any) -> Any:
            h = tf.tanh(tf.matmul(h, w) + x)
            return i + 1, h, acc + tf.reduce_sum(h, axis=1)

        i0 = tf.constant(0)
        _, h, acc = tf.while_loop(lambda i, h, acc: i < steps, body,
                                  [i0, x, tf.zeros_like(x[:, 0])])
        total = tf.reduce_mean(acc)
        y = tf.cond(total > 0.0, lambda: h * 2.0, lambda: tf.concat([h[:, 2:], h[:, :2]], axis=1) - 1.0)
        return tf.identity(y, name="y"), tf.identity(acc, name="acc")

    save_function("tf_while_cond", loop_cond,
                  "tf.function: tf.while_loop for `steps` iterations (h = tanh(h @ W + x), a per-row "
                  "running sum) -> Loop, then tf.cond on the mean -> If (one branch rotates the columns "
                  "by slicing and concat). x [batch, 4].", ["control_flow"])

    # --- more layer families ---------------------------------------------------------------------
    def mobile() -> Any:
        x = inp = keras.Input((None, None, 3), name="image")  # any height and width
        x = layers.ZeroPadding2D(((0, 1), (0, 1)))(x)
        x = layers.Conv2D(8, 3, strides=2, padding="valid", activation="relu6")(x)
        x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=1)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("swish")(x)
        y = layers.SeparableConv2D(8, 3, padding="same", activation="relu")(x)
        y = layers.Add()([x, y])
        u = layers.Conv2DTranspose(4, 3, strides=2, padding="same")(y)
        u = layers.UpSampling2D(2, interpolation="bilinear")(u)
        u = layers.Cropping2D(((1, 1), (2, 0)))(u)
        p = layers.GlobalMaxPooling2D()(y)
        p = layers.Dropout(0.2)(p)
        p = layers.Dense(5, activation="sigmoid")(p)
        return keras.Model(inp, [p, u], name="mobile")

    for opset in (13, 17):
        save_keras(f"keras_mobile_opset{opset}", mobile, [tf.TensorSpec((None, None, None, 3), tf.float32,
                                                                        name="image")], opset,
                   "Keras MobileNet-like model on NHWC images of any batch, height and width: "
                   "ZeroPadding2D, strided Conv2D + relu6, DepthwiseConv2D, BatchNormalization, swish, "
                   "SeparableConv2D, Add, Conv2DTranspose, bilinear UpSampling2D, Cropping2D, "
                   f"GlobalMaxPooling2D, Dense + sigmoid; two outputs. Opset {opset}.",
                   ["layout:nhwc", "dims:symbolic_hw", "multi_output"])

    def transformer() -> Any:
        tok = keras.Input((None,), dtype="int32", name="tokens")
        x = layers.Embedding(40, 16)(tok)
        pos = layers.Lambda(lambda t: tf.range(tf.shape(t)[1]))(tok)
        x = x + layers.Embedding(32, 16)(pos)
        a = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x, use_causal_mask=True)
        x = layers.LayerNormalization(epsilon=1e-6)(x + a)
        f = layers.Dense(32, activation="gelu")(x)
        f = layers.Dense(16)(f)
        x = layers.LayerNormalization(epsilon=1e-6)(x + f)
        cls = layers.Dense(4)(layers.GlobalAveragePooling1D()(x))
        return keras.Model(tok, [x, cls], name="transformer")

    for opset in (13, 17):
        save_keras(f"keras_transformer_opset{opset}", transformer, tokens, opset,
                   "Keras transformer encoder block on int32 tokens [batch, seq]: token + position "
                   "Embedding (tf.range over tf.shape), MultiHeadAttention (2 heads, causal mask: "
                   "einsum projections), LayerNormalization, Dense + gelu, GlobalAveragePooling1D. "
                   f"Opset {opset}.", ["attention", "dims:symbolic_seq", "multi_output"])

    def bilstm() -> Any:
        inp = keras.Input((None, 6), name="series")
        x = layers.Masking(0.0)(inp)
        x = layers.Bidirectional(layers.LSTM(6, return_sequences=True))(x)
        x = layers.Conv1D(5, 3, padding="causal", dilation_rate=2)(x)
        x = layers.TimeDistributed(layers.Dense(3))(x)
        x = layers.Bidirectional(layers.GRU(4), merge_mode="sum")(x)
        return keras.Model(inp, x, name="bilstm")

    save_keras("keras_bilstm_opset15", bilstm, [tf.TensorSpec((None, None, 6), tf.float32, name="series")],
               15, "Keras sequence model on float series [batch, time, 6]: Masking, bidirectional LSTM "
               "returning sequences, causal dilated Conv1D, TimeDistributed Dense, bidirectional GRU "
               "(merge sum). Opset 15.", ["rnn", "dims:symbolic_seq"])

    @tf.function(input_signature=[tf.TensorSpec((None, 6), tf.float32, name="scores"),
                                  tf.TensorSpec((None,), tf.int64, name="ids"),
                                  tf.TensorSpec((None, None, 3), tf.float32, name="pixels")])
    def tensor_ops(scores: Any, ids: Any, pixels: Any) -> Any:
        top_v, top_i = tf.math.top_k(scores, k=3)
        best = tf.argmax(scores, axis=-1)
        hot = tf.one_hot(best, depth=6, dtype=tf.float32)
        cum = tf.cumsum(scores, axis=1, exclusive=True)
        picked = tf.gather(scores, tf.math.floormod(ids, tf.shape(scores, out_type=tf.int64)[0]))
        positive = tf.boolean_mask(scores, scores > 0.0)  # data-dependent length
        where = tf.where(scores > 0.5)  # [count, 2] indices
        tiled = tf.tile(scores[:, :2], [1, 3])
        n = tf.shape(scores)[0]
        flat = tf.reshape(scores, [n * 2, -1])
        resized = tf.image.resize(pixels[None], (8, 8), method="nearest")[0]
        seg = tf.math.unsorted_segment_sum(scores, tf.math.floormod(ids[:1] * 0 + tf.range(
            tf.shape(scores, out_type=tf.int64)[0]), 2), num_segments=2)
        clipped = tf.clip_by_value(scores, -0.5, 0.5)
        sq = tf.squeeze(tf.expand_dims(scores, 1), axis=1)
        mean, var = tf.nn.moments(scores, axes=[0])
        return {"top_v": top_v, "top_i": top_i, "hot": hot, "cum": cum, "picked": picked,
                "positive": positive, "where": where, "tiled": tiled, "flat": flat, "resized": resized,
                "seg": seg, "clipped": clipped + sq, "moments": mean + var}

    save_function("tf_tensor_ops", tensor_ops,
                  "tf.function over raw TensorFlow ops: top_k, argmax, one_hot, exclusive cumsum, gather, "
                  "boolean_mask and where (data-dependent sizes), tile, reshape by tf.shape, nearest image "
                  "resize, unsorted_segment_sum, clip_by_value, squeeze / expand_dims, moments; inputs of "
                  "symbolic sizes.", ["data_dependent"])

    k1 = np.random.default_rng(3).normal(0, 0.3, (3, 3, 4, 6)).astype("float32")

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 4), tf.float32, name="img"),
                                  tf.TensorSpec((None, 4), tf.float32, name="boxes"),
                                  tf.TensorSpec((None,), tf.float32, name="box_scores"),
                                  tf.TensorSpec((None, 5, 7), tf.float32, name="seq")])
    def image_ops(img: Any, boxes: Any, box_scores: Any, seq: Any) -> Any:
        c = tf.nn.conv2d(img, tf.constant(k1), strides=2, padding="SAME")
        d2s = tf.nn.depth_to_space(tf.nn.space_to_depth(img[:, :2, :2], 2), 2)
        nms = tf.image.non_max_suppression(boxes, box_scores, max_output_size=3, iou_threshold=0.5)
        crops = tf.image.crop_and_resize(img, boxes, tf.zeros_like(tf.cast(box_scores, tf.int32)), (3, 3))
        return {"c": c, "d2s": d2s, "ap": tf.nn.avg_pool2d(img, 3, 2, "SAME"),
                "mp": tf.nn.max_pool2d(img, 2, 2, "VALID"),
                "lrn": tf.nn.local_response_normalization(img, depth_radius=1), "nms": nms,
                "srt": tf.sort(box_scores, direction="DESCENDING"), "arg": tf.argsort(box_scores),
                "e": tf.einsum("bij,bkj->bik", seq, seq), "bm": tf.linalg.matmul(seq, seq, transpose_b=True),
                "sc": tf.scatter_nd(tf.constant([[1], [3]]), tf.ones([2, 7]), [6, 7]),
                "rev": tf.reverse(seq, axis=[1]), "sl": seq[:, 1:-1:2, ::-1], "crops": crops,
                "p": tf.pad(seq, [[0, 0], [1, 2], [0, 0]], mode="REFLECT"),
                "r": tf.reduce_logsumexp(seq, axis=-1), "st": tf.stack([seq, seq], axis=1),
                "ms": tf.math.reduce_std(seq, axis=1), "i8": tf.cast(seq > 0, tf.int8),
                "sel": tf.where(seq > 0, seq, tf.zeros_like(seq)), "rg": tf.range(tf.shape(seq)[0] * 3)}

    save_function("tf_image_ops", image_ops,
                  "tf.function over image and sequence ops: SAME strided conv2d and avg_pool on images of "
                  "any size, space_to_depth / depth_to_space, max_pool, local response normalization, "
                  "non_max_suppression (data-dependent count), crop_and_resize, sort / argsort, einsum, "
                  "batched matmul, scatter_nd, reverse, strided negative slicing, REFLECT pad, "
                  "reduce_logsumexp / reduce_std, stack, where, range.", ["data_dependent", "layout:nhwc"])

    return {"tensorflow": tf.__version__, "tf2onnx": tf2onnx.__version__, "keras_version": _keras_version(),
            "models": models, "notes": notes}


def _keras_version() -> str:
    from importlib.metadata import version

    return version("keras")


if __name__ == "__main__":
    result = _export(Path(sys.argv[1]))
    print(json.dumps(result))
