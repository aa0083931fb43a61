"""Inference coverage and speed.

Usage:
    python tools/bench_infer.py --coverage [--list wrong|missing]
        score onnxlite's inference over the onnx backend node cases (the issue's table 1): strip
        output types and value_info, infer, compare with the real output data; prints
        right/wrong/missing and the op types most often missing, and the same for onnx's
        infer_shapes(data_prop=True) measured in this run as the anchor.
    python tools/bench_infer.py --speed [--repeat 3] [--nodes 100000] [--weights-mb 1200]
        load + infer + save in FRESH processes (imports included, from compiled bytecode as an
        installed package runs), median wall time and peak RSS:
        onnxlite (load, infer_types, apply, save) against onnx (load, infer_shapes, save), on a
        chain of Add/Relu nodes (input float[batch,8]) and on a model with embedded weights
        (models cached in tools/.bench/). Prints the ratios to the onnx anchor of the same run.
    python tools/bench_infer.py --real [--list wrong|missing] [MODEL.onnx ...]
        score onnxlite's inference on real exports (the issue's table 2; by default every
        fixture of infer_real_scoring.REAL_SECTIONS) against what onnxruntime computes on two
        size sets, with onnx's infer_shapes(data_prop=True) scored the same way side by side (rules in
        tests/infer_real_scoring.py). Exit 1 when onnxlite gets any output wrong.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))


def coverage(listing: str | None) -> int:
    import warnings

    import infer_scoring
    import onnx
    import onnx.shape_inference
    from corpus import node_cases

    from onnxlite import infer

    cases = node_cases()
    t0 = time.perf_counter()
    ours = infer_scoring.score_all(cases)
    t_ours = time.perf_counter() - t0

    anchor = infer_scoring.Score()
    t0 = time.perf_counter()
    for case in cases:
        stripped = onnx.ModelProto.FromString(infer_scoring.strip(case.data))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                inferred = onnx.shape_inference.infer_shapes(stripped, data_prop=True)
        except Exception:  # noqa: BLE001 - the anchor's failures count as missing
            inferred = stripped
        outputs = case.data_sets[0][1] if case.data_sets else []
        original = onnx.ModelProto.FromString(case.data)
        for k, out in enumerate(inferred.graph.output):
            t = infer.from_type_proto(out.type, lambda: infer.symbol("?")) if out.HasField("type") else None
            truth = infer_scoring._truth(outputs[k]) if k < len(outputs) else None
            if truth is not None:
                verdict = infer_scoring.judge(t, truth)
            else:
                verdict = infer_scoring.judge_declared(t, original.graph.output[k].type)
            setattr(anchor, verdict, getattr(anchor, verdict) + 1)
    t_anchor = time.perf_counter() - t0

    def row(name: str, s: infer_scoring.Score, secs: float) -> str:
        return (f"| {name} | {s.right} ({100 * s.right / s.total:.1f}%) | {s.wrong} | {s.missing} | "
                f"{secs:.1f} s |")

    print(f"{len(cases)} node cases, {ours.total} outputs")
    print("| engine | right | wrong | missing | time |")
    print("|---|---:|---:|---:|---:|")
    print(row("onnx infer_shapes(data_prop=True)", anchor, t_anchor))
    print(row("onnxlite.infer", ours, t_ours))
    print("\nmissing, by op type (top 40):")
    print(", ".join(f"{op} {n}" for op, n in ours.missing_ops.most_common(40)))
    if listing == "wrong":
        print("\n".join(ours.wrong_cases))
    elif listing == "missing":
        print("\n".join(ours.missing_cases))
    return 1 if ours.wrong else 0


def real(listing: str | None, paths: list[str]) -> int:
    import infer_real_scoring as scoring
    from corpus import FIXTURES

    import onnxlite
    from onnxlite import infer

    if paths:
        models = [(Path(p), Path(p).name) for p in paths]
    else:
        models = [(p, p.relative_to(FIXTURES).as_posix()) for p in scoring.real_models()]
    ours_all, onnx_all = scoring.RealScore(), scoring.RealScore()
    t_ours = t_onnx = 0.0
    contradictions: list[str] = []
    print("| model | outputs | onnxlite right / wrong / missing | onnx C++ right / wrong / missing |")
    print("|---|---:|---|---|")
    for path, name in models:
        prepared = scoring.prepare(path, name)
        t0 = time.perf_counter()
        result = infer.infer_types(onnxlite.loads(prepared.data))
        t_ours += time.perf_counter() - t0
        reasons = {u.value: f"{u.op_type}: {u.reason}" for u in result.unknown if u.graph == ""}
        ours = scoring.score(prepared, result.types[""], lambda n, r=reasons: r.get(n, ""))
        t0 = time.perf_counter()
        theirs = scoring.score(prepared, scoring.onnx_types(prepared))
        t_onnx += time.perf_counter() - t0
        contradictions += [f"{name}: {c}" for c in result.contradictions]
        ours_all.add(ours)
        onnx_all.add(theirs)
        print(f"| {name} | {ours.total} | {ours.right} / {ours.wrong} / {ours.missing} | "
              f"{theirs.right} / {theirs.wrong} / {theirs.missing} |")

    def share(s: scoring.RealScore) -> str:
        return f"{s.right} ({100 * s.right / max(s.total, 1):.1f}%) / {s.wrong} / {s.missing}"

    print(f"| **all {len(models)} models** | {ours_all.total} | {share(ours_all)} | {share(onnx_all)} |")
    print(f"\ninference time: onnxlite {t_ours:.2f} s, onnx C++ (with a protobuf round trip) {t_onnx:.2f} s")
    print(f"onnxlite contradictions with declared types: {len(contradictions)}")
    for c in contradictions:
        print("  ", c)
    if listing == "wrong":
        print("\nonnxlite wrong:", *ours_all.wrong_cases, sep="\n  ")
        print("\nonnx C++ wrong:", *onnx_all.wrong_cases, sep="\n  ")
    elif listing == "missing":
        print("\nonnxlite missing:", *ours_all.missing_cases, sep="\n  ")
        print("\nonnx C++ missing:", *onnx_all.missing_cases, sep="\n  ")
    return 1 if ours_all.wrong else 0


BENCH = TOOLS / ".bench"

ONNXLITE_RUN = """
import resource, sys, time
t = time.perf_counter()
import onnxlite
from onnxlite import infer
m = onnxlite.load(sys.argv[1])
r = infer.infer_types(m)
onnxlite.save(infer.apply(m, r), sys.argv[2])
hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(time.perf_counter() - t, hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
ONNX_RUN = """
import resource, sys, time
t = time.perf_counter()
import onnx, onnx.shape_inference
m = onnx.load(sys.argv[1])
m = onnx.shape_inference.infer_shapes(m, data_prop=True)
onnx.save(m, sys.argv[2])
hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(time.perf_counter() - t, hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _chain(nodes: int) -> Path:
    path = BENCH / f"infer_chain_{nodes}.onnx"
    if path.exists():
        return path
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save

    made = []
    prev = "input"
    for k in range(nodes):
        out = "output" if k == nodes - 1 else f"v{k}"
        if k % 2 == 0:
            made.append(helper.make_node("Add", [prev, "bias"], [out], name=f"add{k}"))
        else:
            made.append(helper.make_node("Relu", [prev], [out], name=f"relu{k}"))
        prev = out
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 8])
    g = helper.make_graph(made, "chain", [x], [helper.make_empty_tensor_value_info("output")],
                          initializer=[numpy_helper.from_array(np.ones(8, np.float32), "bias")])
    BENCH.mkdir(exist_ok=True)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _weights(mb: int) -> Path:
    """A small MLP whose layers hold ``mb`` MiB of float32 weights, embedded in the file."""
    path = BENCH / f"infer_weights_{mb}mb.onnx"
    if path.exists():
        return path
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save

    width = 1024
    layers = max(1, mb * 2**20 // (width * width * 4))
    inits, nodes, prev = [], [], "x"
    for k in range(layers):
        inits.append(numpy_helper.from_array(np.full((width, width), 0.001, np.float32), f"w{k}"))
        nodes.append(helper.make_node("MatMul", [prev, f"w{k}"], [f"h{k}"]))
        nodes.append(helper.make_node("Relu", [f"h{k}"], [f"y{k}"]))
        prev = f"y{k}"
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", width])
    g = helper.make_graph(nodes, "mlp", [x], [helper.make_empty_tensor_value_info(prev)], initializer=inits)
    BENCH.mkdir(exist_ok=True)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _external(gib: int) -> Path:
    """``gib`` MatMuls of 1 GiB float32 weights each, in one sparse external data file beside it."""
    folder = BENCH / f"infer_external_{gib}gib"
    path = folder / "model.onnx"
    if path.exists():
        return path
    from onnx import TensorProto, helper, save

    n = 16384  # 16384 * 16384 * 4 bytes = 1 GiB
    inits, nodes, prev = [], [], "x"
    for k in range(gib):
        t = TensorProto(name=f"w{k}", data_type=TensorProto.FLOAT, dims=[n, n],
                        data_location=TensorProto.EXTERNAL)
        where = {"location": "weights.bin", "offset": str(k * n * n * 4), "length": str(n * n * 4)}
        for key, value in where.items():
            t.external_data.add(key=key, value=value)
        inits.append(t)
        nodes.append(helper.make_node("MatMul", [prev, f"w{k}"], [f"h{k}"]))
        prev = f"h{k}"
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n])
    g = helper.make_graph(nodes, "g", [x], [helper.make_empty_tensor_value_info(prev)], initializer=inits)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "weights.bin", "wb") as f:
        f.truncate(gib * n * n * 4)  # sparse: no disk space used
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return path


def _env() -> dict[str, str]:
    """Compiled bytecode, as an installed package runs (also when the environment sets
    PYTHONDONTWRITEBYTECODE): bench_inspect.ENV."""
    sys.path.insert(0, str(TOOLS))
    from bench_inspect import ENV

    return ENV


def _run_beside(code: str, src: Path, repeat: int) -> tuple[float, float]:
    """Like _run, writing OUT beside IN (external data referenced, not copied)."""
    import statistics
    import subprocess

    times, rss = [], []
    out_path = src.parent / "typed.onnx"
    try:
        for k in range(repeat + 1):  # the first run warms the page and bytecode caches, untimed
            out = subprocess.run([sys.executable, "-c", code, str(src), str(out_path)], check=True,
                                 capture_output=True, text=True, cwd=str(REPO), env=_env()).stdout.split()
            if k:
                times.append(float(out[0]))
                rss.append(int(out[1]) / 1024)
    finally:
        out_path.unlink(missing_ok=True)
    return statistics.median(times), max(rss)


def _run(code: str, src: Path, repeat: int) -> tuple[float, float]:
    import statistics
    import subprocess
    import tempfile

    times, rss = [], []
    with tempfile.TemporaryDirectory(dir=BENCH) as tmp:
        for k in range(repeat + 1):  # the first run warms the page and bytecode caches, untimed
            out = subprocess.run([sys.executable, "-c", code, str(src), f"{tmp}/out.onnx"], check=True,
                                 capture_output=True, text=True, cwd=str(REPO), env=_env()).stdout.split()
            if k:
                times.append(float(out[0]))
                rss.append(int(out[1]) / 1024)
    return statistics.median(times), max(rss)


def speed(repeat: int, nodes: int, weights_mb: int) -> int:
    print("| model | onnx (load + infer_shapes + save) | onnxlite (load + infer + apply + save) | ratio |")
    print("|---|---|---|---:|")
    for label, src in ((f"{nodes:,}-node chain (Add/Relu, float[batch,8])", _chain(nodes)),
                       (f"{weights_mb:,} MiB embedded weights", _weights(weights_mb))):
        t_onnx, m_onnx = _run(ONNX_RUN, src, repeat)
        t_ours, m_ours = _run(ONNXLITE_RUN, src, repeat)
        print(f"| {label} | {t_onnx:.2f} s, {m_onnx:.0f} MiB | {t_ours:.2f} s, {m_ours:.0f} MiB | "
              f"{t_onnx / t_ours:.1f}x faster, {100 * m_ours / m_onnx:.0f}% RSS |")
    t_ours, m_ours = _run_beside(ONNXLITE_RUN, _external(3), repeat)
    print(f"| 3 GiB external data, OUT beside IN | (onnx: fails past 2 GB in memory) | "
          f"{t_ours:.2f} s, {m_ours:.0f} MiB | - |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coverage", action="store_true", help="score over the onnx backend node cases")
    parser.add_argument("--list", choices=["wrong", "missing"], help="list those outputs")
    parser.add_argument("--speed", action="store_true", help="time load + infer + save in fresh processes")
    parser.add_argument("--real", action="store_true",
                        help="score real exports against onnxruntime, with onnx's inference side by side")
    parser.add_argument("models", nargs="*", help="with --real: these models instead of the fixtures")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--weights-mb", type=int, default=1200)
    args = parser.parse_args()
    if args.coverage:
        return coverage(args.list)
    if args.speed:
        return speed(args.repeat, args.nodes, args.weights_mb)
    if args.real:
        return real(args.list, args.models)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
