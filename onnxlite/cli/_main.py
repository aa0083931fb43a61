"""The `onnxlite` command: parse arguments, call the library, render. Exit 0 ok, 1 error, 2 usage.

Results go to stdout, diagnostics to stderr. A file that cannot be read gives one line on stderr
and exit status 1 (``--debug`` adds the traceback).

rich, and the modules only one command needs, are imported inside the functions that use them:
``import onnxlite`` never imports rich, and ``onnxlite info`` (a startup-time benchmark: it must
answer in about a tenth of a second on a 1 GB model) does not pay for the text printer and numpy.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from onnxlite._version import __version__
from onnxlite.cli import _many
from onnxlite.cli import check as cli_check
from onnxlite.cli import diff as cli_diff
from onnxlite.cli import draw as cli_draw
from onnxlite.cli import edit as cli_edit
from onnxlite.cli import infer as cli_infer
from onnxlite.cli import profile as cli_profile
from onnxlite.cli._args import non_negative
from onnxlite.errors import OnnxliteError
from onnxlite.model import Model, domain_label, load, save

if TYPE_CHECKING:
    from rich.console import Console
    from rich.highlighter import RegexHighlighter
    from rich.text import Text

    from onnxlite import summary


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onnxlite",
        description="Inspect, convert and edit ONNX files without the onnx package.",
    )
    parser.add_argument("--version", action="version", version=f"onnxlite {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    # also accepted after the subcommand; SUPPRESS keeps the value given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks for errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = commands.add_parser(
        "info", parents=[common], help="summarize a model: signature, ops, parameters, notes",
        description="Summarize a model without reading its weights: sizes, IR version and opsets, "
                    "inputs and outputs, op counts over every graph and function, parameters by "
                    "dtype, external data files, and things worth a look.")
    _many.add_paths(info)  # MODEL... and --jsonl: several files or folders give one record per file
    info.add_argument("--json", action="store_true", help="print the facts as JSON")
    info.add_argument("--no-infer", action="store_true",
                      help="count only the declared types of node outputs (no type inference)")
    info.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    info.set_defaults(run=_many.dispatch(_cmd_info, "info"))

    dump = commands.add_parser(
        "dump", parents=[common], help="print the model in ONNX textual syntax",
        description="Print the model in the ONNX textual syntax (what onnx.printer writes and "
                    "onnx.parser reads). Large tensors are summarized unless --full. Highlighted on a "
                    "terminal, except outputs over 1 MiB (rich would take longer to colour them than "
                    "anyone takes to read them).")
    dump.add_argument("model", metavar="MODEL", help="the .onnx file")
    dump.add_argument("--full", action="store_true", help="print every tensor value (parseable output)")
    dump.add_argument("--stats", action="store_true",
                      help="add min/max/mean/std and zero/NaN counts of every tensor (reads whole tensors)")
    dump.add_argument("--preview", metavar="N", type=non_negative, default=8,
                      help="values shown of a summarized tensor (default: 8)")
    dump.add_argument("--op", metavar="TYPE", action="append", dest="op_types",
                      help="show only nodes of this op type (repeatable)")
    dump.add_argument("--name", metavar="PATTERN", dest="name_pattern",
                      help="show only nodes whose name or an output name matches this glob")
    dump.add_argument("--depth", metavar="N", type=non_negative, dest="max_depth",
                      help="print subgraph bodies down to this nesting level only")
    dump.add_argument("--header", action="store_true", dest="header_only",
                      help="print only the model header and the graph signature")
    dump.add_argument("--no-infer", action="store_true",
                      help="end each node's line with the output types the model declares, not the "
                           "inferred ones")
    dump.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    dump.set_defaults(run=_cmd_dump)

    weights = commands.add_parser(
        "weights", parents=[common],
        help="save every tensor as .npy/.npz/safetensors, or put edited ones back",
        description="Save the model's tensors (initializers of every graph, Constant values, tensor "
                    "attributes, sparse initializers) into DIR, one .npy per tensor plus manifest.json, "
                    "streamed from the model file. With --replace DIR, write a copy of the model with "
                    "the tensors of DIR (as written by this command, then edited) put back: names, "
                    "dtypes and shapes are checked first; only changed tensors are replaced.")
    weights.add_argument("model", metavar="MODEL", help="the .onnx file")
    weights.add_argument("-o", "--output", metavar="OUT", required=True,
                         help="the folder to write (export), or the new .onnx file (with --replace)")
    weights.add_argument("--replace", metavar="DIR", help="put the tensors of DIR back into the model")
    weights.add_argument("--format", choices=("npy", "npz", "safetensors"), default=None,
                         help="npy: one file per tensor (default); npz: one archive (stored, not "
                              "compressed); safetensors: one file")
    weights.add_argument("--only", metavar="PATTERN", action="append",
                         help="save only tensors whose name matches this glob (repeatable)")
    weights.add_argument("--densify", action="store_true",
                         help="save sparse tensors as dense arrays (default: values and indices)")
    weights.add_argument("--as", dest="as_dtype", choices=("float32",),
                         help="save every floating type as float32 (and 2/4-bit integers as 8-bit), "
                              "for tools without ml_dtypes")
    weights.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    weights.set_defaults(run=_cmd_weights)

    convert = commands.add_parser(
        "convert", parents=[common], help="re-save a model, moving weights to or from external data",
        description="Re-save a model atomically (IN and OUT may be the same file). With no option the "
                    "bytes are unchanged. --external-data moves tensors of at least --threshold bytes "
                    "into a data file beside OUT; --embed brings external weights back inline "
                    "(refused when the file would pass protobuf's 2 GiB limit).")
    convert.add_argument("model", metavar="IN", help="the .onnx file to read")
    convert.add_argument("output", metavar="OUT", help="the .onnx file to write")
    where = convert.add_mutually_exclusive_group()
    where.add_argument("--external-data", action="store_true", help="move large tensors to external data")
    where.add_argument("--embed", action="store_true", help="embed every tensor in the .onnx file")
    convert.add_argument("--location", metavar="NAME",
                         help="data file name, relative to OUT's folder (default: OUT's name + .data); "
                              "with --per-tensor, a folder for the files")
    convert.add_argument("--threshold", metavar="BYTES", type=non_negative, default=None,
                         help="smallest tensor moved to external data (default: 1024)")
    convert.add_argument("--per-tensor", action="store_true", help="one data file per tensor")
    convert.set_defaults(run=_cmd_convert)

    # commands that live in their own modules (each registers its subparsers; errors reach main())
    cli_check.register(commands, common)
    cli_edit.register(commands, common)
    cli_diff.register(commands, common)
    cli_draw.register(commands, common)
    cli_infer.register(commands, common)
    cli_profile.register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        status = run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except BrokenPipeError:
        # the reader (e.g. `head`) has all it wanted: stop quietly, and keep Python from
        # complaining when it flushes stdout at exit
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        return 130
    except (OnnxliteError, OSError) as e:
        return _fail(args, _message(e, args))
    except Exception as e:  # a bug, or a file so broken it got past the checks: still one line
        return _fail(args, f"{args.model}: unexpected {type(e).__name__}: {e} (a bug in onnxlite: "
                           "please report it with the output of --debug)")


def _message(error: BaseException, args: argparse.Namespace) -> str:
    if isinstance(error, OSError) and not isinstance(error, OnnxliteError):
        text = error.strerror or str(error)
        name = error.filename if error.filename is not None else args.model
        text = f"{name}: {text}"
    else:
        text = str(error)
    model = str(args.model)
    if model not in text:
        text = f"{model}: {text}"
    return text


def _fail(args: argparse.Namespace, message: str) -> int:
    if getattr(args, "debug", False):
        import traceback

        traceback.print_exc()
    try:
        sys.stdout.flush()  # what was printed before the error comes first
    except (OSError, ValueError):
        _silence_stdout()
    # one line per problem: a message listing several (weights --replace) keeps its lines
    lines = [" ".join(line.split()) for line in message.splitlines() if line.strip()]
    print("onnxlite: error: " + "\n  ".join(lines), file=sys.stderr)
    return 1


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured in tests)
        pass


def _want_color(args: argparse.Namespace) -> bool:
    """Colour only on a terminal, and never with --no-color or NO_COLOR set (to anything but
    the empty string, as no-color.org says)."""
    if getattr(args, "no_color", False) or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def _console(color: bool) -> Console:
    from rich.console import Console
    from rich.theme import Theme

    return Console(
        file=sys.stdout, highlight=False, markup=False, emoji=False, no_color=not color,
        force_terminal=None if color else False, theme=Theme(DUMP_STYLES),
    )


# --- info -------------------------------------------------------------------------------------

def _cmd_info(args: argparse.Namespace) -> int:
    from onnxlite import summary  # imported by the command that needs it, like text for dump

    model = load(args.model)
    facts = summary.summarize(model, path=args.model, types=True, infer=not args.no_infer)
    if args.json:
        import json

        sys.stdout.write(json.dumps(facts.to_dict(), indent=2) + "\n")
        return 0
    color = _want_color(args)
    console = _console(color)
    if color:
        render_info(facts, console)
    else:
        sys.stdout.write(info_text(facts, console))
    return 0


INFO_STYLES = {
    "info.title": "bold", "info.section": "bold cyan", "info.key": "dim", "info.name": "bold",
    "info.dtype": "green", "info.shape": "yellow", "info.number": "cyan", "info.warning": "bold yellow",
    "info.note": "blue", "info.bad": "bold red", "info.ok": "green",
}


def info_text(facts: summary.Summary, console: Console) -> str:
    """The summary rendered on ``console`` (captured) as a string."""
    with console.capture() as capture:
        render_info(facts, console)
    return capture.get()


def render_info(facts: summary.Summary, console: Console) -> None:
    """Print the summary with rich: styled text lines laid out for the console width (80
    columns when stdout is not a terminal, unless COLUMNS says otherwise), no trailing blanks.
    Deterministic for a given width."""
    from rich.theme import Theme

    with console.use_theme(Theme(INFO_STYLES)):
        for line in _info_lines(facts, console):
            console.print(line, no_wrap=True, overflow="ignore", crop=False)


_INDENT = 2


def _info_lines(facts: summary.Summary, console: Console) -> list[Text]:
    from rich.text import Text

    width = console.width
    out: list[Text] = []

    def section(title: str) -> None:
        out.append(Text())
        out.append(Text(title, style="info.section"))

    title = Text(os.path.basename(facts.path) if facts.path else "<model>", style="info.title")
    if facts.file_size is not None:
        title.append(f"  {_size(facts.file_size)}")
        if facts.external_files:
            on_disk = facts.file_size + sum(f.size or 0 for f in facts.external_files)
            title.append(f", {_size(on_disk)} with external data")
    out.append(title)
    if facts.doc_string:
        out.append(Text(_first_line(facts.doc_string), style="italic"))

    section("Model")
    about = [("IR version", str(facts.ir_version)),
             ("Opsets", ", ".join(f"{_domain(d)} {v}" for d, v in facts.opset_import.items()) or "none")]
    producer = " ".join(x for x in (facts.producer_name, facts.producer_version) if x)
    if producer:
        about.append(("Producer", producer))
    if facts.domain:
        about.append(("Domain", facts.domain))
    if facts.model_version:
        about.append(("Version", str(facts.model_version)))
    graph = f"{facts.graph_name or '(unnamed)'}: {facts.node_count:,} node{_s(facts.node_count)}"
    if facts.subgraph_count:
        graph += (f", {facts.subgraph_count:,} subgraph{_s(facts.subgraph_count)} "
                  f"(nesting depth {facts.max_subgraph_depth})")
    about.append(("Graph", graph))
    about += [("Metadata", f"{key}: {_first_line(value)}") for key, value in facts.metadata.items()]
    if facts.types is not None:
        t = facts.types
        typed = f"{t.declared:,} of {t.values:,} node output{_s(t.values)} declared"
        if t.inferred is not None:
            typed += f", {t.inferred:,} inferred"
        about.append(("Types", typed))
    out += _key_values(about, console, width)

    for label, values in (("Inputs", facts.inputs), ("Outputs", facts.outputs)):
        shown = [v for v in values if not v.initializer]
        defaults = len(values) - len(shown)
        extra = f", and {defaults} with an initializer as default" if defaults else ""
        section(f"{label} ({len(shown)}{extra})")
        out += _columns([[Text(v.name, style="info.name"), Text(_dtype_text(v), style="info.dtype"),
                          Text(_shape_text(v), style="info.shape")] for v in shown])

    total = facts.total_node_count
    scopes = [name for name, present in (("subgraphs", facts.subgraph_count), ("functions", facts.functions))
              if present]
    scope = f" (main graph, {' and '.join(scopes)})" if scopes else ""
    section(f"Operators: {total:,} node{_s(total)}{scope}, {len(facts.op_counts)} op "
            f"type{_s(len(facts.op_counts))}")
    for domain, counts in facts.op_counts_by_domain.items():
        if len(facts.op_counts_by_domain) > 1:
            n = sum(counts.values())
            out.append(Text(" " * _INDENT + f"{_domain(domain)}: {n:,} node{_s(n)}", style="info.key"))
        out += _op_columns(list(counts.items()), width - _INDENT)
    if not facts.op_counts:
        out.append(Text(" " * _INDENT + "(no nodes)", style="info.key"))

    count, tensors = facts.parameter_count, facts.parameter_tensors
    short = f" ({_count(count)})" if count >= 1000 else ""
    size = _size(facts.parameter_bytes)
    section(f"Parameters: {count:,}{short} in {tensors:,} tensor{_s(tensors)}, {size}")
    if facts.parameters_by_dtype:
        rows: list[list[Any]] = [_header("dtype", "tensors", "elements", "bytes")]
        rows += [[Text(dtype or "?", style="info.dtype"), f"{group.tensors:,}", f"{group.elements:,}",
                  _size(group.bytes)] for dtype, group in facts.parameters_by_dtype.items()]
        out += _columns(rows, right=(1, 2, 3))
        sources = [f"{facts.initializer_count:,} initializer{_s(facts.initializer_count)}"]
        if facts.sparse_initializer_count:
            sources.append(f"{facts.sparse_initializer_count:,} sparse initializer"
                           f"{_s(facts.sparse_initializer_count)}")
        origin = ", ".join(sources) + " in the main graph"
        if facts.constant_count:
            origin += f"; {facts.constant_count:,} Constant node{_s(facts.constant_count)}"
        if scopes:
            origin += f"; totals include {' and '.join(scopes)}"
        stored = f"{_size(facts.embedded_bytes)} in the model file"
        if facts.external_bytes:
            stored += f", {_size(facts.external_bytes)} in external data"
        out += _key_values([("From", origin), ("Stored", stored)], console, width)

    if facts.external_files:
        section(f"External data ({len(facts.external_files)} file{_s(len(facts.external_files))})")
        rows = [_header("location", "tensors", "referenced", "on disk", "status")]
        for f in facts.external_files:
            ok = f.status == "ok"
            status = Text("ok" if ok else f.status.upper(), style="info.ok" if ok else "info.bad")
            rows.append([Text(f.location, style="info.name"), f"{f.tensors:,}", _size(f.bytes),
                         "-" if f.size is None else _size(f.size), status])
        out += _columns(rows, right=(1, 2, 3))

    if facts.functions:
        section(f"Functions ({len(facts.functions)})")
        rows = [_header("function", "signature", "nodes", "calls")]
        for fn in facts.functions:
            name = f"{fn.domain}.{fn.name}" if fn.domain else fn.name
            if fn.overload:
                name += f":{fn.overload}"
            sig = f"({', '.join(fn.inputs)}) -> ({', '.join(fn.outputs)})"
            if fn.attributes:
                sig = f"<{', '.join(fn.attributes)}> " + sig
            rows.append([Text(name, style="info.name"), sig, f"{fn.node_count:,}", f"{fn.calls:,}"])
        out += _columns(rows, right=(2, 3))

    if facts.notes:
        section("Notes")
        marks = {"warning": Text("warning", style="info.warning"), "info": Text("note", style="info.note")}
        notes = [(marks.get(n.level, marks["info"]), n.message) for n in facts.notes]
        out += _key_values(notes, console, width, gap=1)
    return out


def _header(*names: str) -> list[Text]:
    from rich.text import Text

    return [Text(name, style="info.key") for name in names]


def _columns(rows: list[list[Any]], right: Sequence[int] = (), gap: int = 2) -> list[Text]:
    """Rows of cells (str or Text) as aligned lines, indented; no padding after the last cell."""
    from rich.text import Text

    if not rows:
        return []
    cells = [[c if isinstance(c, Text) else Text(c) for c in row] for row in rows]
    widths = [max(row[i].cell_len for row in cells) for i in range(len(cells[0]))]
    lines = []
    for row in cells:
        line = Text(" " * _INDENT)
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - cell.cell_len)
            last = i == len(row) - 1
            if i in right:
                line.append(pad)
                line.append_text(cell)
            else:
                line.append_text(cell)
                if not last:
                    line.append(pad)
            if not last:
                line.append(" " * gap)
        lines.append(line)
    return lines


def _key_values(rows: list[tuple[Any, Any]], console: Console, width: int, gap: int = 2) -> list[Text]:
    """Key/value lines: keys in a column, values wrapped to the width with a hanging indent."""
    from rich.text import Text

    keys = [k if isinstance(k, Text) else Text(k, style="info.key") for k, _ in rows]
    key_w = max(k.cell_len for k in keys)
    hang = _INDENT + key_w + gap
    lines = []
    for key, (_, value) in zip(keys, rows, strict=True):
        text = value if isinstance(value, Text) else Text(value)
        for i, part in enumerate(text.wrap(console, max(width - hang, 20))):
            line = Text(" " * _INDENT)
            if i == 0:
                line.append_text(key)
                line.append(" " * (key_w - key.cell_len + gap))
            else:
                line.append(" " * (key_w + gap))
            part.rstrip()
            line.append_text(part)
            lines.append(line)
    return lines


def _op_columns(items: list[tuple[str, int]], width: int) -> list[Text]:
    """Op counts laid out row-major in as many 'op  count' columns as fit the width."""
    from rich.text import Text

    name_w = max(len(op) for op, _ in items)
    count_w = max(len(f"{n:,}") for _, n in items)
    gap = 4
    per_row = max(1, min(len(items), (width + gap) // (name_w + 2 + count_w + gap)))
    lines = []
    for start in range(0, len(items), per_row):
        line = Text(" " * _INDENT)
        for j, (op, n) in enumerate(items[start:start + per_row]):
            if j:
                line.append(" " * gap)
            line.append(op.ljust(name_w + 2))
            line.append(f"{n:,}".rjust(count_w), style="info.number")
        lines.append(line)
    return lines


def _dtype_text(value: summary.ValueSummary) -> str:
    if value.type is None:
        return "?"
    if value.dtype is not None and value.type.startswith(value.dtype):
        return value.dtype
    if value.type.startswith("sparse_tensor(") and value.dtype is not None:
        return f"sparse {value.dtype}"
    return value.type


def _shape_text(value: summary.ValueSummary) -> str:
    if value.dtype is None:
        return ""
    if value.shape is None:
        return "(unranked)"
    return "[" + ", ".join("?" if d is None else str(d) for d in value.shape) + "]"


def _domain(domain: str) -> str:
    return domain_label(domain)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    if not lines:
        return ""
    return lines[0] + (" ..." if len(lines) > 1 else "")


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _size(n: int) -> str:
    """Bytes in binary units: '512 B', '12.2 KiB', '1.00 GiB'."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            break
    return f"{value:.2f} {unit}" if value < 10 else f"{value:.1f} {unit}"


def _count(n: int) -> str:
    """An element count in short form: '3.1K', '267.9M', '7.0B'."""
    for limit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= limit:
            return f"{n / limit:.1f}{suffix}"
    return str(n)


# --- dump -------------------------------------------------------------------------------------

DUMP_STYLES = {
    "onnx.keyword": "bold blue", "onnx.type": "green", "onnx.op": "bold magenta", "onnx.string": "yellow",
    "onnx.number": "cyan", "onnx.comment": "italic bright_black", "onnx.name": "dim",
}


#: Longer dumps print plain even on a terminal: rich highlights about 1.5 MB a second.
HIGHLIGHT_MAX_CHARS = 1 << 20


def _cmd_dump(args: argparse.Namespace) -> int:
    from onnxlite import text  # numpy: only the printer needs it

    model = load(args.model)
    if args.op_types is not None or args.name_pattern is not None:
        missed = _filter_misses(model, args.op_types, args.name_pattern)
        if missed is not None:
            return _fail(args, f"{args.model}: {missed}")
    # --full promises every value: a tensor that cannot be read (external data missing) is an
    # error, not a {...} literal
    out = text.format_model(
        model, full=args.full, preview=args.preview, stats=args.stats, op_types=args.op_types,
        name_pattern=args.name_pattern, max_depth=args.max_depth, header_only=args.header_only,
        jobs=min(2, os.cpu_count() or 1), strict=args.full,
        types=None if args.header_only else "declared" if args.no_infer else "inferred",
    )
    if not out.endswith("\n"):
        out += "\n"
    if len(out) > HIGHLIGHT_MAX_CHARS or not _want_color(args):
        sys.stdout.write(out)
        return 0
    from rich.text import Text

    console = _console(True)
    highlighted = Text(out, end="")
    onnx_highlighter().highlight(highlighted)
    console.print(highlighted, soft_wrap=True, end="")
    return 0


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'X'?`` for the closest choice (a case-insensitive match first), or ""."""
    import difflib

    choices = sorted(set(choices))
    same = [c for c in choices if c.lower() == word.lower()]
    close = same or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _filter_misses(model: Model, op_types: Sequence[str] | None, pattern: str | None) -> str | None:
    """Why ``--op``/``--name`` select no node (at any depth, functions included), or None when
    they select some. Ops absent while others are present are noted on stderr."""
    import fnmatch

    from onnxlite.model import walk

    ops: set[str] = set()
    names: set[str] = set()
    for body in walk(model):
        for n in body.proto.node:
            ops.add(n.op_type)
            if pattern is not None:
                names.add(n.name)
                names.update(n.output)
    wanted = set(op_types or ())
    absent = sorted(wanted - ops)
    if op_types is not None and len(absent) == len(wanted):
        return "; ".join(f"no node has op '{op}'{_did_you_mean(op, ops)}" for op in absent)
    for op in absent:
        print(f"onnxlite: note: no node has op '{op}'{_did_you_mean(op, ops)}", file=sys.stderr)
    if pattern is None:
        return None
    match = re.compile(fnmatch.translate(pattern)).match
    for body in walk(model):
        for n in body.proto.node:
            if (op_types is None or n.op_type in wanted) and (
                    match(n.name) or any(match(o) for o in n.output)):
                return None
    hint = _did_you_mean(pattern, [x for x in names if x]) if not any(c in pattern for c in "*?[") else ""
    kind = f"no {'/'.join(sorted(wanted & ops))} node" if op_types is not None else "no node"
    return f"{kind} has a name or output name matching --name '{pattern}'{hint}"


def onnx_highlighter() -> RegexHighlighter:
    """A rich highlighter for the ONNX textual syntax: keywords, types, op types, strings,
    numbers and ``#`` comments (later rules win where they overlap)."""
    from rich.highlighter import RegexHighlighter

    class OnnxHighlighter(RegexHighlighter):
        base_style = "onnx."
        highlights = [  # noqa: RUF012 (rich's API is a class attribute)
            r"(?P<number>(?<![\w.])[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan)(?![\w.]))",
            r"(?P<type>\b(?:float|float16|double|bfloat16|u?int(?:2|4|8|16|32|64)|bool|string|complex64|"
            r"complex128|float8e4m3fnu?z?|float8e5m2(?:fnuz)?|float8e8m0|float4e2m1|float6e[23]m[23]|seq|map|"
            r"optional|sparse_tensors?|opaque|tensors?|graphs?|ints?|floats?|strings?|type_protos?)\b)",
            r"(?m)(?P<keyword>^\s*(?:ir_version|opset_import|producer_name|producer_version|domain|"
            r"model_version|doc_string|metadata_props|overload)(?=\s*:))",
            r"(?m)^\s*(?P<name>\[[^\]\n]*\])",
            r"= *(?P<op>(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*)(?= *[<(])",
            r"(?P<string>\"(?:[^\"\\\n]|\\.)*\")",
            r'(?m)^(?:[^"#\n]|"(?:[^"\\\n]|\\.)*")*(?P<comment>#.*)$',
        ]

    return OnnxHighlighter()


# --- weights and convert ----------------------------------------------------------------------

def _usage_error(args: argparse.Namespace, message: str) -> int:
    print(f"usage: onnxlite {args.command} --help\nonnxlite {args.command}: error: {message}",
          file=sys.stderr)
    return 2


def _cmd_weights(args: argparse.Namespace) -> int:
    from onnxlite import weights  # numpy: only this command needs it

    if args.replace is not None:
        given = [flag for flag, value in (("--format", args.format), ("--only", args.only),
                 ("--densify", args.densify), ("--as", args.as_dtype), ("--force", args.force)) if value]
        if given:
            return _usage_error(args, f"{', '.join(given)} cannot be used with --replace")
        model = load(args.model)
        changes = weights.changed_weights(model, args.replace)
        save(weights.apply_changes(model, changes), args.output)
        changed = len(changes)
        print(f"wrote {args.output}: {changed} tensor{_s(changed)} replaced from {args.replace}")
        return 0
    model = load(args.model)
    if args.only:
        # a pattern selecting nothing is an error (as grep), before any folder is written
        all_weights = list(weights.iter_weights(model, densify=args.densify))
        if not list(weights.iter_weights(model, only=args.only, densify=args.densify)):
            names = {w.name for w in all_weights if w.name} | {w.id for w in all_weights}
            given = [p for p in args.only]
            hints = "".join(_did_you_mean(p, names) for p in given if not any(c in p for c in "*?["))
            return _fail(args, f"{args.model}: no tensor name matches --only "
                               f"{', '.join(repr(p) for p in given)} ({len(all_weights)} tensors){hints}")
    with _progress_bar(f"writing {args.output}") as progress:
        manifest = weights.export_weights(
            model, args.output, format=args.format or "npy", only=args.only, densify=args.densify,
            as_dtype=args.as_dtype, force=args.force, model_name=os.path.basename(args.model),
            progress=progress)
    print(f"wrote {args.output}: {weights.summarize(manifest)}")
    return 0


class _progress_bar:
    """A rich progress bar on stderr, only when stderr is a terminal and the work is large
    (at least 256 MiB); otherwise a no-op callback."""

    MIN_BYTES = 256 << 20

    def __init__(self, description: str) -> None:
        self.description = description
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        isatty = getattr(sys.stderr, "isatty", None)
        if not (isatty and isatty()):
            return None
        return self._update

    def _update(self, done: int, total: int) -> None:
        if self._bar is None:
            if total < self.MIN_BYTES:
                return
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

            self._bar = Progress("{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                 console=Console(file=sys.stderr), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=total)
        self._bar.update(self._task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _cmd_convert(args: argparse.Namespace) -> int:
    if not args.external_data:
        given = [flag for flag, value in (("--location", args.location), ("--threshold", args.threshold),
                 ("--per-tensor", args.per_tensor)) if value not in (None, False)]
        if given:
            return _usage_error(args, f"{', '.join(given)} only go with --external-data")
    external: bool | None = True if args.external_data else (False if args.embed else None)
    model = load(args.model)
    save(model, args.output, external_data=external, location=args.location,
         size_threshold=1024 if args.threshold is None else args.threshold, per_tensor=args.per_tensor)
    print(f"wrote {args.output}")
    return 0
