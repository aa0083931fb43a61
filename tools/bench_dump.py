"""Benchmark `onnxlite dump` (typed by default: inference included) against its anchors, side by side.

Usage:
    python tools/bench_dump.py [--repeat 3] [--nodes 100000] [--weights-mb 1200] [--huge-gb 64]

Each command runs in a FRESH process (interpreter start and imports included: what a user waits
for) from compiled bytecode, as an installed package does (bench_inspect.ENV: also when the
environment sets PYTHONDONTWRITEBYTECODE), once untimed, then ``--repeat`` times; the table
shows the median wall time and, for each model, the ratio of ``onnxlite dump`` to the anchor
measured in the same run:

* the 100,000-node Add/Relu chain (tools/bench_infer.py builds it): anchor ``onnx.load`` +
  ``onnx.printer.to_text`` + ``onnx.shape_inference.infer_shapes`` (the typed dump's work, by onnx);
* 1.2 GB of embedded weights (bench_infer.py) and 64 GiB of external data in a sparse file
  (tools/bench_huge.py): target under a second; anchor ``onnxlite info`` (which reads the
  metadata only).

``onnxlite dump --no-infer`` is shown too (declared types only: the dump without inference).
Exit status 1 when a target fails.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
sys.path.insert(0, str(TOOLS))

ONNX_TYPED = """
import sys, onnx, onnx.printer, onnx.shape_inference
m = onnx.load(sys.argv[1])
text = onnx.printer.to_text(m)
onnx.shape_inference.infer_shapes(m)
"""


def timed(argv: list[str], repeat: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system, children included) of ``argv`` in
    fresh processes (stdout discarded). On a loaded machine the CPU time is the steadier one."""
    from bench_inspect import ENV  # compiled bytecode, as an installed package runs

    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=REPO, env=ENV)  # warm the caches
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=REPO, env=ENV)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--nodes", type=int, default=100_000)
    p.add_argument("--weights-mb", type=int, default=1200)
    p.add_argument("--huge-gb", type=int, default=64)
    args = p.parse_args(argv)
    import bench_huge
    import bench_infer

    lite = [sys.executable, "-m", "onnxlite"]
    models = [
        (f"{args.nodes:,}-node chain", bench_infer._chain(args.nodes),
         "onnx load + printer + infer_shapes", [sys.executable, "-c", ONNX_TYPED], None),
        (f"{args.weights_mb:,} MiB embedded", bench_infer._weights(args.weights_mb),
         "onnxlite info --no-infer", [*lite, "info", "--no-infer"], 1.0),
        (f"{args.huge_gb} GiB external", bench_huge.build(args.huge_gb).path,
         "onnxlite info --no-infer", [*lite, "info", "--no-infer"], 1.0),
    ]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; times are wall (CPU)\n")
    print("| model | onnxlite dump | dump --no-infer | anchor | anchor time | dump / anchor | target |")
    print("|---|---:|---:|---|---:|---:|---|")
    failed = False
    for label, path, anchor_name, anchor, limit in models:
        dump = timed([*lite, "dump", str(path)], args.repeat)
        plain = timed([*lite, "dump", "--no-infer", str(path)], args.repeat)
        base = timed([*anchor, str(path)], args.repeat)
        if limit is None:
            ok = dump[0] <= base[0]
            target = "no slower than the anchor"
        else:
            ok = dump[0] < limit
            target = f"< {limit:.0f} s"
        failed |= not ok
        print(f"| {label} | {dump[0]:.2f} s ({dump[1]:.2f}) | {plain[0]:.2f} s ({plain[1]:.2f}) "
              f"| {anchor_name} | {base[0]:.2f} s ({base[1]:.2f}) | {dump[0] / base[0]:.2f} "
              f"({dump[1] / base[1]:.2f}) "
              f"| {target}: {'ok' if ok else 'MISSED'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
