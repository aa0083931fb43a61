"""Benchmark graph editing: load + rename one value + toposort + save, on a 100,000-node model.

Usage:
    python tools/bench_edit.py [--repeat 3] [--nodes 100000] [--json out.json]

Tools, each run in a FRESH process (interpreter start and imports included in the wall time):

* ``onnxlite``: ``onnxlite.load`` -> ``edit.rename`` -> ``transform.toposort`` -> ``onnxlite.save``;
* ``onnx_ir``: ``onnx_ir.load`` -> set the value's ``name`` -> ``graph.sort()`` -> ``onnx_ir.save``;
* ``onnx-graphsurgeon``: ``gs.import_onnx(onnx.load(...))`` -> set the tensor's ``name`` ->
  ``graph.toposort()`` -> ``onnx.save(gs.export_onnx(graph))``.

Two models (tools/bench_io.py's 100,000-node chain, cached in tools/.bench/): ``chain`` as
generated (already in order: the sort only has to confirm it) and ``reversed`` (the same nodes in
reverse order: the sort has to move every node). The renamed value is the output of the middle
node, read by two nodes.

Each result is checked: the saved model must have the same nodes in a valid order, the renamed value
must be produced and read where the old one was, and the old name must be gone. A tool that fails
or writes a wrong model is reported as an error, not timed.

Target (the issue's): onnxlite faster than both onnx_ir and onnx-graphsurgeon on ``chain``; the exit
status is 1 when it is not or a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
sys.path.insert(0, str(TOOLS))

import bench_io  # noqa: E402

NEW_NAME = "renamed_by_bench"

_PRELUDE = """\
import json, sys, time
_t0 = time.perf_counter()
path, out, old, new = sys.argv[1:5]
"""
_EPILOGUE = """\
_t1 = time.perf_counter()
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
print("BENCH_RESULT " + json.dumps({"seconds": _t1 - _t0, "peak": peak}))
"""
SNIPPETS = {
    "onnxlite": """\
import onnxlite
from onnxlite import edit, transform
m = onnxlite.load(path)
edit.rename(m, old, new)
transform.toposort(m)
onnxlite.save(m, out)
""",
    "onnx_ir": """\
import onnx_ir as ir
m = ir.load(path)
for node in m.graph:
    for v in node.outputs:
        if v.name == old:
            v.name = new
m.graph.sort()
ir.save(m, out)
""",
    "onnx-graphsurgeon": """\
import onnx
import onnx_graphsurgeon as gs
g = gs.import_onnx(onnx.load(path))
g.tensors()[old].name = new
g.toposort()
onnx.save(gs.export_onnx(g), out)
""",
}


def reversed_model(source: Path, target: Path) -> None:
    """The same model with its nodes in reverse order (valid ONNX needs a sort to run it)."""
    import onnxlite

    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return
    model = onnxlite.load(source, lazy=False)
    nodes = list(model.proto.graph.node)
    copies = [type(n)() for n in nodes]
    for c, n in zip(copies, reversed(nodes), strict=True):
        c.CopyFrom(n)
    del model.proto.graph.node[:]
    model.proto.graph.node.extend(copies)
    onnxlite.save(model, target)


def middle_value(path: Path) -> str:
    import onnxlite

    model = onnxlite.load(path)
    readers: dict[str, int] = {}
    for n in model.proto.graph.node:
        for x in n.input:
            readers[x] = readers.get(x, 0) + 1
    names = [n.output[0] for n in model.proto.graph.node]  # the generated chain is in order
    for name in names[len(names) // 2:]:
        if readers.get(name, 0) >= 2:
            return name
    raise SystemExit("no value with two readers in the middle of the model")


def verify(source: Path, out: Path, old: str) -> str | None:
    """None when `out` is the source model with `old` renamed and nodes in a valid order."""
    import onnxlite

    want = onnxlite.load(source).proto.graph
    got = onnxlite.load(out).proto.graph
    if len(got.node) != len(want.node):
        return f"{len(got.node)} nodes, expected {len(want.node)}"
    defined = {v.name for v in got.input} | {t.name for t in got.initializer}
    for i, n in enumerate(got.node):
        for x in n.input:
            if x and x not in defined:
                return f"node[{i}] reads {x!r} before it is computed (not sorted)"
        defined.update(n.output)
    names = {x for n in got.node for x in (*n.input, *n.output)}
    if old in names:
        return f"{old!r} still appears"
    renamed = [n for n in want.node if old in n.input]
    readers = [n for n in got.node if NEW_NAME in n.input]
    if len(readers) != len(renamed):
        return f"{len(readers)} readers of the new name, expected {len(renamed)}"
    want_ops = sorted((n.op_type, n.name) for n in want.node)
    got_ops = sorted((n.op_type, n.name) for n in got.node)
    if want_ops != got_ops:
        return "the saved nodes differ from the source's"
    return None


def run(tool: str, path: Path, out: Path, old: str) -> dict[str, Any]:
    script = _PRELUDE + SNIPPETS[tool] + _EPILOGUE
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", script, str(path), str(out), old, NEW_NAME],
                          capture_output=True, text=True, env=env, cwd=str(REPO), timeout=1800, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, Any] = json.loads(line[len("BENCH_RESULT "):])
            return result
    tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return {"error": tail[:200]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    specs = bench_io.model_specs(1024, args.nodes)
    bench_io.ensure_models(specs, ["nodes"])
    chain = specs["nodes"].files[0]
    reverse = chain.with_name(chain.stem + "_reversed.onnx")
    reversed_model(chain, reverse)
    old = middle_value(chain)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(dir=TOOLS / ".bench") as tmp:
        for label, model in (("chain", chain), ("reversed", reverse)):
            model.read_bytes()  # warm the page cache
            for tool in SNIPPETS:
                out = Path(tmp) / f"{tool}.onnx"
                times, peaks, error = [], [], None
                for _ in range(args.repeat):
                    r = run(tool, model, out, old)
                    if "error" in r:
                        error = r["error"]
                        break
                    error = verify(model, out, old)
                    if error:
                        break
                    times.append(r["seconds"])
                    peaks.append(r["peak"])
                results[f"{label}/{tool}"] = ({"error": error} if error else
                                              {"seconds": statistics.median(times), "peak": max(peaks)})
    print(f"load + rename {old!r} + toposort + save, {args.nodes:,} nodes, median of {args.repeat}")
    print(f"{'model':<10} {'tool':<18} {'time':>9} {'peak RSS':>10} {'onnxlite is':>14}")
    ok = True
    for label in ("chain", "reversed"):
        lite = results[f"{label}/onnxlite"]
        for tool in SNIPPETS:
            r = results[f"{label}/{tool}"]
            if "error" in r:
                print(f"{label:<10} {tool:<18} {'error: ' + r['error']}")
                ok = ok and tool != "onnxlite"
                continue
            ratio = ""
            if tool != "onnxlite" and "seconds" in lite:
                speed = r["seconds"] / lite["seconds"]
                ratio = f"{speed:.1f}x faster"
                if label == "chain" and speed <= 1:
                    ok = False
            print(f"{label:<10} {tool:<18} {r['seconds']:>8.2f}s {r['peak'] / 2**20:>8.0f}MiB {ratio:>14}")
    print("target (onnxlite faster than onnx_ir and onnx-graphsurgeon on chain):", "PASS" if ok else "FAIL")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
