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
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from onnxlite import summary
from onnxlite._version import __version__
from onnxlite.errors import OnnxliteError
from onnxlite.model import load

if TYPE_CHECKING:
    from rich.console import Console
    from rich.highlighter import RegexHighlighter


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
    info.add_argument("model", metavar="MODEL", help="the .onnx file")
    info.add_argument("--json", action="store_true", help="print the facts as JSON")
    info.set_defaults(run=_cmd_info)

    dump = commands.add_parser(
        "dump", parents=[common], help="print the model in ONNX textual syntax",
        description="Print the model in the ONNX textual syntax (what onnx.printer writes and "
                    "onnx.parser reads). Large tensors are summarized unless --full.")
    dump.add_argument("model", metavar="MODEL", help="the .onnx file")
    dump.add_argument("--full", action="store_true", help="print every tensor value (parseable output)")
    dump.add_argument("--stats", action="store_true",
                      help="add min/max/mean statistics to summarized tensors")
    dump.add_argument("--preview", metavar="N", type=_non_negative, default=8,
                      help="values shown of a summarized tensor (default: 8)")
    dump.add_argument("--op", metavar="TYPE", action="append", dest="op_types",
                      help="show only nodes of this op type (repeatable)")
    dump.add_argument("--name", metavar="PATTERN", dest="name_pattern",
                      help="show only nodes whose name or an output name matches this glob")
    dump.add_argument("--depth", metavar="N", type=_non_negative, dest="max_depth",
                      help="print subgraph bodies down to this nesting level only")
    dump.add_argument("--header", action="store_true", dest="header_only",
                      help="print only the model header and the graph signature")
    dump.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    dump.set_defaults(run=_cmd_dump)
    return parser


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


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
    print(f"onnxlite: error: {' '.join(message.split())}", file=sys.stderr)
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
    model = load(args.model)
    facts = summary.summarize(model, path=args.model)
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
    """The rendered summary as plain text, without the padding rich leaves at line ends."""
    with console.capture() as capture:
        render_info(facts, console)
    return "".join(line.rstrip() + "\n" for line in capture.get().splitlines())


def render_info(facts: summary.Summary, console: Console) -> None:
    """Print the summary with rich. Deterministic for a given console width (80 columns when
    stdout is not a terminal, unless COLUMNS says otherwise)."""
    from rich.theme import Theme

    with console.use_theme(Theme(INFO_STYLES)):
        _render_info(facts, console)


def _render_info(facts: summary.Summary, console: Console) -> None:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    def section(title: str) -> None:
        console.print()
        console.print(Text(title, style="info.section"))

    def emit(renderable: Any) -> None:
        console.print(Padding(renderable, (0, 0, 0, 2)))

    def grid() -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="info.key", no_wrap=True)
        table.add_column()
        return table

    def listing(*headers: str, right: Sequence[int] = ()) -> Table:
        table = Table(box=None, padding=(0, 2, 0, 0), pad_edge=False, show_edge=False,
                      header_style="info.key")
        for i, h in enumerate(headers):
            table.add_column(h, justify="right" if i in right else "left")
        return table

    title = Text(os.path.basename(facts.path) if facts.path else "<model>", style="info.title")
    if facts.file_size is not None:
        title.append(f"  {_size(facts.file_size)}")
        if facts.external_files:
            on_disk = facts.file_size + sum(f.size or 0 for f in facts.external_files)
            title.append(f", {_size(on_disk)} with external data")
    console.print(title)
    if facts.doc_string:
        console.print(Text(_first_line(facts.doc_string), style="italic"))

    section("Model")
    about = grid()
    about.add_row("IR version", f"{facts.ir_version}")
    about.add_row("Opsets", ", ".join(f"{_domain(d)} {v}" for d, v in facts.opset_import.items()) or "none")
    producer = " ".join(x for x in (facts.producer_name, facts.producer_version) if x)
    if producer:
        about.add_row("Producer", producer)
    if facts.domain:
        about.add_row("Domain", facts.domain)
    if facts.model_version:
        about.add_row("Version", str(facts.model_version))
    graph = f"{facts.graph_name or '(unnamed)'}: {facts.node_count:,} node{_s(facts.node_count)}"
    if facts.subgraph_count:
        graph += (f", {facts.subgraph_count:,} subgraph{_s(facts.subgraph_count)} "
                  f"(nesting depth {facts.max_subgraph_depth})")
    about.add_row("Graph", graph)
    for key, value in facts.metadata.items():
        about.add_row("Metadata", Text(f"{key}: {_first_line(value)}"))
    emit(about)

    for label, values in (("Inputs", facts.inputs), ("Outputs", facts.outputs)):
        shown = [v for v in values if not v.initializer]
        defaults = len(values) - len(shown)
        extra = f", and {defaults} with an initializer as default" if defaults else ""
        section(f"{label} ({len(shown)}{extra})")
        if shown:
            table = listing("name", "type", "shape")
            table.show_header = False
            for v in shown:
                table.add_row(Text(v.name, style="info.name"), Text(_dtype_text(v), style="info.dtype"),
                              Text(_shape_text(v), style="info.shape"))
            emit(table)

    total = facts.total_node_count
    where = []
    if facts.subgraph_count:
        where.append("subgraphs")
    if facts.functions:
        where.append("functions")
    scope = f" (main graph, {' and '.join(where)})" if where else ""
    section(f"Operators: {total:,} node{_s(total)}{scope}, {len(facts.op_counts)} op "
            f"type{_s(len(facts.op_counts))}")
    for domain, counts in facts.op_counts_by_domain.items():
        if len(facts.op_counts_by_domain) > 1:
            n = sum(counts.values())
            emit(Text(f"{_domain(domain)}: {n:,} node{_s(n)}", style="info.key"))
        emit(_op_columns(list(counts.items()), console.width - 2))
    if not facts.op_counts:
        emit(Text("(no nodes)", style="info.key"))

    count = facts.parameter_count
    short = f" ({_count(count)})" if count >= 1000 else ""
    tensors = facts.parameter_tensors
    size = _size(facts.parameter_bytes)
    section(f"Parameters: {count:,}{short} in {tensors:,} tensor{_s(tensors)}, {size}")
    if facts.parameters_by_dtype:
        table = listing("dtype", "tensors", "elements", "bytes", right=(1, 2, 3))
        for dtype, group in facts.parameters_by_dtype.items():
            table.add_row(Text(dtype or "?", style="info.dtype"), f"{group.tensors:,}", f"{group.elements:,}",
                          _size(group.bytes))
        emit(table)
        origin = grid()
        sources = [f"{facts.initializer_count:,} initializer{_s(facts.initializer_count)}"]
        if facts.sparse_initializer_count:
            sources.append(f"{facts.sparse_initializer_count:,} sparse initializer"
                           f"{_s(facts.sparse_initializer_count)}")
        text = ", ".join(sources) + " in the main graph"
        if facts.constant_count:
            text += f"; {facts.constant_count:,} Constant node{_s(facts.constant_count)}"
        if where:
            text += f"; totals include {' and '.join(where)}"
        origin.add_row("From", text)
        stored = f"{_size(facts.embedded_bytes)} in the model file"
        if facts.external_bytes:
            stored += f", {_size(facts.external_bytes)} in external data"
        origin.add_row("Stored", stored)
        emit(origin)

    if facts.external_files:
        section(f"External data ({len(facts.external_files)} file{_s(len(facts.external_files))})")
        table = listing("location", "tensors", "referenced", "on disk", "status", right=(1, 2, 3))
        for f in facts.external_files:
            if f.problem is None:
                status = Text("ok", style="info.ok")
            else:
                status = Text("MISSING" if f.problem == "missing" else f.problem, style="info.bad")
            table.add_row(Text(f.location, style="info.name"), f"{f.tensors:,}", _size(f.bytes),
                          "-" if f.size is None else _size(f.size), status)
        emit(table)

    if facts.functions:
        section(f"Functions ({len(facts.functions)})")
        table = listing("function", "signature", "nodes", "calls", right=(2, 3))
        for fn in facts.functions:
            name = f"{fn.domain}.{fn.name}" if fn.domain else fn.name
            if fn.overload:
                name += f":{fn.overload}"
            sig = f"({', '.join(fn.inputs)}) -> ({', '.join(fn.outputs)})"
            if fn.attributes:
                sig = f"<{', '.join(fn.attributes)}> " + sig
            table.add_row(Text(name, style="info.name"), sig, f"{fn.node_count:,}", f"{fn.calls:,}")
        emit(table)

    if facts.notes:
        section("Notes")
        notes = Table.grid(padding=(0, 1))
        notes.add_column(no_wrap=True)
        notes.add_column()
        for note in facts.notes:
            warning = note.level == "warning"
            mark = Text("warning" if warning else "note", style="info.warning" if warning else "info.note")
            notes.add_row(mark, note.message)
        emit(notes)


def _op_columns(items: list[tuple[str, int]], width: int) -> Any:
    """Op counts laid out row-major in as many 'op  count' columns as fit the width."""
    from rich.text import Text

    name_w = max(len(op) for op, _ in items)
    count_w = max(len(f"{n:,}") for _, n in items)
    gap = 4
    per_row = max(1, min(len(items), (width + gap) // (name_w + 2 + count_w + gap)))
    out = Text(no_wrap=per_row > 1, overflow="fold")
    for start in range(0, len(items), per_row):
        if start:
            out.append("\n")
        for j, (op, n) in enumerate(items[start:start + per_row]):
            if j:
                out.append(" " * gap)
            out.append(op.ljust(name_w + 2))
            out.append(f"{n:,}".rjust(count_w), style="info.number")
    return out


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
    return domain or "ai.onnx"


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


def _cmd_dump(args: argparse.Namespace) -> int:
    from onnxlite import text  # numpy: only the printer needs it

    model = load(args.model)
    out = text.format_model(
        model, full=args.full, preview=args.preview, stats=args.stats, op_types=args.op_types,
        name_pattern=args.name_pattern, max_depth=args.max_depth, header_only=args.header_only,
    )
    if not out.endswith("\n"):
        out += "\n"
    if not _want_color(args):
        sys.stdout.write(out)
        return 0
    from rich.text import Text

    console = _console(True)
    highlighted = Text(out, end="")
    onnx_highlighter().highlight(highlighted)
    console.print(highlighted, soft_wrap=True, end="")
    return 0


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
