"""``onnxlite infer IN OUT``: infer the type of every value and write OUT with them recorded
(registered by onnxlite.cli). The infer package is imported when the command runs.

Prints what was inferred, what stayed unknown and which op stopped it (grouped), and every
contradiction with a declared type; ``--json`` prints the same as one object. Exit 0 when the
inference ran (contradictions included), 1 when the model cannot be read or inferred, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any


def _input_shape(text: str) -> tuple[str, list[int | str | None]]:
    name, sep, dims = text.rpartition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=D1,D2,... got {text!r}")
    out: list[int | str | None] = []
    for d in dims.split(",") if dims else []:
        d = d.strip()
        if d in ("?", ""):
            out.append(None)
        elif d.isdigit():
            out.append(int(d))
        else:
            out.append(d)
    return name, out


def _dim(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected SYMBOL=N with N a whole number >= 0, got {text!r}")
    return name.strip(), int(value)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``infer`` subcommand to ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser(
        "infer", parents=[common], help="infer the type of every value and write them into a copy",
        description="Infer the element type and shape of every value (symbolic sizes such as 2*N or "
                    "(H - 3)//2 + 1 where they are not numbers) and write OUT with value_info for every "
                    "intermediate value and graph output types filled in where missing. Weights stay "
                    "where they are (external data beside IN stays referenced). Declared graph inputs "
                    "are left as they are. Exit status 0 when inference ran (contradictions with "
                    "declared types included), 1 when the model cannot be read.")
    p.add_argument("model", metavar="IN", help="the .onnx file to read")
    p.add_argument("output", metavar="OUT", help="the .onnx file to write")
    p.add_argument("--input-shape", metavar="NAME=D1,D2,...", type=_input_shape, action="append", default=[],
                   help="shape of graph input NAME for the inference (a D is a number, a symbol, or ? "
                        "for unknown); repeatable")
    p.add_argument("--dim", metavar="SYMBOL=N", type=_dim, action="append", default=[],
                   help="bind a symbolic size to a number for the inference; repeatable")
    p.add_argument("--prefer", choices=("declared", "inferred"), default="declared",
                   help="what OUT keeps where a declared type differs from the inferred one "
                        "(default: declared)")
    p.add_argument("--json", action="store_true",
                   help="print {values, inferred, unknown: [...], contradictions: [...]} as JSON")
    p.set_defaults(run=_cmd_infer)


def _cmd_infer(args: argparse.Namespace) -> int:
    from onnxlite import infer
    from onnxlite.model import load, save

    model = load(args.model)
    shapes = dict(args.input_shape)
    inputs = {v.name for v in model.graph.inputs}
    for name in shapes:
        if name not in inputs:
            known = ", ".join(sorted(inputs)[:8]) or "none"
            print(f"onnxlite infer: error: --input-shape names '{name}', which is not a graph input of "
                  f"{args.model} (inputs: {known})", file=sys.stderr)
            return 2
    result = infer.infer_types(model, input_shapes=shapes, dims=dict(args.dim))
    save(infer.apply(model, result, prefer=args.prefer), args.output)
    if args.json:
        report = {"model": args.model, "output": args.output, **result.to_json()}
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0
    sys.stdout.write("".join(line + "\n" for line in report_lines(args.model, args.output, result)))
    return 0


def report_lines(model: str, output: str, result: Any) -> list[str]:
    """The text report: unknown values grouped by op and reason, contradictions one per line,
    then the summary."""
    lines: list[str] = []
    groups: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], Any] = {}
    for u in result.unknown:
        key = (u.op_type, u.reason)
        groups[key] += 1
        first.setdefault(key, u)
    if groups:
        lines.append("unknown:")
        for (op, reason), n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])):
            u = first[(op, reason)]
            where = f"{u.graph}/" if u.graph else ""
            lines.append(f"  {op} x{n}: {reason} (first: '{u.value}' of node {where}{u.node})")
    if result.contradictions:
        lines.append("contradictions:")
        for c in result.contradictions:
            where = f"{c.graph}/" if c.graph else ""
            lines.append(f"  '{c.value}' (node {where}{c.node}): declared {c.declared}, "
                         f"inferred {c.inferred}")
    share = f" ({100 * result.inferred / result.values:.1f}%)" if result.values else ""
    lines.append(f"{model}: {result.inferred} of {result.values} values typed{share}, "
                 f"{len(result.unknown)} unknown, {len(result.contradictions)} "
                 f"contradiction{'s' * (len(result.contradictions) != 1)}; wrote {output}")
    return lines
