"""``onnxlite check``: validate a model (registered by onnxlite.cli).

Prints one line per problem (path, severity and code, message), problems repeated with the same
message in several places as one line with a count, then a summary line; ``--json`` lists every
problem and adds the counts. Exit status
0 when the model is valid (warnings allowed), 1 when it is not or cannot be read (the error
reaches `onnxlite.cli.main`, which prints it on one line), 2 for usage errors. The checker
(and the operator table it loads) is imported when the command runs, not with the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from onnxlite.cli import _many
from onnxlite.model import load


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``check`` subcommand to ``commands`` (an argparse subparsers object)."""
    check = commands.add_parser(
        "check", parents=[common], help="validate a model against the ONNX spec and operator schemas",
        description="Validate a model: unique value definitions, topological order, references to "
                    "undefined values (subgraphs included), opset imports, operators, input/output "
                    "counts and attributes against the standard schemas, model-local functions, "
                    "features newer than the declared IR version, types, tensor data sizes and "
                    "external data files. Exit status 0 when valid (warnings allowed), 1 otherwise.")
    _many.add_paths(check)  # MODEL... and --jsonl: several files or folders give one record per file
    check.add_argument("--json", action="store_true",
                       help='print {"valid": ..., "problems": [...], "model": ...} as JSON')
    check.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    check.set_defaults(run=_many.dispatch(_cmd_check, "check"))


def _cmd_check(args: argparse.Namespace) -> int:
    from onnxlite import check  # the operator table costs ~80 ms: only this command pays for it

    problems = check.check_model(load(args.model))
    valid = check.is_valid(problems)
    if args.json:
        report = {"valid": valid, "problems": [p.to_dict() for p in problems], "model": args.model,
                  "counts": counts(problems)}
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0 if valid else 1
    lines = grouped_lines(problems)
    lines.append(("summary", summary_line(args.model, problems, valid)))
    if _want_color(args):
        from rich.console import Console
        from rich.text import Text

        console = Console(file=sys.stdout, highlight=False, markup=False, emoji=False, soft_wrap=True)
        styles = {"error": "bold red", "warning": "yellow", "summary": "bold green" if valid else "bold red"}
        for kind, line in lines:
            console.print(Text(line, style=styles[kind]))
    else:
        sys.stdout.write("".join(line + "\n" for _, line in lines))
    return 0 if valid else 1


#: At most this many lines per (severity, code); the rest are counted on one line.
MAX_LINES_PER_CODE = 20


def counts(problems: list[Any]) -> dict[str, Any]:
    """``{"errors": N, "warnings": N, "by_code": {"error undefined-value": N, ...}}``."""
    by_code: dict[str, int] = {}
    for p in problems:
        key = f"{p.severity} {p.code}"
        by_code[key] = by_code.get(key, 0) + 1
    errors = sum(p.severity == "error" for p in problems)
    return {"errors": errors, "warnings": len(problems) - errors, "by_code": by_code}


def grouped_lines(problems: list[Any]) -> list[tuple[str, str]]:
    """(severity, line) per group of problems with the same severity, code and message (one
    line naming the first place and how many more), at most `MAX_LINES_PER_CODE` groups per
    code, in the order problems were found."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for p in problems:
        groups.setdefault((p.severity, p.code, p.message), []).append(p.where)
    shown: dict[tuple[str, str], int] = {}
    hidden: dict[tuple[str, str], int] = {}
    lines: list[tuple[str, str]] = []
    for (severity, code, message), places in groups.items():
        key = (severity, code)
        if shown.get(key, 0) >= MAX_LINES_PER_CODE:
            hidden[key] = hidden.get(key, 0) + len(places)
            continue
        shown[key] = shown.get(key, 0) + 1
        more = f" (and {len(places) - 1} more place{'s' * (len(places) > 2)})" if len(places) > 1 else ""
        lines.append((severity, f"{places[0]}: {severity} {code}: {message}{more}"))
    for (severity, code), n in hidden.items():
        lines.append((severity, f"... {n} more {code} {severity}{'s' * (n != 1)} (--json lists every one)"))
    return lines


def summary_line(model: str, problems: list[Any], valid: bool) -> str:
    """``model.onnx: valid`` / ``model.onnx: invalid: 2 errors, 1 warning``."""
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    counts = [f"{n} {word}{'s' * (n != 1)}" for n, word in ((errors, "error"), (warnings, "warning")) if n]
    if valid:
        return f"{model}: valid" + (f" ({', '.join(counts)})" if counts else "")
    return f"{model}: invalid: {', '.join(counts)}"


def _want_color(args: argparse.Namespace) -> bool:
    # The same rule as onnxlite.cli (which imports this module, so it cannot be imported here):
    # colour only on a terminal, never with --no-color or a non-empty NO_COLOR.
    if args.no_color or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())
