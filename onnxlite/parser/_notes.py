"""The comment notes of `onnxlite.text`, read back by `onnxlite.parser`.

Each comment is tokenized as a small text of its own. A comment is a note when its first
tokens are those the printer writes for that note (``doc_string: "``, ``input x:``,
``device_configuration "``...); the rest of a note must then parse, or the text is refused
(a note clipped by a dump without ``full``). Any other comment is skipped, as upstream skips
comments. See `onnxlite.text` for the notes themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from onnxlite.dtypes import DATA_FIELDS
from onnxlite.parser._values import END, ID_START, INT32, Reader, Source, Text, add_texts, set_text, unquote

_TENSOR_NOTES = frozenset(["doc_string", "metadata_props", "external"])
_ROLES = ("input", "output", "value_info")
_TRAINING = re.compile(r"training_info\[([0-9]+)\]:\s*\Z")
_DATA_FIELDS = DATA_FIELDS

Comments = list[tuple[int, str]]  # (raw token index, text after '#')


def _reader(parser: Reader, raw: int, text: str) -> Reader:
    source = parser.tokens.source

    def origin(offset: int) -> tuple[int, int]:
        return source.position(source.raw_offset(raw) + 1 + offset)

    return Reader(Source(text, origin), parser.depth)


def _is_name(tok: str) -> bool:
    return tok[0] in ID_START and tok != END or tok[0] == '"' and len(tok) > 1


def _is_string(tok: str) -> bool:
    return tok[0] == '"' and len(tok) > 1


def _end_note(r: Reader, what: str) -> None:
    """After a note: ';' (another note follows) or the end of the comment."""
    toks = r.toks
    tok = toks[r.i]
    if tok == ";":
        r.i += 1
    elif tok != END:
        r.fail(f"unexpected {r.got()[4:]} after {what}")


def _skip_note(r: Reader) -> None:
    toks = r.toks
    while toks[r.i] not in (";", END):
        r.i += 1
    if toks[r.i] == ";":
        r.i += 1


def _add_map(field: Any, entries: list[tuple[Text, Text]]) -> None:
    for key, value in entries:
        entry = field.add()
        set_text(entry, "key", key)
        set_text(entry, "value", value)


# --- tensors ------------------------------------------------------------------------------------


def tensor_notes(parser: Reader, comments: Comments, t: Any) -> None:
    """The notes at the end of an initializer's line: ``doc_string: "..."; external "w.bin",
    offset 0, length 64`` (others, like a NaN-payload count, are skipped)."""
    for raw, text in comments:
        r = _reader(parser, raw, text)
        while not r.at_end():
            _tensor_note(r, t)


def _tensor_note(r: Reader, t: Any) -> None:
    """One note about tensor ``t`` at ``r.i`` (an unknown one is skipped to the next ';')."""
    toks = r.toks
    tok = toks[r.i]
    after = toks[r.i + 1]
    if tok == "doc_string" and after == ":" and _is_string(toks[r.i + 2]):
        r.i += 2
        set_text(t, "doc_string", r.string("a doc string"))
        _end_note(r, "the doc string")
    elif tok == "metadata_props" and after == ":" and toks[r.i + 2] == "[":
        r.i += 2
        _add_map(t.metadata_props, r.string_map("metadata_props"))
        _end_note(r, "metadata_props")
    elif tok == "external" and _is_string(after):
        r.i += 1
        entries: list[tuple[Text, Text]] = [("location", r.string("the external data location"))]
        while toks[r.i] == ",":
            r.i += 1
            key = r.name("an external data key (offset, length, checksum...)")
            value = toks[r.i]
            if value == END or value in (",", ";"):
                r.fail(f"expected the value of external data key {key!r}, {r.got()}")
            r.i += 1
            entries.append((key, r.toks[r.i - 1] if not _is_string(value) else unquote(value)))
        _end_note(r, "the external data note")
        for field in _DATA_FIELDS:
            t.ClearField(field)
        t.data_location = 1
        del t.external_data[:]
        _add_map(t.external_data, entries)
    else:
        _skip_note(r)


# --- graphs and functions -----------------------------------------------------------------------


class _GraphState:
    """Where the notes of one graph or function body stand. Values are matched in order, so
    the notes of values that share a name go to each in turn."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self.function = owner.DESCRIPTOR.name == "FunctionProto"
        #: role -> (index of the value noted last, order key of its last note)
        self.last: dict[str, tuple[int, tuple[int, int]]] = {}
        self.levels: dict[tuple[str, int], int] = {}  # (role, index) -> denotations read so far
        self.attribute = 0  # functions: the next attribute_proto a note may name
        self.values_seen = False


def graph_notes(parser: Reader, comments: Comments, owner: Any) -> Comments | None:
    """Apply the notes that open a graph or function body to ``owner``; return the comments
    left for the first node."""
    if not comments:
        return None
    state = _GraphState(owner)
    rest: Comments = []
    for raw, text in comments:
        # In a function, the notes of the first node may look like the function's attribute
        # notes: once a note is not the function's, the rest are the node's.
        if rest and state.function or not _graph_note(_reader(parser, raw, text), state):
            rest.append((raw, text))
    return rest or None


def _graph_note(r: Reader, state: _GraphState) -> bool:
    toks = r.toks
    a, b, c = toks[0], toks[1], toks[2]
    owner = state.owner
    if not state.function:
        if a == "graph" and c == ":" and b in ("doc_string", "metadata_props"):
            r.i = 3
            if b == "doc_string":
                set_text(owner, "doc_string", r.string("the graph doc string"))
            else:
                _add_map(owner.metadata_props, r.string_map("the graph metadata_props"))
            _end_note(r, f"the graph {b}")
            return True
        if a == "sparse_initializer" and b == ":" and c == "sparse_tensor":
            r.i = 2
            sparse = owner.sparse_initializer.add()
            r.sparse(sparse, "a sparse initializer")
            _end_note(r, "the sparse initializer")
            for raw, text in r.comments.pop(r.i, []):
                _labeled_notes(_reader(r, raw, text), lambda label: _sparse_part(sparse, label))
            return True
        if a == "quantization_annotation" and _is_name(b) and c == ":" and toks[3] == "[":
            r.i = 1
            annotation = owner.quantization_annotation.add()
            set_text(annotation, "tensor_name", r.name("a tensor name"))
            r.i += 1
            _add_map(annotation.quant_parameter_tensor_names, r.string_map("quantization parameters"))
            _end_note(r, "the quantization annotation")
            return True
    elif a == "function" and b == "metadata_props" and c == ":":
        r.i = 3
        _add_map(owner.metadata_props, r.string_map("the function metadata_props"))
        _end_note(r, "the function metadata_props")
        return True
    if a in _ROLES and _is_name(b) and c == ":" and (a == "value_info" or not state.function):
        return _value_note(r, state, a)
    if state.function and not state.values_seen:
        attrs = owner.attribute_proto
        found = _labeled_notes(r, lambda label: _attribute_part(attrs, label, state.attribute))
        if found is not None:
            state.attribute = found
            return True
    return False


def _value_note(r: Reader, state: _GraphState, role: str) -> bool:
    """``input x: doc_string: "..."`` and the other notes of a value, in the printer's order:
    doc string, metadata, then the type's denotations (outer level first) and dimension
    denotations. A note that cannot follow the last one on a value is for the next value
    of that name."""
    toks = r.toks
    r.i = 1
    name = r.name("a value name")
    r.i += 1
    tok, after = toks[r.i], toks[r.i + 1]
    if tok == "doc_string" and after == ":":
        key = (0, 0)
    elif tok == "metadata_props" and after == ":":
        key = (1, 0)
    elif tok == "denotation" and _is_string(after):
        key = (2, -1)  # the level is known once the value is
    elif tok == "dim" and toks[r.i + 2] == "denotation" and toks[r.i + 1].isdigit():
        key = (3, int(toks[r.i + 1]) if len(toks[r.i + 1]) < 10 else INT32[1])
    elif toks[r.i:r.i + 5] == ["type", "is", "set", "but", "empty"]:
        key = (4, 0)
    else:
        return toks[r.i:r.i + 5] == ["a", "nested", "type", "is", "empty"]
    values = getattr(state.owner, role)
    index, last = state.last.get(role, (-1, (-1, 0)))
    if index >= 0 and values[index].name == name:
        if key[0] == 2:
            key = (2, state.levels.get((role, index), 0))
        if key <= last:
            index = -1  # not after the last note of this value: the next value of that name
    else:
        index = -1
    if index < 0:
        start = state.last.get(role, (-1, 0))[0] + 1
        found = next((k for k in range(start, len(values)) if values[k].name == name), None)
        if found is None:  # notes out of order (edited by hand): the first value of that name
            found = next((k for k in range(len(values)) if values[k].name == name), None)
        if found is None:
            return False
        index = found
        if key[0] == 2:
            key = (2, state.levels.get((role, index), 0))
    state.last[role] = (index, key)
    state.values_seen = True
    vi = values[index]
    if key[0] == 0:
        r.i += 2
        set_text(vi, "doc_string", r.string("a doc string"))
        _end_note(r, "the doc string")
    elif key[0] == 1:
        r.i += 2
        _add_map(vi.metadata_props, r.string_map("metadata_props"))
        _end_note(r, "metadata_props")
    elif key[0] == 2:
        r.i += 1
        target = _type_level(vi.type, key[1])
        if target is None:
            r.fail(f"more denotations than {role} {_show(name)} has type levels")
        set_text(target, "denotation", r.string("a denotation"))
        state.levels[(role, index)] = key[1] + 1
        _end_note(r, "the denotation")
    elif key[0] == 3:
        r.i += 1
        axis = r.integer("a dimension index", (0, INT32[1]))
        r.i += 1
        tensor = _tensor_level(vi.type)
        if tensor is None or axis >= len(tensor.shape.dim):
            r.fail(f"{role} {_show(name)} has no dimension {axis}")
        set_text(tensor.shape.dim[axis], "denotation", r.string("a denotation"))
        _end_note(r, "the dimension denotation")
    else:
        vi.type.SetInParent()
    return True


def _show(name: Text) -> str:
    return repr(name)


def _nested(tp: Any) -> Any:
    kind = tp.WhichOneof("value")
    if kind == "sequence_type":
        return tp.sequence_type.elem_type
    if kind == "optional_type":
        return tp.optional_type.elem_type
    if kind == "map_type":
        return tp.map_type.value_type
    return None


def _type_level(tp: Any, level: int) -> Any:
    for _ in range(level):
        tp = _nested(tp)
        if tp is None:
            return None
    return tp


def _tensor_level(tp: Any) -> Any:
    while tp is not None:
        kind = tp.WhichOneof("value")
        if kind in ("tensor_type", "sparse_tensor_type"):
            return getattr(tp, kind)
        tp = _nested(tp)
    return None


# --- nodes and attributes -----------------------------------------------------------------------


def node_notes(parser: Reader, comments: Comments, n: Any) -> None:
    """Notes above a node (and inside its attribute list): doc string, metadata, device
    configurations, attribute doc strings and the notes of tensor attributes."""
    for raw, text in comments:
        r = _reader(parser, raw, text)
        toks = r.toks
        a, b, c = toks[0], toks[1], toks[2]
        if a == "doc_string" and b == ":" and _is_string(c):
            r.i = 2
            set_text(n, "doc_string", r.string("the node doc string"))
            _end_note(r, "the node doc string")
        elif a == "metadata_props" and b == ":" and c == "[":
            r.i = 2
            _add_map(n.metadata_props, r.string_map("the node metadata_props"))
            _end_note(r, "the node metadata_props")
        elif a == "device_configuration" and _is_string(b) and c == ":":
            _device_configuration(r, n.device_configurations.add())
        else:
            _labeled_notes(r, lambda label, attrs=n.attribute: _attribute_part(attrs, label, 0))


def _labeled_notes(r: Reader, resolve: Any) -> int | None:
    """``label: note; label: note`` where ``resolve(label)`` gives (the message the note is
    about, the index of its attribute) or None. Returns the index of the last attribute a
    note was about, or None when the comment is no such note."""
    toks = r.toks
    found: int | None = None
    while not r.at_end():
        start = r.i
        if toks[r.i] == "attribute" and _is_name(toks[r.i + 1]) and toks[r.i + 2:r.i + 4] == [
                "doc_string", ":"]:
            r.i += 1
            target = resolve(("attribute", r.name("an attribute name")))
            if target is None:
                return found
            r.i += 2
            set_text(target[0], "doc_string", r.string("an attribute doc string"))
            _end_note(r, "the attribute doc string")
            found = target[1]
            continue
        label = _label(r)
        target = resolve(label) if label is not None else None
        if target is None or toks[r.i] not in _TENSOR_NOTES:
            if found is None:
                r.i = start
                return None
            _skip_note(r)  # e.g. "error: ...; left out"
            continue
        _tensor_note(r, target[0])
        found = target[1]
    return found


def _label(r: Reader) -> tuple[Any, ...] | None:
    """``name:``, ``name[3]:``, ``name: values:`` / ``name[3]: indices:`` as a tuple, the reader
    past the last ':'; None when the tokens are no label."""
    toks = r.toks
    if not _is_name(toks[r.i]):
        return None
    parts: list[Any] = [r.name("a label")]
    if toks[r.i] == "[" and toks[r.i + 2] == "]" and toks[r.i + 1].isdigit():
        parts.append(int(toks[r.i + 1]))
        r.i += 3
    if toks[r.i] != ":":
        return None
    r.i += 1
    if toks[r.i] in ("values", "indices") and toks[r.i + 1] == ":":
        parts.append(toks[r.i])
        r.i += 2
    return tuple(parts)


def _attribute_part(attrs: Any, label: tuple[Any, ...], first: int) -> tuple[Any, int] | None:
    """(message, attribute index) a label names among attributes ``attrs`` (from index
    ``first`` on): the attribute itself for ``("attribute", name)``, else a tensor in it."""
    if label[0] == "attribute":
        name = label[1]
        index = next((k for k in range(first, len(attrs)) if attrs[k].name == name), None)
        return None if index is None else (attrs[index], index)
    name, rest = label[0], label[1:]
    index = next((k for k in range(first, len(attrs)) if attrs[k].name == name), None)
    if index is None:
        return None
    a = attrs[index]
    position = rest[0] if rest and isinstance(rest[0], int) else None
    part = rest[-1] if rest and isinstance(rest[-1], str) else None
    if position is None:
        if a.HasField("t") and part is None:
            return a.t, index
        if a.HasField("sparse_tensor") and part is not None:
            return getattr(a.sparse_tensor, part), index
        return None
    if position < len(a.tensors) and part is None:
        return a.tensors[position], index
    if position < len(a.sparse_tensors) and part is not None:
        return getattr(a.sparse_tensors[position], part), index
    return None


def _sparse_part(sparse: Any, label: tuple[Any, ...]) -> tuple[Any, int] | None:
    if len(label) == 1 and label[0] in ("values", "indices"):
        return getattr(sparse, label[0]), 0
    return None


def _device_configuration(r: Reader, config: Any) -> None:
    """``device_configuration "id": pipeline_stage 1; sharding "W" device [0, 1] groups
    {0: [0, 1]} sharded {axis 1: [4 / 2]}; "Y" device [0]``."""
    toks = r.toks
    r.i = 1
    set_text(config, "configuration_id", r.string("a configuration id"))
    r.i += 1
    r.keyword("pipeline_stage", "in a device configuration")
    config.pipeline_stage = r.integer("a pipeline stage", INT32)
    if toks[r.i] == ";":
        r.i += 1
        r.keyword("sharding", "in a device configuration")
        while True:
            _sharding_spec(r, config.sharding_spec.add())
            if toks[r.i] != ";":
                break
            r.i += 1
    if not r.at_end():
        r.fail(f"unexpected {r.got()[4:]} in a device configuration")


def _sharding_spec(r: Reader, spec: Any) -> None:
    toks = r.toks
    set_text(spec, "tensor_name", r.string("a sharded tensor name"))
    r.keyword("device", "in a sharding spec")
    spec.device.extend(r.int_list("devices"))
    if toks[r.i] == "groups":
        r.i += 1
        r.expect("{", "after 'groups'")
        while toks[r.i] != "}":
            if len(spec.index_to_device_group_map):
                r.expect(",", "or '}' between device groups")
            entry = spec.index_to_device_group_map.add()
            entry.key = r.integer("a device group index")
            r.expect(":", "after a device group index")
            entry.value.extend(r.int_list("a device group"))
        r.i += 1
    if toks[r.i] == "sharded":
        r.i += 1
        r.expect("{", "after 'sharded'")
        while toks[r.i] != "}":
            if len(spec.sharded_dim):
                r.expect(",", "or '}' between sharded axes")
            dim = spec.sharded_dim.add()
            r.keyword("axis", "in a sharded dimension")
            dim.axis = r.integer("an axis")
            r.expect(":", "after a sharded axis")
            r.expect("[", "to start the shardings of an axis")
            while toks[r.i] != "]":
                if len(dim.simple_sharding):
                    r.expect(",", "or ']' between shardings")
                simple = dim.simple_sharding.add()
                tok = toks[r.i]
                if tok == "?":
                    r.i += 1
                elif _is_string(tok):
                    set_text(simple, "dim_param", r.string("a symbolic dimension"))
                else:
                    simple.dim_value = r.integer("a dimension")
                r.expect("/", "between a dimension and its number of shards")
                simple.num_shards = r.integer("a number of shards")
            r.i += 1
        r.i += 1


# --- the model ----------------------------------------------------------------------------------


def configuration_note(parser: Reader, raw: int, text: str, m: Any) -> None:
    """``configuration[0]: name "two_gpus", num_devices 2, device ["cuda:0", "cuda:1"]``."""
    r = _reader(parser, raw, text)
    toks = r.toks
    if toks[:2] != ["configuration", "["] or toks[3:7] != ["]", ":", "name", toks[6]] \
            or not _is_string(toks[6]):
        return
    r.i = 6
    config = m.configuration.add()
    set_text(config, "name", r.string("a configuration name"))
    r.expect(",", "after the configuration name")
    r.keyword("num_devices", "in a configuration")
    config.num_devices = r.integer("a number of devices", INT32)
    r.expect(",", "after num_devices")
    r.keyword("device", "in a configuration")
    r.expect("[", "to start the devices")
    while toks[r.i] != "]":
        if len(config.device):
            r.expect(",", "or ']' between devices")
        add_texts(config, "device", [r.string("a device")])
    r.i += 1
    if not r.at_end():
        r.fail(f"unexpected {r.got()[4:]} in a configuration")


def training_info(parser: Reader, comments: Comments) -> Iterator[tuple[list[int], str, int]]:
    """The ``# training_info[i]:`` blocks among ``comments``: (raw indices of the lines, the
    block's text with the ``#    `` prefix removed, i)."""
    k = 0
    while k < len(comments):
        m = _TRAINING.match(comments[k][1].strip())
        k += 1
        if m is None:
            continue
        lines: list[str] = []
        raws: list[int] = []
        while k < len(comments) and comments[k][1].startswith("    "):
            raws.append(comments[k][0])
            lines.append(comments[k][1][4:])
            k += 1
        yield raws or [comments[k - 1][0]], "\n".join(lines), int(m.group(1))
