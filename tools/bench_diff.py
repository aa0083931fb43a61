"""Benchmark `onnxlite diff` (the diff issue's targets) against anchors measured in the same run.

* chain: two 100,002-node models (Relu and Sigmoid of x, summed, 33,334 times; every name
  renamed and the nodes reordered in B), compared with `diff_models`; anchor: loading both.
  Target < 5 s.
* big: two 1.2 GB models (12 MatMul weights of 100 MB in external data) that differ in one
  element of one weight, compared without --weights, warm cache; anchor: `cmp` of the two
  data files (the bytes diff must read). Target < 2 s, flat memory (peak RSS printed).
* embedded: the same two models with the weights inside the .onnx files (1.2 GB each, saved
  with external_data=False); the bytes are compared through the lazily indexed raw_data, read
  with pread, not the mapping. Same anchor, same targets.

Each measurement runs in a fresh process, so RSS is that of the diff alone. Models are built
with onnxlite's builder under tools/.bench/diff/ (weights written in 16 MiB chunks, never held
in memory) and kept for the next run.

    python tools/bench_diff.py [--only chain,big,embedded]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "tools" / ".bench" / "diff"
STEPS = 33_334
LAYERS, WIDTH = 12, 5000  # 12 x 5000 x 5000 float32 = 1.2 GB

_CHILD = r"""
import resource, sys, time
import onnxlite
from onnxlite.diff import diff_models
t0 = time.perf_counter()
a = onnxlite.load(sys.argv[1]); b = onnxlite.load(sys.argv[2])
t1 = time.perf_counter()
c1 = time.process_time()
if sys.argv[3] == "diff":
    d = diff_models(a, b)
    summary = (d.equal, d.nodes["matched"], len(d.nodes["changed"]), len(d.initializers["changed"]))
else:
    summary = None
t2 = time.perf_counter()
c2 = time.process_time()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {rss:.0f} {c2 - c1:.3f} {summary}")
"""


def build_chain(path_a: Path, path_b: Path) -> None:
    from onnxlite import dumps
    from onnxlite.builder import GraphBuilder

    g = GraphBuilder("chain", opset=18)
    x = g.input("x", "float32", ["N", 4])
    for k in range(STEPS):
        r = g.op("Relu", x, name=f"relu{k}")
        s = g.op("Sigmoid", x, name=f"sig{k}")
        x = g.op("Add", r, s, name=f"add{k}")
    g.output(x, "float32", ["N", 4])
    model = g.model()
    path_a.write_bytes(dumps(model))
    # B: every node and inner value renamed, nodes reordered (a random topological order)
    rng = random.Random(0)
    p = model.proto.graph
    keep = {v.name for v in p.input} | {v.name for v in p.output}
    new = {}
    for n in p.node:
        for o in n.output:
            if o not in keep:
                new[o] = f"t{rng.randrange(10**12)}"
    nodes = list(p.node)
    order = []
    for k in range(STEPS):  # each step's Relu and Sigmoid in either order
        pair = [nodes[3 * k], nodes[3 * k + 1]]
        rng.shuffle(pair)
        order.extend(pair + [nodes[3 * k + 2]])
    copies = []
    for n in order:
        c = type(n)()
        c.CopyFrom(n)
        c.name = f"n{rng.randrange(10**12)}"
        c.input[:] = [new.get(i, i) for i in c.input]
        c.output[:] = [new.get(o, o) for o in c.output]
        copies.append(c)
    del p.node[:]
    p.node.extend(copies)
    path_b.write_bytes(dumps(model))


def build_big(folder_a: Path, folder_b: Path) -> None:
    from onnxlite import dumps
    from onnxlite.builder import GraphBuilder

    for folder in (folder_a, folder_b):
        folder.mkdir(parents=True, exist_ok=True)
    g = GraphBuilder("big", opset=18)
    x = g.input("x", "float32", ["N", WIDTH])
    for k in range(LAYERS):
        w = g.initializer(f"w{k}", np.zeros((1,), np.float32))  # placeholder, made external below
        x = g.op("MatMul", x, w, name=f"mm{k}")
    g.output(x, "float32", ["N", WIDTH])
    model = g.model()
    size = WIDTH * WIDTH * 4
    rng = np.random.default_rng(0)
    chunk = 16 << 20
    with open(folder_a / "weights.bin", "wb") as f:
        for _ in range(0, size * LAYERS, chunk):
            f.write(rng.integers(0, 255, min(chunk, size * LAYERS - f.tell()), np.uint8).tobytes())
    for k, t in enumerate(model.proto.graph.initializer):
        t.ClearField("raw_data")
        del t.dims[:]
        t.dims.extend([WIDTH, WIDTH])
        t.data_location = 1
        for key, value in (("location", "weights.bin"), ("offset", str(k * size)), ("length", str(size))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
    data = dumps(model)
    (folder_a / "model.onnx").write_bytes(data)
    (folder_b / "model.onnx").write_bytes(data)
    subprocess.run(["cp", "--reflink=never", str(folder_a / "weights.bin"), str(folder_b / "weights.bin")],
                   check=True)
    with open(folder_b / "weights.bin", "r+b") as f:  # one element of the last weight differs
        f.seek(LAYERS * size - 4 * 1000)
        f.write(b"\x01\x02\x03\x04")


def run_child(a: Path, b: Path, what: str) -> tuple[float, float, float, str]:
    """(load s, diff s, peak RSS MB, "cpu=SECONDS summary") of one fresh process."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(a), str(b), what], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout.split(maxsplit=4)
    return float(out[0]), float(out[1]), float(out[2]), f"{out[4].strip()} (diff CPU {float(out[3]):.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="chain,big,embedded")
    wanted = set(parser.parse_args().only.split(","))
    BENCH.mkdir(parents=True, exist_ok=True)
    if "chain" in wanted:
        a, b = BENCH / "chain_a.onnx", BENCH / "chain_b.onnx"
        if not (a.exists() and b.exists()):
            t = time.perf_counter()
            build_chain(a, b)
            print(f"built the chain models in {time.perf_counter() - t:.1f} s")
        load_a, _, rss0, _ = run_child(a, b, "load")
        load, diff, rss, summary = run_child(a, b, "diff")
        print(f"chain  {3 * STEPS:,} nodes: diff {diff:.2f} s (+ load {load:.2f} s; loading alone "
              f"{load_a:.2f} s: diff/load {diff / max(load_a, 1e-9):.1f}x), peak RSS {rss:.0f} MB "
              f"(load only {rss0:.0f} MB); equal, matched, changed, changed inits = {summary}; target < 5 s")
    if wanted & {"big", "embedded"}:
        fa, fb = BENCH / "big_a", BENCH / "big_b"
        if not ((fa / "model.onnx").exists() and (fb / "weights.bin").exists()):
            t = time.perf_counter()
            build_big(fa, fb)
            print(f"built the 1.2 GB models in {time.perf_counter() - t:.1f} s")
    if "big" in wanted:
        big(fa / "model.onnx", fb / "model.onnx", fa / "weights.bin", fb / "weights.bin", "big     ")
    if "embedded" in wanted:
        ea, eb = BENCH / "embedded_a.onnx", BENCH / "embedded_b.onnx"
        if not (ea.exists() and eb.exists()):
            import onnxlite

            t = time.perf_counter()
            for src, dst in ((fa, ea), (fb, eb)):
                with onnxlite.load(src / "model.onnx") as model:
                    onnxlite.save(model, dst, external_data=False)
            print(f"embedded the 1.2 GB models in {time.perf_counter() - t:.1f} s")
        big(ea, eb, ea, eb, "embedded")


def big(a: Path, b: Path, data_a: Path, data_b: Path, label: str) -> None:
    """Diff two 1.2 GB models that differ in one element, warm cache, against `cmp` of the files
    holding their bytes."""
    for f in (data_a, data_b):  # warm the page cache
        subprocess.run(["cat", str(f)], stdout=subprocess.DEVNULL, check=True)
    t = time.perf_counter()
    subprocess.run(["cmp", "-s", str(data_a), str(data_b)])
    cmp_s = time.perf_counter() - t
    _, _, rss0, _ = run_child(a, b, "load")
    load, diff, rss, summary = run_child(a, b, "diff")
    size = os.path.getsize(data_a) / 1e9
    print(f"{label} {size:.1f} GB x 2, one element differs: diff {diff:.2f} s (+ load {load:.3f} s), "
          f"cmp of the files {cmp_s:.2f} s: diff/cmp {diff / max(cmp_s, 1e-9):.2f}x; peak RSS "
          f"{rss:.0f} MB (load only {rss0:.0f} MB); equal, matched, changed, changed inits = {summary}; "
          "target < 2 s")


if __name__ == "__main__":
    main()
