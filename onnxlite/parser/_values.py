"""The lexical half of `onnxlite.parser`: tokens, positions, and values (names, strings,
numbers, types, tensor and sparse tensor literals, string maps).

`Reader` reads values from a token list; `onnxlite.parser` lays them out into graphs and
models, `onnxlite._parsenotes` reads the comment notes `onnxlite.text` writes.
"""

from __future__ import annotations

import math
import re
import struct
import warnings
from collections.abc import Callable
from typing import Any, NoReturn

from onnxlite.dtypes import MAX_NUMEL, DataType
from onnxlite.errors import ParseError

# numpy is imported only for the float types struct cannot pack (float16, bfloat16, float8...):
# `import onnxlite` imports this module and must stay light.

Text = str | bytes  # a name or string value; bytes when it is not valid UTF-8

#: protobuf refuses to read messages nested deeper than this; a text nesting deeper could be
#: parsed and saved, but nothing (onnxlite included) could load the file back.
MAX_DEPTH = 100

_SPACE = " \t\r\n\f\v"
# One pattern for every token; findall is three times faster than finditer, so positions are
# recomputed (with finditer) only when an error is reported.
_TOKEN = re.compile(
    rf"[{_SPACE}]*("
    r"#[^\n]*"  # comment
    r"|[A-Za-z_][A-Za-z0-9_]*"  # identifier
    r'|"[^"\\]*(?:\\.[^"\\]*)*"'  # string
    r"|-?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?"  # number
    r"|=>|\.\.\."
    r"|-[A-Za-z_][A-Za-z0-9_]*"  # -inf, -nan
    rf"|[^{_SPACE}])",  # any other character is a token of its own (an error where it is met)
    re.S,
)
#: Sentinel appended to every token list (six times, for lookahead). No token the
#: pattern produces equals it: "<" is always a token of its own.
END = "<end>"
ID_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_INT = re.compile(r"-?[0-9]{1,30}\Z").match
_INT_LIST = re.compile(r"(?:-?[0-9]{1,30}\x00)*-?[0-9]{1,30}\Z").match
_FLOAT_RE = r"-?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))"
_FLOAT_TOKEN = re.compile(_FLOAT_RE + r"\Z").match
_FLOAT_LIST = re.compile(rf"(?:{_FLOAT_RE}\x00)*{_FLOAT_RE}\Z").match
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_SIMPLE_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r"}

DTYPES: dict[str, int] = {dt.short_name: int(dt) for dt in DataType}
TYPE_KEYWORDS = frozenset(["seq", "map", "optional", "sparse_tensor", "opaque"])
#: Words that start a type wherever a value name may also stand (upstream's NextIsType).
TYPE_STARTS = frozenset([n for n in DTYPES if n != "undefined"]) | TYPE_KEYWORDS
INT64 = (-(1 << 63), (1 << 63) - 1)
INT32 = (-(1 << 31), (1 << 31) - 1)

_STRUCT = {  # data type -> (struct code, lowest, highest) for the types struct packs directly
    DataType.INT8: ("b", -128, 127), DataType.UINT8: ("B", 0, 255),
    DataType.INT16: ("h", -(1 << 15), (1 << 15) - 1), DataType.UINT16: ("H", 0, (1 << 16) - 1),
    DataType.INT32: ("i", *INT32), DataType.UINT32: ("I", 0, (1 << 32) - 1),
    DataType.INT64: ("q", *INT64), DataType.UINT64: ("Q", 0, (1 << 64) - 1),
    DataType.BOOL: ("B", 0, 255),
}
_SUBBYTE = {DataType.INT4: (4, -8, 7), DataType.UINT4: (4, 0, 15), DataType.INT2: (2, -2, 1),
            DataType.UINT2: (2, 0, 3)}


# --- positions ----------------------------------------------------------------------------------


class Source:
    """A text being parsed, and how its offsets map to (line, column) in the document the user
    gave (a comment or a commented-out block is parsed as a text of its own)."""

    def __init__(self, text: str, origin: Callable[[int], tuple[int, int]] | None = None) -> None:
        self.text = text
        self._origin = origin

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of ``offset`` in the user's document."""
        if self._origin is not None:
            return self._origin(offset)
        text = self.text
        return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)

    def raw_offset(self, raw_index: int) -> int:
        """Offset of the token with this index in the unfiltered token list (comments
        included); the end of the text past the last token."""
        for k, m in enumerate(_TOKEN.finditer(self.text)):
            if k == raw_index:
                return m.start(1)
        return len(self.text.rstrip(_SPACE))


class Tokens:
    """The tokens of a Source, comments set aside: ``comments[i]`` lists the (raw index, text)
    of the comments just before token ``i``."""

    def __init__(self, source: Source) -> None:
        self.source = source
        raw: list[str] = _TOKEN.findall(source.text)
        self.hashes: list[int] = []
        self.comments: dict[int, list[tuple[int, str]]] = {}
        if "#" in source.text:
            self.hashes = [k for k, tok in enumerate(raw) if tok[0] == "#"]
        if self.hashes:
            toks: list[str] = []
            prev = 0
            for k in self.hashes:
                toks += raw[prev:k]
                self.comments.setdefault(len(toks), []).append((k, raw[k][1:].rstrip("\r")))
                prev = k + 1
            toks += raw[prev:]
            raw = toks
        raw += [END] * 6  # lookahead never runs past the end
        self.toks = raw

    def offset(self, i: int) -> int:
        """Offset in the source of token ``i`` (of the filtered list)."""
        raw = i
        for h in self.hashes:
            if h <= raw:
                raw += 1
            else:
                break
        return self.source.raw_offset(raw)


def describe(tok: str) -> str:
    """A token as an error message shows it."""
    if tok == END:
        return "end of input"
    if tok == '"':
        return "an unterminated string"
    if len(tok) > 40:
        tok = tok[:37] + "..."
    return repr(tok)


# --- strings ------------------------------------------------------------------------------------


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    try:  # text read with errors="surrogateescape": the escaped bytes come back
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def unquote(tok: str) -> Text:
    """The value of a string token: str when it is valid UTF-8, else bytes. Escapes:
    ``\\xNN`` (a byte), ``\\uXXXX``, ``\\UXXXXXXXX``, ``\\n``, ``\\t``, ``\\r``; a backslash
    before any other character stands for that character (as upstream reads ``\\"``)."""
    body = tok[1:-1]
    if "\\" not in body:
        if body.isascii():
            return body
        data = _encode(body)
    else:
        parts: list[bytes] = []
        last = 0
        for m in _ESCAPE.finditer(body):
            parts.append(_encode(body[last:m.start()]))
            esc = m.group(1)
            kind = esc[0]
            if len(esc) == 3 and kind == "x":
                parts.append(bytes([int(esc[1:], 16)]))
            elif len(esc) > 1 and int(esc[1:], 16) <= 0x10FFFF:  # \u, \U
                parts.append(chr(int(esc[1:], 16)).encode("utf-8", "surrogatepass"))
            elif len(esc) > 1:  # \U past the last code point: not an escape
                parts.append(_encode(esc))
            else:
                parts.append(_SIMPLE_ESCAPES.get(kind) or _encode(kind))
            last = m.end()
        parts.append(_encode(body[last:]))
        data = b"".join(parts)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _wire_key(number: int) -> bytes:
    return _varint(number << 3 | 2)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def set_text(msg: Any, field: str, value: Text) -> None:
    """Set string field ``field``; bytes that are not UTF-8 (which protobuf's Python API
    refuses for a string field) go through the wire format."""
    if value.__class__ is str:
        setattr(msg, field, value)
    else:
        number = msg.DESCRIPTOR.fields_by_name[field].number
        data = value if isinstance(value, bytes) else value.encode("utf-8")
        msg.MergeFromString(_wire_key(number) + _varint(len(data)) + data)


def add_texts(msg: Any, field: str, values: list[Text]) -> None:
    """Append to repeated string field ``field`` (non-UTF-8 bytes as `set_text` does)."""
    if all(v.__class__ is str for v in values):
        getattr(msg, field).extend(values)
        return
    for value in values:
        if value.__class__ is str:
            getattr(msg, field).append(value)
        else:
            set_text(msg, field, value)  # merging a repeated field appends


def as_bytes(value: Text) -> bytes:
    """A value for a bytes field (AttributeProto.s, TensorProto.string_data)."""
    return value.encode("utf-8") if isinstance(value, str) else value


def join_dotted(parts: list[Text]) -> Text:
    if all(p.__class__ is str for p in parts):
        return ".".join(parts)  # type: ignore[arg-type]
    return b".".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in parts)


# --- the reader ---------------------------------------------------------------------------------


class Reader:
    """Reads values from the tokens of one Source; ``i`` is the current token."""

    def __init__(self, source: Source, depth: int = 0) -> None:
        tokens = Tokens(source)
        self.tokens = tokens
        self.toks = tokens.toks
        self.comments = tokens.comments
        self.i = 0
        #: protobuf message nesting depth of what is being parsed
        self.depth = depth

    # -- errors

    def fail(self, message: str, i: int | None = None) -> NoReturn:
        index = self.i if i is None else i
        line, column = self.tokens.source.position(self.tokens.offset(index))
        raise ParseError(f"{line}:{column}: {message}", line, column)

    def got(self, i: int | None = None) -> str:
        return "got " + describe(self.toks[self.i if i is None else i])

    def expect(self, punct: str, context: str) -> None:
        if self.toks[self.i] != punct:
            self.fail(f"expected '{punct}' {context}, {self.got()}")
        self.i += 1

    def at_end(self) -> bool:
        return self.toks[self.i] == END

    def check_depth(self, extra: int) -> None:
        if self.depth + extra > MAX_DEPTH:
            self.fail(f"nesting deeper than {MAX_DEPTH} protobuf message levels: protobuf could not "
                      "read the model back")

    # -- names and simple values

    def name(self, what: str) -> Text:
        """An identifier or a quoted name."""
        tok = self.toks[self.i]
        if tok[0] in ID_START:
            self.i += 1
            return tok
        if tok[0] == '"' and len(tok) > 1:
            self.i += 1
            return unquote(tok)
        self.fail(f"expected {what}, {self.got()}")

    def optional_name(self) -> Text | None:
        tok = self.toks[self.i]
        if tok[0] in ID_START and tok != END:
            self.i += 1
            return tok
        if tok[0] == '"' and len(tok) > 1:
            self.i += 1
            return unquote(tok)
        return None

    def string(self, what: str) -> Text:
        toks = self.toks
        tok = toks[self.i]
        if tok[0] == '"' and len(tok) > 1:
            self.i += 1
            if toks[self.i] == "(" and toks[self.i + 2] == "chars" and _INT(toks[self.i + 1]):
                self.fail(f"{what} is clipped (a dump without full=True shortens long strings in "
                          "comments): print the model with full=True (onnxlite dump --full) to parse it")
            return unquote(tok)
        self.fail(f"expected a string for {what}, {self.got()}")

    def keyword(self, word: str, context: str) -> None:
        if self.toks[self.i] != word:
            self.fail(f"expected '{word}' {context}, {self.got()}")
        self.i += 1

    def integer(self, what: str, bounds: tuple[int, int] = INT64) -> int:
        tok = self.toks[self.i]
        if not _INT(tok):
            self.fail(f"expected an integer for {what}, {self.got()}")
        value = int(tok)
        if not bounds[0] <= value <= bounds[1]:
            self.fail(f"{tok} is out of range for {what} [{bounds[0]}, {bounds[1]}]")
        self.i += 1
        return value

    def number(self, what: str) -> float:
        """A float literal (integers, inf, -inf, nan, -nan included) as a double."""
        tok = self.toks[self.i]
        value = _float_value(tok)
        if value is None:
            self.fail(f"expected a number for {what}, {self.got()}")
        if math.isinf(value) and "n" not in tok and "N" not in tok:
            self.fail(f"{tok} is out of range for a double in {what}")
        self.i += 1
        return value

    def float32(self, what: str) -> float:
        value = self.number(what)
        try:
            struct.pack("<f", value)
        except OverflowError:
            self.fail(f"{self.toks[self.i - 1]} is out of range for float32 in {what}", self.i - 1)
        return value

    def string_map(self, what: str) -> list[tuple[Text, Text]]:
        """``["key": "value", ...]``."""
        self.expect("[", f"to start {what}")
        entries: list[tuple[Text, Text]] = []
        if self.toks[self.i] == "]":
            self.i += 1
            return entries
        while True:
            key = self.string(f"a key of {what}")
            self.expect(":", f"after a key of {what}")
            entries.append((key, self.string(f"a value of {what}")))
            if self.toks[self.i] == "]":
                self.i += 1
                return entries
            self.expect(",", f"or ']' in {what}")

    def int_list(self, what: str) -> list[int]:
        self.expect("[", f"to start {what}")
        values: list[int] = []
        while self.toks[self.i] != "]":
            if values:
                self.expect(",", f"or ']' in {what}")
            values.append(self.integer(what))
        self.i += 1
        return values

    # -- types

    def dtype(self, what: str) -> int:
        tok = self.toks[self.i]
        code = dtype_code(tok)
        if code is None:
            self.fail(f"expected an element type for {what}, {self.got()}")
        self.i += 1
        return code

    def next_is_type(self) -> bool:
        """Whether a type starts here (a value name may stand here too)."""
        tok = self.toks[self.i]
        if tok in TYPE_STARTS or tok == "?":
            return True
        if tok.startswith("undefined") and dtype_code(tok) is not None:
            after = self.toks[self.i + 1]  # "undefined" is also a plain name
            return after == "[" or after[0] in ID_START and after != END or after[0] == '"'
        return False

    def type_(self, tp: Any, what: str = "a type") -> None:
        """Fill TypeProto ``tp``. Nested seq/map/optional types are read in a loop."""
        toks = self.toks
        closers = 0
        while True:
            tok = toks[self.i]
            code = DTYPES.get(tok)
            if code is not None or tok.startswith("undefined"):
                code = self.dtype(what)
                tensor = tp.tensor_type
                tensor.elem_type = code
                self.shape(tensor)
                break
            if tok == "seq" or tok == "optional":
                self.i += 1
                self.expect("(", f"after '{tok}'")
                tp = tp.sequence_type.elem_type if tok == "seq" else tp.optional_type.elem_type
            elif tok == "map":
                self.i += 1
                self.expect("(", "after 'map'")
                tp.map_type.key_type = self.dtype("the key of a map type")
                self.expect(",", "after the key type of a map type")
                tp = tp.map_type.value_type
            elif tok == "sparse_tensor":
                self.i += 1
                self.expect("(", "after 'sparse_tensor'")
                sparse = tp.sparse_tensor_type
                sparse.elem_type = self.dtype("a sparse tensor type")
                self.shape(sparse)
                self.expect(")", "to close 'sparse_tensor('")
                break
            elif tok == "opaque":
                self.i += 1
                self.opaque(tp.opaque_type)
                break
            elif tok == "?":
                self.i += 1
                tp.SetInParent()
                break
            else:
                self.fail(f"expected {what}, {self.got()}")
            closers += 1
            self.check_depth(2 * closers + 4)
        for _ in range(closers):
            self.expect(")", "to close a nested type")

    def opaque(self, opaque: Any) -> None:
        self.expect("(", "after 'opaque'")
        opaque.SetInParent()
        if self.toks[self.i] == ")":
            self.i += 1
            return
        first = self.dotted("an opaque type's domain or name")
        if self.toks[self.i] == ",":
            self.i += 1
            set_text(opaque, "domain", first)
            if self.toks[self.i] != ")":
                set_text(opaque, "name", self.dotted("an opaque type's name"))
        else:
            set_text(opaque, "name", first)
        self.expect(")", "to close 'opaque('")

    def dotted(self, what: str) -> Text:
        parts = [self.name(what)]
        while self.toks[self.i] == ".":
            self.i += 1
            parts.append(self.name(what))
        return join_dotted(parts)

    def shape(self, tensor: Any) -> None:
        """``[dims]`` of a type: none is a scalar, ``[]`` an unknown rank."""
        toks = self.toks
        if toks[self.i] != "[":
            tensor.shape.SetInParent()
            return
        self.i += 1
        if toks[self.i] == "]":
            self.i += 1
            return
        shape = tensor.shape
        shape.SetInParent()
        while True:
            tok = toks[self.i]
            dim = shape.dim.add()
            if tok == "?":
                self.i += 1
            elif _INT(tok):
                dim.dim_value = self.integer("a dimension")
            else:
                set_text(dim, "dim_param", self.name("a dimension (a number, a name or '?')"))
            tok = toks[self.i]
            self.i += 1
            if tok == "]":
                return
            if tok != ",":
                self.fail(f"expected ',' or ']' in a shape, {self.got(self.i - 1)}", self.i - 1)

    # -- tensors

    def tensor(self, t: Any, what: str) -> None:
        """``float[2,3] name = {values}`` (name and '=' optional) into TensorProto ``t``."""
        code = self.dtype(what)
        dims = self.tensor_dims()
        name = self.optional_name()
        if name is not None:
            set_text(t, "name", name)
        if self.toks[self.i] == "=":
            self.i += 1
        self.tensor_data(t, code, dims, what)

    def tensor_dims(self) -> list[int]:
        if self.toks[self.i] != "[":
            return []
        self.i += 1
        dims: list[int] = []
        while self.toks[self.i] != "]":
            if dims:
                self.expect(",", "or ']' in a tensor shape")
            dims.append(self.integer("a tensor dimension", (0, INT64[1])))
        self.i += 1
        return dims

    def tensor_data(self, t: Any, code: int, dims: list[int], what: str) -> None:
        """``{v, ...}`` or upstream's external reference ``["location": "f.bin", ...]``."""
        t.data_type = code
        t.dims.extend(dims)
        tok = self.toks[self.i]
        if tok == "[":
            for key, value in self.string_map("external data"):
                entry = t.external_data.add()
                set_text(entry, "key", key)
                set_text(entry, "value", value)
            t.data_location = 1
            return
        if tok != "{":
            self.fail(f"expected '{{' with the values of {what}, {self.got()}")
        start = self.i
        toks = self.toks
        try:
            end = toks.index("}", start + 1)
        except ValueError:
            self.fail(f"no '}}' closes the values of {what}")
        values = toks[start + 1:end:2]
        seps = toks[start + 2:end:2]
        if (end - start) % 2 and end > start + 1 or seps.count(",") != len(seps):
            bad = next((k for k in range(start + 2, end, 2) if toks[k] != ","), end - 1)
            if toks[bad] == ",":  # "{1, 2,}" or "{1, , 2}"
                self.fail(f"expected a value after ',' in the values of {what}, {self.got(bad + 1)}", bad + 1)
            self.fail(f"expected ',' or '}}' between the values of {what}, {self.got(bad)}", bad)
        if "..." in values:
            self.fail(f"the values of {what} are summarized ('...'): print the model with full=True "
                      "(onnxlite dump --full) to parse it", start + 1 + 2 * values.index("..."))
        numel = _numel(dims)
        dt = _data_type(code)
        per = 2 if dt in (DataType.COMPLEX64, DataType.COMPLEX128) else 1
        bits = _bit_patterns(dt, values, numel) if dt in _BIT_FORM and numel is not None else None
        if bits is not None:  # onnx.parser's form of these types (what `dump --full` prints)
            self.i = end + 1
            t.raw_data = bits
            return
        if numel is None or len(values) != numel * per:
            count = "more than 2**62" if numel is None else f"{numel * per}"
            self.fail(f"{what}: {len(values)} values for shape {dims}, expected {count}", start)
        self.i = end + 1
        if dt is None or dt == DataType.UNDEFINED:
            if values:
                self.fail(f"{what}: data type {code} cannot hold values", start)
            return
        error = _store_values(t, dt, values)
        if error is not None:
            k, message = error
            self.fail(f"{what}: {message}, {self.got(start + 1 + 2 * k)}", start + 1 + 2 * k)

    def sparse(self, s: Any, what: str) -> None:
        """``sparse_tensor(float[4]) {values = float[1] {3.5}, indices = int64[1] {2}}``."""
        self.keyword("sparse_tensor", f"to start {what}")
        self.expect("(", "after 'sparse_tensor'")
        start = self.i
        code = self.dtype(what)
        dims = self.tensor_dims()
        self.expect(")", "to close 'sparse_tensor('")
        s.dims.extend(dims)
        self.expect("{", f"with the values and indices of {what}")
        self.keyword("values", f"in {what}")
        self.expect("=", "after 'values'")
        self.tensor(s.values, f"the values of {what}")
        if s.values.data_type != code:
            self.fail(f"{what}: values of type {s.values.data_type} in a sparse tensor of type {code}", start)
        self.expect(",", f"after the values of {what}")
        self.keyword("indices", f"in {what}")
        self.expect("=", "after 'indices'")
        self.tensor(s.indices, f"the indices of {what}")
        self.expect("}", f"to close {what}")


def dtype_code(tok: str) -> int | None:
    """The data type a type name stands for: ``float``... and ``undefined``/``undefinedNN``
    (the printer's names for codes it does not know)."""
    code = DTYPES.get(tok)
    if code is None and tok.startswith("undefined") and tok[9:].isdigit() and len(tok) < 20:
        code = int(tok[9:])
        if code > INT32[1]:
            return None
    return code


def _data_type(code: int) -> DataType | None:
    try:
        return DataType(code)
    except ValueError:
        return None


def _numel(dims: list[int]) -> int | None:
    numel = math.prod(dims)
    return numel if numel <= MAX_NUMEL else None


def _float_value(tok: str) -> float | None:
    return float(tok) if _FLOAT_TOKEN(tok) else None


def _floats(values: list[str]) -> tuple[list[float], tuple[int, str] | None]:
    # One regex over all values at once; float() alone would take more than the syntax does
    # ("١" and other digits, "infinity"...).
    if values and not _FLOAT_LIST("\x00".join(values)):
        k = next(k for k, tok in enumerate(values) if not _FLOAT_TOKEN(tok))
        return [], (k, "expected a number")
    floats = list(map(float, values))
    if math.inf in floats or -math.inf in floats:  # a literal past the largest double?
        for k, (tok, value) in enumerate(zip(values, floats, strict=True)):
            if math.isinf(value) and "n" not in tok and "N" not in tok:
                return [], (k, "value out of range for a double")
    return floats, None


def _ints(values: list[str], lo: int, hi: int) -> tuple[list[int], tuple[int, str] | None]:
    if values and not _INT_LIST("\x00".join(values)):
        if any(v in ("true", "false") for v in values):  # bool literals
            values = ["1" if v == "true" else "0" if v == "false" else v for v in values]
        k = next((k for k, tok in enumerate(values) if not _INT(tok)), -1)
        if k >= 0:
            return [], (k, "expected an integer")
    ints = list(map(int, values))
    if ints and (min(ints) < lo or max(ints) > hi):
        k = next(k for k, v in enumerate(ints) if not lo <= v <= hi)
        return [], (k, f"value out of range [{lo}, {hi}]")
    return ints, None


def _store_values(t: Any, dt: DataType, values: list[str]) -> tuple[int, str] | None:
    """Encode literal values into TensorProto ``t`` (raw_data; string_data for strings), or
    return (index of the bad value, what is wrong)."""
    n = len(values)
    if dt == DataType.STRING:
        for k, tok in enumerate(values):
            if tok[0] != '"' or len(tok) < 2:
                return k, "expected a string"
        t.string_data.extend([as_bytes(unquote(v)) for v in values])
        return None
    packed = _STRUCT.get(dt)
    if packed is not None:
        code, lo, hi = packed
        ints, error = _ints(values, lo, hi)
        if error is not None:
            return error
        t.raw_data = struct.pack(f"<{n}{code}", *ints)
        return None
    sub = _SUBBYTE.get(dt)
    if sub is not None:
        bits, lo, hi = sub
        ints, error = _ints(values, lo, hi)
        if error is not None:
            return error
        t.raw_data = _pack_bits(ints, bits)
        return None
    floats, error = _floats(values)
    if error is not None:
        return error
    if dt in (DataType.FLOAT, DataType.COMPLEX64, DataType.DOUBLE, DataType.COMPLEX128):
        code = "f" if dt in (DataType.FLOAT, DataType.COMPLEX64) else "d"
        try:
            t.raw_data = struct.pack(f"<{n}{code}", *floats)
        except OverflowError:
            k = next(k for k, v in enumerate(floats) if _overflows(v, code))
            return k, f"value out of range for {dt.short_name}"
        return None
    t.raw_data = _encode_small_floats(floats, dt)
    return None


#: Types whose literals onnx.parser reads as bit patterns (packed bytes for float4 and 4/2-bit
#: integers): a literal of only unsigned integers is read that way (decoded floats always have
#: '.', 'e', nan or inf; unpacked 4/2-bit values come one per element, packed bytes
#: ceil(n*bits/8)).
_SMALL_FLOATS = {DataType.FLOAT16: 16, DataType.BFLOAT16: 16, DataType.FLOAT8E4M3FN: 8,
                 DataType.FLOAT8E4M3FNUZ: 8, DataType.FLOAT8E5M2: 8, DataType.FLOAT8E5M2FNUZ: 8,
                 DataType.FLOAT8E8M0: 8, DataType.FLOAT4E2M1: 4, DataType.FLOAT6E2M3: 6,
                 DataType.FLOAT6E3M2: 6}
_BIT_FORM = frozenset(_SMALL_FLOATS) | frozenset(_SUBBYTE)
_UNSIGNED = re.compile(r"[0-9]+")


def _bit_patterns(dt: DataType | None, values: list[str], numel: int) -> bytes | None:
    """raw_data of a literal written in onnx.parser's bit-pattern form, or None when it is not."""
    if not values or not all(_UNSIGNED.fullmatch(v) for v in values):
        return None
    codes = [int(v) for v in values]
    width = _SMALL_FLOATS.get(dt)  # type: ignore[arg-type]
    if width is not None:
        if width != 4 and (len(codes) != numel or max(codes) >= 1 << width):
            return None
        if width == 16:
            return struct.pack(f"<{numel}H", *codes)
        if width == 8:
            return bytes(codes)
        if width == 4:  # packed bytes, as for int4
            if len(codes) != -(-numel // 2) or max(codes) > 255:
                return None
            return bytes(codes)
        words = [codes[k:k + 4] + [0] * (4 - len(codes[k:k + 4])) for k in range(0, numel, 4)]
        packed = b"".join((w[0] | w[1] << 6 | w[2] << 12 | w[3] << 18).to_bytes(3, "little") for w in words)
        return packed[:-(-numel * 6 // 8)]
    bits, _, hi = _SUBBYTE[dt]  # type: ignore[index]
    nbytes = -(-numel * bits // 8)
    # packed bytes; where the count is also the element count, only bytes beyond the element range
    # tell the packed form apart (and for values in range both forms store the same bits)
    if len(codes) != nbytes or max(codes) > 255 or (len(codes) == numel and max(codes) <= hi):
        return None
    return bytes(codes)


def _overflows(value: float, code: str) -> bool:
    try:
        struct.pack("<" + code, value)
    except OverflowError:
        return True
    return False


def _pack_bits(ints: list[int], bits: int) -> bytes:
    """Pack 2/4-bit values, first element in the lowest bits (onnx.proto's order)."""
    mask = (1 << bits) - 1
    per = 8 // bits
    out = bytearray(-(-len(ints) // per))
    for k, v in enumerate(ints):
        out[k // per] |= (v & mask) << (bits * (k % per))
    return bytes(out)


def _encode_small_floats(floats: list[float], dt: DataType) -> bytes:
    """float16, bfloat16, float8, float6, float4: each value rounded to nearest-even from the
    double (the printer's convention), then stored as raw_data."""
    import numpy as np

    from onnxlite._storage.codec import encode_raw

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # out-of-range values round to inf/nan as numpy casts do
        array = np.array(floats, dtype=np.float64).astype(dt.np_dtype)
    return encode_raw(array)[1]
