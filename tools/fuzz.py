"""Mutation fuzzer for onnxlite: feeds mutated ONNX bytes and text to every read path.

Usage::

    python tools/fuzz.py --count 4000 --seed 0      # fixed inputs (CI): the same run every time
    python tools/fuzz.py --seconds 1800             # as many as fit in the time (long runs)
    python tools/fuzz.py --replay tools/.fuzz/X     # run one saved input in-process, with traceback

Seeds are the test fixtures (tests/fixtures, hostile/ excluded). Four kinds of inputs:

* ``bytes``: byte-level mutants (bit flips, inserted, deleted and duplicated spans, truncation,
  spans spliced in from another seed, overlong and extreme varints): mostly malformed protobuf.
* ``wire``: the seed scanned as protobuf wire format (every length-delimited payload that scans
  as a message is a message), then fields deleted, duplicated, moved, renumbered, given another
  wire type, or spliced in from another seed, with enclosing lengths fixed up; sometimes a length
  prefix is then corrupted. Well-formed protobuf that says strange things.
* ``structure``: the seed parsed, one to four scalar fields set to hostile values (non-UTF-8 and
  path-like strings, extreme integers, unknown enums, NaN/inf) and re-serialized (the mutator of
  tests/test_robustness.py).
* ``text``: ``format_model(model, full=True)`` of a seed with deletions, duplications, token swaps
  and replacements, digit, quote and bracket edits and deep nesting, for `onnxlite.parser`.

A model input is loaded (eager or lazy, from bytes or from a file beside the seed's external
data), then dumped (default, and ``full`` with stats), summarized (``info``), every tensor decoded,
the value index walked, serialized (``dumps``), its weights iterated, checked (`onnxlite.check`)
and its full dump parsed back (`onnxlite.parser`). A text input is parsed, then goes through the
same stages. The stages run in a worker process; a finding is:

* any exception other than `OnnxliteError`;
* over 2 s of CPU for one input, all stages together (ITIMER_PROF in the worker: CPU time, so a
  busy machine does not make a slow input; a timeout is confirmed by running the input again in
  a fresh worker, and one that passes then is counted as flaky, not a finding); a worker that
  does not answer within 20 s of wall time (stuck in C code or blocked) is killed: a hang; a
  crashed worker (segfault, killed by the kernel);
* an allocation far beyond the input size: peak memory growth over one stage above
  ``MEMORY_SLACK + MEMORY_FACTOR * len(input)`` (64 MiB + 64 x input). Growth is the larger of
  the resident-set peak (Linux VmHWM, reset before every stage through /proc/self/clear_refs;
  sees protobuf's C allocations, which tracemalloc does not) and tracemalloc's peak (sees
  allocations made but not touched, e.g. ``np.zeros``, which RSS does not). After the worker's
  warm-up the unmutated seeds peak below 300 KiB per stage (at most ~85x the size of the
  smallest, a 133-byte file), and the largest growth seen in long runs is ~2 MiB: the slack
  covers small inputs, the factor a full dump of a large one. A hostile input has no business
  making onnxlite allocate more than that. The worker's address space is capped at 8 GiB, so a
  wild allocation is a MemoryError (a finding) rather than a dead machine.

Findings are deduplicated by (kind, exception type, file and line of the raising frame); each
one's input is written to ``--out`` (``.onnx`` or ``.txt``) with a ``.json`` report, for a
regression test. Exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import dataclasses
import faulthandler
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT / "tests"))

from test_robustness import _mutate  # noqa: E402  (the same mutator as the CI pytest pass)

import onnxlite  # noqa: E402
from onnxlite import _proto, summary, text  # noqa: E402
from onnxlite import weights as weights_mod  # noqa: E402

TIME_LIMIT_S = 2.0
KILL_LIMIT_S = 20.0
MEMORY_SLACK = 64 << 20
MEMORY_FACTOR = 64
KINDS = ("bytes", "wire", "structure", "text")
WEIGHTS = (0.3, 0.3, 0.25, 0.15)


def memory_limit(input_size: int) -> int:
    """Peak growth (bytes) over one stage beyond which an input is a finding."""
    return MEMORY_SLACK + MEMORY_FACTOR * input_size


# --- seeds ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class Seed:
    rel: str  # path relative to tests/fixtures
    data: bytes
    proto: Any
    text: str | None


def load_seeds() -> list[Seed]:
    seeds = []
    for path in sorted(p for p in FIXTURES.rglob("*.onnx") if "hostile" not in p.relative_to(FIXTURES).parts):
        data = path.read_bytes()
        try:
            printed: str | None = text.format_model(onnxlite.load(path), full=True)
        except onnxlite.OnnxliteError:
            printed = None
        proto = _proto.ModelProto.FromString(data)
        seeds.append(Seed(path.relative_to(FIXTURES).as_posix(), data, proto, printed))
    return seeds


def parser_module() -> Any:
    try:
        from onnxlite import parser
    except ImportError:
        return None
    return parser if hasattr(parser, "parse_model") else None


# --- byte mutations ------------------------------------------------------------------------------

_VARINTS = [0, 1, 0x7F, 0x80, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**64 - 1]


def varint(value: int) -> bytes:
    value &= 2**64 - 1
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _position(n: int, rng: random.Random) -> int:
    # half the time near either end: the structure of a model with a big payload is there
    if n and rng.random() < 0.5:
        i = rng.randrange(min(n, 512))
        return i if rng.random() < 0.5 else n - 1 - i
    return rng.randrange(n) if n else 0


def byte_mutant(data: bytes, rng: random.Random, other: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = _position(len(out), rng)
        roll = rng.random()
        if roll < 0.35 and out:
            out[i] ^= 1 << rng.randrange(8)
        elif roll < 0.45:
            out[i:i] = bytes([rng.randrange(256)])
        elif roll < 0.55 and out:
            del out[i:i + rng.randint(1, 16)]
        elif roll < 0.65 and out:
            out[i:i] = out[i:i + rng.randint(1, 64)]
        elif roll < 0.75 and other:
            j = rng.randrange(len(other))
            out[i:i] = other[j:j + rng.randint(1, 256)]
        elif roll < 0.9:
            n = rng.randint(1, 10)
            blob = varint(rng.choice(_VARINTS)) if rng.random() < 0.7 else b"\xff" * n + b"\x01"
            out[i:i + rng.randint(0, 2)] = blob
        else:
            del out[i:]
    return bytes(out)


# --- wire mutations ------------------------------------------------------------------------------

@dataclasses.dataclass
class Field:
    number: int
    wire_type: int
    raw: bytes  # the encoded value (LEN: the payload) when children is None; groups: b""
    children: list[Field] | None = None
    tag: bytes = b""  # the original encodings (overlong varints stay overlong), b"" when changed
    length: bytes = b""


def _read_varint(buf: bytes, i: int, end: int) -> tuple[int, int] | None:
    value = shift = 0
    while i < end and shift < 70:
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7
    return None


def _scan(buf: bytes, start: int, end: int) -> list[Field] | None:
    """The fields of buf[start:end] as one message, or None when it does not scan as one."""
    fields: list[Field] = []
    i = start
    while i < end:
        tag = _read_varint(buf, i, end)
        if tag is None or tag[0] >> 3 == 0 or tag[0] >> 3 >= 2**29:
            return None
        number, wire_type, head, i = tag[0] >> 3, tag[0] & 7, buf[i:tag[1]], tag[1]
        if wire_type == 0:
            v = _read_varint(buf, i, end)
            if v is None:
                return None
            fields.append(Field(number, 0, buf[i:v[1]], tag=head))
            i = v[1]
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            if i + size > end:
                return None
            fields.append(Field(number, wire_type, buf[i:i + size], tag=head))
            i += size
        elif wire_type == 2:
            n = _read_varint(buf, i, end)
            if n is None or n[1] + n[0] > end:
                return None
            fields.append(Field(number, 2, buf[n[1]:n[1] + n[0]], tag=head, length=buf[i:n[1]]))
            i = n[1] + n[0]
        elif wire_type in (3, 4):  # group start / end: kept as bare tags
            fields.append(Field(number, wire_type, b"", tag=head))
        else:
            return None
    return fields


def wire_tree(data: bytes) -> list[Field]:
    """Scan `data` as a message; every non-empty payload that scans as a message gets children
    (an explicit stack, 64 levels at most: seeds nest far less)."""
    top = _scan(data, 0, len(data)) or []
    stack = [(f, 1) for f in top if f.wire_type == 2]
    while stack:
        field, depth = stack.pop()
        children = _scan(field.raw, 0, len(field.raw)) if field.raw and depth < 64 else None
        if children:
            field.children = children
            stack.extend((c, depth + 1) for c in children if c.wire_type == 2)
    return top


def wire_bytes(fields: list[Field]) -> bytes:
    """Serialize, recomputing every length (post-order with an explicit stack)."""
    out: dict[int, bytes] = {}
    stack: list[tuple[Field, bool]] = [(f, False) for f in fields]
    while stack:
        field, done = stack.pop()
        if field.children is not None and not done:
            stack.append((field, True))
            stack.extend((c, False) for c in field.children)
            continue
        if field.children is not None:
            payload = b"".join(out.pop(id(c)) for c in field.children)
        else:
            payload = field.raw
        head = field.tag or varint(field.number << 3 | field.wire_type)
        if field.wire_type == 2:
            original = _read_varint(field.length, 0, len(field.length)) if field.length else None
            same = original is not None and original[0] == len(payload)
            payload = (field.length if same else varint(len(payload))) + payload
        out[id(field)] = head + payload
    return b"".join(out.pop(id(f)) for f in fields)


def _lists(fields: list[Field]) -> list[list[Field]]:
    """Every field list (the top message and every child message)."""
    lists, stack = [], [fields]
    while stack:
        current = stack.pop()
        lists.append(current)
        stack.extend(f.children for f in current if f.children)
    return lists


def wire_mutant(data: bytes, rng: random.Random, other: bytes) -> bytes:
    tree = wire_tree(data)
    lists = [x for x in _lists(tree) if x]
    donors = [f for x in _lists(wire_tree(other)) for f in x]
    if not lists:
        return byte_mutant(data, rng, other)
    for _ in range(rng.randint(1, 3)):
        target = rng.choice(lists)
        if not target:
            continue
        i = rng.randrange(len(target))
        roll = rng.random()
        if roll < 0.2:
            del target[i]
        elif roll < 0.4:
            target.insert(rng.randrange(len(target) + 1), dataclasses.replace(target[i]))
        elif roll < 0.5:
            target.insert(rng.randrange(len(target) + 1), target.pop(i))
        elif roll < 0.65:
            number = rng.choice([1, 2, 3, 5, 7, 8, 14, 20, 99, 2**29 - 1])
            target[i] = dataclasses.replace(target[i], number=number, tag=b"")
        elif roll < 0.75:
            # another wire type with a value that parses as that type
            wire_type = rng.choice([0, 1, 2, 5])
            kids = target[i].children
            raw = {0: varint(rng.choice(_VARINTS)), 1: b"\xff" * 8, 5: b"\x00\x00\x80\x7f",
                   2: target[i].raw if kids is None else wire_bytes(kids)}[wire_type]
            target[i] = Field(target[i].number, wire_type, raw)
        elif roll < 0.9 and donors:
            target.insert(rng.randrange(len(target) + 1), dataclasses.replace(rng.choice(donors)))
        elif target[i].wire_type == 0:
            target[i] = dataclasses.replace(target[i], raw=varint(rng.choice(_VARINTS + [-1, -(2**31)])))
    out = wire_bytes(tree)
    if rng.random() < 0.3:
        out = _corrupt_a_length(out, rng)
    return out


def _corrupt_a_length(data: bytes, rng: random.Random) -> bytes:
    """Rewrite one length prefix: off by a little, zero, huge, or overlong-encoded."""
    spots: list[tuple[int, int, int]] = []  # (start of the length varint, its end, value)
    stack = [(0, len(data))]
    while stack and len(spots) < 5000:
        start, end = stack.pop()
        i = start
        while i < end:
            tag = _read_varint(data, i, end)
            if tag is None:
                break
            i = tag[1]
            if tag[0] & 7 == 2:
                n = _read_varint(data, i, end)
                if n is None:
                    break
                spots.append((i, n[1], n[0]))
                stack.append((n[1], min(end, n[1] + n[0])))
                i = n[1] + n[0]
            elif tag[0] & 7 == 0:
                v = _read_varint(data, i, end)
                if v is None:
                    break
                i = v[1]
            elif tag[0] & 7 in (1, 5):
                i += 8 if tag[0] & 7 == 1 else 4
            else:
                break
    if not spots:
        return data
    start, end, value = rng.choice(spots)
    new = rng.choice([value + 1, value - 1, value + rng.randint(2, 64), 0, 2**31 - 1, 2**32 + value, 2**63])
    encoded = varint(max(new, 0))
    if rng.random() < 0.2:  # the same value, overlong (protobuf accepts up to 10 bytes)
        encoded = bytes(b | 0x80 for b in varint(value)) + b"\x80" * rng.randint(0, 3) + b"\x00"
    return data[:start] + encoded + data[end:]


# --- text mutations ------------------------------------------------------------------------------

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*|-?\d[\w.+-]*|\s+|.', re.S)
_HOSTILE_TOKENS = [
    "", '"', "\\", "\\x", "<", ">", "{", "}", "[", "]", "(", ")", ",", ":", "=", "=>", "#", "...",
    "nan", "-inf", "1e999", "-1e-999", "99999999999999999999999", "-9223372036854775809", "0x",
    "graph", "tensor", "tensors", "float", "int64", "string", "bfloat16", "float6e2m3", "uint2",
    "seq(", "map(", "optional(", "opaque(", "sparse_tensor(", "\x00", "\u00fc", "\ud800", "\t",
    '"\\u0000"', '"\\xff"', "ir_version", "opset_import", "domain", "@", "'", "\n",
]
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def text_mutant(printed: str, rng: random.Random, other: str) -> str:
    s = printed
    for _ in range(rng.choice([1, 1, 1, 2, 3])):  # one edit often parses; many rarely do
        n = len(s)
        i = rng.randrange(n + 1)
        roll = rng.random()
        if roll < 0.12:
            s = s[:i] + s[i + rng.randint(1, 64):]
        elif roll < 0.22:
            j = rng.randrange(n + 1)
            s = s[:j] + s[i:i + rng.randint(1, 200)] + s[j:]
        elif roll < 0.4:
            tokens = _TOKEN.findall(s)
            if len(tokens) > 1:
                a, b = rng.randrange(len(tokens)), rng.randrange(len(tokens))
                if rng.random() < 0.5:
                    tokens[a], tokens[b] = tokens[b], tokens[a]
                else:
                    tokens[a] = rng.choice(_HOSTILE_TOKENS) if rng.random() < 0.7 else tokens[b]
                s = "".join(tokens)
        elif roll < 0.55:
            numbers = list(_NUMBER.finditer(s))
            if numbers:
                m = rng.choice(numbers)
                new = rng.choice(["0", "-1", "1e999", "-0", "nan", "2147483648", "18446744073709551616",
                                  "-9223372036854775808", "99999999999", str(rng.randint(-50, 50)), ""])
                s = s[:m.start()] + new + s[m.end():]
        elif roll < 0.68:
            s = s[:i] + rng.choice(['"', '"', "\\", '\\"']) + s[i:] if rng.random() < 0.6 else \
                s.replace('"', "", 1) if '"' in s else s
        elif roll < 0.82:
            brackets = "()[]{}<>"
            if rng.random() < 0.5:
                s = s[:i] + rng.choice(brackets) + s[i:]
            else:
                spots = [k for k, c in enumerate(s) if c in brackets]
                if spots:
                    k = rng.choice(spots)
                    s = s[:k] + s[k + 1:]
        elif roll < 0.9:
            s = s[:i] + _deep(rng) + s[i:]
        else:
            j = rng.randrange(len(other) + 1)
            s = s[:i] + other[j:j + rng.randint(1, 400)] + s[i + rng.randint(0, 50):]
    return s


def _deep(rng: random.Random) -> str:
    # deep enough to pass any nesting limit many times over, small enough (< 100 KB) that
    # reading it is never slow because of its size
    depth = rng.choice([50, 200, 1000, 5000])
    kind = rng.randrange(5)
    if kind == 0:
        return "seq(" * depth + "float" + ")" * depth
    if kind == 1:
        return "[" * depth + "1" + "]" * depth
    if kind == 2:
        return "(" * depth
    if kind == 3:  # graphs in graph attributes
        depth = min(depth, 2000)
        body = "g () => () { y = If (c) <then_branch: graph = "
        return body * depth + "g () => () {}" + "> }" * depth
    return "optional(" * depth + "seq(map(int64, float))" + ")" * depth


# --- the worker: runs inputs, measures time and memory --------------------------------------------

class _Timeout(BaseException):
    """Raised by SIGPROF; a BaseException so that no `except Exception` in the code under test
    swallows it."""


class Memory:
    """Peak memory growth over a stage: VmHWM (reset per stage) and tracemalloc's peak."""

    def __init__(self) -> None:
        self.can_reset = self._reset()
        tracemalloc.start()

    @staticmethod
    def _reset() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    @staticmethod
    def _status(field: str) -> int:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith(field):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        import resource  # not on Windows; only reached where /proc is missing

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024

    def start(self) -> None:
        if self.can_reset:
            self._reset()
        self.rss0 = self._status("VmRSS:")
        tracemalloc.reset_peak()
        self.traced0 = tracemalloc.get_traced_memory()[0]

    def growth(self) -> int:
        rss = self._status("VmHWM:") - self.rss0
        traced = tracemalloc.get_traced_memory()[1] - self.traced0
        return max(rss, traced)


def _stages(kind: str, payload: bytes, lazy: bool, via_file: Path | None, base: Path) -> Any:
    """Yield (stage name, thunk) in order; the first one makes the model."""
    parser = parser_module()
    holder: dict[str, Any] = {}

    def load() -> None:
        if kind == "text":
            holder["m"] = parser.parse_model(payload.decode("utf-8", "surrogatepass"))
        elif via_file is not None:
            via_file.write_bytes(payload)
            holder["m"] = onnxlite.load(via_file, lazy=lazy)
        else:
            holder["m"] = onnxlite.loads(payload, lazy=lazy, base_dir=base)

    def tensors() -> None:
        for _, tensor in holder["m"].tensors():
            try:
                tensor.numpy()
            except onnxlite.OnnxliteError:
                pass

    def values() -> None:
        for value in holder["m"].graph.values.values():
            value.kind  # noqa: B018
            value.producer  # noqa: B018
            value.uses  # noqa: B018

    def check() -> None:
        from onnxlite import check as check_mod

        check_mod.check_model(holder["m"])

    def reparse() -> None:
        parser.parse_model(text.format_model(holder["m"], full=True))

    def infer() -> None:
        from onnxlite import infer as infer_mod

        result = infer_mod.infer_types(holder["m"])
        result.to_json()
        onnxlite.dumps(infer_mod.apply(holder["m"], result, prefer="inferred"))

    yield "load", load
    yield "dump", lambda: text.format_model(holder["m"])
    yield "dump-full", lambda: text.format_model(holder["m"], full=True, stats=True)
    yield "info", lambda: summary.summarize(holder["m"])
    yield "tensors", tensors
    yield "values", values
    yield "dumps", lambda: onnxlite.dumps(holder["m"])
    yield "weights", lambda: list(weights_mod.iter_weights(holder["m"]))
    if _has_check():
        yield "check", check
    yield "infer", infer
    if parser is not None:
        yield "reparse", reparse


def _has_check() -> bool:
    try:
        from onnxlite import check as check_mod
    except ImportError:
        return False
    return hasattr(check_mod, "check_model")


def run_one(kind: str, payload: bytes, lazy: bool, via_file: Path | None, base: Path,
            memory: Memory | None) -> dict[str, Any]:
    """Run every stage on one input. Returns {"status": "ok"|"refused"|"finding", ...}."""
    stage = "load"
    peak = (0, "load")
    limit = memory_limit(len(payload))
    out: dict[str, Any] = {"loaded": False}
    signal.setitimer(signal.ITIMER_PROF, TIME_LIMIT_S)
    try:
        for stage, thunk in _stages(kind, payload, lazy, via_file, base):
            if memory is not None:
                memory.start()
            try:
                thunk()
            except onnxlite.OnnxliteError:
                if stage == "load":
                    return dict(out, status="refused")
            finally:
                if memory is not None:
                    peak = max(peak, (memory.growth(), stage))
                    out["peak"] = peak[0]
            out["loaded"] = True
            if peak[0] > limit:
                return dict(out, status="finding", key=["memory", kind, peak[1]], stage=peak[1],
                            message=f"{peak[1]}: peak memory grew {peak[0] >> 20} MiB for a "
                                    f"{len(payload)}-byte input (limit {limit >> 20} MiB)")
        return dict(out, status="ok")
    except _Timeout:
        return dict(out, status="finding", key=["timeout", kind, stage], stage=stage,
                    message=f"{stage}: over {TIME_LIMIT_S} s of CPU")
    except Exception as e:  # a finding: anything but OnnxliteError (MemoryError included)
        frame = traceback.extract_tb(e.__traceback__)[-1]
        return dict(out, status="finding", stage=stage,
                    key=[type(e).__name__, kind, Path(frame.filename).name, str(frame.lineno)],
                    message=f"{stage}: {type(e).__name__}: {str(e)[:300]}",
                    traceback="".join(traceback.format_exception(e))[-4000:])
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def _alarm(*_: Any) -> None:
    raise _Timeout


#: The worker's address space is capped: an input that makes onnxlite allocate wildly fails with
#: MemoryError (a finding) instead of taking the machine down before it can be measured.
ADDRESS_SPACE_CAP = 8 << 30


def _cap_address_space() -> None:
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > ADDRESS_SPACE_CAP:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, hard))


def _warm_up(fixtures: Path) -> None:
    """Every stage once on every seed, untimed: one-time costs (imports, the float16 text tables,
    the operator table) are not the input's."""
    for seed in load_seeds():
        for kind, payload in (("bytes", seed.data), ("text", (seed.text or "").encode())):
            if kind == "text" and (seed.text is None or parser_module() is None):
                continue
            for _, thunk in _stages(kind, payload, False, None, fixtures / Path(seed.rel).parent):
                try:
                    thunk()
                except onnxlite.OnnxliteError:
                    break


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def worker_main() -> int:
    """Read requests (a JSON line, then the payload) on stdin; answer one JSON line each."""
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr  # anything the code under test prints must not corrupt the replies
    faulthandler.enable()
    warnings.simplefilter("ignore")
    _cap_address_space()
    signal.signal(signal.SIGPROF, _alarm)
    work = Path(tempfile.mkdtemp(prefix="onnxlite-fuzz-"))
    try:
        # external data the seeds name, beside a writable copy: mutants may read, never write, them
        shutil.copytree(FIXTURES, work / "fixtures", ignore=shutil.ignore_patterns("hostile"))
        _warm_up(work / "fixtures")
        memory = Memory()
        while True:
            line = requests.readline()
            if not line:
                return 0
            req = json.loads(line)
            payload = _read_exact(requests, req["size"])
            base = work / "fixtures" / Path(req["seed"]).parent
            via_file = base / "fuzz-input.onnx" if req["via_file"] else None
            result = run_one(req["kind"], payload, req["lazy"], via_file, base, memory)
            replies.write(json.dumps(result) + "\n")
            replies.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- the driver ----------------------------------------------------------------------------------

class Worker:
    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self.proc is None:
            with open(self.log, "ab") as err:
                self.proc = subprocess.Popen(
                    [sys.executable, str(Path(__file__).resolve()), "--worker"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        return self.proc

    def run(self, req: dict[str, Any], payload: bytes) -> dict[str, Any]:
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(dict(req, size=len(payload))).encode() + b"\n" + payload)
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], KILL_LIMIT_S)
            line = proc.stdout.readline() if ready else b""
        except BrokenPipeError:
            line = b""
        if line:
            return dict(json.loads(line))
        hung = proc.poll() is None
        self.stop()
        code = proc.returncode
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        if hung:
            return {"status": "finding", "key": ["hang", req["kind"]], "stage": "?",
                    "message": f"worker stuck over {KILL_LIMIT_S:.0f} s (in C code?): killed", "log": tail}
        return {"status": "finding", "key": ["crash", req["kind"], str(code)], "stage": "?",
                "message": f"worker died with status {code}", "log": tail}

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()
            self.proc = None


def generate(rng: random.Random, seeds: list[Seed], text_seeds: list[Seed],
             kinds: tuple[str, ...], weights: tuple[float, ...]) -> tuple[dict[str, Any], bytes]:
    kind = rng.choices(kinds, weights)[0]
    seed = rng.choice(text_seeds if kind == "text" else seeds)
    other = rng.choice(text_seeds if kind == "text" else seeds)
    if kind == "bytes":
        payload = byte_mutant(seed.data, rng, other.data)
    elif kind == "wire":
        payload = wire_mutant(seed.data, rng, other.data)
    elif kind == "structure":
        copy = _proto.ModelProto()
        copy.CopyFrom(seed.proto)
        _mutate(copy, rng)
        payload = bytes(copy.SerializeToString())
    else:
        assert seed.text is not None and other.text is not None
        payload = text_mutant(seed.text, rng, other.text).encode("utf-8", "surrogatepass")
    req = {"kind": kind, "seed": seed.rel, "lazy": rng.random() < 0.5, "via_file": rng.random() < 0.25}
    return req, payload


def replay(path: Path, kind: str | None) -> int:
    """Run one saved input in this process and print what happens (for writing a regression test)."""
    payload = path.read_bytes()
    kind = kind or ("text" if path.suffix == ".txt" else "bytes")
    warnings.simplefilter("ignore")
    _warm_up(FIXTURES)
    signal.signal(signal.SIGPROF, _alarm)
    result = run_one(kind, payload, lazy=False, via_file=None, base=path.parent, memory=Memory())
    print(json.dumps(result, indent=2))
    lazy = run_one(kind, payload, lazy=True, via_file=None, base=path.parent, memory=Memory())
    print("lazy:", lazy["status"], lazy.get("message", ""))
    return 1 if "finding" in (result["status"], lazy["status"]) else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    budget = ap.add_mutually_exclusive_group()
    budget.add_argument("--count", type=int, help="run exactly this many inputs (deterministic)")
    budget.add_argument("--seconds", type=float, help="run inputs until this much time has passed")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}")
    ap.add_argument("--out", type=Path, default=ROOT / "tools" / ".fuzz")
    ap.add_argument("--replay", type=Path, help="run one saved input in-process")
    ap.add_argument("--kind", choices=KINDS, help="with --replay: how to read the input")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker_main()
    if args.replay:
        return replay(args.replay, args.kind)
    seeds = load_seeds()
    text_seeds = [s for s in seeds if s.text is not None]
    kinds = tuple(k for k in args.kinds.split(",") if k)
    if parser_module() is None and "text" in kinds:
        print("notice: onnxlite.parser.parse_model is not available yet: no text inputs", flush=True)
        kinds = tuple(k for k in kinds if k != "text")
    weights = tuple(WEIGHTS[KINDS.index(k)] for k in kinds)
    count = args.count if args.count is not None else None
    end = time.monotonic() + (args.seconds if args.seconds is not None else 60.0)
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    worker = Worker(args.out / "worker.log")
    tried: Counter[str] = Counter()
    loaded: Counter[str] = Counter()
    findings: dict[tuple[str, ...], dict[str, Any]] = {}
    peak = (0, 0)
    flaky = 0
    started = time.monotonic()
    try:
        while (tried.total() < count) if count is not None else (time.monotonic() < end):
            req, payload = generate(rng, seeds, text_seeds, kinds, weights)
            result = worker.run(req, payload)
            tried[req["kind"]] += 1
            loaded[req["kind"]] += bool(result.get("loaded"))
            peak = max(peak, (result.get("peak", 0), len(payload)))
            if result["status"] == "finding" and result["key"][0] in ("timeout", "memory"):
                worker.stop()  # interrupted mid-stage or bloated: start afresh
            if result["status"] == "finding" and result["key"][0] in ("timeout", "hang"):
                again = worker.run(req, payload)
                if again["status"] != "finding":
                    flaky += 1
                    print(f"flaky {result['key'][0]} ({result['message']}); passed in a fresh worker",
                          flush=True)
                    continue
            if result["status"] == "finding":
                key = tuple(result["key"])
                if key not in findings:
                    findings[key] = dict(result, input=_save(args.out, key, req, payload, result))
                    print("finding:", " ".join(key), "-", result["message"][:300], flush=True)
    finally:
        worker.stop()
    elapsed = time.monotonic() - started
    per_kind = ", ".join(f"{k} {tried[k]} ({loaded[k]} loaded)" for k in kinds)
    print(f"tried {tried.total()} inputs in {elapsed:.0f} s, seed {args.seed}: {per_kind}; "
          f"{loaded.total()} loaded; largest peak memory growth {peak[0] >> 10} KiB "
          f"(a {peak[1]}-byte input); {flaky} flaky timeout(s)/hang(s); {len(findings)} finding(s)"
          + (f", written to {args.out}" if findings else ""), flush=True)
    return 1 if findings else 0


def _save(out: Path, key: tuple[str, ...], req: dict[str, Any], payload: bytes,
          result: dict[str, Any]) -> str:
    suffix = ".txt" if req["kind"] == "text" else ".onnx"
    name = "-".join(key) + "-" + hashlib.sha256(payload).hexdigest()[:8]
    (out / (name + suffix)).write_bytes(payload)
    (out / (name + ".json")).write_text(json.dumps(dict(result, request=req), indent=2) + "\n")
    return name + suffix


if __name__ == "__main__":
    sys.exit(main())
