"""``onnxlite draw MODEL -o OUT``: a picture of the graph as .svg, .html or .dot (registered by
onnxlite.cli). The draw package is imported when the command runs, not with the CLI."""

from __future__ import annotations

import argparse
from typing import Any

from onnxlite.cli._args import non_negative

_FORMATS = (".svg", ".html", ".dot")


def _out_path(text: str) -> str:
    if not text.lower().endswith(_FORMATS):
        raise argparse.ArgumentTypeError(f"{text!r} must end in .svg, .html or .dot")
    return text


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``draw`` subcommand to ``commands`` (an argparse subparsers object)."""
    draw = commands.add_parser(
        "draw", parents=[common], help="draw the graph as SVG, a self-contained HTML page, or DOT",
        description="Draw the model top to bottom with a layout computed here (no graphviz, no "
                    "browser needed). Scopes from node names become frames, repeated blocks are "
                    "folded ('x 32') on graphs over 1,000 nodes, If/Loop/Scan bodies are drawn beside "
                    "their node, model-local functions beside the main graph, edges carry inferred "
                    "types. The .html page opens offline: pan, zoom, search, click for details, "
                    "expand clusters in place and collapse them.")
    draw.add_argument("model", metavar="MODEL", help="the .onnx file")
    draw.add_argument("-o", "--output", metavar="OUT", required=True, type=_out_path,
                      help="where to write: OUT.svg, OUT.html or OUT.dot")
    draw.add_argument("--depth", metavar="N", type=non_negative, default=None,
                      help="collapse scopes nested more than N levels deep into one box each")
    draw.add_argument("--expand", metavar="SCOPE", action="append", default=[],
                      help="draw this scope (a prefix such as /model/layers.3) in full; repeatable")
    draw.add_argument("--initializers", choices=("boxes", "summary"), default=None,
                      help="draw each initializer as a box linked to its readers, or summarize it "
                           "inside the boxes that read it (default: boxes under 200 nodes)")
    fold = draw.add_mutually_exclusive_group()
    fold.add_argument("--no-fold", action="store_true",
                      help="draw every node: no folded blocks, no collapsed scopes (overrides --depth)")
    fold.add_argument("--fold", action="store_true",
                      help="fold repeated blocks even on graphs of 1,000 nodes or fewer")
    draw.set_defaults(run=_cmd_draw)


def _cmd_draw(args: argparse.Namespace) -> int:
    from onnxlite.draw import draw
    from onnxlite.model import load

    model = load(args.model)
    inits = None if args.initializers is None else args.initializers == "boxes"
    draw(model, args.output, fold=True if args.fold else None, depth=args.depth, expand=args.expand,
         no_fold=args.no_fold, initializers=inits)
    return 0
