"""The ONNX textual syntax: the printer behind ``onnxlite dump``.

The output is the syntax ``onnx.printer`` writes and ``onnx.parser.parse_model`` reads, plus
what onnx.printer drops. ::

    print(onnxlite.text.format_model(model))               # large tensors summarized
    text = onnxlite.text.format_model(model, full=True)    # every value, parseable

Conventions (the contract with readers of this text, including ``onnxlite.parser``):

* ``#`` starts a comment to the end of the line; the upstream parser skips comments wherever
  it skips white space. Fields the syntax has no place for are printed as comments:

  - first lines of a graph body: ``# graph doc_string: "..."``, ``# graph metadata_props:
    ["k": "v"]``, ``# input x: doc_string: "..."`` (also ``metadata_props: [...]``,
    ``denotation "..."``, ``dim 0 denotation "..."``, for ``input``/``output``/``value_info``),
    ``# sparse_initializer: <sparse literal>``, ``# quantization_annotation x: ["k": "v"]``;
    a function body starts with ``# function metadata_props: [...]`` and its value notes;
  - lines just above a node: ``# doc_string: "..."``, ``# metadata_props: [...]``,
    ``# device_configuration "id": pipeline_stage 1; sharding ...``, ``# attribute a
    doc_string: "..."``, ``# value: <tensor notes>`` for a tensor attribute;
  - the end of an initializer's line: its notes, ``; ``-separated (``40 values, 160 bytes,
    raw_data inline``, ``stats: ...``, ``doc_string: "..."``);
  - below the model header ``# configuration[0]: ...``; at the end ``# training_info[0]:``
    and the training graphs as a commented-out block.

  Unless ``full``, a doc string or metadata value longer than 80 characters is clipped in its
  comment as ``"first 80 characters..." (N chars)`` (exporters put stack traces there).
  A tensor or attribute that cannot be decoded gives ``# error: ...`` (the tensor prints
  ``{...}``; an attribute of no known type, or whose value fails, is left out).
* Tensors with more than ``SMALL_TENSOR`` elements (or string tensors over
  ``SMALL_STRING_BYTES`` bytes) are summarized unless ``full``: ``{v0, v1, ..., ...}`` with the
  first ``preview`` values read through `Tensor.head`, and a comment with the element count,
  the byte size and where the data lives. The ``...`` makes a parser fail loudly rather than
  build a wrong tensor. Small tensors always print in full.
* Numbers are values, never bit patterns: float16, bfloat16, float8*, float4, float6 are
  decoded; int4/uint4/int2/uint2 are unpacked one value per element; bool is 0/1 (a stored
  byte other than 0/1 prints as that byte); complex tensors print interleaved
  ``real, imag`` pairs (the order of ``float_data``/``double_data``, which is what the
  upstream parser reads). Each float is the shortest decimal that parses back to the same
  bits for its dtype (parse as a double, round to nearest-even into the dtype); NaN prints as
  ``nan``/``-nan`` and infinities as ``inf``/``-inf``, which the upstream parser accepts.
  A NaN payload other than the one ``float("nan")`` rounds to is not expressible and is
  flagged in a comment.
* Strings are double-quoted. ``\\`` and ``"`` are escaped with a backslash (the only escapes
  the upstream parser knows: it reads ``\\c`` as ``c``). Newline and tab are written as they
  are inside literals (so the upstream parser reads them back) and as ``\\n``/``\\t`` inside
  comments. Other control and format characters are written ``\\r``, ``\\uXXXX`` or
  ``\\UXXXXXXXX``, and bytes that are not UTF-8 as ``\\xNN``: the upstream parser cannot
  express those (it takes text, and would read ``\\x80`` as ``x80``), onnxlite's parser can.
* Identifiers that are not ``[A-Za-z_][A-Za-z0-9_]*``, or that are type keywords (``float``,
  ``seq``...), are quoted.
* With ``full``, float16 / bfloat16 / float8 / float4 / float6 and 4/2-bit integer tensors
  print in the upstream parser's form: bit patterns (packed bytes for float4 and 4/2-bit
  integers), the decoded values in the comment (``# bit patterns of 1.0, 2.5``). onnxlite's
  parser reads a literal of only unsigned integers of these types that way.
* Superset syntax (onnxlite's parser reads it, the upstream one cannot): decoded float16 /
  bfloat16 / float8 / float4 / float6 and unpacked 4/2-bit literals (what a dump without
  ``full`` prints for small tensors), sparse tensors ``sparse_tensor(float[4,4]) {values = float[2]
  {1.0, 2.0}, indices = int64[2] {1, 7}}``, quoted graph names and quoted tensor names in
  attributes, escapes other than ``\\\\`` and ``\\"``. Lists of tensors/graphs/types follow
  the grammar; the upstream parser accepts them but drops the values. The upstream parser
  also cannot read a tensor attribute whose tensor name needs quotes, nor a graph attribute
  whose graph name needs quotes.

Filters for big graphs select nodes at every depth (main graph, subgraphs, functions): a node
is shown when its op type is in ``op_types`` and its name or one of its output names matches
``name_pattern``, a case-sensitive shell-style glob (``fnmatch``: ``*``, ``?``, ``[abc]``). A node
holding subgraphs is kept (with its bodies filtered) when anything inside it matches. Hidden
runs of nodes become ``# ... N nodes not shown``; with a filter, only the initializers and
value_info the shown nodes use are listed. ``max_depth`` counts subgraph levels (0: the main
graph's bodies only; deeper bodies print their signature and ``# ... N nodes``).

Output is deterministic byte for byte; subgraphs of any depth are printed with an explicit
stack, never by Python recursion.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from onnxlite.errors import ModelFormatError, OnnxliteError
from onnxlite.model import (
    Attribute,
    AttributeType,
    Function,
    Graph,
    Model,
    SparseTensor,
    Tensor,
    free_reads,
    function_path,
    graph_attributes,
    graph_path,
    iter_nodes,
    node_labels,
)
from onnxlite.text._deferred import typed_in_parallel
from onnxlite.text._parallel import _PARALLEL_NODES, _Child, _drive
from onnxlite.text._types import TypeNotes, declared_types, inferred_types
from onnxlite.text._values import (
    _IDENTIFIER,
    _RESERVED,
    SMALL_STRING_BYTES,
    SMALL_TENSOR,
    _as_text,
    _comment_value,
    _dotted,
    _dtype_name,
    _float32,
    _name,
    _Names,
    _one_line,
    _Ops,
    _Options,
    _quote,
    _string_map,
    _tensor_literal,
    _tensor_type,
)

_INDENT = "   "
_SIMPLE_ATTRIBUTES = frozenset([AttributeType.FLOAT, AttributeType.INT, AttributeType.STRING,
                                AttributeType.FLOATS, AttributeType.INTS, AttributeType.STRINGS])
_NO_NOTES: tuple[str, ...] = ()
_TYPED_KEYWORDS = {kind: kind.name.lower() for kind in AttributeType if kind}

__all__ = ["SMALL_STRING_BYTES", "SMALL_TENSOR", "format_graph", "format_model"]

# --- public API ---------------------------------------------------------------------------------


def format_model(
    model: Model,
    *,
    full: bool = False,
    preview: int = 8,
    stats: bool = False,
    op_types: Collection[str] | None = None,
    name_pattern: str | None = None,
    max_depth: int | None = None,
    header_only: bool = False,
    jobs: int = 1,
    strict: bool = False,
    types: str | None = None,
) -> str:
    """The model in ONNX textual syntax: header, main graph, model-local functions.

    ``full=True`` prints every tensor value, so ``onnx.parser.parse_model`` reads the text
    back into the same graph (see the module docstring for what the upstream syntax cannot
    express); add ``strict=True`` to get the error (an OnnxliteError) of a tensor that cannot
    be read instead of a ``{...}  # error: ...`` literal. ``types="inferred"`` ends each node's
    line with its output types as a comment (``  # float[N,8,30,30]``, from `onnxlite.infer`),
    ``types="declared"`` with those value_info and graph outputs declare. ``jobs=2`` lets a
    forked process print the second half of a very long node list (the CLI does; the text is
    the same). Example::

        print(format_model(onnxlite.load("model.onnx"), op_types={"Conv"}, max_depth=1))
    """
    options = _Options.make(full, preview, stats, op_types, name_pattern, max_depth, header_only, jobs,
                            strict)
    printer = _Printer(options, model)
    if types == "inferred" and jobs > 1 and not options.filtering and not header_only and \
            len(model.proto.graph.node) >= _PARALLEL_NODES:
        def print_text(source: TypeNotes) -> str:
            child = _Printer(dataclasses.replace(options, jobs=1), model)
            child.type_source = source
            return child.model(model)

        text = typed_in_parallel(print_text, model, lambda: inferred_types(model, printer.type))
        if text is not None:
            return text
    printer.type_source = _type_source(types, model, printer)
    return printer.model(model)


def _type_source(types: str | None, model: Model | None, printer: _Printer) -> TypeNotes | None:
    if types is None:
        return None
    if types == "declared":
        return declared_types(printer.type)
    if types == "inferred":
        if model is None:
            raise ValueError("types='inferred' needs the graph's model")
        return inferred_types(model, printer.type)
    raise ValueError(f"types must be None, 'declared' or 'inferred', not {types!r}")


def format_graph(
    graph: Graph,
    *,
    full: bool = False,
    preview: int = 8,
    stats: bool = False,
    op_types: Collection[str] | None = None,
    name_pattern: str | None = None,
    max_depth: int | None = None,
    header_only: bool = False,
    strict: bool = False,
    types: str | None = None,
) -> str:
    """One graph (the main graph or a subgraph) in ONNX textual syntax, options as for
    `format_model`. Example: ``print(format_graph(model.graph, header_only=True))``."""
    printer = _Printer(_Options.make(full, preview, stats, op_types, name_pattern, max_depth, header_only,
                                     strict=strict), graph.model, graph.store)
    printer.type_source = _type_source(types, graph.model, printer)
    out: list[str] = []
    _drive(printer.graph(graph.proto, out, 0, 0, graph.where, graph_path(graph)))
    out.append("\n")
    return "".join(out)


# --- the printer ----------------------------------------------------------------------------------


class _Printer:
    """Formats one model or graph; keeps the identifier cache (names repeat a lot)."""

    def __init__(self, opts: _Options, model: Model | None, store: Any = None) -> None:
        self.opts = opts
        self.model_view = model
        self.store = store if store is not None else model.store if model is not None else None
        self._ids = _Names()
        self._ops = _Ops()
        self._types: dict[bytes, tuple[str, list[str]]] = {}
        self.type_source: TypeNotes | None = None

    def note_for(self, proto: Any, path: str) -> Callable[[Sequence[str]], str] | None:
        """A body's node type comments, from the outputs' names (None: no comments)."""
        return self.type_source.note_for(proto, path) if self.type_source is not None else None

    # -- names and types

    def clip(self, value: Any) -> str:
        """A doc string or metadata value for a comment (clipped unless --full)."""
        return _comment_value(value, self.opts.comment_limit)

    def smap(self, entries: Any) -> str:
        """Key/value entries for a comment, values clipped unless --full."""
        return _string_map(entries, self.opts.comment_limit)

    def type(self, proto: Any) -> str:
        return self.type_notes(proto)[0]

    def type_notes(self, proto: Any) -> tuple[str, list[str]]:
        """(A TypeProto in the syntax, notes on its denotations). Cached: a graph repeats a few
        types over thousands of values."""
        key = proto.SerializeToString()
        found = self._types.get(key)
        if found is None:
            found = self._types[key] = self._type(proto)
        return found

    def _type(self, proto: Any) -> tuple[str, list[str]]:
        # Nested seq/optional/map types are unrolled in a loop, not recursed.
        prefix: list[str] = []
        suffix: list[str] = []
        notes: list[str] = []
        while True:
            if proto.denotation:
                notes.append(f"denotation {_quote(proto.denotation, comment=True)}")
            kind = proto.WhichOneof("value")
            if kind == "tensor_type" or kind == "sparse_tensor_type":
                inner = getattr(proto, kind)
                dims = self.shape(inner.shape, notes) if inner.HasField("shape") else "[]"
                text = _dtype_name(inner.elem_type) + dims
                if kind == "sparse_tensor_type":
                    text = f"sparse_tensor({text})"
                break
            if kind == "sequence_type" or kind == "optional_type":
                prefix.append("seq(" if kind == "sequence_type" else "optional(")
                suffix.append(")")
                proto = getattr(proto, kind).elem_type
            elif kind == "map_type":
                prefix.append(f"map({_dtype_name(proto.map_type.key_type)}, ")
                suffix.append(")")
                proto = proto.map_type.value_type
            elif kind == "opaque_type":
                domain, name = proto.opaque_type.domain, proto.opaque_type.name
                name = _dotted(name) if name else ""
                text = f"opaque({_dotted(domain)},{name})" if domain else f"opaque({name})"
                break
            else:
                text = "?"
                notes.append("a nested type is empty")
                break
        return "".join(prefix) + text + "".join(reversed(suffix)), notes

    def shape(self, shape: Any, notes: list[str]) -> str:
        if not len(shape.dim):
            return ""
        dims = []
        for i, d in enumerate(shape.dim):
            which = d.WhichOneof("value")
            if which == "dim_value":
                dims.append(str(d.dim_value))
            else:
                dims.append(self._ids[d.dim_param] if which else "?")
            if d.denotation:
                notes.append(f"dim {i} denotation {_quote(d.denotation, comment=True)}")
        return "[" + ",".join(dims) + "]"

    def value_info(self, vi: Any, role: str = "", notes: list[str] | None = None) -> str:
        """``type name`` of a ValueInfoProto; what the syntax cannot hold goes to ``notes``."""
        name = self._ids[vi.name]
        text = name
        extra: list[str] = []
        if vi.HasField("type"):
            if vi.type.WhichOneof("value") is None:
                extra = ["type is set but empty"]
            else:
                type_text, extra = self.type_notes(vi.type)
                text = f"{type_text} {name}"
        if notes is not None:
            if vi.doc_string:
                notes.append(f"{role} {name}: doc_string: {self.clip(vi.doc_string)}")
            if len(vi.metadata_props):
                notes.append(f"{role} {name}: metadata_props: {self.smap(vi.metadata_props)}")
            notes += [f"{role} {name}: {note}" for note in extra]
        return text

    # -- model

    def model(self, model: Model) -> str:
        p = model.proto
        out: list[str] = ["<\n", f"{_INDENT}ir_version: {p.ir_version}", ",\n",
                          f"{_INDENT}opset_import: [" + ", ".join(f"{_quote(o.domain)} : {o.version}"
                                                                for o in p.opset_import) + "]"]
        for field in ("producer_name", "producer_version", "domain"):
            if p.HasField(field):
                out += [",\n", f"{_INDENT}{field}: {_quote(getattr(p, field))}"]
        if p.HasField("model_version"):
            out += [",\n", f"{_INDENT}model_version: {p.model_version}"]
        clipped: list[str] = []  # comments on values a dump without --full shortens
        if p.HasField("doc_string"):
            text, more = self.header_string(p.doc_string)
            out += [",\n", f"{_INDENT}doc_string: {text}"]
            clipped += more
        if len(p.metadata_props):
            entries = []
            for e in p.metadata_props:
                text, more = self.header_string(e.value)
                entries.append(f"{_quote(e.key)}: {text}")
                clipped += [f"{_quote(e.key, comment=True)}: {m}" for m in more]
            out += [",\n", f"{_INDENT}metadata_props: [" + ", ".join(entries) + "]"]
        out.append("\n>\n")
        if clipped:
            out.append(f"# header values clipped (--full shows them whole): {'; '.join(clipped)}\n")
        for i, conf in enumerate(model.configuration):
            devices = ", ".join(_quote(d, comment=True) for d in conf.device)
            out.append(f"# configuration[{i}]: name {_quote(conf.name, comment=True)}, "
                       f"num_devices {conf.num_devices}, device [{devices}]\n")
        _drive(self.graph(p.graph, out, 0, 0, "graph", ""))
        out.append("\n")
        if self.opts.header_only:
            if len(p.functions) or len(p.training_info):
                out.append(f"# ... {len(p.functions)} functions, "
                           f"{len(p.training_info)} training_info not shown\n")
            return "".join(out)
        for fn in model.functions:
            out.append("\n")
            _drive(self.function(fn, out))
            out.append("\n")
        for i, info in enumerate(model.training_info):
            out.append("\n")
            out += self.training_info(i, info)
        return "".join(out)

    def header_string(self, value: Any) -> tuple[str, list[str]]:
        """A model header string literal; unless --full, one over ``COMMENT_CHARS`` characters
        is clipped to them and to its first line (a character dictionary in metadata can be
        18,000 lines), with the note saying so."""
        limit = self.opts.comment_limit
        text = value if isinstance(value, str) else bytes(value).decode("utf-8", "surrogateescape")
        first = text.split("\n", 1)[0]
        if limit is None or len(text) <= limit:
            return _quote(value), []
        return _quote(first[:limit] + "..."), [f"{len(text)} chars, {text.count(chr(10)) + 1} lines"]

    def training_info(self, index: int, info: Any) -> list[str]:
        """TrainingInfoProto has no syntax: printed as a block of comment lines."""
        block: list[str] = []
        for label in ("initialization", "algorithm"):
            graph = getattr(info, label)
            if graph is not None:
                block.append(f"{label}: ")
                _drive(self.graph(graph.proto, block, 0, 0, graph.where, f"training[{index}].{label}"))
                block.append("\n")
        for label in ("initialization_binding", "update_binding"):
            entries = getattr(info.proto, label)
            if len(entries):
                block.append(f"{label}: {_string_map(entries)}\n")
        lines = "".join(block).split("\n")
        if lines and not lines[-1]:
            lines.pop()
        # empty lines stay (as "#    "): they can be part of a multi-line string
        return [f"# training_info[{index}]:\n"] + [f"#    {line}\n" for line in lines]

    # -- functions

    def function(self, fn: Function, out: list[str]) -> Iterator[Any]:
        p = fn.proto
        out += ["<\n", f"{_INDENT}domain: {_quote(p.domain)},\n"]
        if p.overload:
            out.append(f"{_INDENT}overload: {_quote(p.overload)},\n")
        if p.HasField("doc_string"):
            out.append(f"{_INDENT}doc_string: {_quote(p.doc_string)},\n")
        out.append(f"{_INDENT}opset_import: [" + ", ".join(f"{_quote(o.domain)} : {o.version}"
                                                          for o in p.opset_import) + "]\n>\n")
        attrs = [self._ids[a] for a in p.attribute]
        notes: list[str] = []
        for a in p.attribute_proto:
            text, attr_notes = self.attribute(a, fn, f"{fn.where}.attribute_proto")
            if text is not None:
                attrs.append(text)
            notes += attr_notes
        ids = self._ids
        out.append(ids[p.name] + (" <" + ", ".join(attrs) + ">" if attrs else ""))
        out.append(f" ({', '.join(ids[x] for x in p.input)}) => ({', '.join(ids[x] for x in p.output)})")
        value_notes: list[str] = []
        if len(p.value_info):
            out.append("\n" + _INDENT + "<" + ", ".join(self.value_info(v, "value_info", value_notes)
                                                      for v in p.value_info) + ">")
        out.append("\n{\n")
        if len(p.metadata_props):
            out.append(f"{_INDENT}# function metadata_props: {self.smap(p.metadata_props)}\n")
        for note in notes:
            out.append(f"{_INDENT}# {note}\n")
        out += [f"{_INDENT}# {n}\n" for n in value_notes]
        yield from self.nodes(p.node, fn, out, 1, 0, fn.where, function_path(p))
        out.append("}")

    # -- graphs

    def graph(self, p: Any, out: list[str], level: int, depth: int, where: str, path: str) -> Iterator[Any]:
        """Print graph ``p`` whose signature starts at the current position of ``out``;
        ``level`` is its indentation level, ``depth`` its subgraph depth, ``path`` its path by
        the naming rule."""
        opts = self.opts
        pad = _INDENT * level
        inner = pad + _INDENT
        notes: list[str] = []
        sig_in = [self.value_info(v, "input", notes) for v in p.input]
        sig_out = [self.value_info(v, "output", notes) for v in p.output]
        signature = f"({', '.join(sig_in)}) => ({', '.join(sig_out)})"
        if len(signature) > 100 and len(sig_in) + len(sig_out) > 2:
            sep = ",\n" + inner
            signature = (f"(\n{inner}" + sep.join(sig_in) + f"\n{pad}) => (\n{inner}"
                         + sep.join(sig_out) + f"\n{pad})") if sig_in else (
                f"() => (\n{inner}" + sep.join(sig_out) + f"\n{pad})")
        out.append(f"{self._ids[p.name]} {signature}")
        if opts.header_only:
            hidden = f"{len(p.node)} nodes, {len(p.initializer)} initializers"
            out.append(f" {{\n{inner}# ... {hidden} not shown\n{pad}}}")
            return
        if opts.max_depth is not None and depth > opts.max_depth:
            out.append(f" {{\n{inner}# ... {sum(1 for _ in iter_nodes(p))} nodes\n{pad}}}")
            return
        keep = self.kept_nodes(p.node) if opts.filtering else None
        declared = self.declarations(p, out, level, keep, where, notes)
        out.append(f"\n{pad}{{\n" if declared else " {\n")
        self.graph_notes(p, out, inner, where, notes)
        owner = Graph(p, None, self.model_view, where)
        yield from self.nodes(p.node, owner, out, level + 1, depth, where, path, keep)
        out.append(f"{pad}}}")

    def declarations(self, p: Any, out: list[str], level: int, keep: list[bool] | None, where: str,
                     notes: list[str]) -> bool:
        """The ``<initializers, value_info>`` list, one entry per line; False if empty."""
        if not len(p.initializer) and not len(p.value_info):
            return False
        used: set[str] | None = None
        if keep is not None:
            used = set()
            for node, kept in zip(p.node, keep, strict=True):
                if kept:
                    used.update(node.input)
                    used.update(node.output)
                    for _, _, sub in graph_attributes(node):
                        used.update(free_reads(sub))
        pad = _INDENT * (level + 1)
        entries: list[tuple[str, list[str]]] = []
        hidden = 0
        for i, t in enumerate(p.initializer):
            if used is not None and t.name not in used:
                hidden += 1
                continue
            tensor = Tensor(t, self.store, f"{where}.initializer[{i}]")
            literal, comments = _tensor_literal(tensor, self.opts)
            entries.append((f"{_tensor_type(t)} {self._ids[t.name]} = {literal}", comments))
        for v in p.value_info:
            if used is not None and v.name not in used:
                hidden += 1
                continue
            entries.append((self.value_info(v, "value_info", notes), []))
        out.append(f"\n{_INDENT * level}<")
        last = len(entries) - 1
        for i, (text, comments) in enumerate(entries):
            out.append(f"\n{pad}{text}{',' if i < last else ''}")
            if comments:
                out.append("  # " + "; ".join(comments))
        if hidden:
            out.append(f"\n{pad}# ... {hidden} initializers/value_info not shown")
        out.append(f"\n{_INDENT * level}>")
        return True

    def graph_notes(self, p: Any, out: list[str], pad: str, where: str, notes: list[str]) -> None:
        """Comment lines for what GraphProto carries beyond the syntax (``notes``: those of
        its values, gathered while printing them)."""
        if p.doc_string:
            out.append(f"{pad}# graph doc_string: {self.clip(p.doc_string)}\n")
        if len(p.metadata_props):
            out.append(f"{pad}# graph metadata_props: {self.smap(p.metadata_props)}\n")
        for note in notes:
            out.append(f"{pad}# {note}\n")
        for i, s in enumerate(p.sparse_initializer):
            text, more = self.sparse(SparseTensor(s, self.store, f"{where}.sparse_initializer[{i}]"))
            comment = "  # " + "; ".join(more) if more else ""
            out.append(f"{pad}# sparse_initializer: {text}{comment}\n")
        for a in p.quantization_annotation:
            out.append(f"{pad}# quantization_annotation {self._ids[a.tensor_name]}: "
                       f"{_string_map(a.quant_parameter_tensor_names)}\n")

    # -- nodes

    def kept_nodes(self, nodes: Any) -> list[bool]:
        return [self.node_matches(n) or bool(n.attribute) and self.inner_match(n) for n in nodes]

    def node_matches(self, n: Any) -> bool:
        opts = self.opts
        if opts.op_types is not None and n.op_type not in opts.op_types:
            return False
        match = opts.name_match
        if match is not None:
            return bool(match(_as_text(n.name))) or any(match(_as_text(o)) for o in n.output)
        return True

    def inner_match(self, node: Any) -> bool:
        """Whether a node inside ``node``'s subgraphs (at any depth) matches the filters."""
        return any(self.node_matches(n) for _, _, g in graph_attributes(node) for n in iter_nodes(g))

    def nodes(self, nodes: Any, owner: Graph | Function, out: list[str], level: int, depth: int,
              where: str, path: str, keep: list[bool] | None = None) -> Iterator[Any]:
        # The hot loop of a big dump: protobuf fields are read directly (a view per node
        # would cost more than the printing) and names go through the caching _Names map.
        if keep is None and self.opts.filtering:
            keep = self.kept_nodes(nodes)
        count = len(nodes)
        if keep is None and self.opts.jobs > 1 and count >= _PARALLEL_NODES:
            half = count // 2
            child = _Child.start(lambda part: _drive(
                self.node_range(nodes, owner, part, level, depth, where, path, None, half, count)))
            if child is not None:
                yield from self.node_range(nodes, owner, out, level, depth, where, path, None, 0, half)
                text = child.result()
                if text is not None:
                    out.append(text)
                    return
                yield from self.node_range(nodes, owner, out, level, depth, where, path, None, half, count)
                return
        yield from self.node_range(nodes, owner, out, level, depth, where, path, keep, 0, count)

    def node_range(self, nodes: Any, owner: Graph | Function, out: list[str], level: int, depth: int,
                   where: str, path: str, keep: list[bool] | None, start: int, stop: int) -> Iterator[Any]:
        """Print nodes[start:stop]; ``keep`` (indexed like ``nodes``) hides the others."""
        note_of = self.note_for(owner.proto, path)
        labels: list[str] | None = None  # node labels (naming rule), for the paths of subgraphs
        typed = ""  # the type comment ending the current node
        pad = _INDENT * level
        ids = self._ids
        get = ids.__getitem__
        ops = self._ops
        match = _IDENTIFIER.fullmatch
        reserved = _RESERVED
        hidden = 0
        for index in range(start, stop):
            n = nodes[index]
            if keep is not None:
                if not keep[index]:
                    hidden += 1
                    continue
                if hidden:
                    out.append(f"{pad}# ... {hidden} nodes not shown\n")
                    hidden = 0
            outs = n.output[:]  # slicing first is faster with upb
            outputs = get(outs[0]) if len(outs) == 1 else ", ".join(map(get, outs))
            ins = n.input[:]
            inputs = get(ins[0]) if len(ins) == 1 else ", ".join(map(get, ins))
            op = ops[n.domain, n.op_type, n.overload]
            name = n.name
            if name:
                # _name's fast path inlined: node names are unique, so caching would not pay
                if name.__class__ is not str:
                    label = _name(name)
                elif match(name) and name not in reserved:
                    label = name
                elif '"' not in name and "\\" not in name and name.isprintable():
                    label = '"' + name + '"'  # _name's quoting, inlined
                else:
                    label = _name(name)
                head = f"{pad}[{label}] {outputs} = {op}"
            elif n.HasField("name"):
                head = f"{pad}[{_name(name)}] {outputs} = {op}"
            else:
                head = f"{pad}{outputs} = {op}"
            if n.doc_string or n.metadata_props or n.device_configurations:
                self.node_notes(n, out, pad)
            if note_of is not None:
                typed = note_of(outs)
            attrs = n.attribute
            if not attrs:
                out.append(f"{head} ({inputs}){typed}\n")
                continue
            node_where = f"{where}.node[{index}]"
            if not any(_holds_graph(a) for a in attrs):
                texts = []
                for a in attrs:
                    text, notes = self.attribute(a, owner, node_where)
                    if text is not None:
                        texts.append(text)
                    for note in notes:
                        out.append(f"{pad}# {note}\n")
                listed = f" <{', '.join(texts)}>" if texts else ""
                out.append(f"{head}{listed} ({inputs}){typed}\n")
                continue
            # Attributes holding graphs: one attribute per line, bodies indented below.
            out.append(f"{head} ({inputs}) <")
            inner = pad + _INDENT
            sep = ""  # before the next attribute: "," once one is printed
            comment = ""  # ends the line of the attribute printed last, after its comma
            for a in attrs:
                if _holds_graph(a):
                    label = f"{node_where}.attribute '{a.name}'"
                    if labels is None:
                        labels = node_labels(owner.proto)
                    sub = f"{path}/{labels[index]}.{_as_text(a.name)}" if path else \
                        f"{labels[index]}.{_as_text(a.name)}"
                    if a.HasField("g"):
                        out.append(f"{sep}{comment}\n{inner}{ids[a.name]}: graph = ")
                        yield self.graph(a.g, out, level + 1, depth + 1, label + ".g", sub)
                    else:
                        out.append(f"{sep}{comment}\n{inner}{ids[a.name]}: graphs = [")
                        for j, g in enumerate(a.graphs):
                            if j:
                                out.append(", ")
                            yield self.graph(g, out, level + 1, depth + 1, f"{label}.graphs[{j}]",
                                             f"{sub}[{j}]")
                        out.append("]")
                    sep, comment = ",", ""
                    continue
                text, notes = self.attribute(a, owner, node_where)
                if text is not None:
                    out.append(f"{sep}{comment}\n{inner}{text}")
                    sep, comment = ",", ""
                if notes:
                    comment = (comment + ";" if comment else "  #") + " " + "; ".join(notes)
            out.append(f"{comment}\n{pad}>{typed}\n")
        if hidden:
            out.append(f"{pad}# ... {hidden} nodes not shown\n")

    def node_notes(self, n: Any, out: list[str], pad: str) -> None:
        if n.doc_string:
            out.append(f"{pad}# doc_string: {self.clip(n.doc_string)}\n")
        if len(n.metadata_props):
            out.append(f"{pad}# metadata_props: {self.smap(n.metadata_props)}\n")
        for c in n.device_configurations:
            specs = []
            for s in c.sharding_spec:
                spec = f"{_quote(s.tensor_name, comment=True)} device {list(s.device)}"
                groups = ", ".join(f"{e.key}: {list(e.value)}" for e in s.index_to_device_group_map)
                if groups:
                    spec += f" groups {{{groups}}}"
                dims = ", ".join(f"axis {d.axis}: [{', '.join(map(_sharding, d.simple_sharding))}]"
                                 for d in s.sharded_dim)
                if dims:
                    spec += f" sharded {{{dims}}}"
                specs.append(spec)
            sharding = "; sharding " + "; ".join(specs) if specs else ""
            out.append(f"{pad}# device_configuration {_quote(c.configuration_id, comment=True)}: "
                       f"pipeline_stage {c.pipeline_stage}{sharding}\n")

    # -- attributes

    def attribute(self, p: Any, owner: Graph | Function, where: str) -> tuple[str | None, Sequence[str]]:
        """(``name: type = value`` text, comment notes) for an attribute without a graph. The
        text is None for an attribute of no known type: the notes then say why."""
        code = p.type
        if code in _SIMPLE_ATTRIBUTES and not p.ref_attr_name and not p.doc_string:
            # The common case, without the view and the error handling it needs.
            name = self._ids[p.name]
            if code == AttributeType.INT:
                return f"{name}: int = {p.i}", _NO_NOTES
            if code == AttributeType.INTS:
                return f"{name}: ints = [{', '.join(map(str, p.ints))}]", _NO_NOTES
            if code == AttributeType.FLOAT:
                return f"{name}: float = {_float32(p.f)}", _NO_NOTES
            if code == AttributeType.FLOATS:
                return f"{name}: floats = [{', '.join(map(_float32, p.floats))}]", _NO_NOTES
            if code == AttributeType.STRING:
                return f"{name}: string = {_quote(p.s)}", _NO_NOTES
            return f"{name}: strings = [{', '.join(map(_quote, p.strings))}]", _NO_NOTES
        name = self._ids[p.name]
        notes: list[str] = []
        if p.doc_string:
            notes.append(f"attribute {name} doc_string: {self.clip(p.doc_string)}")
        attr = None
        if not code:  # old files leave the type unset: the view infers it from the value
            attr = Attribute(p, owner, where)
            code = AttributeType.of(p)
        keyword = _TYPED_KEYWORDS.get(code)
        if p.ref_attr_name:
            typed = f"{name}: {keyword}" if keyword else name
            return f"{typed} = @{self._ids[p.ref_attr_name]}", notes
        if keyword is None:
            notes.append(f"error: attribute {name} has no value of a known type; left out")
            return None, notes
        try:
            value = self.attribute_value(p, attr or Attribute(p, owner, where), code, name, notes)
        except OnnxliteError as e:
            notes.append(f"error: attribute {name}: {_one_line(str(e))}; left out")
            return None, notes
        return f"{name}: {keyword} = {value}", notes

    def attribute_value(self, p: Any, attr: Attribute, code: int, name: str, notes: list[str]) -> str:
        if code == AttributeType.INT:
            return str(p.i)
        if code == AttributeType.FLOAT:
            return _float32(p.f)
        if code == AttributeType.STRING:
            return _quote(p.s)
        if code == AttributeType.INTS:
            return "[" + ", ".join(map(str, p.ints)) + "]"
        if code == AttributeType.FLOATS:
            return "[" + ", ".join(map(_float32, p.floats)) + "]"
        if code == AttributeType.STRINGS:
            return "[" + ", ".join(_quote(s) for s in p.strings) + "]"
        if code == AttributeType.TYPE_PROTO:
            return self.type(p.tp)
        if code == AttributeType.TYPE_PROTOS:
            return "[" + ", ".join(self.type(t) for t in p.type_protos) + "]"
        if code == AttributeType.TENSOR:
            return self.tensor_constant(attr.value, name, notes)
        if code == AttributeType.TENSORS:
            return "[" + ", ".join(self.tensor_constant(t, f"{name}[{i}]", notes)
                                   for i, t in enumerate(attr.value)) + "]"
        if code == AttributeType.SPARSE_TENSOR:
            text, more = self.sparse(attr.value)
            notes += [f"{name}: {n}" for n in more]
            return text
        if code == AttributeType.SPARSE_TENSORS:
            texts = []
            for i, s in enumerate(attr.value):
                text, more = self.sparse(s)
                texts.append(text)
                notes += [f"{name}[{i}]: {n}" for n in more]
            return "[" + ", ".join(texts) + "]"
        if code == AttributeType.GRAPHS and not len(p.graphs):
            return "[]"
        # A graph type without a graph (graphs themselves are printed by `nodes`).
        raise ModelFormatError(f"{AttributeType.name_of(code)} attribute without a value")

    def tensor_constant(self, tensor: Tensor, label: str, notes: list[str]) -> str:
        """``float[2] name {1.0, 2.0}`` as an attribute value."""
        literal, more = _tensor_literal(tensor, self.opts)
        notes += [f"{label}: {n}" for n in more]
        name = tensor.proto.name
        typed = _tensor_type(tensor.proto)
        return f"{typed} {self._ids[name]} {literal}" if name else f"{typed} {literal}"

    def sparse(self, sparse: SparseTensor) -> tuple[str, list[str]]:
        p = sparse.proto
        values, v_notes = _tensor_literal(sparse.values, self.opts)
        indices, i_notes = _tensor_literal(sparse.indices, self.opts)
        dense = f"{_dtype_name(p.values.data_type)}[{','.join(map(str, p.dims))}]"
        name = f" {self._ids[p.values.name]}" if p.values.name else ""
        i_name = f" {self._ids[p.indices.name]}" if p.indices.name else ""
        text = (f"sparse_tensor({dense}) {{values = {_tensor_type(p.values)}{name} {values}, "
                f"indices = {_tensor_type(p.indices)}{i_name} {indices}}}")
        return text, [f"values: {n}" for n in v_notes] + [f"indices: {n}" for n in i_notes]


def _sharding(dim: Any) -> str:
    which = dim.WhichOneof("dim")
    size = dim.dim_value if which == "dim_value" else _quote(dim.dim_param, comment=True) if which else "?"
    return f"{size} / {dim.num_shards}"


def _holds_graph(a: Any) -> bool:
    """Whether attribute ``a`` holds a graph value printed as a body (not a reference)."""
    code = a.type
    if code == AttributeType.GRAPH or code == AttributeType.GRAPHS or not code:
        return not a.ref_attr_name and (a.HasField("g") or len(a.graphs) > 0)
    return False
