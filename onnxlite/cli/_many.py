"""Many-file mode of ``info``, ``check`` and ``profile``: ``onnxlite COMMAND PATH...`` over files and
folders (recursively, ``*.onnx``), in parallel processes.

Records come out in sorted path order, each as soon as it and the ones before it are done (so the
output is deterministic); ``--jsonl`` writes one JSON object per file (the command's ``--json`` keys
plus ``path``, and ``error`` for a file that could not be read). A broken or hostile file is one
record with its error, never an abort; symlinks leading out of a folder are not followed; weights
are never read. A summary line ends the run (on stderr with --jsonl); progress goes to stderr only
when it is a terminal. Exit 1 when any file failed (could not be read, or check found it invalid),
after every record.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["add_paths", "collect", "dispatch", "run_many"]

_CHUNK = 8


def add_paths(parser: argparse.ArgumentParser, help_text: str = "the .onnx file") -> None:
    """The MODEL positional (one or more files or folders) and --jsonl."""
    parser.add_argument("model", metavar="MODEL", nargs="+",
                        help=f"{help_text}; several files or folders (searched for *.onnx) give one "
                             "record per file")
    parser.add_argument("--jsonl", action="store_true",
                        help="one JSON object per file, in path order (many-file mode)")
    parser.add_argument("--jobs", metavar="N", type=int, default=None,
                        help="worker processes for many files (default: the number of CPUs)")


Runner = Callable[[argparse.Namespace], int]


def dispatch(single: Runner, command: str) -> Runner:
    """The ``run`` function of a command: the single-file ``single`` for one file path without
    --jsonl, else the many-file mode."""

    def run(args: argparse.Namespace) -> int:
        paths = list(args.model)
        if len(paths) == 1 and not args.jsonl and not os.path.isdir(paths[0]):
            args.model = paths[0]
            return single(args)
        args.model = " ".join(paths)  # what an unexpected error message names
        return run_many(args, command, paths)

    return run


def collect(paths: list[str]) -> list[str]:
    """Every file named and every *.onnx under the folders named (recursively), sorted, without
    duplicates. Inside a folder, symlinks (to files or folders) that lead out of it are skipped."""
    found: set[str] = set()
    for p in paths:
        if not os.path.isdir(p):
            found.add(os.path.normpath(p))
            continue
        root_real = os.path.realpath(p)
        for folder, dirs, files in os.walk(p, followlinks=False):
            dirs.sort()
            for f in files:
                if not f.endswith(".onnx"):
                    continue
                full = os.path.join(folder, f)
                if os.path.islink(full):
                    real = os.path.realpath(full)
                    if os.path.commonpath([root_real, real]) != root_real:
                        continue
                found.add(os.path.normpath(full))
    return sorted(found)


def _options(args: argparse.Namespace, command: str) -> dict[str, Any]:
    if command == "profile":
        from onnxlite.cli.profile import options

        return options(args)
    return {}


def record(task: tuple[str, str, dict[str, Any]]) -> tuple[str, bool, str]:
    """Run one command on one file (in a worker): (line for text mode, failed, JSON record)."""
    command, path, opts = task
    try:
        if command == "info":
            from onnxlite import summary
            from onnxlite.model import load

            rec = summary.summarize(load(path), path=path).to_dict()
            rec["path"] = path
            line = (f"{path}: ir {rec.get('ir_version')}, {rec.get('total_node_count')} nodes, "
                    f"{rec.get('parameter_count'):,} parameters")
            return line, False, json.dumps(rec)
        if command == "check":
            from onnxlite import check
            from onnxlite.cli.check import summary_line
            from onnxlite.model import load

            problems = check.check_model(load(path))
            valid = check.is_valid(problems)
            rec = {"path": path, "valid": valid, "problems": [p.to_dict() for p in problems], "model": path}
            return summary_line(path, problems, valid), not valid, json.dumps(rec)
        from onnxlite.cli.profile import profile_record

        rec = {"path": path, **profile_record(path, opts)}
        t = rec["totals"]
        line = f"{path}: {_n(t['macs'])} MACs, {_n(t['flops'])} FLOPs, {_n(t['params'])} parameters"
        return line, False, json.dumps(rec)
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - a hostile file is one error record, never an abort
        message = _error_text(e, path)
        return f"{path}: error: {message}", True, json.dumps({"path": path, "error": message})


def _error_text(e: BaseException, path: str) -> str:
    from onnxlite.errors import OnnxliteError

    if isinstance(e, OSError) and not isinstance(e, OnnxliteError):
        text = e.strerror or str(e)
    elif isinstance(e, OnnxliteError):
        text = str(e)
    else:
        text = f"unexpected {type(e).__name__}: {e}"
    text = " ".join(text.split())
    prefix = f"{path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "-" if value is None else str(value)


def _results(tasks: list[tuple[str, str, dict[str, Any]]], jobs: int) -> Iterator[tuple[str, bool, str]]:
    """Results in task order, computed by ``jobs`` processes; a worker that dies (a crash in native
    code) costs one error record for the file it was on, and the pool is restarted."""
    from concurrent.futures import ProcessPoolExecutor  # only many-file runs pay for it
    from concurrent.futures.process import BrokenProcessPool

    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield record(t)
        return
    start = 0
    chunk = _CHUNK
    while start < len(tasks):
        done = start
        try:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for res in pool.map(record, tasks[start:], chunksize=chunk):
                    yield res
                    done += 1
            return
        except BrokenProcessPool:
            if chunk > 1:  # find the file that kills its worker one at a time
                chunk = 1
                start = done
                continue
            path = tasks[done][1]
            message = "the worker process died reading this file"
            yield f"{path}: error: {message}", True, json.dumps({"path": path, "error": message})
            start = done + 1


def run_many(args: argparse.Namespace, command: str, paths: list[str]) -> int:
    began = time.perf_counter()
    files = collect(paths)
    if not files:  # like grep: nothing to do is an error, said on one line
        names = " ".join(paths)
        print(f"onnxlite: error: {names}: is a directory with no *.onnx files in it", file=sys.stderr)
        return 1
    opts = _options(args, command)
    tasks = [(command, f, opts) for f in files]
    jobs = args.jobs if args.jobs else (os.cpu_count() or 1)
    progress = sys.stderr.isatty() and len(files) > 1
    failed = 0
    out = sys.stdout
    for k, (line, bad, rec) in enumerate(_results(tasks, max(1, min(jobs, len(files))))):
        failed += bad
        out.write((rec if args.jsonl else line) + "\n")
        if progress:
            sys.stderr.write(f"\r{k + 1}/{len(files)} files")
            sys.stderr.flush()
    if progress:
        sys.stderr.write("\r\033[K")
    seconds = time.perf_counter() - began
    summary = f"{len(files)} file{'s' * (len(files) != 1)}, {failed} failed, {seconds:.2f} s"
    if args.jsonl:
        out.flush()
        print(summary, file=sys.stderr)
    else:
        out.write(summary + "\n")
    return 1 if failed else 0
