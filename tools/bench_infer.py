"""Inference coverage and speed.

Usage:
    python tools/bench_infer.py --coverage [--list wrong|missing]
        score onnxlite's inference over the onnx backend node cases (the issue's table 1): strip
        output types and value_info, infer, compare with the real output data; prints
        right/wrong/missing and the op types most often missing, and the same for onnx's
        infer_shapes(data_prop=True) measured in this run as the anchor.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coverage", action="store_true", help="score over the onnx backend node cases")
    parser.add_argument("--list", choices=["wrong", "missing"], help="list those outputs")
    args = parser.parse_args()
    if args.coverage:
        return coverage(args.list)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
