"""``onnxlite diff A B``: structural differences (registered by onnxlite.cli).

Exit status like diff(1): 0 same, 1 different, 2 trouble (a file that cannot be read, usage).
The diff package (and rich) are imported when the command runs, not with the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from onnxlite.errors import OnnxliteError
from onnxlite.model import load


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``diff`` subcommand to ``commands`` (an argparse subparsers object)."""
    diff = commands.add_parser(
        "diff", parents=[common], help="what changed between two models, even when every name changed",
        description="Compare two models by structure, not by name: nodes are paired by op, attributes "
                    "and position in the dataflow, so renamed values and reordered nodes are no "
                    "difference. Reports header and signature changes, changed, added and removed "
                    "nodes (If/Loop/Scan bodies and functions included), changed initializers and a "
                    "summary. Exit status 0 same, 1 different, 2 trouble.")
    diff.add_argument("model", metavar="A", help="the first .onnx file")
    diff.add_argument("other", metavar="B", help="the second .onnx file")
    diff.add_argument("--json", action="store_true", help="print the report as JSON")
    diff.add_argument("--renames", action="store_true",
                      help="also list renamed nodes, values and initializers")
    diff.add_argument("--weights", action="store_true",
                      help="statistics of changed initializers (max abs/rel difference, differing elements)")
    diff.add_argument("--no-infer", action="store_true",
                      help="compare declared output types only (no inferred types for changed nodes)")
    diff.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    diff.set_defaults(run=_cmd_diff)


def _cmd_diff(args: argparse.Namespace) -> int:
    from onnxlite.diff import diff_models, render_diff

    try:
        a = load(args.model)
        b = load(args.other)
        result = diff_models(a, b, weights=args.weights, infer=not args.no_infer)
    except (OnnxliteError, OSError) as e:
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        text = str(e) if isinstance(e, OnnxliteError) else f"{e.filename or ''}: {e.strerror or e}"
        print(f"onnxlite: error: {' '.join(text.split())}", file=sys.stderr)
        return 2
    if args.json:
        data = result.to_json()
        if not args.renames:
            data.pop("renames")
        json.dump(data, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        from rich.console import Console

        color = not (args.no_color or os.environ.get("NO_COLOR")) and sys.stdout.isatty()
        console = Console(file=sys.stdout, highlight=False, emoji=False, no_color=not color,
                          force_terminal=None if color else False, soft_wrap=True)
        console.print(f"A: {args.model}\nB: {args.other}", markup=False)
        render_diff(result, console, renames=args.renames)
    return 0 if result.equal else 1
