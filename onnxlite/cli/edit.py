"""The editing subcommands (registered by onnxlite.cli): each reads IN, edits it in memory and
writes OUT atomically; IN is never touched (OUT may not be IN). Weights are streamed from IN's
file into OUT, and external data stays external (written beside OUT when it is elsewhere)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from onnxlite.errors import EditError
from onnxlite.model import Model, load, normalize_domain, save


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the editing subcommands to ``commands`` (an argparse subparsers object)."""
    def add(name: str, help: str, description: str, run: Callable[[argparse.Namespace], int]) -> Any:
        sub = commands.add_parser(name, parents=[common], help=help,
                                  description=description + " IN is never modified; OUT is written "
                                  "atomically (external data is kept external, beside OUT).")
        sub.add_argument("model", metavar="IN", help="the .onnx file to read")
        sub.add_argument("output", metavar="OUT", help="the .onnx file to write (not IN)")
        sub.set_defaults(run=run)
        return sub

    rename = add("rename", "rename values everywhere they appear",
                 "Rename values of the main graph: producers, readers (also inside If/Loop/Scan bodies "
                 "that read them from outside), graph inputs/outputs, initializers, value_info and "
                 "annotations. Renames apply in order; any refusal writes nothing.", _cmd_rename)
    rename.add_argument("pairs", metavar="OLD=NEW", nargs="+", help="a value and its new name")

    extract = add("extract", "cut the subgraph between values into a new model",
                  "Keep only the nodes computing --outputs from --inputs (default: the model's own "
                  "inputs and outputs), with the initializers and functions they need. Types of new "
                  "inputs and outputs come from the model's declarations, else from shape inference; "
                  "--type gives one neither knows.",
                  _cmd_extract)
    extract.add_argument("--inputs", metavar="NAMES", type=_names,
                         help="comma-separated values that become the graph inputs")
    extract.add_argument("--outputs", metavar="NAMES", type=_names,
                         help="comma-separated values that become the graph outputs")
    extract.add_argument("--type", metavar="NAME=TYPE", action="append", type=_typed, default=[],
                         dest="types", help="the type of a new input or output that neither the model "
                         "nor inference gives, in the dump's syntax: 'logits=float[N,10]' (repeatable)")

    add("remove-unused", "remove nodes, initializers, functions and opsets nothing uses",
        "Dead-code elimination from the graph outputs backwards: nodes whose results nothing "
        "needs, unused initializers, value_info of values that no longer exist, functions never "
        "called and opset imports no node uses (subgraphs included).", _cmd_remove_unused)

    add("toposort", "put the nodes in a valid order",
        "Sort the nodes of every graph (and subgraph and function) so each value is computed "
        "before it is read, moving as few nodes as possible. A cycle is reported with its nodes.",
        _cmd_toposort)

    versions = add("set-version", "change the opset or IR version where it is only a number",
                   "Change the opset version of a domain or the IR version, refused with the reason "
                   "when the model uses something that changed between the versions (that needs a "
                   "version converter, not a number change).", _cmd_set_version)
    versions.add_argument("--opset", metavar="[DOMAIN:]N", action="append", type=_opset, default=[],
                          help="new opset version, of the default domain or of DOMAIN (repeatable)")
    versions.add_argument("--ir", metavar="N", type=int, help="new IR version")

    remove = add("remove-node", "remove nodes, reconnecting their readers if asked",
                 "Remove nodes by name. Refused while anything reads their outputs, unless "
                 "--rewire: readers of a node's first output then read its first input.",
                 _cmd_remove_node)
    remove.add_argument("nodes", metavar="NAME", nargs="+", help="node name")
    remove.add_argument("--rewire", action="store_true",
                        help="connect the readers of each node's first output to its first input")


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def _typed(text: str) -> tuple[str, Any]:
    from onnxlite.errors import ParseError
    from onnxlite.parser import parse_type

    name, sep, spelled = text.rpartition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=TYPE (e.g. 'logits=float[N,10]'), got {text!r}")
    try:
        return name, parse_type(spelled)
    except ParseError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


def _opset(text: str) -> tuple[str, int]:
    domain, _, version = text.rpartition(":")
    try:
        number = int(version)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected [DOMAIN:]N, got {text!r}") from None
    return normalize_domain(domain), number


def _open(args: argparse.Namespace) -> Model:
    try:
        same = os.path.samefile(args.model, args.output)
    except OSError:
        same = os.path.abspath(args.model) == os.path.abspath(args.output)
    if same:
        raise EditError(f"OUT ({args.output}) is IN: edits never modify IN; write to another file "
                        "(and move it over IN if you want to)")
    return load(args.model)


def _write(model: Model, args: argparse.Namespace, what: str) -> int:
    save(model, args.output)
    print(f"wrote {args.output}: {what}")
    return 0


def _cmd_rename(args: argparse.Namespace) -> int:
    from onnxlite import edit

    pairs = []
    for pair in args.pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            print(f"usage: onnxlite rename IN OUT OLD=NEW...\nonnxlite rename: error: expected OLD=NEW, "
                  f"got {pair!r}", file=sys.stderr)
            return 2
        pairs.append((old, new))
    model = _open(args)
    for old, new in pairs:
        edit.rename(model, old, new)
    return _write(model, args, f"{len(pairs)} value{'s' if len(pairs) != 1 else ''} renamed")


def _cmd_extract(args: argparse.Namespace) -> int:
    from onnxlite import transform

    model = _open(args)
    inputs = args.inputs if args.inputs is not None else [v.name for v in model.graph.inputs]
    outputs = args.outputs if args.outputs is not None else [v.name for v in model.graph.outputs]
    part = transform.extract(model, inputs, outputs, types=dict(args.types) or None)
    kept, total = len(part.proto.graph.node), len(model.proto.graph.node)
    return _write(part, args, f"{kept} of {total} nodes, {len(inputs)} inputs, {len(outputs)} outputs")


def _cmd_remove_unused(args: argparse.Namespace) -> int:
    from onnxlite import transform

    model = _open(args)
    removed = transform.remove_unused(model)
    status = _write(model, args, str(removed))
    for line in removed.details():
        print(f"  {line}")
    return status


def _cmd_toposort(args: argparse.Namespace) -> int:
    from onnxlite import transform

    model = _open(args)
    moved = transform.toposort(model)
    what = f"{moved} node{'s' * (moved != 1)} moved" if moved else \
        "the nodes were already in order; nothing moved"
    return _write(model, args, what)


def _cmd_set_version(args: argparse.Namespace) -> int:
    from onnxlite import versions

    if not args.opset and args.ir is None:
        print("usage: onnxlite set-version IN OUT [--opset [DOMAIN:]N] [--ir N]\n"
              "onnxlite set-version: error: give --opset and/or --ir", file=sys.stderr)
        return 2
    model = _open(args)
    done = []
    for domain, version in args.opset:
        model = versions.set_opset(model, version, domain=domain)
        done.append(f"opset {domain or 'ai.onnx'} {version}")
    if args.ir is not None:
        model = versions.set_ir_version(model, args.ir)
        done.append(f"IR version {args.ir}")
    return _write(model, args, ", ".join(done))


def _cmd_remove_node(args: argparse.Namespace) -> int:
    from onnxlite import edit

    model = _open(args)
    for name in args.nodes:
        edit.remove_node(model, name, rewire=args.rewire)
    count = len(args.nodes)
    return _write(model, args, f"{count} node{'s' if count != 1 else ''} removed")
