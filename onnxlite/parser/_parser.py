"""Read the ONNX textual syntax back into a model: the inverse of `onnxlite.text`.

``parse_model(format_model(m, full=True))`` gives back a model equal to ``m`` (see
`onnxlite.text` for the few things the text cannot hold), and everything ``onnx.parser``
reads, this parser reads too::

    model = onnxlite.parser.parse_model(text)
    onnxlite.save(model, "model.onnx")

Beyond the upstream grammar it reads what `onnxlite.text` writes:

* the comment notes (doc strings, metadata, value notes, sparse initializers, quantization
  annotations, device configurations, ``training_info`` blocks...). A comment is a note only
  when it starts the way the printer starts that note (``# doc_string: "``...); a note that
  starts so but does not parse (a value clipped by a dump without ``--full``) is an error,
  any other comment is skipped as upstream skips it;
* decoded float16 / bfloat16 / float8 / float6 / float4 literals (each value rounded to the
  nearest value of the type) and unpacked int4 / uint4 / int2 / uint2 literals (upstream reads
  bit patterns and packed bytes);
* lists of tensors, graphs, sparse tensors and types (upstream drops their values), sparse
  tensor literals, quoted graph and tensor names;
* string escapes ``\\xNN`` (a byte: strings need not be UTF-8), ``\\uXXXX``, ``\\UXXXXXXXX``,
  ``\\n``, ``\\t``, ``\\r``. A backslash before any other character stands for it, as upstream
  reads it.

Where upstream reads the same text differently: those six escapes (upstream reads the letter:
``\\n`` is ``n``), integer literals of float16 / bfloat16 / float8... tensors (values here, bit
patterns upstream) and int4 / uint4 / int2 / uint2 literals (values here, packed bytes upstream).
A ``denotation`` note does not say which level of a nested type it is on: such notes go to the
outermost levels first.

An initializer whose note says its data is external (``# external "w.bin", offset 0, ...``)
comes back as that reference (``data_location`` EXTERNAL, the ``external_data`` entries); its
printed values are checked against the shape, not kept. Numbers are stored as ``raw_data``,
strings as ``string_data``.

Errors are `onnxlite.errors.ParseError` whose message starts with ``line:column:``. Subgraphs
are read with an explicit stack; nesting deeper than protobuf can read back (100 message
levels) is refused.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

from onnxlite import _proto
from onnxlite._storage import io
from onnxlite.model import AttributeType, Function, Graph, Model, Node, Type
from onnxlite.parser._notes import (
    configuration_note,
    graph_notes,
    node_notes,
    tensor_notes,
    training_info,
)
from onnxlite.parser._values import (
    END,
    ID_START,
    Reader,
    Source,
    Text,
    add_texts,
    as_bytes,
    join_dotted,
    set_text,
    unquote,
)

__all__ = ["parse_function", "parse_graph", "parse_model", "parse_node", "parse_type"]

Parse = Generator[Any, None, Any]  # a parsing step; yields the step of a subgraph to run first

# keyword -> type number, list type -> element type, element type -> list type and list field:
# all from the one AttributeType table
_ATTRIBUTE_TYPES = {kind.name.lower(): int(kind) for kind in AttributeType if kind}
_LIST_OF = {int(kind): int(kind.element) for kind in AttributeType if kind.is_list}
_LIST_TYPE = {item: code for code, item in _LIST_OF.items()}
_LIST_FIELD = {int(kind.element): str(kind.field) for kind in AttributeType if kind.is_list}
_FLOAT_WORDS = frozenset(["inf", "infinity", "nan"])
_MODEL_HEADER = {
    "ir_version": "int", "opset_import": "opsets", "producer_name": "string", "producer_version": "string",
    "domain": "string", "model_version": "int", "doc_string": "string", "metadata_props": "map",
}
_FUNCTION_HEADER = {"domain": "string", "overload": "string", "doc_string": "string",
                    "opset_import": "opsets", "metadata_props": "map"}
_TRAINING_KEYS = ("initialization", "algorithm", "initialization_binding", "update_binding")


# --- public API ---------------------------------------------------------------------------------


def parse_model(text: str | bytes, *, base_dir: str | os.PathLike[str] | None = None) -> Model:
    """A model from its ONNX textual syntax (the output of `onnxlite.text.format_model` with
    ``full=True``, or any text ``onnx.parser.parse_model`` reads). ``base_dir`` is the folder
    the external data the text refers to lives in (as for `onnxlite.load`). Raises `ParseError`.

    >>> m = parse_model('<ir_version: 10, opset_import: ["" : 21]> g (float[2] x) => (float[2] y) '
    ...                 '{ y = Relu (x) }')
    >>> [n.op_type for n in m.graph.nodes], m.opset_imports
    (['Relu'], {'': 21})
    """
    parser = _Parser(Source(_as_text(text)))
    proto = _run(parser.model())
    return Model(proto, io.DataStore(Path(base_dir) if base_dir is not None else None))


def parse_graph(text: str | bytes) -> Graph:
    """A graph (``name (inputs) => (outputs) <initializers, value_info> {nodes}``), as
    `onnxlite.text.format_graph` prints it. Raises `ParseError`.

    >>> g = parse_graph("g (float[2] x) => (float[2] y) { y = Neg (x) }")
    >>> g.name, [v.name for v in g.inputs]
    ('g', ['x'])
    """
    parser = _Parser(Source(_as_text(text)))
    proto = _proto.GraphProto()
    _run(parser.graph(proto, 1))
    parser.finish("after the graph")
    return Graph(proto, None, None)


def parse_function(text: str | bytes) -> Function:
    """A model-local function (``<domain: "d", opset_import: [...]> Name <attrs> (inputs) =>
    (outputs) {nodes}``). Raises `ParseError`.

    >>> f = parse_function('<domain: "local", opset_import: ["" : 21]> Twice (x) => (y) '
    ...                    '{ y = Add (x, x) }')
    >>> f.domain, f.name, f.inputs
    ('local', 'Twice', ('x',))
    """
    parser = _Parser(Source(_as_text(text)))
    proto = _proto.FunctionProto()
    _run(parser.function(proto))
    parser.finish("after the function")
    return Function(proto, None)


def parse_node(text: str | bytes) -> Node:
    """One node (``[name] outputs = domain.Op:overload <attributes> (inputs)``), with the
    comment notes above it. Raises `ParseError`.

    >>> n = parse_node('[mm] y = MatMul <alpha: float = 0.5> (a, b)')
    >>> n.name, n.op_type, n.inputs, n.attr("alpha")
    ('mm', 'MatMul', ('a', 'b'), 0.5)
    """
    parser = _Parser(Source(_as_text(text)), depth=1)
    graph = _proto.GraphProto()
    step = parser.node(graph.node.add(), parser.take_comments() or None)
    if step is not None:
        _run(step)
    parser.finish("after the node")
    return Graph(graph, None, None).nodes[0]


def parse_type(text: str | bytes) -> Type:
    """A value type as the syntax writes it (``float[N,3,224,224]``, ``int64[]``, ``seq(float[?])``,
    ``map(string, float)``, ``optional(...)``, ``sparse_tensor(...)``), as ``onnxlite dump``
    writes them. Raises `ParseError`.

    >>> t = parse_type("float[batch, 10]")
    >>> t.elem_type.short_name, t.shape
    ('float', ('batch', 10))
    """
    parser = _Parser(Source(_as_text(text)), depth=1)
    proto = _proto.TypeProto()
    parser.type_(proto)
    parser.finish("after the type")
    return Type(proto)


def _as_text(text: str | bytes) -> str:
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text).decode("utf-8", "surrogateescape")
    return text


def _run(root: Parse) -> Any:
    """Run a parsing step and the steps it yields (subgraphs) with an explicit stack, so
    nesting does not use Python's stack. Returns the root step's result."""
    stack = [root]
    result = None
    while stack:
        try:
            sub = stack[-1].send(None)
        except StopIteration as done:
            stack.pop()
            result = done.value
            continue
        stack.append(sub)
    return result


# --- the parser ----------------------------------------------------------------------------------


class _Parser(Reader):
    """Model, graph, function and node grammar over the value readers of `Reader`. Methods
    that may meet a subgraph are generators (see `_run`)."""

    def finish(self, context: str) -> None:
        if not self.at_end():
            self.fail(f"expected end of input {context}, {self.got()}")

    def take_comments(self, i: int | None = None) -> list[tuple[int, str]]:
        comments = self.comments
        if not comments:
            return []
        return comments.pop(self.i if i is None else i, [])

    # -- model

    def model(self) -> Parse:
        m = _proto.ModelProto()
        if self.toks[self.i] == "<":
            self.header(m, _MODEL_HEADER, "model header")
        for raw, text in self.take_comments():
            configuration_note(self, raw, text, m)
        yield self.graph(m.graph, 2)
        while not self.at_end():
            yield self.function(m.functions.add())
        for lines, block, index in training_info(self, self.take_comments()):
            yield _TrainingReader(self, lines, block, index).block(m.training_info.add())
        return m

    def header(self, target: Any, keys: dict[str, str], what: str) -> None:
        """``<key: value, ...>``; ``keys`` maps each key to the kind of its value."""
        self.i += 1
        toks = self.toks
        while True:
            key = toks[self.i]
            kind = keys.get(key)
            if kind is None:
                self.fail(f"expected a {what} key ({', '.join(keys)}), {self.got()}")
            self.i += 1
            self.expect(":", f"after '{key}' in the {what}")
            if kind == "int":
                setattr(target, key, self.integer(key))
            elif kind == "string":
                set_text(target, key, self.string(key))
            elif kind == "opsets":
                self.opsets(target.opset_import)
            else:
                for k, v in self.string_map(key):
                    entry = getattr(target, key).add()
                    set_text(entry, "key", k)
                    set_text(entry, "value", v)
            if toks[self.i] == ">":
                self.i += 1
                return
            self.expect(",", f"or '>' in the {what} after '{key}'")

    def opsets(self, field: Any) -> None:
        self.expect("[", "to start opset_import")
        if self.toks[self.i] == "]":
            self.i += 1
            return
        while True:
            entry = field.add()
            tok = self.toks[self.i]
            domain = self.name("an opset domain") if tok[0] in ID_START else self.string("an opset domain")
            set_text(entry, "domain", domain)
            self.expect(":", "after an opset domain")
            entry.version = self.integer("an opset version")
            if self.toks[self.i] == "]":
                self.i += 1
                return
            self.expect(",", "or ']' in opset_import")

    # -- graphs

    def graph(self, g: Any, depth: int) -> Parse:
        """``name (inputs) => (outputs) <initializers, value_info> {nodes}`` into GraphProto
        ``g``, a message at protobuf nesting ``depth``."""
        outer = self.depth
        self.depth = depth
        self.check_depth(3)  # a node, an attribute and a tensor inside
        set_text(g, "name", self.name("a graph name"))
        if self.toks[self.i] != "=>":  # upstream allows leaving out "()"
            self.expect("(", "to start the graph inputs")
            self.value_list(g.input, g.initializer, ")", "graph input")
        self.expect("=>", "after the graph inputs")
        self.expect("(", "to start the graph outputs")
        self.value_list(g.output, None, ")", "graph output")
        if self.toks[self.i] == "<":
            self.i += 1
            self.value_list(g.value_info, g.initializer, ">", "initializer or value_info")
        self.expect("{", "to start the graph body")
        notes = graph_notes(self, self.take_comments(), g)
        toks = self.toks
        while toks[self.i] != "}":
            if toks[self.i] == END:
                self.fail("expected '}' to close the graph body, got end of input")
            node = g.node.add()
            if notes is None:
                notes = self.take_comments() or None
            step = self.node(node, notes)
            if step is not None:
                yield step
            notes = None
        self.i += 1
        self.depth = outer

    def value_list(self, values: Any, initializers: Any, close: str, what: str) -> None:
        """Value infos up to ``close``; an entry followed by ``= {values}`` is an initializer
        (with its trailing notes) when ``initializers`` is given."""
        toks = self.toks
        if toks[self.i] == close:
            self.i += 1
            return
        while True:
            vi = _proto.ValueInfoProto()
            start = self.i
            if self.next_is_type():
                self.type_(vi.type, f"the type of a {what}")
            name = self.name(f"a {what} name")
            set_text(vi, "name", name)
            tensor = None
            if toks[self.i] == "=" and initializers is not None:
                self.i += 1
                tensor = initializers.add()
                set_text(tensor, "name", name)
                self.initializer(tensor, vi, name, start)
                if close == ")":  # an input with a default value is an input too
                    values.add().CopyFrom(vi)
            else:
                values.add().CopyFrom(vi)
            tok = toks[self.i]
            if tok == ",":
                self.i += 1
            elif tok != close:
                self.fail(f"expected ',' or '{close}' after a {what}, {self.got()}")
            if tensor is not None:
                tensor_notes(self, self.take_comments(), tensor)
            if tok == close:
                self.i += 1
                return

    def initializer(self, t: Any, vi: Any, name: Text, start: int) -> None:
        what = f"initializer {_show(name)}"
        if vi.type.WhichOneof("value") != "tensor_type" or not vi.type.tensor_type.HasField("shape"):
            self.fail(f"{what} needs a tensor type with a shape (e.g. float[2,3] or float)", start)
        tensor_type = vi.type.tensor_type
        dims = []
        for d in tensor_type.shape.dim:
            if d.WhichOneof("value") != "dim_value" or d.dim_value < 0:
                self.fail(f"{what} needs dimensions that are numbers >= 0", start)
            dims.append(d.dim_value)
        self.tensor_data(t, tensor_type.elem_type, dims, what)

    # -- functions

    def function(self, f: Any) -> Parse:
        self.depth = 2
        if self.toks[self.i] == "<":
            self.header(f, _FUNCTION_HEADER, "function header")
        set_text(f, "name", self.name("a function name"))
        if self.toks[self.i] == "<":
            yield from self.attributes(f.attribute_proto, None, f)
        self.function_values(f, "input")
        self.expect("=>", "after the function inputs")
        self.function_values(f, "output")
        if self.toks[self.i] == "<":
            self.i += 1
            self.value_list(f.value_info, None, ">", "value_info")
        self.expect("{", "to start the function body")
        notes = graph_notes(self, self.take_comments(), f)
        toks = self.toks
        while toks[self.i] != "}":
            if toks[self.i] == END:
                self.fail("expected '}' to close the function body, got end of input")
            if notes is None:
                notes = self.take_comments() or None
            step = self.node(f.node.add(), notes)
            if step is not None:
                yield step
            notes = None
        self.i += 1

    def function_values(self, f: Any, what: str) -> None:
        """``(x, float[N] y)``: names, and a value_info entry for each typed one."""
        self.expect("(", f"to start the function {what}s")
        if self.toks[self.i] == ")":
            self.i += 1
            return
        while True:
            vi = None
            if self.next_is_type():
                vi = _proto.ValueInfoProto()
                self.type_(vi.type, f"the type of a function {what}")
            name = self.name(f"a function {what} name")
            add_texts(f, what, [name])
            if vi is not None:
                set_text(vi, "name", name)
                f.value_info.add().CopyFrom(vi)
            if self.toks[self.i] == ")":
                self.i += 1
                return
            self.expect(",", f"or ')' after a function {what}")

    # -- nodes

    def node(self, n: Any, notes: list[tuple[int, str]] | None) -> Parse | None:
        """``[name] outputs = domain.Op:overload <attributes> (inputs) <attributes>`` into
        NodeProto ``n``. Returns None when done, or a step to run (the node has attributes)."""
        toks = self.toks
        tok = toks[self.i]
        if tok == "[":
            self.i += 1
            if toks[self.i] == "]":
                n.name = ""
            else:
                set_text(n, "name", self.name("a node name"))
            self.expect("]", "after the node name")
        self.id_list(n, "output")
        if toks[self.i] != "=":
            self.fail(f"expected '=' after the node outputs, {self.got()}")
        self.i += 1
        # domain.Op:overload (each part a name; the domain may be one quoted string)
        tok = toks[self.i]
        if tok[0] in ID_START and toks[self.i + 1] != ".":
            self.i += 1
            n.op_type = tok
        elif tok == "(" or tok == "<":
            n.op_type = ""  # upstream allows an empty operator name
        else:
            parts = [self.name("an operator")]
            while toks[self.i] == ".":
                self.i += 1
                parts.append(self.name("an operator name after '.'"))
            set_text(n, "op_type", parts[-1])
            if len(parts) > 1:
                set_text(n, "domain", join_dotted(parts[:-1]))
        if toks[self.i] == ":":
            self.i += 1
            set_text(n, "overload", self.name("an overload name"))
        if toks[self.i] == "<":
            return self.node_rest(n, notes, True)
        if toks[self.i] != "(":
            self.fail(f"expected '(' or '<' after the operator, {self.got()}")
        self.inputs(n)
        if toks[self.i] == "<":  # attributes after the inputs
            return self.node_rest(n, notes, False)
        if notes:
            node_notes(self, notes, n)
        return None

    def node_rest(self, n: Any, notes: list[tuple[int, str]] | None, before: bool) -> Parse:
        """The attributes of a node (they may hold subgraphs), its inputs when they follow,
        then its notes (comments inside the attribute list included)."""
        notes = list(notes or ())
        yield from self.attributes(n.attribute, notes, None)
        if before:
            if self.toks[self.i] != "(":
                self.fail(f"expected '(' with the node inputs, {self.got()}")
            self.inputs(n)
        if notes:
            node_notes(self, notes, n)
        return None

    def inputs(self, n: Any) -> None:
        self.expect("(", "to start the node inputs")
        self.id_list(n, "input")
        if self.toks[self.i] != ")":
            self.fail(f"expected ')' after the node inputs, {self.got()}")
        self.i += 1

    def id_list(self, msg: Any, field: str) -> None:
        """Names separated by commas into repeated string ``field``, as upstream reads them:
        ``(,x)`` is ["", "x"], ``(,)`` is [""], and a trailing comma adds nothing."""
        toks = self.toks
        ids: list[Text] = []
        plain = True  # no name that must go through the wire format
        while True:
            tok = toks[self.i]
            c = tok[0]
            if c in ID_START and tok != END:
                ids.append(tok)
                self.i += 1
            elif c == '"' and len(tok) > 1:
                value = unquote(tok)
                plain = plain and value.__class__ is str
                ids.append(value)
                self.i += 1
            elif tok == "," and (not ids or toks[self.i - 1] == ","):
                ids.append("")  # nothing before a comma: an empty name
            else:
                break  # no names, or a trailing comma
            if toks[self.i] != ",":
                break
            self.i += 1
        if plain:
            getattr(msg, field).extend(ids)
        else:
            add_texts(msg, field, ids)

    # -- attributes

    def attributes(self, field: Any, notes: list[tuple[int, str]] | None, function: Any) -> Parse:
        """``<name: type = value, ...>`` into repeated AttributeProto ``field``. In a function
        declaration (``function`` given) a bare name declares an attribute without a default.
        Comments inside the list are notes of the node (``notes``)."""
        toks = self.toks
        self.i += 1
        if notes is None:
            notes = []
        while True:
            notes += self.take_comments()
            start = self.i
            name = self.name("an attribute name")
            if function is not None and toks[self.i] in (",", ">"):
                add_texts(function, "attribute", [name])
            else:
                a = field.add()
                set_text(a, "name", name)
                code = 0
                if toks[self.i] == ":":
                    self.i += 1
                    kind = toks[self.i]
                    code = _ATTRIBUTE_TYPES.get(kind, 0)
                    if not code:
                        self.fail(f"expected an attribute type (int, float, string, tensor, graph, "
                                  f"ints...), {self.got()}")
                    self.i += 1
                    a.type = code
                self.expect("=", f"after attribute {_show(name)}")
                if toks[self.i] == "@":
                    self.i += 1
                    set_text(a, "ref_attr_name", self.name("the name of the referenced attribute"))
                elif toks[self.i] == "[":
                    yield from self.attribute_list(a, code, start)
                else:
                    yield from self.attribute_value(a, code, start)
            notes += self.take_comments()
            tok = toks[self.i]
            self.i += 1
            if tok == ">":
                return None
            if tok != ",":
                self.fail(f"expected ',' or '>' after attribute {_show(name)}, {self.got(self.i - 1)}",
                          self.i - 1)

    def attribute_value(self, a: Any, code: int, start: int) -> Parse:
        """One value of type ``code`` (0: inferred from the value, as upstream does)."""
        toks = self.toks
        tok = toks[self.i]
        if not code:
            code = self.infer(start)
            a.type = code
        if code == AttributeType.INT:
            a.i = self.integer(f"attribute {_show(a.name)}")
        elif code == AttributeType.FLOAT:
            a.f = self.float32(f"attribute {_show(a.name)}")
        elif code == AttributeType.STRING:
            a.s = as_bytes(self.string(f"attribute {_show(a.name)}"))
        elif code == AttributeType.GRAPH:
            yield self.graph(a.g, self.depth + 3)
        else:
            self.single(a, code, tok)
        return None

    def single(self, owner: Any, code: int, tok: str, target: Any = None) -> None:
        """A tensor, sparse tensor or type value (``target``: the message to fill, else the
        attribute's field)."""
        what = f"attribute {_show(owner.name)}"
        if code == AttributeType.TENSOR:
            self.tensor(target if target is not None else owner.t, what)
        elif code == AttributeType.SPARSE_TENSOR:
            self.sparse(target if target is not None else owner.sparse_tensor, what)
        elif code == AttributeType.TYPE_PROTO:
            self.type_(target if target is not None else owner.tp, f"a type for {what}")
        else:
            self.fail(f"{what}: unexpected value, {self.got()}")

    def attribute_list(self, a: Any, code: int, start: int) -> Parse:
        """``[v, ...]``; an untyped list takes its type from its values."""
        toks = self.toks
        self.i += 1
        what = f"attribute {_show(a.name)}"
        if code and code not in _LIST_OF:
            self.fail(f"{what} is a single {_type_name(code)}, not a list", start)
        if toks[self.i] == "]":
            if not code:
                self.fail(f"the empty list of {what} needs a type (e.g. '{_show(a.name)}: ints = []')", start)
            self.i += 1
            return None
        item = _LIST_OF.get(code, 0)
        while True:
            kind = item or self.infer(start)
            if kind == AttributeType.INT and not item and _next_list_has_float(toks, self.i):
                kind = 1  # [1, 2.5] is a list of floats
            if not item:
                item = kind
                a.type = _LIST_TYPE[kind]
            if kind == AttributeType.INT:
                a.ints.append(self.integer(what))
            elif kind == AttributeType.FLOAT:
                a.floats.append(self.float32(what))
            elif kind == AttributeType.STRING:
                a.strings.append(as_bytes(self.string(what)))
            elif kind == AttributeType.GRAPH:
                yield self.graph(a.graphs.add(), self.depth + 3)
            else:
                field = getattr(a, _LIST_FIELD[kind])
                self.single(a, kind, toks[self.i], field.add())
            tok = toks[self.i]
            self.i += 1
            if tok == "]":
                return None
            if tok != ",":
                self.fail(f"expected ',' or ']' in the list of {what}, {self.got(self.i - 1)}", self.i - 1)

    def infer(self, start: int) -> int:
        """The type of an untyped attribute value, from the value (upstream's rules)."""
        toks = self.toks
        tok = toks[self.i]
        c = tok[0]
        if c == '"' and len(tok) > 1:
            return 5 if toks[self.i + 1] == "(" else 3  # a quoted graph name, or a string
        if c.isdigit() or c == "-":
            if tok.lstrip("-").lower() in _FLOAT_WORDS:
                return 1
            return 2 if tok.lstrip("-").isdigit() else 1
        if c in ID_START and tok != END:
            if self.next_is_type():
                return self.infer_typed()
            if tok.lower() in _FLOAT_WORDS:
                return 1
            return 5
        self.fail(f"expected an attribute value, {self.got()}")

    def infer_typed(self) -> int:
        """A type, a tensor (type followed by a name, '=' or '{') or a sparse tensor?"""
        save = self.i
        probe = _proto.TypeProto()
        self.type_(probe)
        after = self.toks[self.i]
        self.i = save
        if probe.WhichOneof("value") == "sparse_tensor_type" and after == "{":
            return 11
        if after in ("{", "=") or after[0] in ID_START and after != END or after[0] == '"' and len(after) > 1:
            if probe.WhichOneof("value") == "tensor_type":
                return 4
        return 13


class _TrainingReader(_Parser):
    """A ``# training_info[i]:`` block, its comment prefix removed, parsed as a text."""

    def __init__(self, outer: _Parser, raw: list[int], text: str, index: int) -> None:
        tokens = outer.tokens

        def origin(offset: int) -> tuple[int, int]:
            line = text.count("\n", 0, offset)
            column = offset - (text.rfind("\n", 0, offset) + 1)
            start = tokens.source.raw_offset(raw[min(line, len(raw) - 1)])
            return tokens.source.position(start + 5 + column)  # past "#    "

        super().__init__(Source(text, origin), depth=2)
        self.index = index

    def block(self, info: Any) -> Parse:
        while not self.at_end():
            key = self.toks[self.i]
            if key not in _TRAINING_KEYS:
                self.fail(f"expected a training_info key ({', '.join(_TRAINING_KEYS)}), {self.got()}")
            self.i += 1
            self.expect(":", f"after '{key}' in training_info[{self.index}]")
            if key in ("initialization", "algorithm"):
                yield self.graph(getattr(info, key), 3)
            else:
                for k, v in self.string_map(key):
                    entry = getattr(info, key).add()
                    set_text(entry, "key", k)
                    set_text(entry, "value", v)


def _show(name: Any) -> str:
    return repr(name) if isinstance(name, str) else repr(bytes(name))


def _type_name(code: int) -> str:
    return next(k for k, v in _ATTRIBUTE_TYPES.items() if v == code)


def _next_list_has_float(toks: list[str], i: int) -> bool:
    """Whether the rest of an untyped list of numbers holds a float literal."""
    for k in range(i, len(toks)):
        tok = toks[k]
        if tok == "]" or tok == END:
            return False
        if tok != "," and not tok.lstrip("-").isdigit():
            return True
    return False
