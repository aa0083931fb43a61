"""Benchmark `onnxlite weights MODEL -o DIR` against `cp` and an onnx + numpy script.

Usage:
    python tools/bench_weights.py [--repeat 3] [--only embedded,external] [--json out.json]

Models: the ~1 GiB synthetic models of tools/bench_io.py, cached in ``tools/.bench/`` (generated with
the onnx package only when missing): ``embedded`` (float32 weights inline in the .onnx file, 246
initializers) and ``external`` (the same weights in one external data file beside the .onnx).

Commands, each run in a FRESH process, writing into ``tools/.bench/tmp/weights_out`` (deleted right
after every run, so at most one output, ~1 GiB, exists at a time):

* ``cp``: ``cp MODEL OUT/`` (for the external model: ``cp model.onnx model.onnx.data OUT/``); the
  reference for throughput: the copy every byte of the model must at least go through. Plain GNU
  cp, as a user types it (the file system is printed: on ext4 cp cannot reflink, so it copies);
* ``onnxlite weights MODEL -o OUT`` (one .npy per tensor), ``--format npz``, ``--format safetensors``;
* ``onnx.load + to_array + np.save``: a ``python -c`` script doing ``onnx.load`` (external data
  included, its default), then ``numpy_helper.to_array`` and ``np.save`` per initializer. The same
  with ``np.savez`` and with ``safetensors.numpy.save_file`` as comparison rows for the other
  formats (the safetensors rows are skipped when the package is not installed);
* two ``floor`` rows: what the npy export cannot go below on this machine. A minimal stdlib
  script (no model parsing, no numpy, no manifest; the tensors' byte ranges are listed for it in
  a JSON file beforehand) writes one file per tensor (a 128-byte placeholder header, then the
  bytes) and computes the sha256 the manifest needs, in as many threads as onnxlite uses, each
  taking whole tensors, largest first. ``cfr``: ``copy_file_range`` then a hash read with
  ``pread`` (the design before this one); ``map``: each 1 MiB chunk hashed from an 8 MiB mapping
  of the file, then written from the same memory while it is in the CPU cache (what onnxlite
  does). The target is out of reach when even the floor comes close to it: onnxlite adds the
  interpreter, its imports and the model's parsing (~0.1 s on one core) to it.

Wall time is measured around the whole process (interpreter start and imports included), peak RSS
is ``/usr/bin/time``'s ``%M`` of that process (helpers shared with tools/bench_inspect.py).
Throughput is the model's bytes on disk (all its files) / wall time. Files are read once before
the runs so every tool sees a warm page cache, and every command runs once untimed first (that
run's output is also verified, see below). Runs are interleaved across commands; the table shows
the median time and the largest peak RSS of ``--repeat`` runs.

Write-back: ``os.sync()`` is called after every run, outside the process's timed region, so the
dirty pages of one run are on disk before the next starts. The main ``time`` column therefore
measures writing into the page cache, for every tool alike (the kernel may still start write-back
during a run: ~1 GiB of dirty data exceeds the default dirty thresholds on small machines). The
``+sync`` column adds the duration of that ``os.sync()``: the time until the output is on disk.
Targets are judged on the ``time`` column; ``+sync`` is informative.

Targets (PASS/FAIL on the embedded model, the issue's; the external model shows the same ratios
marked ``n/a``; the exit status is 1 when one fails, a command errors or a check fails):

* ``onnxlite weights`` (npy) throughput >= 50% of the throughput of ``cp`` of the same file;
* ``onnxlite weights`` (npy) faster than ``onnx.load + to_array + np.save``.

Peak RSS of every command is reported with its share of the model size (the claim: onnxlite's
memory stays flat, far below the model size; informative). ``%M`` includes file-backed pages, so
the pages of a memory-mapped model count although they are page cache the kernel can drop; the
``peak anon RSS`` column is the largest ``RssAnon`` (memory the process allocated itself) seen by
sampling ``/proc/PID/status`` every 5 ms: a lower bound, as a short spike can fall between samples.

The load average (``os.getloadavg``) is printed before and after each model: other processes
on the machine slow every row, the ratios less than the times.

Checks (on the untimed first run of each onnxlite format): the output holds exactly the model's
initializers, compared as a multiset of (dtype, shape, sha256 of the data) with what
``onnx.numpy_helper.to_array`` gives (so tensor names, file naming and onnxlite's manifest.json
are not compared; the benchmark models have no Constant nodes or sparse tensors, so onnxlite's
extra tensor sources do not apply). The npy output must hold one .npy per initializer.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
sys.path.insert(0, str(TOOLS))

import bench_inspect  # noqa: E402  (fresh-process runner, console-script lookup, environment)
import bench_io  # noqa: E402  (the benchmark models, their generator and cache warm-up)
from bench_inspect import ENV, TIME, TIMEOUT_S, Result, Target, report  # noqa: E402

MODEL_KINDS = ("embedded", "external")
CP_SHARE = 0.50
OUT = bench_io.TMP_DIR / "weights_out"

_LOAD = r'''
import os, re, sys
import numpy as np
import onnx
from onnx import numpy_helper
model_path, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
m = onnx.load(model_path)
'''

#: One .npy per initializer (file names: the tensor name with unsafe characters replaced, plus
#: the index so that names differing only in those characters cannot collide).
ONNX_NPY = _LOAD + r'''
for i, t in enumerate(m.graph.initializer):
    name = re.sub(r"[^A-Za-z0-9._-]", "_", t.name)
    np.save(os.path.join(out, f"{i:04d}_{name}.npy"), numpy_helper.to_array(t))
'''

ONNX_NPZ = _LOAD + r'''
np.savez(os.path.join(out, "weights.npz"),
         **{t.name: numpy_helper.to_array(t) for t in m.graph.initializer})
'''

ONNX_SAFETENSORS = _LOAD + r'''
from safetensors.numpy import save_file
save_file({t.name: numpy_helper.to_array(t) for t in m.graph.initializer},
          os.path.join(out, "model.safetensors"))
'''

#: The floor: copy + sha256 of every tensor and nothing else (see the module docstring).
FLOOR = r'''
import hashlib, json, mmap, os, sys, threading
mode, regions, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(regions) as f:
    todo = sorted(json.load(f), key=lambda r: -r[2])
os.makedirs(out, exist_ok=True)
fds = {path: os.open(path, os.O_RDONLY) for path, _, _ in todo}
lock = threading.Lock()
CHUNK, WINDOW = 1 << 20, 8 << 20
def work():
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while True:
        with lock:
            if not todo:
                return
            i = len(todo)
            path, offset, length = todo.pop(0)
        src = fds[path]
        dst = os.open(f"{out}/{i}.npy", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.write(dst, bytes(128))
        sha = hashlib.sha256()
        if mode == "cfr":
            done = 0
            while done < length:
                done += os.copy_file_range(src, dst, length - done, offset + done)
            done = 0
            while done < length:
                n = os.preadv(src, [view[:min(CHUNK, length - done)]], offset + done)
                sha.update(view[:n])
                done += n
        else:
            pos, end = offset, offset + length
            while pos < end:
                base = pos - pos % mmap.ALLOCATIONGRANULARITY
                stop = min(end, base + WINDOW)
                m = mmap.mmap(src, stop - base, flags=mmap.MAP_SHARED | mmap.MAP_POPULATE,
                              prot=mmap.PROT_READ, offset=base)
                mv = memoryview(m)
                for at in range(pos, stop, CHUNK):
                    piece = mv[at - base:min(at + CHUNK, stop) - base]
                    sha.update(piece)
                    written = 0
                    while written < len(piece):
                        written += os.pwrite(dst, piece[written:], 128 + at - offset + written)
                    piece.release()
                mv.release()
                m.close()
                pos = stop
        sha.hexdigest()
        os.close(dst)
pool = [threading.Thread(target=work) for _ in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
'''

#: Prints a JSON list of [dtype, shape, sha256] of every tensor: of the model's initializers
#: (mode "ref", via onnx) or of every .npy/.npz/.safetensors file under a folder (mode "out").
DIGESTS = r'''
import hashlib, json, sys
from pathlib import Path
import numpy as np
mode, path = sys.argv[1], sys.argv[2]
def digest(a):
    a = np.ascontiguousarray(a)
    dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
    return [dt.str.replace("|", "<").replace("=", "<"), list(a.shape),
            hashlib.sha256(a.astype(dt, copy=False).tobytes()).hexdigest()]
out = []
if mode == "ref":
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    out = [digest(numpy_helper.to_array(t)) for t in m.graph.initializer]
else:
    files = sorted(p for p in Path(path).rglob("*") if p.is_file())
    for p in files:
        if p.suffix == ".npy":
            out.append(digest(np.load(p, allow_pickle=False)))
        elif p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                out += [digest(z[k]) for k in z.files]
        elif p.suffix == ".safetensors":
            from safetensors.numpy import load_file
            out += [digest(a) for a in load_file(p).values()]
        elif p.suffix != ".json":  # onnxlite writes a manifest.json beside the tensors
            print(f"unexpected file {p.relative_to(path)}", file=sys.stderr)
print(json.dumps(out))
'''


@dataclasses.dataclass
class Command:
    label: str
    argv: list[str]
    role: str = ""  # "cp", "lite", "onnx" (the npy baseline) or "" (comparison row)
    fmt: str = ""  # output format checked on the first run: "npy", "npz", "safetensors" or ""
    mkdir: bool = False  # create OUT before the run (cp needs it)
    baseline: str = ""  # label of the onnx row with the same format (for the speedup column)


@dataclasses.dataclass
class Row:
    result: Result = dataclasses.field(default_factory=Result)
    synced: list[float] = dataclasses.field(default_factory=list)  # wall + the following os.sync()
    anon_kib: list[int] = dataclasses.field(default_factory=list)  # sampled peak RssAnon
    out_bytes: int = 0
    check: str | None = None  # None: not checked; "ok" or what differs


def have_safetensors() -> bool:
    proc = subprocess.run([sys.executable, "-c", "import safetensors.numpy"], env=ENV,
                          capture_output=True)
    return proc.returncode == 0


def tensor_regions(spec: bench_io.ModelSpec) -> Path:
    """A JSON file listing [file, offset, length] of every initializer's stored bytes that lie
    in a file (the few tensors held in typed fields are left out: bytes, not work)."""
    sys.path.insert(0, str(REPO))
    import onnxlite

    model = onnxlite.load(spec.path)
    regions = []
    for t in model.graph.initializers.values():
        if t.is_external:
            location, offset, length = t.external_info()
            path = t.external_path()
            regions.append([str(path), offset, length if length is not None else t.nbytes])
        elif t.file_region is not None:
            offset, length = t.file_region
            regions.append([str(spec.path), offset, length])
    out = bench_io.TMP_DIR / f"regions_{spec.kind}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(regions))
    return out


def worker_threads() -> int:
    """As many threads as onnxlite's export uses (one per usable core, at most four)."""
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1))


def commands(spec: bench_io.ModelSpec, safetensors: bool) -> tuple[list[Command], dict[str, str]]:
    onnxlite = [*bench_inspect._entry("onnxlite"), "weights", str(spec.path), "-o", str(OUT)]
    py = [sys.executable, "-c"]
    regions, threads = str(tensor_regions(spec)), str(worker_threads())
    cmds = [
        Command("cp", ["cp", *map(str, spec.files), str(OUT) + "/"], "cp", mkdir=True),
        Command("onnxlite weights (npy)", onnxlite, "lite", "npy",
                baseline="onnx.load + to_array + np.save"),
        Command("onnxlite weights --format npz", [*onnxlite, "--format", "npz"], "", "npz",
                baseline="onnx.load + to_array + np.savez"),
        Command("onnxlite weights --format safetensors", [*onnxlite, "--format", "safetensors"],
                "", "safetensors", baseline="onnx.load + to_array + safetensors"),
        Command("onnx.load + to_array + np.save", [*py, ONNX_NPY, str(spec.path), str(OUT)], "onnx"),
        Command("onnx.load + to_array + np.savez", [*py, ONNX_NPZ, str(spec.path), str(OUT)]),
        Command("onnx.load + to_array + safetensors", [*py, ONNX_SAFETENSORS, str(spec.path), str(OUT)]),
        Command(f"floor: copy_file_range + sha256 (pread), {threads} threads",
                [*py, FLOOR, "cfr", regions, str(OUT), threads], "floor_cfr"),
        Command(f"floor: sha256 + write from a mapping, {threads} threads",
                [*py, FLOOR, "map", regions, str(OUT), threads], "floor"),
    ]
    skipped: dict[str, str] = {}
    if not safetensors:
        for c in [c for c in cmds if "safetensors" in c.label]:
            cmds.remove(c)
            skipped[c.label] = "skipped: safetensors is not installed"
    return cmds, skipped


def clear_output() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    os.sync()  # the deletion's metadata writes land before the next run, not in it


class AnonSampler(threading.Thread):
    """Samples ``RssAnon`` of the measured command (the child of /usr/bin/time, a grandchild of
    this process) every few milliseconds: a lower bound of its peak anonymous memory.

    ``%M`` counts file-backed pages too, so a tool that memory-maps the model shows the model's
    size there although that memory is page cache the kernel can drop; RssAnon is what the
    process allocated itself (heap, copies of tensors).
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib = 0
        self.done = threading.Event()

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except (OSError, ValueError):
            return []

    def run(self) -> None:
        me = os.getpid()
        while not self.done.wait(0.005):
            for child in self._children(me):
                for pid in self._children(child):
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    for line in status.splitlines():
                        if line.startswith("RssAnon:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))


def run_synced(c: Command) -> tuple[float, float, int, int, str | None]:
    """(wall, wall + os.sync(), peak KiB, sampled peak anon KiB, error) of one fresh process
    writing into a fresh OUT."""
    clear_output()
    if c.mkdir:
        OUT.mkdir(parents=True)
        os.sync()
    sampler = AnonSampler()
    sampler.start()
    try:
        seconds, peak, error = bench_inspect.run_once(c.argv)
    finally:
        sampler.done.set()
        sampler.join()
    start = time.perf_counter()
    os.sync()  # outside the process's timed region: its dirty pages reach the disk
    return seconds, seconds + time.perf_counter() - start, peak, sampler.peak_kib, error


def digests(mode: str, path: Path) -> tuple[list[tuple[Any, ...]] | None, str]:
    proc = subprocess.run([sys.executable, "-c", DIGESTS, mode, str(path)], capture_output=True,
                          text=True, env=ENV, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return None, tail[0]
    items = [(d, tuple(s), h) for d, s, h in json.loads(proc.stdout)]
    return items, proc.stderr.strip()


def check_output(ref: list[tuple[Any, ...]], fmt: str) -> str:
    got, note = digests("out", OUT)
    if got is None:
        return f"reading the output failed: {note}"
    problems = [note] if note else []
    npy = list(OUT.rglob("*.npy"))
    if fmt == "npy" and len(npy) != len(ref):
        problems.append(f"{len(npy)} .npy files for {len(ref)} initializers")
    missing, extra = Counter(ref) - Counter(got), Counter(got) - Counter(ref)
    if missing or extra:
        problems.append(f"{sum(missing.values())} initializers missing or different, "
                        f"{sum(extra.values())} unexpected tensors (e.g. {next(iter(extra or missing))})")
    return "; ".join(problems) or "ok"


def measure(spec: bench_io.ModelSpec, cmds: list[Command], repeat: int) -> dict[str, Row]:
    rows = {c.label: Row() for c in cmds}
    ref, note = digests("ref", spec.path)
    if ref is None:
        raise SystemExit(f"could not read the reference tensors of {spec.path} with onnx: {note}")
    for c in cmds:  # untimed first run: compiles bytecode, checks the output
        row = rows[c.label]
        error = run_synced(c)[4]
        if error:
            row.result.error = error
            continue
        row.out_bytes = bench_io.dir_bytes(OUT)
        if c.fmt:
            row.check = check_output(ref, c.fmt)
        clear_output()
    bench_io.warm_cache(spec)  # the checks read other files; the model must still be cached
    for _ in range(repeat):
        for c in cmds:
            row = rows[c.label]
            if row.result.error:
                continue
            seconds, synced, peak, anon, error = run_synced(c)
            clear_output()
            if error:
                row.result.error = error
                continue
            row.result.times.append(seconds)
            row.result.peaks_kib.append(peak)
            row.synced.append(synced)
            row.anon_kib.append(anon)
            print(f"  {c.label:<40} {seconds:7.2f} s  (+sync {synced:6.2f} s)  {peak / 1024:8.1f} MiB"
                  f"  (anon {anon / 1024:8.1f} MiB)", file=sys.stderr)
    return rows


def usable(row: Row | None) -> bool:
    return row is not None and not row.result.error and bool(row.result.times)


def render(kind: str, spec: bench_io.ModelSpec, cmds: list[Command], rows: dict[str, Row],
           skipped: dict[str, str]) -> str:
    size = spec.nbytes()
    cp = next((rows[c.label] for c in cmds if c.role == "cp"), None)
    lines = [f"**{kind}**: `{spec.path.relative_to(REPO)}` ({bench_io.fmt_bytes(size)} on disk"
             f"{', ' + str(len(spec.files)) + ' files' if len(spec.files) > 1 else ''})", "",
             "| command | time | +sync | throughput | % of cp | speedup vs onnx (same format) | peak RSS "
             "| RSS / model | peak anon RSS (sampled) | output | check |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    for c in cmds:
        row = rows[c.label]
        if not usable(row):
            lines.append(f"| {c.label} | ERROR: {row.result.error} | | | | | | | | | |")
            continue
        r = row.result
        throughput = size / r.time / 1e6
        share = speed = ""
        if cp is not None and usable(cp) and c.role != "cp":
            share = f"{cp.result.time / r.time:.0%}"
        base = rows.get(c.baseline)
        if base is not None and usable(base):
            speed = f"{base.result.time / r.time:.2f}x"
        lines.append(
            f"| {c.label} | {r.time:.2f} s | {statistics.median(row.synced):.2f} s "
            f"| {throughput:,.0f} MB/s | {share} | {speed} | {bench_io.fmt_bytes(r.peak)} "
            f"| {r.peak / size:.1%} | {bench_io.fmt_bytes(max(row.anon_kib) * 1024)} "
            f"| {bench_io.fmt_bytes(row.out_bytes)} | {row.check or ''} |")
    for label, why in skipped.items():
        lines.append(f"| {label} | {why} | | | | | | | | | |")
    return "\n".join(lines)


def evaluate(kind: str, cmds: list[Command], rows: dict[str, Row]) -> list[Target]:
    by_role = {c.role: rows[c.label] for c in cmds if c.role}
    lite, cp, onnx = by_role.get("lite"), by_role.get("cp"), by_role.get("onnx")
    decisive = kind == "embedded"
    targets = []
    desc = f"{kind}: onnxlite weights (npy) throughput >= {CP_SHARE:.0%} of cp's"
    if usable(lite) and usable(cp):
        assert lite is not None and cp is not None
        share = cp.result.time / lite.result.time
        ok = share >= CP_SHARE if decisive else None
        detail = f"{share:.0%} ({lite.result.time:.2f} s vs cp {cp.result.time:.2f} s)"
        targets.append(Target(desc, ok, detail))
    else:
        targets.append(Target(desc, False if decisive else None, "not measured"))
    floor = by_role.get("floor")
    if usable(lite) and usable(floor) and usable(cp):
        assert lite is not None and floor is not None and cp is not None
        targets.append(Target(
            f"{kind}: the floor (copy + sha256 only, same threads) reaches", None,
            f"{cp.result.time / floor.result.time:.0%} of cp's throughput ({floor.result.time:.2f} s); "
            f"onnxlite takes {lite.result.time / floor.result.time:.2f}x the floor's time"))
    desc = f"{kind}: onnxlite weights (npy) faster than onnx.load + to_array + np.save"
    if usable(lite) and usable(onnx):
        assert lite is not None and onnx is not None
        ok = lite.result.time < onnx.result.time if decisive else None
        targets.append(Target(desc, ok, f"{onnx.result.time / lite.result.time:.2f}x "
                                        f"({lite.result.time:.2f} s vs {onnx.result.time:.2f} s)"))
    else:
        targets.append(Target(desc, False if decisive else None, "not measured"))
    return targets


def environment() -> str:
    try:  # findmnt names ext4 where `stat -f` says ext2/ext3
        fs = subprocess.run(["findmnt", "-no", "FSTYPE", "--target", str(bench_io.BENCH_DIR)],
                            capture_output=True, text=True).stdout.strip()
    except OSError:
        fs = ""
    cp = subprocess.run(["cp", "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    extra = []
    for module in ("numpy", "safetensors"):
        try:
            extra.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            extra.append(f"{module} (not installed)")
    return (f"{bench_inspect.environment()}, {', '.join(extra)}; {' '.join(cp)}; "
            f"file system of tools/.bench: {fs or '?'}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3, help="runs per command (median time, max RSS)")
    p.add_argument("--only", default=",".join(MODEL_KINDS), help="comma-separated models: embedded,external")
    p.add_argument("--size-mb", type=int, default=1024, help="weights of the models (MiB)")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = set(kinds) - set(MODEL_KINDS)
    if unknown:
        raise SystemExit(f"unknown models {sorted(unknown)}; choose from {', '.join(MODEL_KINDS)}")
    if not os.access(TIME, os.X_OK):
        raise SystemExit(f"{TIME} (GNU time) is needed to measure peak RSS; install the 'time' package")
    specs = bench_io.model_specs(args.size_mb, 100_000)
    bench_io.ensure_models(specs, kinds)
    free = shutil.disk_usage(bench_io.BENCH_DIR).free
    need = 2 * max(specs[k].nbytes() for k in kinds)  # one output at a time, plus a margin
    if free < need:
        raise SystemExit(f"not enough free disk in {bench_io.BENCH_DIR}: need ~{need >> 20} MiB")
    safetensors = have_safetensors()
    print(environment())
    print("Time: median wall time of a fresh process (page cache: write-back excluded; "
          "+sync adds the os.sync() that follows). Throughput: model bytes on disk / time.")
    tables, targets, errors = [], [], []
    raw: dict[str, Any] = {}
    try:
        for kind in kinds:
            spec = specs[kind]
            print(f"measuring {kind} ...", file=sys.stderr)
            bench_io.warm_cache(spec)
            cmds, skipped = commands(spec, safetensors)
            load_before = os.getloadavg()
            rows = measure(spec, cmds, args.repeat)
            load_after = os.getloadavg()
            tables.append(render(kind, spec, cmds, rows, skipped) + "\n\nload average (1, 5, 15 min) "
                          f"before: {', '.join(f'{x:.2f}' for x in load_before)}; "
                          f"after: {', '.join(f'{x:.2f}' for x in load_after)}")
            targets += evaluate(kind, cmds, rows)
            errors += [f"{kind}: {label}: {r.result.error}" for label, r in rows.items() if r.result.error]
            errors += [f"{kind}: {label}: output check: {r.check}" for label, r in rows.items()
                       if r.check not in (None, "ok")]
            raw[kind] = {label: {**dataclasses.asdict(r.result), "synced": r.synced,
                                 "anon_kib": r.anon_kib, "out_bytes": r.out_bytes, "check": r.check,
                                 "model_bytes": spec.nbytes()} for label, r in rows.items()}
    finally:
        clear_output()
    return report(tables, targets, errors, raw, args.json)


if __name__ == "__main__":
    sys.exit(main())
