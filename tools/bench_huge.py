"""Benchmark a model bigger than the machine: 64 GiB of external data in a sparse file.

Usage:
    python tools/bench_huge.py [--size-gb 64] [--repeat 3] [--samples 64] [--keep] [--json out.json]

The model (built in ``tools/.bench/huge-<size>g/``, git-ignored; rebuilt only when missing) is a
stack of ``MatMul -> Add -> Relu`` blocks: ``--size-gb`` GiB of float32 weights, 256 MiB each
([8192, 8192]), all in ONE external data file ``weights.bin``, plus a 32 KiB bias per block
inside the .onnx file. The data file is sparse: its length is the full size but only three
4 KiB blocks of random bytes per weight (at its start, middle and end) are written, so it
takes a few MB of disk and reads as zeros elsewhere. Nothing like 64 GiB fits in this machine's
RAM: a tool that reads the weights fails or thrashes.

Each operation runs in a FRESH process (``python -c`` or the console script), once untimed, then
``--repeat`` times; the table shows the median wall time (interpreter start and imports included:
what a user waits for) and the largest peak RSS (GNU time's ``%M``):

=============================  ================================  ===================================
operation                      onnxlite                          onnx / onnx_ir
=============================  ================================  ===================================
info                           ``onnxlite info``                 onnx: load(no ext. data) + summary
dump                           ``onnxlite dump``                 onnx: printer.to_text(load(no data))
check                          ``onnxlite check``                onnx: checker.check_model(path)
open + walk tensors' metadata  ``load`` + name/dtype/shape/size  onnx: load(no data) + walk;
                                                                 onnx_ir: ir.load + walk
convert to another folder      ``onnxlite convert                onnx: not run (load_external_data
                               --external-data``                 reads 64 GiB into memory);
                                                                 onnx_ir: ir.save(external_data=)
=============================  ================================  ===================================

Writes are watched: a run whose output folder takes more than ``--write-cap-gb`` of disk
(allocated blocks, temporary files included) is stopped there and reported as such, with its
throughput so far (onnx_ir writes the holes of the sparse file out as zeros: 64 GiB of disk).
onnxlite's converted output is checked: the same tensors in the same order, and for ``--samples``
random (tensor, offset) pairs plus every written block the bytes equal the source's; it is deleted
afterwards unless ``--keep``.

Targets (the issue's): ``onnxlite`` info, dump, check and open each under a second with flat
memory (peak RSS under ``FLAT_RSS_MIB``, independent of the data size), and convert streams:
output correct, peak RSS under ``FLAT_RSS_MIB``. Exit status 1 when a target fails or an
operation errs.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
sys.path.insert(0, str(TOOLS))

import bench_inspect  # noqa: E402  (fresh-process runner conventions, report(), environment())

from onnxlite import _proto  # noqa: E402  only to build the input: plain protobuf messages

BENCH_DIR = REPO / "tools" / ".bench"
HIDDEN = 8192
WEIGHT_BYTES = HIDDEN * HIDDEN * 4  # 256 MiB
BLOCK = 4096
FLAT_RSS_MIB = 100
SECOND = 1.0
TIMEOUT_S = 3600
GENERATOR_VERSION = 1
MIB = 1 << 20
GIB = 1 << 30

WALK_LITE = r"""
import sys, onnxlite
m = onnxlite.load(sys.argv[1])
n = total = 0
for path, t in m.tensors():
    n += 1; total += t.nbytes; t.dtype; t.shape; t.name; t.location
print(n, total)
"""
WALK_ONNX = r"""
import sys, math, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
n = total = 0
for t in m.graph.initializer:
    n += 1; total += math.prod(t.dims) * 4; t.data_type; t.name
    {e.key: e.value for e in t.external_data}
print(n, total)
"""
WALK_IR = r"""
import sys, onnx_ir as ir
m = ir.load(sys.argv[1])
n = total = 0
for name, v in m.graph.initializers.items():
    t = v.const_value
    n += 1; total += t.nbytes; t.dtype; t.shape
print(n, total)
"""
PRINTER = r"""
import sys, onnx, onnx.printer
sys.stdout.write(onnx.printer.to_text(onnx.load(sys.argv[1], load_external_data=False)))
"""
CHECKER = "import sys, onnx; onnx.checker.check_model(sys.argv[1])"
IR_SAVE = r"""
import sys, onnx_ir as ir
m = ir.load(sys.argv[1])
ir.save(m, sys.argv[2], external_data="model.onnx.data")
"""


# --- the model -----------------------------------------------------------------------------------

@dataclasses.dataclass
class Huge:
    folder: Path
    layers: int

    @property
    def path(self) -> Path:
        return self.folder / "model.onnx"

    @property
    def data(self) -> Path:
        return self.folder / "weights.bin"

    @property
    def nbytes(self) -> int:
        return self.layers * WEIGHT_BYTES

    def written_blocks(self, layer: int) -> list[int]:
        """Offsets (within weight `layer`) of the blocks holding real bytes."""
        return [0, (WEIGHT_BYTES // 2) // BLOCK * BLOCK, WEIGHT_BYTES - BLOCK]


def build(size_gb: int) -> Huge:
    layers = size_gb * GIB // WEIGHT_BYTES
    huge = Huge(BENCH_DIR / f"huge-{size_gb}g", layers)
    stamp = huge.folder / f".complete-v{GENERATOR_VERSION}"
    if stamp.exists():
        return huge
    shutil.rmtree(huge.folder, ignore_errors=True)
    huge.folder.mkdir(parents=True)
    if shutil.disk_usage(huge.folder).free < 4 * GIB:
        raise SystemExit("tools/.bench needs a few GB free (the sparse file itself takes ~1 MB per 100 GB)")
    rng = random.Random(size_gb)
    m = _proto.ModelProto(ir_version=10, producer_name="tools/bench_huge.py")
    m.opset_import.add(domain="", version=21)
    g = m.graph
    g.name = f"huge_{size_gb}g"
    x = g.input.add(name="x")
    x.type.tensor_type.elem_type = 1
    for d in (1, HIDDEN):
        x.type.tensor_type.shape.dim.add(dim_value=d)
    with open(huge.data, "wb") as f:
        f.truncate(huge.nbytes)
        for i in range(layers):
            base = i * WEIGHT_BYTES
            for offset in huge.written_blocks(i):
                f.seek(base + offset)
                f.write(rng.randbytes(BLOCK))
            w = g.initializer.add(name=f"layers.{i}.weight", data_type=1, dims=[HIDDEN, HIDDEN],
                                  data_location=1)
            entries = {"location": "weights.bin", "offset": str(base), "length": str(WEIGHT_BYTES)}
            for key, value in entries.items():
                w.external_data.add(key=key, value=value)
            b = g.initializer.add(name=f"layers.{i}.bias", data_type=1, dims=[HIDDEN])
            b.raw_data = rng.randbytes(HIDDEN * 4)
            h = "x" if i == 0 else f"h{i - 1}"
            g.node.add(op_type="MatMul", name=f"/layers.{i}/MatMul", input=[h, w.name], output=[f"mm{i}"])
            g.node.add(op_type="Add", name=f"/layers.{i}/Add", input=[f"mm{i}", b.name], output=[f"add{i}"])
            g.node.add(op_type="Relu", name=f"/layers.{i}/Relu", input=[f"add{i}"], output=[f"h{i}"])
    y = g.output.add(name=f"h{layers - 1}")
    y.type.CopyFrom(x.type)
    huge.path.write_bytes(m.SerializeToString())
    stamp.touch()
    return huge


def allocated(folder: Path) -> int:
    """Bytes of disk the files under `folder` take (allocated blocks, not lengths)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


# --- running one operation -------------------------------------------------------------------------

@dataclasses.dataclass
class Op:
    row: str
    tool: str
    argv: list[str] | None  # None: not run
    note: str = ""
    out_dir: Path | None = None  # a write: watched, emptied before every run


@dataclasses.dataclass
class Result:
    times: list[float] = dataclasses.field(default_factory=list)
    peaks: list[int] = dataclasses.field(default_factory=list)  # bytes
    error: str | None = None
    stopped: str | None = None  # the write cap was hit: what was done by then

    @property
    def time(self) -> float:
        return statistics.median(self.times)

    @property
    def peak(self) -> int:
        return max(self.peaks)


def run_once(argv: list[str], out_dir: Path | None, cap: int,
             total: int = 0) -> tuple[float, int, str | None, str | None]:
    """(wall seconds, peak RSS bytes, error, stopped note) of one fresh process under GNU time.
    A write whose output passes `cap` bytes of disk is stopped (its process killed; GNU time
    still reports the peak)."""
    if out_dir is not None:
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        proc = subprocess.Popen([bench_inspect.TIME, "-f", "%M", "-o", report.name, *argv],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=bench_inspect.ENV)
        stopped = None
        while proc.poll() is None:
            try:
                proc.wait(0.2)
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.perf_counter() - start
            if out_dir is not None and proc.poll() is None and (written := allocated(out_dir)) > cap:
                _kill_children(proc.pid)
                whole = f"; all {total / GIB:.0f} GiB: ~{elapsed * total / written:.0f} s" if total else ""
                stopped = (f"stopped after writing {written / GIB:.1f} GiB in {elapsed:.0f} s "
                           f"({written / GIB / elapsed:.2f} GiB/s{whole})")
            if elapsed > TIMEOUT_S:
                _kill_children(proc.pid)
                stopped = f"stopped after {TIMEOUT_S} s"
        _, stderr = proc.communicate()
        elapsed = time.perf_counter() - start
        lines = report.read().split()
    peak = int(lines[-1]) * 1024 if lines and lines[-1].isdigit() else 0
    if proc.returncode != 0 and stopped is None:
        tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
        return elapsed, peak, f"exit {proc.returncode}: {tail[0][:200]}", None
    return elapsed, peak, None, stopped


def _kill_children(pid: int) -> None:
    """Kill what GNU time runs (not time itself, so that it still writes the peak)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            os.kill(int(child), 9)
        except ProcessLookupError:
            pass


def measure(ops: list[Op], repeat: int, cap: int, total: int) -> dict[tuple[str, str], Result]:
    """Reads: once untimed (bytecode compiled, the .onnx in the page cache), then `repeat` times,
    interleaved. Writes: once (each run writes gigabytes)."""
    results = {(op.row, op.tool): Result() for op in ops if op.argv is not None}
    reads = [op for op in ops if op.argv is not None and op.out_dir is None]
    writes = [op for op in ops if op.argv is not None and op.out_dir is not None]
    for op in reads:
        results[(op.row, op.tool)].error = run_once(op.argv or [], None, cap)[2]
    for op in reads * repeat + writes:
        r = results[(op.row, op.tool)]
        if r.error:
            continue
        seconds, peak, r.error, r.stopped = run_once(op.argv or [], op.out_dir, cap, total)
        r.times.append(seconds)
        r.peaks.append(peak)
        print(f"  {op.tool:<8} {op.row:<26} {seconds:7.2f} s {peak / MIB:9.1f} MiB"
              + (f"  ({r.stopped})" if r.stopped else ""), file=sys.stderr)
    return results


# --- checking the converted output ---------------------------------------------------------------------

def _payloads(path: Path) -> dict[str, tuple[Path | bytes, int, int]]:
    """name -> (data file or the raw bytes, offset, length) of every initializer, read with plain
    protobuf (not with the code under test)."""
    m = _proto.ModelProto.FromString(path.read_bytes())
    out: dict[str, tuple[Path | bytes, int, int]] = {}
    for t in m.graph.initializer:
        if t.data_location == 1:
            e = {x.key: x.value for x in t.external_data}
            out[t.name] = (path.parent / e["location"], int(e.get("offset", 0)), int(e["length"]))
        else:
            out[t.name] = (bytes(t.raw_data), 0, len(t.raw_data))
    return out


def _read(where: Path | bytes, base: int, offset: int, handles: dict[Path, Any]) -> bytes:
    if isinstance(where, bytes):
        return where[offset:offset + BLOCK]
    if where not in handles:
        handles[where] = open(where, "rb")
    return os.pread(handles[where].fileno(), BLOCK, base + offset)


def check_converted(huge: Huge, out: Path, samples: int) -> str | None:
    """None when the converted model holds the same bytes as the source (sampled: every written
    block, and `samples` random offsets), else what differs."""
    src, dst = _payloads(huge.path), _payloads(out)
    if list(src) != list(dst):
        return f"initializers differ: {sorted(set(src) ^ set(dst))[:5]}"
    moved = sum(isinstance(src[n][0], bytes) and not isinstance(dst[n][0], bytes) for n in src)
    if moved + sum(not isinstance(v[0], bytes) for v in src.values()) != len(src):
        return "some initializers were not moved to external data"
    rng = random.Random(0)
    weights = [f"layers.{i}.weight" for i in range(huge.layers)]
    picks = [(name, off) for i, name in enumerate(weights) for off in huge.written_blocks(i)]
    picks += [(name, 0) for name in src if name.endswith(".bias")]
    picks += [(rng.choice(weights), rng.randrange(WEIGHT_BYTES - BLOCK)) for _ in range(samples)]
    handles: dict[Path, Any] = {}
    try:
        for name, off in picks:
            (swhere, sbase, slen), (dwhere, dbase, dlen) = src[name], dst[name]
            if slen != dlen:
                return f"{name}: length {dlen} != {slen}"
            if _read(swhere, sbase, off, handles) != _read(dwhere, dbase, off, handles):
                return f"{name}: bytes at offset {off} differ"
    finally:
        for f in handles.values():
            f.close()
    return None


# --- the report --------------------------------------------------------------------------------

ROWS = ("info", "dump", "check", "open + walk metadata", "convert to another folder")
TOOL_NAMES = ("onnxlite", "onnx", "onnx_ir")


def operations(huge: Huge, lite_check: bool, have: dict[str, bool]) -> list[Op]:
    py = sys.executable
    lite = bench_inspect._entry("onnxlite")
    path = str(huge.path)
    out = BENCH_DIR / "huge-out"
    gb = f"{huge.nbytes / GIB:.0f} GiB"
    ops = [
        Op("info", "onnxlite", [*lite, "info", path]),
        Op("dump", "onnxlite", [*lite, "dump", path]),
        Op("check", "onnxlite", [*lite, "check", path] if lite_check else None,
           "" if lite_check else "not run: `onnxlite check` is not available yet"),
        Op("open + walk metadata", "onnxlite", [py, "-c", WALK_LITE, path]),
        Op("convert to another folder", "onnxlite",
           [*lite, "convert", "--external-data", path, str(out / "onnxlite" / "model.onnx")],
           out_dir=out / "onnxlite"),
        Op("info", "onnx", [py, "-c", bench_inspect.ONNX_SUMMARY, path, "0"]),
        Op("dump", "onnx", [py, "-c", PRINTER, path]),
        Op("check", "onnx", [py, "-c", CHECKER, path]),
        Op("open + walk metadata", "onnx", [py, "-c", WALK_ONNX, path]),
        Op("convert to another folder", "onnx", None,
           f"not run: would read {gb} (load_external_data_for_model holds every weight in memory)"),
        Op("info", "onnx_ir", None, "no equivalent"),
        Op("dump", "onnx_ir", None, "no equivalent"),
        Op("check", "onnx_ir", None, "no equivalent"),
        Op("open + walk metadata", "onnx_ir", [py, "-c", WALK_IR, path]),
        Op("convert to another folder", "onnx_ir",
           [py, "-c", IR_SAVE, path, str(out / "onnx_ir" / "model.onnx")], out_dir=out / "onnx_ir"),
    ]
    for op in ops:
        if op.argv is not None and not have.get(op.tool, True):
            op.argv, op.note = None, f"not run: {op.tool} is not installed"
    return ops


def render(huge: Huge, ops: list[Op], results: dict[tuple[str, str], Result]) -> str:
    lines = [f"{huge.path.relative_to(REPO)}: {huge.layers} weights of 256 MiB in one sparse "
             f"{huge.nbytes / GIB:.0f} GiB file ({allocated(huge.folder) / MIB:.1f} MiB on disk), "
             f"{3 * huge.layers} nodes",
             f"  {'operation':<26} {'tool':<9} {'time':>8} {'peak RSS':>11}  {'vs onnxlite':<22}"]
    by = {(op.row, op.tool): op for op in ops}
    for row in ROWS:
        mine = results.get((row, "onnxlite"))
        for tool in TOOL_NAMES:
            label = row if tool == "onnxlite" else ""
            r, op = results.get((row, tool)), by[(row, tool)]
            if r is None:
                lines.append(f"  {label:<26} {tool:<9} {op.note}")
                continue
            if r.error or not r.times:
                lines.append(f"  {label:<26} {tool:<9} ERROR {r.error}")
                continue
            ratio = ""
            if tool != "onnxlite" and mine is not None and mine.times and not mine.error and not r.stopped:
                ratio = f"{r.time / mine.time:.1f}x time, {r.peak / mine.peak:.1f}x RSS"
            lines.append(f"  {label:<26} {tool:<9} {r.time:6.2f} s {r.peak / MIB:7.1f} MiB  {ratio:<22}"
                         + (f" {r.stopped}" if r.stopped else ""))
    return "\n".join(lines)


def evaluate(results: dict[tuple[str, str], Result], converted: str | None) -> list[bench_inspect.Target]:
    targets = []
    for row in ("info", "dump", "check", "open + walk metadata"):
        r = results.get((row, "onnxlite"))
        desc = f"onnxlite {row}: under {SECOND:.0f} s with flat memory (< {FLAT_RSS_MIB} MiB peak RSS)"
        if r is None or r.error or not r.times:
            targets.append(bench_inspect.Target(desc, None, r.error if r and r.error else "not measured"))
            continue
        ok = r.time < SECOND and r.peak < FLAT_RSS_MIB * MIB
        targets.append(bench_inspect.Target(desc, ok, f"{r.time:.2f} s, {r.peak / MIB:.0f} MiB"))
    r = results.get(("convert to another folder", "onnxlite"))
    desc = f"onnxlite convert --external-data streams: output correct, < {FLAT_RSS_MIB} MiB peak RSS"
    if r is None or r.error or not r.times:
        targets.append(bench_inspect.Target(desc, None, r.error if r and r.error else "not measured"))
    else:
        ok = converted is None and r.stopped is None and r.peak < FLAT_RSS_MIB * MIB
        detail = f"{r.time:.2f} s, {r.peak / MIB:.0f} MiB; " + (r.stopped or converted or "bytes match")
        targets.append(bench_inspect.Target(desc, ok, detail))
    return targets


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size-gb", type=int, default=64, help="external data size (GiB; 256 MiB per weight)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--samples", type=int, default=64, help="random offsets compared in the converted output")
    p.add_argument("--write-cap-gb", type=float, default=8.0, help="stop a write past this much disk")
    p.add_argument("--keep", action="store_true", help="keep the converted outputs")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if not os.access(bench_inspect.TIME, os.X_OK):
        raise SystemExit(f"{bench_inspect.TIME} (GNU time) is needed to measure peak RSS")
    huge = build(args.size_gb)
    have = {}
    for module in ("onnx", "onnx_ir"):
        probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
        have[module] = probe.returncode == 0
    lite_check = subprocess.run([*bench_inspect._entry("onnxlite"), "check", "--help"],
                                capture_output=True).returncode == 0
    print(bench_inspect.environment())
    ops = operations(huge, lite_check, have)
    cap = int(args.write_cap_gb * GIB)
    out_root = BENCH_DIR / "huge-out"
    try:
        results = measure(ops, args.repeat, cap, huge.nbytes)
        converted = None
        lite_out = out_root / "onnxlite" / "model.onnx"
        if lite_out.exists():
            converted = check_converted(huge, lite_out, args.samples)
            disk = allocated(lite_out.parent)
            verdict = converted or f"{args.samples} random offsets and every written block match"
            print(f"onnxlite's converted output: {disk / MIB:.1f} MiB on disk; {verdict}", file=sys.stderr)
        elif ("convert to another folder", "onnxlite") in results:
            converted = "no output written"
    finally:
        if not args.keep:
            shutil.rmtree(out_root, ignore_errors=True)
    errors = [f"{tool} {row}: {r.error}" for (row, tool), r in results.items() if r.error]
    raw = {f"{tool} {row}": dataclasses.asdict(r) for (row, tool), r in results.items()}
    targets = evaluate(results, converted)
    return bench_inspect.report([render(huge, ops, results)], targets, errors, raw, args.json)


if __name__ == "__main__":
    sys.exit(main())
