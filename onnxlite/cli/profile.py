"""``onnxlite profile MODEL``: MACs, FLOPs, parameters and memory per node (registered by
onnxlite.cli). The profile package is imported when the command runs.

A table on a terminal (top nodes, by op type, by scope, totals, peak activation bytes, nodes not
counted), ``--json`` with the keys of `onnxlite.profile.Profile.to_json`, ``--csv`` one row per node.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from onnxlite.cli import _many
from onnxlite.cli._args import non_negative
from onnxlite.cli.infer import _dim, _input_shape
from onnxlite.model import load


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``profile`` subcommand to ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser(
        "profile", parents=[common], help="MACs, FLOPs, parameters and memory per node",
        description="Count multiply-accumulates (MACs), FLOPs (2 x MACs for multiply-add ops plus "
                    "elementwise work), parameters, weight bytes and output bytes of every node, with "
                    "totals, roll-ups by op type and by scope, the top nodes and the peak live "
                    "activation bytes. Sizes come from shape inference: symbolic ones give formulas "
                    "(2*N*S*768*768) unless bound with --dim or --input-shape. Weights are never read. "
                    "Several files or folders: one record per file (see --jsonl). Formulas: "
                    "docs/profile.md.")
    _many.add_paths(p)
    p.add_argument("--input-shape", metavar="NAME=D1,D2,...", type=_input_shape, action="append", default=[],
                   help="shape of graph input NAME (a D is a number, a symbol, or ? for unknown); repeatable")
    p.add_argument("--dim", metavar="SYMBOL=N", type=_dim, action="append", default=[],
                   help="bind a symbolic size (or a Loop's trips_... symbol) to a number; repeatable")
    p.add_argument("--depth", metavar="N", type=non_negative, default=None,
                   help="cut scopes to their first N levels in the by-scope roll-up")
    p.add_argument("--top", metavar="K", type=non_negative, default=10,
                   help="nodes in the top table (default: 10)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the profile as one JSON object")
    out.add_argument("--csv", action="store_true", help="print one CSV row per node")
    p.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    p.set_defaults(run=_many.dispatch(_cmd_profile, "profile"))


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The profile options of ``args`` as plain data (sent to worker processes)."""
    return {"input_shapes": dict(args.input_shape) or None, "dims": dict(args.dim) or None,
            "depth": args.depth}


def profile_record(path: str, opts: dict[str, Any]) -> dict[str, Any]:
    from onnxlite.profile import profile_model

    return profile_model(load(path), **opts).to_json()


def _cmd_profile(args: argparse.Namespace) -> int:
    from onnxlite.profile import profile_model

    prof = profile_model(load(args.model), **options(args))
    if args.json:
        sys.stdout.write(json.dumps(prof.to_json(), indent=2) + "\n")
        return 0
    if args.csv:
        sys.stdout.write(prof.to_csv())
        return 0
    color = not args.no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()
    render(prof, args.model, args.top, color)
    return 0


def _n(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(prof: Any, model: str, top: int, color: bool, width: int | None = None) -> None:
    """Print the profile tables (rich) to stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, highlight=False, markup=False, emoji=False, no_color=not color,
                      force_terminal=None if color else False, width=width or (None if color else 160))
    j = prof.to_json()
    t = j["totals"]
    console.print(f"{model}: {_n(t['macs'])} MACs, {_n(t['flops'])} FLOPs, {_n(t['params'])} parameters "
                  f"({_n(t['weight_bytes'])} bytes), peak activations {_n(j['peak_activation_bytes'])} bytes")
    cols = ("MACs", "FLOPs", "params", "weight bytes", "output bytes")
    if top:
        table = Table(title=f"Top {top} nodes (x count)", title_justify="left")
        for c in ("node", "op", "graph", "count", *cols):
            table.add_column(c, justify="right" if c in cols or c == "count" else "left")
        for r in prof.top(top):
            d = r.to_json()
            table.add_row(d["name"], d["op_type"], d["graph"], _n(d["count"]), *(_n(d[k]) for k in
                          ("macs", "flops", "params", "weight_bytes", "output_bytes")))
        console.print(table)
    rollups = (("By op type", "op_type", j["by_op_type"]), ("By scope", "scope", j["by_scope"]))
    for title, key, rows in rollups:
        table = Table(title=title, title_justify="left")
        table.add_column(key.replace("_", " "))
        table.add_column("nodes", justify="right")
        for c in cols:
            table.add_column(c, justify="right")
        for row in rows:
            label = row[key] if key != "scope" else (row[key] or "(root)")
            table.add_row(label, _n(row["nodes"]), *(_n(row[k]) for k in
                          ("macs", "flops", "params", "weight_bytes", "output_bytes")))
        console.print(table)
    if j["not_counted"]:
        console.print(f"Not counted ({len(j['not_counted'])}):")
        for r in j["not_counted"]:
            where = f"{r['graph']}: " if r["graph"] else ""
            console.print(f"  {where}{r['name']} {r['op_type']}: {r['reason']}")
