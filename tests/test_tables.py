"""The shared tables exist once: AttributeType (model layer), the typed TensorProto fields
(dtypes), the default domain's alias (model layer), and one protobuf message copy (_proto)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from onnxlite import _proto, versions
from onnxlite.dtypes import DATA_FIELDS, TYPED_FIELDS, DataType
from onnxlite.model import (
    AttributeType,
    domain_label,
    is_default_domain,
    normalize_domain,
    opset_version,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for p in (ROOT / "onnxlite").rglob("*.py")
                 if p.name not in ("opschemas.py", "schema.py", "_tables.py"))


def test_attribute_type_matches_the_proto_enum() -> None:
    enum = _proto.AttributeProto.DESCRIPTOR.enum_types_by_name["AttributeType"]
    assert {v.name: v.number for v in enum.values} == {k.name: int(k) for k in AttributeType}


@pytest.mark.parametrize("kind", [k for k in AttributeType if k], ids=str)
def test_attribute_type_field_and_list_relations(kind: AttributeType) -> None:
    fields = _proto.AttributeProto.DESCRIPTOR.fields_by_name
    assert kind.field in fields
    assert _proto.is_repeated(fields[kind.field]) == kind.is_list
    if kind.is_list:
        assert kind.element.list_type is kind and not kind.element.is_list and kind.list_type is None
        assert kind.name == kind.element.name + "S"
    else:
        assert kind.element is kind and kind.list_type is not None and kind.list_type.element is kind
    assert kind.holds_graphs == (kind.element is AttributeType.GRAPH)


def test_attribute_type_of_a_message_and_unknown_numbers() -> None:
    a = _proto.AttributeProto(name="x", ints=[1, 2])
    assert AttributeType.of(a) is AttributeType.INTS  # type unset (old files): from the value
    a.type = AttributeType.INTS
    assert AttributeType.of(a) is AttributeType.INTS and str(AttributeType.INTS) == "INTS"
    assert AttributeType.of(_proto.AttributeProto(name="x")) is AttributeType.UNDEFINED
    assert AttributeType.name_of(99) == "UNKNOWN(99)" and AttributeType.name_of(99, "?") == "?"
    assert not AttributeType.is_known(99) and AttributeType.is_known(14)


def test_typed_fields_are_the_tensor_proto_value_fields() -> None:
    fields = _proto.TensorProto.DESCRIPTOR.fields_by_name
    value_fields = {name for name in fields
                    if name.endswith("_data") and name not in ("raw_data", "external_data")}
    assert set(TYPED_FIELDS) == value_fields == {d.typed_field for d in DataType if d.typed_field}
    assert DATA_FIELDS == ("raw_data", *TYPED_FIELDS)


def test_domain_alias() -> None:
    assert normalize_domain("ai.onnx") == "" and normalize_domain("ai.onnx.ml") == "ai.onnx.ml"
    assert versions.normalize_domain is normalize_domain  # re-exported, not a copy
    assert is_default_domain("") and is_default_domain("ai.onnx") and not is_default_domain("com.x")
    assert domain_label("") == "ai.onnx" and domain_label("com.x") == "com.x"
    assert opset_version({"ai.onnx": 3}, "") == 3 and opset_version({"": 4}, "ai.onnx") == 4
    assert opset_version({"": 4, "ai.onnx": 5}, "") == 4 and opset_version({"": 4}, "com.x") is None


def test_proto_copy_is_deep() -> None:
    a = _proto.AttributeProto(name="x", ints=[1])
    b = _proto.copy(a)
    b.ints.append(2)
    assert type(b) is type(a) and list(a.ints) == [1]


# Copies of the tables as they were written across the package before they had one place.
_COPIES = {
    "attribute type names": re.compile(r"ATTRIBUTE_TYPE_NAMES|_ATTR_FIELDS|\{1: \"f\""),
    "attribute type numbers": re.compile(
        r"\b(?:code|kind|type) == (?:[1-9]|1[0-4])\b|\.type in \(\d|= 5, 10\b"),
    "typed field lists": re.compile(r"\(\s*\"(?:raw_data|float_data)\",\s*\"(?:float_data|int32_data)\""),
    "domain alias": re.compile(r"== \"ai\.onnx\"|\(\"\", \"ai\.onnx\"\)|\{\"ai\.onnx\": \"\"\}"),
    "message copies": re.compile(
        r"def _(?:copy|clone)\(\w+: Any\) -> Any:\n\s+\w+ = (?:type\(\w+\)|_proto\.\w+)\(\)"),
}


@pytest.mark.parametrize("what", sorted(_COPIES))
def test_no_copies_of_the_shared_tables(what: str) -> None:
    found = [f"{p.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}"
             for p in SOURCES for text in [p.read_text()] for m in _COPIES[what].finditer(text)]
    assert not found, f"{what} written again instead of imported:\n" + "\n".join(found)
