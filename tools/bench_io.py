"""Benchmark model I/O of onnxlite against the `onnx` and `onnx_ir` packages in one run.

Usage:
    python tools/bench_io.py [--size-mb 1024] [--nodes 100000] [--repeat 3] [--only NAME] [--json out.json]

What it measures
----------------
Three synthetic models are generated with the `onnx` package and cached in ``tools/.bench/``
(git-ignored); a model is regenerated only when it is missing or was built with other parameters
(stale models of the same kind are deleted so the folder stays at about 2 x size-mb):

* ``embedded``: ~size-mb of float32 weights stored inline as ``raw_data`` in ~250 initializers
  (four 64 MB ones at the default size, many of a few MB, many of a few KB) feeding ~850
  MatMul/Gemm/Add/LayerNorm/GELU nodes of a transformer-like MLP stack;
* ``external``: the same model with the weights in one external data file beside it;
* ``nodes``: a chain of ``--nodes`` small unary/binary nodes with attributes, realistic names
  (``/model/layers.123/mlp/Add_1``), a few small initializers and some value_info.

For every model and tool these operations are timed, each in a FRESH ``python -c`` subprocess so
the peak resident set size belongs to that one operation:

* ``load+inspect``: load the model, then read what someone inspecting it needs: op_type, name,
  inputs and outputs of every node; name, dtype and shape of every initializer.  For the
  external-data model `onnx` is also measured with ``load_external_data=False`` as its own row.
* ``save``: load (untimed), then time only the save of the unmodified model to a new path under
  ``tools/.bench/tmp/`` (deleted right after).  External-data models are saved with external data.
* ``load full`` (onnxlite only): load, then ``.numpy()`` every initializer and read one element of
  each, which shows that lazy tensor access works.

Time is ``time.perf_counter()`` around the operation only, after the imports.  Memory is the
kernel's ``VmHWM`` from ``/proc/self/status`` read at the end of the subprocess: the absolute peak
RSS of the whole process, which includes file-backed pages of memory-mapped files (intended: a
zero-copy reader must not get its mapped file for free).  The VmHWM right after the imports is
reported too so the delta can be seen.  Before the runs on a model its files are read once
(like ``cat file > /dev/null``) so that every tool sees a warm page cache.  Each measurement runs
``--repeat`` times (interleaved across tools); the table shows the median time and the maximum peak.

Correctness is checked cheaply on the way: tools must agree on node/initializer counts, saved
outputs must not be much smaller than the input, and onnxlite's save of the unmodified embedded
model must be byte-identical to the input (size + chunked sha256).

``--only`` restricts the run; it takes comma-separated model names (embedded, external, nodes)
and/or tool names (onnx, onnx_ir, onnxlite).  A tool that is not installed (or whose API is not
usable) is skipped with a note.  The exit status is 1 when a target fails, a measurement errors
or a check warns.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "tools" / ".bench"
TMP_DIR = BENCH_DIR / "tmp"

GENERATOR_VERSION = 1
TOOLS = ("onnx", "onnx_ir", "onnxlite")
MODEL_KINDS = ("embedded", "external", "nodes")
OPS = ("load+inspect", "load+inspect (no ext data)", "save", "load full")

HIDDEN = 1024  # width of the embedded model's residual stream
N_LAYERS = 40  # MLP blocks in the embedded model (6 initializers, ~21 nodes each)
LARGE_LAYERS = 2  # blocks whose two projections are the "large" tensors (64 MB each at 1 GB)
NODES_WIDTH = 64  # width of the 100k-node chain
SUBPROCESS_TIMEOUT_S = 1800
MIB = 1 << 20


# --------------------------------------------------------------------------------------------
# Model generation (uses the onnx package)
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One benchmark model on disk."""

    kind: str  # "embedded" | "external" | "nodes"
    path: Path  # the .onnx file to load
    files: tuple[Path, ...]  # every file belonging to the model (for warm-up and size)
    params: dict[str, Any]

    @property
    def external(self) -> bool:
        return self.kind == "external"

    def nbytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)


def _size_label(size_mb: int) -> str:
    return f"{size_mb // 1024}g" if size_mb % 1024 == 0 else f"{size_mb}m"


def _nodes_label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def model_specs(size_mb: int, nodes: int) -> dict[str, ModelSpec]:
    """Where each model lives for these parameters (the name encodes the parameters)."""
    emb = BENCH_DIR / f"embedded_{_size_label(size_mb)}.onnx"
    ext_dir = BENCH_DIR / f"external_{_size_label(size_mb)}"
    nod = BENCH_DIR / f"nodes_{_nodes_label(nodes)}.onnx"
    wparams = {"size_mb": size_mb, "generator": GENERATOR_VERSION}
    return {
        "embedded": ModelSpec("embedded", emb, (emb,), wparams),
        "external": ModelSpec(
            "external",
            ext_dir / "model.onnx",
            (ext_dir / "model.onnx", ext_dir / "model.onnx.data"),
            wparams,
        ),
        "nodes": ModelSpec("nodes", nod, (nod,), {"nodes": nodes, "generator": GENERATOR_VERSION}),
    }


def _stamp_path(spec: ModelSpec) -> Path:
    return spec.path.with_name(spec.path.name + ".params.json")


def is_cached(spec: ModelSpec) -> bool:
    """True when all files exist and were generated with the same parameters."""
    stamp = _stamp_path(spec)
    if not stamp.exists() or not all(f.exists() for f in spec.files):
        return False
    try:
        return bool(json.loads(stamp.read_text()) == spec.params)
    except (OSError, ValueError):
        return False


def _mark_cached(spec: ModelSpec) -> None:
    _stamp_path(spec).write_text(json.dumps(spec.params))


def prune_stale(kind: str, keep: ModelSpec) -> None:
    """Delete cached models of the same kind built with other parameters (bounds disk use)."""
    keep_names = {keep.path.name, _stamp_path(keep).name, keep.path.parent.name}
    for entry in BENCH_DIR.glob(f"{kind}_*"):
        if entry.name in keep_names:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def layer_widths(size_mb: int, seed: int = 0) -> list[int]:
    """Inner width F of each MLP block so that all weights add up to about `size_mb` MiB.

    A block holds up[H, F], down[F, H] (both float32) plus a few vectors.  The first
    LARGE_LAYERS blocks get F such that a projection is 64 MiB (or size/16 for small sizes); the
    rest share the remaining budget with widths varying between 0.5x and 1.5x the average.
    """
    import numpy as np

    budget = size_mb * MIB
    large_bytes = min(64 * MIB, budget // 16)
    f_large = max(64, large_bytes // (HIDDEN * 4))
    rest = budget - LARGE_LAYERS * 2 * HIDDEN * f_large * 4
    n_rest = N_LAYERS - LARGE_LAYERS
    f_avg = max(64.0, rest / n_rest / (2 * HIDDEN * 4))
    mult = np.random.default_rng(seed).choice([0.5, 0.75, 1.0, 1.25, 1.5], size=n_rest)
    mult = mult / mult.mean()
    widths = [int(max(64, round(f_avg * m / 64) * 64)) for m in mult]
    return [int(f_large)] * LARGE_LAYERS + widths


def _rand_tensor(rng: Any, name: str, shape: tuple[int, ...], scale: float = 0.02) -> Any:
    """A float32 initializer with random data, stored as raw_data."""
    from onnx import numpy_helper

    arr = rng.standard_normal(shape, dtype="float32")
    arr *= scale
    return numpy_helper.from_array(arr, name)


def _scalar(name: str, value: float) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor(name, TensorProto.FLOAT, [], [value])


class _GraphBuilder:
    """Collects nodes, naming each output `<node name>_output_0` like the torch exporter does."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def op(self, op_type: str, name: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        out = f"{name}_output_0"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out


def _layer_norm(g: _GraphBuilder, prefix: str, x: str, w: str, b: str) -> str:
    """LayerNorm decomposed the way older exporters emit it (9 nodes)."""
    mean = g.op("ReduceMean", f"{prefix}/ReduceMean", [x], axes=[-1], keepdims=1)
    d = g.op("Sub", f"{prefix}/Sub", [x, mean])
    sq = g.op("Mul", f"{prefix}/Mul", [d, d])
    var = g.op("ReduceMean", f"{prefix}/ReduceMean_1", [sq], axes=[-1], keepdims=1)
    ve = g.op("Add", f"{prefix}/Add", [var, "const_eps"])
    std = g.op("Sqrt", f"{prefix}/Sqrt", [ve])
    n = g.op("Div", f"{prefix}/Div", [d, std])
    y = g.op("Mul", f"{prefix}/Mul_1", [n, w])
    return g.op("Add", f"{prefix}/Add_1", [y, b])


def _gelu_tanh(g: _GraphBuilder, prefix: str, x: str) -> str:
    """GELU, tanh approximation, decomposed (8 nodes)."""
    cube = g.op("Pow", f"{prefix}/Pow", [x, "const_three"])
    c = g.op("Mul", f"{prefix}/Mul", [cube, "const_gelu_c"])
    s = g.op("Add", f"{prefix}/Add", [x, c])
    k = g.op("Mul", f"{prefix}/Mul_1", [s, "const_sqrt_2_over_pi"])
    t = g.op("Tanh", f"{prefix}/Tanh", [k])
    one = g.op("Add", f"{prefix}/Add_1", [t, "const_one"])
    xm = g.op("Mul", f"{prefix}/Mul_2", [x, one])
    return g.op("Mul", f"{prefix}/Mul_3", [xm, "const_half"])


def _projection(g: _GraphBuilder, prefix: str, x: str, w: str, b: str, use_gemm: bool) -> str:
    if use_gemm:
        return g.op("Gemm", f"{prefix}/Gemm", [x, w, b], alpha=1.0, beta=1.0)
    y = g.op("MatMul", f"{prefix}/MatMul", [x, w])
    return g.op("Add", f"{prefix}/Add", [y, b])


def build_embedded_model(size_mb: int) -> Any:
    """A transformer-like MLP stack whose float32 weights total about `size_mb` MiB."""
    import numpy as np
    from onnx import TensorProto, helper

    rng = np.random.default_rng(1234)
    g = _GraphBuilder()
    g.initializers += [
        _scalar("const_eps", 1e-5),
        _scalar("const_three", 3.0),
        _scalar("const_gelu_c", 0.044715),
        _scalar("const_sqrt_2_over_pi", 0.7978845608),
        _scalar("const_one", 1.0),
        _scalar("const_half", 0.5),
    ]
    x = "input"
    for i, f in enumerate(layer_widths(size_mb)):
        p, wp = f"/model/layers.{i}", f"model.layers.{i}"
        g.initializers += [
            _rand_tensor(rng, f"{wp}.norm.weight", (HIDDEN,), 1.0),
            _rand_tensor(rng, f"{wp}.norm.bias", (HIDDEN,)),
            _rand_tensor(rng, f"{wp}.mlp.up_proj.weight", (HIDDEN, f)),
            _rand_tensor(rng, f"{wp}.mlp.up_proj.bias", (f,)),
            _rand_tensor(rng, f"{wp}.mlp.down_proj.weight", (f, HIDDEN)),
            _rand_tensor(rng, f"{wp}.mlp.down_proj.bias", (HIDDEN,)),
        ]
        h = _layer_norm(g, f"{p}/norm", x, f"{wp}.norm.weight", f"{wp}.norm.bias")
        gemm = i % 2 == 1
        h = _projection(g, f"{p}/mlp/up_proj", h, f"{wp}.mlp.up_proj.weight", f"{wp}.mlp.up_proj.bias", gemm)
        h = _gelu_tanh(g, f"{p}/mlp/act", h)
        h = _projection(
            g, f"{p}/mlp/down_proj", h, f"{wp}.mlp.down_proj.weight", f"{wp}.mlp.down_proj.bias", gemm
        )
        x = g.op("Add", f"{p}/Add", [x, h])
    g.nodes[-1].output[0] = "output"
    graph = helper.make_graph(
        g.nodes,
        "embedded_mlp_stack",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", HIDDEN])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializer=g.initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="bench_io")


# One "layer" of the node-heavy chain: (op_type, name suffix, extra input or None, attributes).
_CHAIN_PATTERN: tuple[tuple[str, str, str | None, dict[str, Any]], ...] = (
    ("Mul", "input_layernorm/Mul", "model.norm.weight", {}),
    ("Add", "input_layernorm/Add", "model.norm.bias", {}),
    ("Sigmoid", "mlp/act_fn/Sigmoid", None, {}),
    ("Mul", "mlp/act_fn/Mul", "@prev2", {}),
    ("LeakyRelu", "mlp/LeakyRelu", None, {"alpha": 0.01}),
    ("Add", "mlp/Add_1", "model.mlp.bias", {}),
    ("Softmax", "self_attn/Softmax", None, {"axis": -1}),
    ("Transpose", "self_attn/Transpose", None, {"perm": [0, 1]}),
    ("Cast", "self_attn/Cast", None, {"to": 1}),
    ("Tanh", "mlp/Tanh", None, {}),
    ("Neg", "mlp/Neg", None, {}),
    ("Sub", "mlp/Sub", "const_one", {}),
    ("Div", "mlp/Div", "const_two", {}),
    ("Add", "Add", "@layer_input", {}),
)


def build_nodes_model(n_nodes: int) -> Any:
    """A chain of exactly `n_nodes` small nodes, ~14 per `layer`, with attributes and value_info."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    inits = [
        numpy_helper.from_array(rng.standard_normal(NODES_WIDTH).astype("float32"), name)
        for name in ("model.norm.weight", "model.norm.bias", "model.mlp.bias")
    ] + [_scalar("const_one", 1.0), _scalar("const_two", 2.0)]
    nodes, value_info = [], []
    prev, prev2, layer_input = "input", "input", "input"
    for k in range(n_nodes):
        layer, step = divmod(k, len(_CHAIN_PATTERN))
        op_type, suffix, extra, attrs = _CHAIN_PATTERN[step]
        if step == 0:
            layer_input = prev
        name = f"/model/layers.{layer}/{suffix}"
        inputs = [prev]
        if extra is not None:
            inputs.append({"@prev2": prev2, "@layer_input": layer_input}.get(extra, extra))
        out = "output" if k == n_nodes - 1 else f"{name}_output_0"
        nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        if k % 10 == 0 and out != "output":
            value_info.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", NODES_WIDTH]))
        prev2, prev = prev, out
    graph = helper.make_graph(
        nodes,
        "node_chain",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", NODES_WIDTH])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", NODES_WIDTH])],
        initializer=inits,
        value_info=value_info,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="bench_io")


def _check_disk(need_bytes: int) -> None:
    free = shutil.disk_usage(BENCH_DIR).free
    if free < need_bytes + 2 * 1024 * MIB:
        raise SystemExit(
            f"not enough free disk in {BENCH_DIR}: need ~{need_bytes / MIB:.0f} MiB + 2 GiB margin"
        )


def ensure_models(specs: dict[str, ModelSpec], wanted: Iterable[str]) -> None:
    """Generate whichever wanted models are missing or stale (needs the onnx package)."""
    wanted = set(wanted)
    if "external" in wanted:
        wanted.add("embedded")  # the external model is converted from the embedded one
    missing = [k for k in MODEL_KINDS if k in wanted and not is_cached(specs[k])]
    if not missing:
        return
    try:
        import onnx
    except ImportError:
        raise SystemExit(
            f"models {missing} must be generated but the onnx package is not installed") from None
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for kind in missing:
        prune_stale(kind, specs[kind])
    size_mb = specs["embedded"].params["size_mb"]
    if "embedded" in missing or "external" in missing:
        _check_disk(size_mb * MIB * (int("embedded" in missing) + int("external" in missing) + 1))
        _generate_weight_models(onnx, specs, missing)
    if "nodes" in missing:
        t0 = time.perf_counter()
        onnx.save(build_nodes_model(specs["nodes"].params["nodes"]), specs["nodes"].path)
        _mark_cached(specs["nodes"])
        print(f"generated {specs['nodes'].path.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def _generate_weight_models(onnx: Any, specs: dict[str, ModelSpec], missing: list[str]) -> None:
    emb, ext = specs["embedded"], specs["external"]
    t0 = time.perf_counter()
    if "embedded" in missing:
        model = build_embedded_model(emb.params["size_mb"])
        onnx.save(model, emb.path)
        _mark_cached(emb)
        print(f"generated {emb.path.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    else:
        model = onnx.load(emb.path)
    if "external" in missing:
        ext.path.parent.mkdir(parents=True, exist_ok=True)
        for f in ext.files:
            f.unlink(missing_ok=True)  # external data is appended to: start from nothing
        onnx.save(
            model,
            ext.path,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=ext.files[1].name,
        )
        _mark_cached(ext)
        print(f"generated {ext.path.parent.name}/ in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    del model


# --------------------------------------------------------------------------------------------
# Measurement snippets (each runs in its own `python -c` subprocess)
# --------------------------------------------------------------------------------------------

_PRELUDE = """\
import json, sys, time
def _hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1
"""

_EPILOGUE = """\
print("BENCH_RESULT " + json.dumps({"seconds": _t1 - _t0, "baseline": _base, "peak": _hwm(),
                                    "info": globals().get("info", {})}))
"""

_INSPECT = {
    "onnx": """\
n_nodes = n_inits = 0
for node in m.graph.node:
    _ = (node.op_type, node.name, tuple(node.input), tuple(node.output))
    n_nodes += 1
for t in m.graph.initializer:
    _ = (t.name, t.data_type, tuple(t.dims))
    n_inits += 1
""",
    "onnx_ir": """\
n_nodes = n_inits = 0
for node in m.graph:
    _ = (node.op_type, node.name, tuple(v.name if v is not None else "" for v in node.inputs),
         tuple(v.name for v in node.outputs))
    n_nodes += 1
for v in m.graph.initializers.values():
    _ = (v.name, v.dtype, tuple(v.shape))
    n_inits += 1
""",
    "onnxlite": """\
n_nodes = n_inits = 0
for node in m.graph.nodes:
    _ = (node.op_type, node.name, node.inputs, node.outputs)
    n_nodes += 1
for t in m.graph.initializers.values():
    _ = (t.name, t.dtype, t.shape)
    n_inits += 1
""",
}

_LOAD = {
    "onnx": "m = onnx.load(path)\n",
    "onnx_ir": "m = onnx_ir.load(path)\n",
    "onnxlite": "m = onnxlite.load(path)\n",
}

_LOAD_FULL_ONNXLITE = """\
m = onnxlite.load(path)
acc = 0.0
n_inits = 0
for t in m.graph.initializers.values():
    a = t.numpy()
    if a.size:
        acc += float(a.flat[0])
    n_inits += 1
"""


def _save_code(tool: str, external: bool) -> str:
    if tool == "onnx":
        if external:
            return (
                "onnx.save(m, out, save_as_external_data=True, all_tensors_to_one_file=True, "
                'location="out.onnx.data")\n'
            )
        return "onnx.save(m, out)\n"
    if tool == "onnx_ir":
        return (
            'onnx_ir.save(m, out, external_data="out.onnx.data")\n' if external else "onnx_ir.save(m, out)\n"
        )
    return "onnxlite.save(m, out)\n"


def build_snippet(tool: str, op: str, external: bool) -> str | None:
    """The full subprocess script for (tool, op), or None when the pair is not measured."""
    setup, timed = "", ""
    if op == "load+inspect":
        timed = _LOAD[tool] + _INSPECT[tool] + 'info = {"nodes": n_nodes, "initializers": n_inits}\n'
    elif op == "load+inspect (no ext data)":
        if tool != "onnx" or not external:
            return None
        timed = "m = onnx.load(path, load_external_data=False)\n" + _INSPECT[tool]
        timed += 'info = {"nodes": n_nodes, "initializers": n_inits}\n'
    elif op == "save":
        setup, timed = _LOAD[tool], _save_code(tool, external)
    elif op == "load full":
        if tool != "onnxlite":
            return None
        timed = _LOAD_FULL_ONNXLITE + 'info = {"initializers": n_inits, "acc": acc}\n'
    else:
        raise ValueError(op)
    return (
        _PRELUDE
        + f"import {tool}\n"
        + "_base = _hwm()\n"
        + "path, out = sys.argv[1], sys.argv[2]\n"
        + setup
        + "_t0 = time.perf_counter()\n"
        + timed
        + "_t1 = time.perf_counter()\n"
        + _EPILOGUE
    )


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Cell:
    """All repeats of one (model, op, tool) measurement."""

    times: list[float] = dataclasses.field(default_factory=list)
    peaks: list[int] = dataclasses.field(default_factory=list)
    baselines: list[int] = dataclasses.field(default_factory=list)
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.times)

    @property
    def time(self) -> float:
        return statistics.median(self.times)

    @property
    def peak(self) -> int:
        return max(self.peaks)

    @property
    def baseline(self) -> int:
        return int(statistics.median(self.baselines))


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_snippet(script: str, path: Path, out: Path) -> dict[str, Any]:
    """Run one measurement subprocess; return its result dict or raise RuntimeError."""
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path), str(out)],
        check=False,
        capture_output=True,
        text=True,
        env=subprocess_env(),
        cwd=str(REPO),
        timeout=SUBPROCESS_TIMEOUT_S,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, Any] = json.loads(line[len("BENCH_RESULT ") :])
            return result
    tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    raise RuntimeError(tail[:300])


def probe_tools(wanted: Iterable[str]) -> dict[str, str | None]:
    """For each tool: None when usable, else the reason it is skipped."""
    checks = {
        "onnx": "import onnx; onnx.load; onnx.save",
        "onnx_ir": "import onnx_ir; onnx_ir.load; onnx_ir.save",
        "onnxlite": "import onnxlite; onnxlite.load; onnxlite.save",
    }
    status: dict[str, str | None] = {}
    for tool in wanted:
        proc = subprocess.run(
            [sys.executable, "-c", checks[tool]],
            check=False,
            capture_output=True,
            text=True,
            env=subprocess_env(),
            cwd=str(REPO),
        )
        lines = proc.stderr.strip().splitlines()
        status[tool] = None if proc.returncode == 0 else (lines[-1] if lines else "not usable")
    return status


def warm_cache(spec: ModelSpec) -> None:
    """Read every file of the model once, like `cat file > /dev/null`."""
    for f in spec.files:
        with open(f, "rb", buffering=0) as fh:
            while fh.read(8 * MIB):
                pass


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        while chunk := fh.read(8 * MIB):
            h.update(chunk)
    return h.hexdigest()


def dir_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


@dataclasses.dataclass
class ModelRun:
    """Results of every measurement on one model."""

    spec: ModelSpec
    cells: dict[tuple[str, str], Cell]  # (op, tool) -> cell
    warnings: list[str]


def measure_model(spec: ModelSpec, tools: list[str], repeat: int) -> ModelRun:
    """Run every (op, tool) pair on one model `repeat` times, interleaving tools within a round."""
    plan = [
        (op, tool, s)
        for op in OPS
        for tool in tools
        if (s := build_snippet(tool, op, spec.external)) is not None
    ]
    cells = {(op, tool): Cell() for op, tool, _ in plan}
    run = ModelRun(spec, cells, [])
    warm_cache(spec)
    input_sha = sha256_file(spec.path) if spec.kind == "embedded" and "onnxlite" in tools else None
    for rnd in range(repeat):
        for op, tool, script in plan:
            cell = cells[(op, tool)]
            if cell.error is not None:
                continue
            out_dir = TMP_DIR / f"{spec.kind}_{tool}_{op.split()[0].replace('+', '_')}"
            _run_one(
                cell,
                script,
                spec,
                out_dir,
                verify=rnd == 0 and op == "save",
                input_sha=input_sha if tool == "onnxlite" else None,
                warnings=run.warnings,
                tool=tool,
            )
            print(
                f"  [{spec.kind}] round {rnd + 1}/{repeat} {op:<28} {tool:<9} "
                + (
                    f"{cell.times[-1]:8.3f} s  peak {fmt_bytes(cell.peaks[-1])}"
                    if cell.ok
                    else f"ERROR {cell.error}"
                ),
                file=sys.stderr,
            )
    _check_counts(run)
    run.warnings += [
        f"{spec.kind}: {tool} {op} failed: {c.error}" for (op, tool), c in cells.items() if c.error
    ]
    return run


def _run_one(
    cell: Cell,
    script: str,
    spec: ModelSpec,
    out_dir: Path,
    *,
    verify: bool,
    input_sha: str | None,
    warnings: list[str],
    tool: str,
) -> None:
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    try:
        res = run_snippet(script, spec.path, out_dir / "out.onnx")
        cell.times.append(res["seconds"])
        cell.peaks.append(res["peak"])
        cell.baselines.append(res["baseline"])
        cell.info = res["info"]
        if verify:
            _verify_save(spec, out_dir, tool, input_sha, warnings)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        cell.error = str(exc)
    finally:
        wrote = any(out_dir.iterdir())
        shutil.rmtree(out_dir, ignore_errors=True)
        if wrote:
            os.sync()  # flush writeback now so it does not slow down the next measurement


def _verify_save(
    spec: ModelSpec, out_dir: Path, tool: str, input_sha: str | None, warnings: list[str]
) -> None:
    """Cheap checks on a saved copy of the unmodified model."""
    written, expected = dir_bytes(out_dir), spec.nbytes()
    if written < 0.9 * expected:
        warnings.append(
            f"{spec.kind}: {tool} save wrote {fmt_bytes(written)}, input is {fmt_bytes(expected)}"
        )
    if input_sha is not None:
        out = out_dir / "out.onnx"
        same = (
            out.exists() and out.stat().st_size == spec.path.stat().st_size and sha256_file(out) == input_sha
        )
        if not same:
            warnings.append(
                f"{spec.kind}: onnxlite save of the unmodified model is NOT byte-identical to the input"
            )
        else:
            print(
                f"  [{spec.kind}] onnxlite save output is byte-identical to the input "
                f"(sha256 {input_sha[:16]}...)",
                file=sys.stderr,
            )


def _check_counts(run: ModelRun) -> None:
    """All tools must see the same numbers of nodes and initializers."""
    seen = {
        tool: (c.info.get("nodes"), c.info.get("initializers"))
        for (op, tool), c in run.cells.items()
        if op == "load+inspect" and c.ok
    }
    if len(set(seen.values())) > 1:
        run.warnings.append(f"{run.spec.kind}: tools disagree on (nodes, initializers): {seen}")


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def fmt_bytes(n: int) -> str:
    """Binary units (GiB = 1024**3 bytes), as /proc reports kibibytes."""
    if n >= 1024**3:
        return f"{n / 1024**3:.2f} GiB"
    if n >= MIB:
        return f"{n / MIB:.0f} MiB" if n >= 10 * MIB else f"{n / MIB:.1f} MiB"
    return f"{n / 1024:.0f} KiB"


def fmt_time(s: float) -> str:
    return f"{s:.2f} s" if s >= 0.1 else f"{s * 1000:.1f} ms"


def _lite_reference(run: ModelRun, op: str) -> Cell | None:
    """The onnxlite cell an op row is compared with (onnx's no-ext-data row vs onnxlite's load)."""
    ref = run.cells.get(("load+inspect" if op == "load+inspect (no ext data)" else op, "onnxlite"))
    return ref if ref is not None and ref.ok else None


def _cell_text(cell: Cell | None) -> tuple[str, str]:
    if cell is None:
        return "—", "—"
    if not cell.ok:
        return "error", "error"
    return fmt_time(cell.time), fmt_bytes(cell.peak)


def _ratio_texts(run: ModelRun, op: str, tools: list[str]) -> list[str]:
    lite = _lite_reference(run, op)
    texts = []
    for other in ("onnx", "onnx_ir"):
        if other not in tools or "onnxlite" not in tools:
            continue
        c = run.cells.get((op, other))
        texts.append(f"{c.time / lite.time:.1f}x" if lite and c is not None and c.ok else "—")
    if "onnx" in tools and "onnxlite" in tools:
        c = run.cells.get((op, "onnx"))
        texts.append(f"{100 * lite.peak / c.peak:.1f}%" if lite and c is not None and c.ok else "—")
    return texts


def render_table(run: ModelRun, tools: list[str]) -> str:
    """Markdown table: one row per operation, time and peak RSS per tool, then ratios."""
    head = ["operation"]
    for tool in tools:
        head += [f"{tool} time", f"{tool} peak RSS"]
    if "onnxlite" in tools:
        head += [f"{o}/onnxlite" for o in ("onnx", "onnx_ir") if o in tools]
        head += ["RSS onnxlite/onnx"] if "onnx" in tools else []
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for op in OPS:
        if not any((op, t) in run.cells for t in tools):
            continue
        row = [op]
        for tool in tools:
            row += list(_cell_text(run.cells.get((op, tool))))
        if "onnxlite" in tools:
            row += _ratio_texts(run, op, tools)
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def render_baselines(run: ModelRun, tools: list[str]) -> str:
    parts = []
    for tool in tools:
        bases = [c.baseline for (op, t), c in run.cells.items() if t == tool and c.ok]
        if bases:
            parts.append(f"{tool} {fmt_bytes(int(statistics.median(bases)))}")
    return "VmHWM right after imports (baseline, included in the peaks): " + ", ".join(parts)


def describe_model(spec: ModelSpec) -> str:
    files = " + ".join(f"{f.name} ({fmt_bytes(f.stat().st_size)})" for f in spec.files)
    return f"`{spec.path.relative_to(REPO)}`: {files}"


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    description: str
    passed: bool | None  # None: could not be evaluated
    detail: str


def _cells(runs: dict[str, ModelRun], kind: str, op: str, *tools: str) -> list[Cell] | None:
    run = runs.get(kind)
    if run is None:
        return None
    cells = [c for t in tools if (c := run.cells.get((op, t))) is not None and c.ok]
    return cells if len(cells) == len(tools) else None


def _target(description: str, cells: list[Cell] | None, check: Callable[..., tuple[bool, str]]) -> Target:
    if cells is None:
        return Target(description, None, "not measured")
    passed, detail = check(*cells)
    return Target(description, passed, detail)


def evaluate_targets(runs: dict[str, ModelRun], size_mb: int, nodes: int) -> list[Target]:
    emb, nod = f"embedded {_size_label(size_mb)}", f"{_nodes_label(nodes)} nodes"
    return [
        _target(
            f"{emb}: onnxlite load+inspect >= 20x faster than onnx",
            _cells(runs, "embedded", "load+inspect", "onnx", "onnxlite"),
            lambda o, x: (o.time >= 20 * x.time, f"{o.time / x.time:.1f}x"),
        ),
        _target(
            f"{emb}: onnxlite load+inspect peak RSS <= 10% of onnx's",
            _cells(runs, "embedded", "load+inspect", "onnx", "onnxlite"),
            lambda o, x: (x.peak <= 0.10 * o.peak, f"{100 * x.peak / o.peak:.1f}%"),
        ),
        _target(
            f"{emb}: onnxlite save >= 5x faster than onnx",
            _cells(runs, "embedded", "save", "onnx", "onnxlite"),
            lambda o, x: (o.time >= 5 * x.time, f"{o.time / x.time:.1f}x"),
        ),
        _target(
            f"{nod}: onnxlite load+inspect no slower than onnx",
            _cells(runs, "nodes", "load+inspect", "onnx", "onnxlite"),
            lambda o, x: (x.time <= o.time, f"{o.time / x.time:.2f}x"),
        ),
        _target(
            f"{nod}: onnxlite load+inspect >= 5x faster than onnx_ir",
            _cells(runs, "nodes", "load+inspect", "onnx_ir", "onnxlite"),
            lambda i, x: (i.time >= 5 * x.time, f"{i.time / x.time:.1f}x"),
        ),
    ]


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--size-mb", type=int, default=1024, help="weights in the embedded/external models (MiB)")
    p.add_argument("--nodes", type=int, default=100_000, help="nodes in the node-heavy model")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement (median time, max RSS)")
    p.add_argument(
        "--only",
        default=None,
        help="comma-separated models (embedded, external, nodes) and/or tools (onnx, onnx_ir, onnxlite)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write all raw results to this file")
    args = p.parse_args(argv)
    if not 16 <= args.size_mb <= 1900:
        p.error("--size-mb must be within 16..1900 (an embedded model must stay below protobuf's 2 GiB)")
    if args.nodes < 1 or args.repeat < 1:
        p.error("--nodes and --repeat must be positive")
    return args


def select(only: str | None) -> tuple[list[str], list[str]]:
    """Models and tools selected by --only."""
    names = [n.strip() for n in only.split(",") if n.strip()] if only else []
    unknown = [n for n in names if n not in MODEL_KINDS + TOOLS]
    if unknown:
        raise SystemExit(f"--only: unknown name(s) {unknown}; choose from {MODEL_KINDS + TOOLS}")
    models = [m for m in MODEL_KINDS if m in names] or list(MODEL_KINDS)
    tools = [t for t in TOOLS if t in names] or list(TOOLS)
    return models, tools


def environment() -> dict[str, Any]:
    versions = {}
    for tool in TOOLS:
        proc = subprocess.run(
            [sys.executable, "-c", f"import {tool}; print({tool}.__version__)"],
            check=False,
            capture_output=True,
            text=True,
            env=subprocess_env(),
            cwd=str(REPO),
        )
        versions[tool] = proc.stdout.strip() or None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def to_json(
    runs: dict[str, ModelRun],
    targets: list[Target],
    env: dict[str, Any],
    args: argparse.Namespace,
    skipped: dict[str, str],
) -> dict[str, Any]:
    models = {}
    for kind, run in runs.items():
        models[kind] = {
            "path": str(run.spec.path),
            "bytes": run.spec.nbytes(),
            "params": run.spec.params,
            "warnings": run.warnings,
            "cells": {f"{op} | {tool}": dataclasses.asdict(c) for (op, tool), c in run.cells.items()},
        }
    return {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "environment": env,
        "skipped_tools": skipped,
        "models": models,
        "targets": [dataclasses.asdict(t) for t in targets],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    models, tools = select(args.only)
    status = probe_tools(tools)
    skipped = {t: why for t, why in status.items() if why is not None}
    tools = [t for t in tools if t not in skipped]
    specs = model_specs(args.size_mb, args.nodes)
    ensure_models(specs, models)
    env = environment()

    runs: dict[str, ModelRun] = {}
    for kind in models:
        print(f"measuring {kind} ...", file=sys.stderr)
        runs[kind] = measure_model(specs[kind], tools, args.repeat)
    shutil.rmtree(TMP_DIR, ignore_errors=True)
    targets = evaluate_targets(runs, args.size_mb, args.nodes)

    print(
        f"# onnxlite I/O benchmark\n\nPython {env['python']}, {env['cpus']} CPUs; versions: "
        + ", ".join(f"{t} {v}" for t, v in env["versions"].items() if v)
        + "."
    )
    print(
        f"Each cell: median wall time of {args.repeat} run(s) (operation only, after imports) and the max "
        "peak RSS (VmHWM of a fresh subprocess, file-backed mapped pages included). Every model's files "
        "were read once "
        "before its runs, so all tools see a warm page cache. Ratios: onnx/onnxlite and onnx_ir/onnxlite are "
        "speedups of onnxlite; `load+inspect (no ext data)` is compared with onnxlite's plain load+inspect."
    )
    for tool, why in skipped.items():
        print(f"\n> note: {tool} skipped ({why})")
    for kind, run in runs.items():
        print(
            f"\n## {kind}\n\n{describe_model(run.spec)}\n\n{render_table(run, tools)}\n\n"
            f"{render_baselines(run, tools)}"
        )
        for w in run.warnings:
            print(f"\n**WARNING**: {w}")
    print("\n## Targets\n")
    for t in targets:
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[t.passed]
        print(f"- {verdict}: {t.description} ({t.detail})")
    if args.json:
        args.json.write_text(json.dumps(to_json(runs, targets, env, args, skipped), indent=2))
    failed = any(t.passed is False for t in targets) or any(r.warnings for r in runs.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
