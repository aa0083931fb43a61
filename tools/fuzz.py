"""Mutation fuzzer for onnxlite: feeds mutated ONNX bytes to every read path.

Usage: python tools/fuzz.py [--seconds 60] [--seed 0] [--out DIR]

Seeds are the test fixtures (tests/fixtures, hostile/ excluded). Two kinds of mutants:
byte-level (bit flips, byte insertions and deletions, truncation: mostly malformed protobuf)
and structural (parse, change one to four scalar fields to hostile values: non-UTF-8 or
path-like strings, extreme integers, unknown enum values, NaN/inf floats; re-serialize).
Each mutant goes through load (eager and lazy), dump (default and --full --stats), info,
every tensor's numpy(), the producer/uses index, dumps and the weights iterator. Anything
other than OnnxliteError, or an input taking over 2 s in all, is a finding: its bytes are written to
--out for a regression test. Exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_robustness import _everything, _mutate  # noqa: E402  (the same mutator as the CI pass)

import onnxlite  # noqa: E402
from onnxlite import _proto  # noqa: E402

STAGE_LIMIT_S = 2


def byte_mutant(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out)) if out else 0
        roll = rng.random()
        if roll < 0.5 and out:
            out[i] ^= 1 << rng.randrange(8)
        elif roll < 0.7:
            out[i:i] = bytes([rng.randrange(256)])
        elif roll < 0.85 and out:
            del out[i:i + rng.randint(1, 16)]
        else:
            del out[i:]
    return bytes(out)


def structural_mutant(model: Any, rng: random.Random) -> bytes:
    copy = _proto.ModelProto()
    copy.CopyFrom(model)
    _mutate(copy, rng)
    return bytes(copy.SerializeToString())


class _Timeout(Exception):
    pass


def _alarm(*_: Any) -> None:
    raise _Timeout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "tools" / ".fuzz")
    args = parser.parse_args(argv)
    files = sorted(p for p in (ROOT / "tests" / "fixtures").rglob("*.onnx") if "hostile" not in p.parts)
    raw_seeds = [p.read_bytes() for p in files]
    parsed = [_proto.ModelProto.FromString(b) for b in raw_seeds]
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, _alarm)
    findings: dict[tuple[str, ...], bytes] = {}
    tried = loaded = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        data = byte_mutant(rng.choice(raw_seeds), rng) if rng.random() < 0.5 else \
            structural_mutant(rng.choice(parsed), rng)
        tried += 1
        signal.setitimer(signal.ITIMER_REAL, STAGE_LIMIT_S)
        try:
            model = onnxlite.loads(data, lazy=rng.random() < 0.5, base_dir=args.out)
            loaded += 1
            _everything(model)
        except onnxlite.OnnxliteError:
            pass
        except _Timeout:
            findings.setdefault(("timeout",), data)
        except Exception as e:  # a finding: anything but OnnxliteError
            frame = traceback.extract_tb(e.__traceback__)[-1]
            key = (type(e).__name__, Path(frame.filename).name, str(frame.lineno))
            if key not in findings:
                findings[key] = data
                print("finding:", key, str(e)[:200], flush=True)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    if findings:
        args.out.mkdir(parents=True, exist_ok=True)
        for key, data in findings.items():
            name = "-".join(key) + "-" + hashlib.sha256(data).hexdigest()[:8] + ".onnx"
            (args.out / name).write_bytes(data)
    print(f"tried {tried} inputs ({loaded} loaded) in {args.seconds:.0f} s, seed {args.seed}: "
          f"{len(findings)} finding(s)" + (f", written to {args.out}" if findings else ""))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
