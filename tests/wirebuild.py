"""A tiny byte-level protobuf writer for building hostile ONNX files by hand.

Nothing here goes through protobuf's serializer: malformed encodings (overlong varints, lengths
that lie, wire types 6/7, field number 0) can only be built byte by byte. Field numbers are the
ones of onnx.proto; each message builder takes already-encoded field bytes, so nesting any message
inside any other (or itself, 1000 times over) is plain concatenation.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

# wire types
VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5

# field numbers (onnx.proto)
MODEL = {"ir_version": 1, "producer_name": 2, "graph": 7, "opset_import": 8, "functions": 25}
GRAPH = {"node": 1, "name": 2, "initializer": 5, "input": 11, "output": 12}
NODE = {"input": 1, "output": 2, "name": 3, "op_type": 4, "attribute": 5, "domain": 7}
ATTR = {"name": 1, "f": 2, "i": 3, "s": 4, "t": 5, "g": 6, "graphs": 11, "type": 20}
TENSOR = {
    "dims": 1, "data_type": 2, "segment": 3, "float_data": 4, "int32_data": 5, "string_data": 6,
    "int64_data": 7, "name": 8, "raw_data": 9, "double_data": 10, "external_data": 13,
    "data_location": 14,
}
OPSET = {"domain": 1, "version": 2}
ENTRY = {"key": 1, "value": 2}
SEGMENT = {"begin": 1, "end": 2}

# AttributeProto.AttributeType
ATTR_TENSOR, ATTR_GRAPH, ATTR_GRAPHS = 4, 5, 10
FLOAT, UINT8, INT64 = 1, 2, 7


def varint(value: int) -> bytes:
    """Minimal varint; negative numbers as protobuf writes int64 (ten bytes, two's complement)."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return varint((field << 3) | wire_type)


def vfield(field: int, value: int) -> bytes:
    """A varint field."""
    return tag(field, VARINT) + varint(value)


def lfield(field: int, payload: bytes, *, length: int | None = None) -> bytes:
    """A length-delimited field; ``length`` overrides the (honest) length prefix."""
    return tag(field, LEN) + varint(len(payload) if length is None else length) + payload


def sfield(field: int, text: str) -> bytes:
    return lfield(field, text.encode("utf-8"))


def packed_varints(field: int, values: Iterable[int]) -> bytes:
    return lfield(field, b"".join(varint(v) for v in values))


# --- messages ------------------------------------------------------------------------------------


def opset(version: int = 17, domain: str = "") -> bytes:
    return (sfield(OPSET["domain"], domain) if domain else b"") + vfield(OPSET["version"], version)


def entry(key: str, value: str) -> bytes:
    return lfield(ENTRY["key"], key.encode()) + lfield(ENTRY["value"], value.encode())


def tensor(
    name: str = "t",
    *,
    dims: Iterable[int] = (),
    data_type: int = FLOAT,
    raw: bytes | None = None,
    float_data: Iterable[float] | None = None,
    int64_data: Iterable[int] | None = None,
    external: Iterable[tuple[str, str]] | None = None,
    segment: tuple[int, int] | None = None,
    extra: bytes = b"",
) -> bytes:
    """A TensorProto body. ``external`` entries set data_location=EXTERNAL."""
    out = bytearray()
    dims = list(dims)
    if dims:
        out += packed_varints(TENSOR["dims"], dims)
    out += vfield(TENSOR["data_type"], data_type)
    if segment is not None:
        out += lfield(TENSOR["segment"],
                      vfield(SEGMENT["begin"], segment[0]) + vfield(SEGMENT["end"], segment[1]))
    if float_data is not None:
        out += lfield(TENSOR["float_data"], b"".join(struct.pack("<f", v) for v in float_data))
    if int64_data is not None:
        out += packed_varints(TENSOR["int64_data"], int64_data)
    out += sfield(TENSOR["name"], name)
    if raw is not None:
        out += lfield(TENSOR["raw_data"], raw)
    if external is not None:
        for key, value in external:
            out += lfield(TENSOR["external_data"], entry(key, value))
        out += vfield(TENSOR["data_location"], 1)
    return bytes(out + extra)


def attribute_graph(name: str, graph_body: bytes) -> bytes:
    return sfield(ATTR["name"], name) + vfield(ATTR["type"], ATTR_GRAPH) + lfield(ATTR["g"], graph_body)


def attribute_tensor(name: str, tensor_body: bytes) -> bytes:
    return sfield(ATTR["name"], name) + vfield(ATTR["type"], ATTR_TENSOR) + lfield(ATTR["t"], tensor_body)


def node(op_type: str, inputs: Iterable[str] = (), outputs: Iterable[str] = (), *,
         name: str = "", attributes: Iterable[bytes] = ()) -> bytes:
    out = bytearray()
    for i in inputs:
        out += sfield(NODE["input"], i)
    for o in outputs:
        out += sfield(NODE["output"], o)
    if name:
        out += sfield(NODE["name"], name)
    out += sfield(NODE["op_type"], op_type)
    for a in attributes:
        out += lfield(NODE["attribute"], a)
    return bytes(out)


def value_info(name: str) -> bytes:
    return sfield(1, name)


def graph(name: str = "g", *, nodes: Iterable[bytes] = (), initializers: Iterable[bytes] = (),
          inputs: Iterable[str] = (), outputs: Iterable[str] = ()) -> bytes:
    out = bytearray()
    for n in nodes:
        out += lfield(GRAPH["node"], n)
    out += sfield(GRAPH["name"], name)
    for t in initializers:
        out += lfield(GRAPH["initializer"], t)
    for i in inputs:
        out += lfield(GRAPH["input"], value_info(i))
    for o in outputs:
        out += lfield(GRAPH["output"], value_info(o))
    return bytes(out)


def model(graph_body: bytes | None = None, *, ir_version: int = 8, opset_version: int = 17,
          extra: bytes = b"") -> bytes:
    out = vfield(MODEL["ir_version"], ir_version) + sfield(MODEL["producer_name"], "wirebuild")
    if graph_body is not None:
        out += lfield(MODEL["graph"], graph_body)
    out += lfield(MODEL["opset_import"], opset(opset_version))
    return out + extra


def nested_if(depth: int, leaf: bytes | None = None) -> bytes:
    """A GraphProto whose node[0] is an If whose then_branch is a GraphProto ... ``depth`` times.

    Each level adds three message levels (graph -> node -> attribute -> graph). Built from the
    inside out, iteratively: the builder itself must not recurse either.
    """
    body = leaf if leaf is not None else graph("leaf", initializers=[tensor("w", dims=[1], raw=b"\0\0\x80?")])
    for level in range(depth):
        n = node("If", ["c"], [f"y{level}"], name=f"if{level}",
                 attributes=[attribute_graph("then_branch", body)])
        body = graph(f"g{level}", nodes=[n])
    return body
