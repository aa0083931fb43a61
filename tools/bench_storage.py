"""Timings the tests do not assert (tests never assert on time): storage and parser scale.

Usage: python tools/bench_storage.py [--repeat 3] [--nodes 100000]

Each row is onnxlite's median wall time against an anchor measured in the same run:
  * refusing to embed a > 2 GiB (sparse) external tensor vs. onnx.load(load_external_data=False)
    of the same file: refusing must not read the data, so it costs about a load;
  * load + shape + a 10-element slice of an 8 GiB sparse external tensor vs. onnx.load without
    data plus a numpy.memmap slice of the data file;
  * parse_model of a --full dump of a chain of N nodes vs. onnx.parser.parse_model of the
    same text.
Sparse files take no disk; Linux (or any file system with holes). The ratios are informative
(no pass/fail): refusing and slicing should stay within a small factor of their anchors.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import onnxlite  # noqa: E402
from onnxlite import _proto  # noqa: E402
from onnxlite.errors import SaveError  # noqa: E402


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _sparse_model(folder: Path, nbytes: int) -> Path:
    """A model whose one float tensor lives in a sparse external file of ``nbytes``."""
    with open(folder / "big.bin", "wb") as f:
        f.truncate(nbytes)
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    t = m.graph.initializer.add(name="big", data_type=1, data_location=1)
    t.dims.append(nbytes // 4)
    for key, value in (("location", "big.bin"), ("length", str(nbytes))):
        t.external_data.add(key=key, value=value)
    (folder / "big.onnx").write_bytes(m.SerializeToString())
    return folder / "big.onnx"


def _chain_text(count: int) -> str:
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    g = m.graph
    g.name = "chain"
    for role, name in ((g.input, "input"), (g.output, "output")):
        v = role.add(name=name)
        v.type.tensor_type.elem_type = 1
        v.type.tensor_type.shape.dim.add(dim_param="N")
    prev = "input"
    for k in range(count):
        out = "output" if k == count - 1 else f"v{k}"
        g.node.add(name=f"n{k}", op_type=("Relu", "Sigmoid")[k % 2], input=[prev], output=[out])
        prev = out
    return onnxlite.format_model(onnxlite.Model(m), full=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=100_000)
    args = parser.parse_args(argv)
    import numpy as np
    import onnx
    import onnx.parser

    rows: list[tuple[str, float, str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = _sparse_model(folder, 2**31 + 4096)
        (folder / "out").mkdir()

        def refuse() -> None:
            try:
                onnxlite.save(onnxlite.load(big), folder / "out" / "m.onnx", external_data=False)
            except SaveError:
                return
            raise SystemExit("the > 2 GiB embed was not refused")

        anchor = _median(lambda: onnx.load(str(big), load_external_data=False), args.repeat)
        rows.append(("refuse embedding 2 GiB + 4 KiB", _median(refuse, args.repeat), "onnx.load (no data)",
                     anchor))

        huge = _sparse_model(folder, 8 << 30)

        def slice_8gib() -> None:
            array = onnxlite.load(huge).graph.initializers["big"].numpy()
            assert array.shape == (2**31,) and float(array[1000:1010].sum()) == 0.0

        def anchor_slice() -> None:
            onnx.load(str(huge), load_external_data=False)
            assert float(np.memmap(folder / "big.bin", dtype="<f4", mode="r")[1000:1010].sum()) == 0.0

        anchor = _median(anchor_slice, args.repeat)
        rows.append(("load + slice of 8 GiB external", _median(slice_8gib, args.repeat),
                     "onnx.load + np.memmap slice", anchor))

    text = _chain_text(args.nodes)
    ours = _median(lambda: onnxlite.parse_model(text), args.repeat)
    anchor = _median(lambda: onnx.parser.parse_model(text), args.repeat)
    rows.append((f"parse_model, {args.nodes:,} nodes ({len(text) / 1e6:.1f} MB)", ours, "onnx.parser",
                 anchor))

    print(f"| case | onnxlite | anchor | anchor time | ratio | (median of {args.repeat})")
    print("|---|---|---|---|---|")
    for case, t, anchor_name, a in rows:
        print(f"| {case} | {t:.3f} s | {anchor_name} | {a:.3f} s | {t / a:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
