"""Benchmarks of `onnxlite profile` and the many-file mode, against anchors measured in the same run.

    python tools/bench_profile.py                       # many files + the 64 GB model
    python tools/bench_profile.py --compare-onnx-tool   # next to onnx-tool's (pip install onnx-tool)

- many files: ``onnxlite info --jsonl`` over the onnx backend node cases (written as files) plus the
  hostile fixtures; anchor: ``onnx.load`` of every file in one process. Target < 10 s on 2 cores.
- huge: ``onnxlite profile --json`` on tools/bench_huge.py's 64 GB sparse external-data model in a
  fresh process (wall time, peak RSS); anchor: ``onnxlite info`` on the same file. Target < 1 s.
- --compare-onnx-tool: a transformer encoder and a ResNet-style CNN exported from PyTorch, profiled
  by onnxlite and by onnx-tool (not a dependency), totals and per-op-type MACs side by side.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

BENCH = REPO / "tools" / ".bench"


def _cli(*argv: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "onnxlite", *argv], capture_output=True, text=True, cwd=REPO)
    return time.perf_counter() - start, proc.stdout


def bench_many() -> None:
    from tests.corpus import node_cases

    root = BENCH / "profile-corpus"
    shutil.rmtree(root, ignore_errors=True)
    (root / "node").mkdir(parents=True)
    for case in node_cases():
        (root / "node" / f"{case.id.split('/', 1)[1]}.onnx").write_bytes(case.read())
    shutil.copytree(REPO / "tests" / "fixtures" / "hostile", root / "hostile", symlinks=True)
    files = sorted(root.rglob("*.onnx"))
    import onnx

    start = time.perf_counter()
    for f in files:
        try:
            onnx.load(str(f), load_external_data=False)
        except Exception:  # noqa: BLE001 - hostile files
            pass
    anchor = time.perf_counter() - start
    for jobs in ("1", "2"):
        seconds, out = _cli("info", "--jsonl", "--jobs", jobs, str(root))
        records = out.count("\n")
        print(f"info --jsonl --jobs {jobs}: {len(files)} files, {records} records, {seconds:.2f} s "
              f"(onnx.load of every file in one process: {anchor:.2f} s, ratio {seconds / anchor:.2f}); "
              f"target < 10 s")
    seconds, out = _cli("profile", "--jsonl", "--jobs", "2", str(root))
    failed = sum('"error"' in line[:200] for line in out.splitlines())
    print(f"profile --jsonl --jobs 2: {out.count(chr(10))} records ({failed} errors), {seconds:.2f} s")


def bench_huge() -> None:
    import bench_huge  # tools/bench_huge.py: the 64 GB sparse model's builder

    huge = bench_huge.build(64)
    model = str(huge.path)
    anchor, peak_a, err_a, _ = bench_huge.run_once([sys.executable, "-m", "onnxlite", "info", model], None, 0)
    argv = [sys.executable, "-m", "onnxlite", "profile", "--json", model]
    t, peak, err, _ = bench_huge.run_once(argv, None, 0)
    print(f"profile --json on the 64 GB model: {t:.2f} s, peak RSS {peak / 2**20:.0f} MiB"
          f"{' ERROR ' + err if err else ''} (info: {anchor:.2f} s, {peak_a / 2**20:.0f} MiB; "
          f"ratio {t / anchor:.2f}); target < 1 s")


# --- onnx-tool comparison ------------------------------------------------------------------------

def _export_models(folder: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    import torch

    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024, batch_first=True)
    encoder = torch.nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False).eval()

    class Block(torch.nn.Module):
        def __init__(self, c: int, stride: int) -> None:
            super().__init__()
            self.c1 = torch.nn.Conv2d(c // stride, c, 3, stride, 1, bias=False)
            self.b1 = torch.nn.BatchNorm2d(c)
            self.c2 = torch.nn.Conv2d(c, c, 3, 1, 1, bias=False)
            self.b2 = torch.nn.BatchNorm2d(c)
            self.down = torch.nn.Conv2d(c // stride, c, 1, stride, bias=False) if stride > 1 else None

        def forward(self, x: Any) -> Any:
            y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
            return torch.relu(y + (self.down(x) if self.down is not None else x))

    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 7, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(3, 2, 1),
        Block(32, 1), Block(64, 2), Block(128, 2), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(128, 10)).eval()
    out = {}
    for name, module, x in (("transformer", encoder, torch.randn(1, 128, 256)),
                            ("cnn", cnn, torch.randn(1, 3, 224, 224))):
        path = folder / f"{name}.onnx"
        torch.onnx.export(module, (x,), str(path), dynamo=False, opset_version=17, input_names=["x"],
                          do_constant_folding=True)
        out[name] = (path, {"x": tuple(x.shape)})
    return out


def _onnx_tool(path: Path, shapes: dict[str, Any]) -> tuple[int, int, dict[str, int], str]:
    import numpy as np
    import onnx_tool

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "p.csv"
        buf = io.StringIO()
        with redirect_stdout(buf):
            onnx_tool.model_profile(str(path), {k: np.zeros(v, np.float32) for k, v in shapes.items()},
                                    save_profile=str(report), hidden_ops=[])
        rows = list(csv.reader(report.open()))
    header = rows[0]
    i_name, i_type, i_macs, i_params = (header.index(k) for k in ("Name", "Type", "Forward_MACs", "Params"))
    by_op: dict[str, int] = {}
    macs = params = 0
    for r in rows[1:]:
        if r[i_name] == "Total":
            macs, params = int(float(r[i_macs])), int(float(r[i_params]))
            continue
        by_op[r[i_type]] = by_op.get(r[i_type], 0) + int(float(r[i_macs] or 0))
    return macs, params, by_op, ""


def compare_onnx_tool() -> None:
    import onnxlite
    from onnxlite.profile import profile_model

    with tempfile.TemporaryDirectory() as tmp:
        for name, (path, shapes) in _export_models(Path(tmp)).items():
            prof = profile_model(onnxlite.load(path), input_shapes={k: list(v) for k, v in shapes.items()})
            ours = {d["op_type"]: d["macs"] for d in prof.by_op_type}
            print(f"== {name} ({path.name}, input {shapes})")
            t = prof.totals
            print(f"onnxlite: MACs {t.macs:,}, FLOPs {t.flops:,}, params {t.params:,},"
                  f" peak activations {prof.peak_activation_bytes:,} bytes, not counted "
                  f"{[r.op_type for r in prof.not_counted]}")
            try:
                macs, params, theirs, _ = _onnx_tool(path, shapes)
            except Exception as e:  # noqa: BLE001 - report that onnx-tool failed, keep going
                print(f"onnx-tool failed: {type(e).__name__}: {e}")
                continue
            print(f"onnx-tool: MACs {macs:,}, params {params:,}")
            print(f"  {'op type':24} {'onnxlite MACs':>16} {'onnx-tool MACs':>16}")
            for op in sorted(set(ours) | set(theirs)):
                a, b = ours.get(op, 0), theirs.get(op, 0)
                if a or b:
                    print(f"  {op:24} {a:>16,} {b:>16,}{'' if a == b else '   <- differs'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare-onnx-tool", action="store_true")
    ap.add_argument("--skip-huge", action="store_true")
    args = ap.parse_args()
    if args.compare_onnx_tool:
        compare_onnx_tool()
        return
    bench_many()
    if not args.skip_huge:
        bench_huge()


if __name__ == "__main__":
    main()
