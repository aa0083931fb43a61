"""Issue 10 §5: onnx.parser reads onnxlite's ``dump --full`` text (typed comments included, as the
CLI prints it) into the same model at least as often as onnx.printer's own text, on a fixed-seed
sample of 300 corpus models, and on every model the printer's text round-trips.

"Same": both models serialized deterministically after comparing tensors by value (raw vs typed
fields alike), clearing doc_string, metadata_props and device configurations everywhere, dropping
fields the schema does not know, and clearing scalars explicitly set to their default."""

from __future__ import annotations

import random
from typing import Any

import corpus
import onnx
import onnx.parser
import onnx.printer
import pytest
from onnx import numpy_helper

import onnxlite
from onnxlite.text import format_model

SAMPLE = sorted(random.Random(10).sample(sorted(corpus.model_corpus(), key=lambda c: c.id), 300),
                key=lambda c: c.id)
_CLEARED = ("doc_string", "metadata_props", "device_configurations")


def _canonical_tensor(t: Any) -> None:
    if t.data_location == onnx.TensorProto.EXTERNAL or t.HasField("segment"):
        return
    try:
        array = numpy_helper.to_array(t)
    except Exception:  # noqa: BLE001 (a tensor onnx cannot decode stays as it is)
        return
    name = t.name
    t.CopyFrom(numpy_helper.from_array(array, name) if name else numpy_helper.from_array(array))


def _repeated(f: Any) -> bool:
    flag = getattr(f, "is_repeated", None)  # protobuf >= 6 drops FieldDescriptor.label
    return bool(flag) if flag is not None else f.label == f.LABEL_REPEATED


def normalize(model: onnx.ModelProto) -> bytes:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    m.DiscardUnknownFields()
    stack: list[Any] = [m]
    while stack:
        msg = stack.pop()
        if msg.DESCRIPTOR.name == "TensorProto":
            _canonical_tensor(msg)
        for f in msg.DESCRIPTOR.fields:
            if f.name in _CLEARED:
                msg.ClearField(f.name)
            elif f.type == f.TYPE_MESSAGE:
                if _repeated(f):
                    stack.extend(getattr(msg, f.name))
                elif msg.HasField(f.name):
                    stack.append(getattr(msg, f.name))
            elif not _repeated(f) and msg.HasField(f.name) and getattr(msg, f.name) == f.default_value:
                msg.ClearField(f.name)
    return m.SerializeToString(deterministic=True)


def round_trips(text: str, original: onnx.ModelProto) -> bool:
    try:
        parsed = onnx.parser.parse_model(text)
    except Exception:  # noqa: BLE001 (any refusal of the parser is a miss)
        return False
    return normalize(parsed) == normalize(original)


def outcome(case: corpus.Case) -> tuple[bool, bool]:
    """(onnx.printer's text round-trips, onnxlite's --full dump round-trips)."""
    data = case.read()
    original = onnx.load_from_string(data)
    try:
        printer = round_trips(onnx.printer.to_text(original), original)
    except Exception:  # noqa: BLE001
        printer = False
    lite = round_trips(format_model(onnxlite.loads(data), full=True, types="inferred"), original)
    return printer, lite


@pytest.mark.parametrize("case", SAMPLE, ids=[c.id for c in SAMPLE])
def test_full_dump_reads_back_wherever_the_printer_does(case: corpus.Case) -> None:
    printer, lite = outcome(case)
    assert lite or not printer, "onnx.printer's text round-trips, onnxlite's --full dump does not"
