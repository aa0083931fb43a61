"""Hostile input: whatever bytes or paths a file brings, onnxlite answers with one OnnxliteError.

Every refusal must be an `OnnxliteError` (or one of its subclasses) with a one-line message that
says what and where, never a bare protobuf / numpy / Index / Key / Recursion / Memory error, a
crash, or a hang. Risky cases run in a forked child with a timeout (`isolated`), so a hang or a
segfault fails one test instead of killing the run. Hostile bytes are built byte by byte with
`wirebuild`, never through protobuf's serializer.
"""

from __future__ import annotations

import builtins
import io as _io
import os
import pickle
import random
import select
import signal
import struct
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import wirebuild as wb
from onnx import TensorProto as OnnxTensor
from onnx import helper as oh
from onnx import numpy_helper

import onnxlite
from onnxlite import ExternalDataError, ModelFormatError, OnnxliteError, UnsafePathError

# --- running a risky case in a forked child -------------------------------------------------------


@dataclass
class Outcome:
    """What a call in a child process did: returned ``value`` or raised ``types``/``message``."""

    ok: bool
    value: Any = None
    types: tuple[str, ...] = ()
    message: str = ""

    def refused(self, *fragments: str, kind: type[BaseException] = OnnxliteError) -> str:
        """Assert the call raised ``kind`` with a one-line message holding every fragment."""
        assert not self.ok, f"expected {kind.__name__}, but the call returned {self.value!r}"
        assert kind.__name__ in self.types, f"expected {kind.__name__}, got {self.types[0]}: {self.message}"
        assert "OnnxliteError" in self.types
        assert self.message and "\n" not in self.message, f"message is not one line: {self.message!r}"
        for fragment in fragments:
            assert fragment in self.message, f"{fragment!r} missing from: {self.message}"
        return self.message


def isolated(fn: Callable[..., Any], *args: Any, timeout: float = 20.0) -> Outcome:
    """Run ``fn(*args)`` in a forked child; a hang past ``timeout`` or a crash fails the test."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report, then leave without running pytest's cleanup
        status = 0
        try:
            os.close(r)
            try:
                out = Outcome(True, fn(*args))
            except BaseException as e:  # noqa: BLE001 - reporting what came out is the point
                out = Outcome(False, None, tuple(c.__name__ for c in type(e).__mro__), str(e))
            payload = pickle.dumps(out)
            with os.fdopen(w, "wb") as f:
                f.write(payload)
        except BaseException:  # noqa: BLE001 - the child must reach os._exit
            status = 3
        finally:
            os._exit(status)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(f"{fn.__name__}{args!r:.200} did not finish within {timeout} s (hang)")
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        pytest.fail(f"{fn.__name__}{args!r:.200} crashed with signal {os.WTERMSIG(status)}")
    assert chunks, f"{fn.__name__} child exited with status {os.WEXITSTATUS(status)} and no report"
    result: Outcome = pickle.loads(b"".join(chunks))
    return result


def exercise(model: onnxlite.Model) -> int:
    """Touch everything a user would on a loaded model; only OnnxliteError may come out.
    Returns the number of tensors walked."""
    count = 0
    repr(model)
    for _where, tensor in model.tensors():
        count += 1
        repr(tensor)
        for prop in ("dtype", "shape", "nbytes"):
            try:
                getattr(tensor, prop)
            except OnnxliteError:
                pass
        try:
            tensor.numpy()
        except OnnxliteError:
            pass
    graph = model.graph
    for node in graph.nodes:
        repr(node)
        for attr in node.attributes.values() if isinstance(node.attributes, dict) else node.attributes:
            try:
                _ = attr.value
            except OnnxliteError:
                pass
    for name in list(graph.values):
        _ = graph.value(name).uses
    return count


# Both parse paths: lazy=True walks the wire format first and leaves big payloads in the buffer,
# lazy=False hands the bytes straight to protobuf.
LAZY = [False, True]


def load_bytes_outcome(data: bytes, lazy: bool) -> tuple[str, str] | None:
    """None when ``loads`` behaved (loaded and survives `exercise`, or raised a one-line
    OnnxliteError naming '<bytes>'); else (exception type, message)."""
    try:
        exercise(onnxlite.loads(data, lazy=lazy))
    except OnnxliteError as e:
        msg = str(e)
        if "\n" in msg or not msg.startswith("<bytes>"):
            return type(e).__name__, f"badly formed message: {msg!r}"
    except BaseException as e:  # noqa: BLE001 - anything but OnnxliteError is the finding
        return type(e).__name__, str(e)[:300]
    return None


def sweep(datas: list[bytes], lazy: bool) -> list[tuple[int, str, str]]:
    """`load_bytes_outcome` over many inputs; the first few misbehaviours with their index."""
    bad = []
    for i, data in enumerate(datas):
        found = load_bytes_outcome(data, lazy)
        if found is not None:
            bad.append((i, *found))
            if len(bad) >= 5:
                break
    return bad


# --- models -----------------------------------------------------------------------------------------


def real_model() -> onnx.ModelProto:
    """A small but real model: a lazily kept initializer (>= 2048 bytes), a small one, an If with
    two subgraphs, one holding a Constant whose tensor attribute is itself large."""
    w = numpy_helper.from_array(np.arange(600, dtype=np.float32).reshape(20, 30), "w")
    b = numpy_helper.from_array(np.arange(30, dtype=np.float32), "b")
    big_const = numpy_helper.from_array(np.linspace(0, 1, 600, dtype=np.float32), "k")
    then_g = oh.make_graph(
        [oh.make_node("Constant", [], ["t"], name="const", value=big_const)], "then", [],
        [oh.make_tensor_value_info("t", OnnxTensor.FLOAT, [600])])
    else_g = oh.make_graph(
        [oh.make_node("Identity", ["z"], ["e"], name="id")], "else", [],
        [oh.make_tensor_value_info("e", OnnxTensor.FLOAT, [1, 30])])
    nodes = [
        oh.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
        oh.make_node("Add", ["y", "b"], ["z"], name="add"),
        oh.make_node("If", ["c"], ["o"], name="if", then_branch=then_g, else_branch=else_g),
    ]
    graph = oh.make_graph(
        nodes, "main",
        [oh.make_tensor_value_info("x", OnnxTensor.FLOAT, [1, 20]),
         oh.make_tensor_value_info("c", OnnxTensor.BOOL, [])],
        [oh.make_tensor_value_info("z", OnnxTensor.FLOAT, [1, 30]),
         oh.make_tensor_value_info("o", OnnxTensor.FLOAT, None)],
        initializer=[w, b])
    return oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])


REAL = real_model().SerializeToString()
SMALL_INIT = wb.tensor("s", dims=[2], raw=struct.pack("<2f", 1.0, 2.0))
PAD_INIT = wb.tensor("pad", dims=[1024], raw=bytes(4096))  # pushes a file over wire.LAZY_MIN


@pytest.mark.parametrize("lazy", LAZY)
def test_real_model_loads_cleanly(lazy: bool) -> None:
    # The baseline the hostile variants start from.
    model = onnxlite.loads(REAL, lazy=lazy)
    assert exercise(model) == 3
    np.testing.assert_array_equal(model.graph.initializers["w"].numpy(),
                                  np.arange(600, dtype=np.float32).reshape(20, 30))


# --- truncation ------------------------------------------------------------------------------------


def _truncations(data: bytes, lazy: bool) -> list[tuple[int, str, str]]:
    return sweep([data[:n] for n in range(len(data))], lazy)


@pytest.mark.parametrize("lazy", LAZY)
def test_truncation_at_every_offset_loads_or_refuses(lazy: bool) -> None:
    # A prefix can itself be a valid shorter message; then it must load and be usable.
    assert len(REAL) > 2048  # with lazy=True, prefixes past wire.LAZY_MIN go through the wire walker
    outcome = isolated(_truncations, REAL, lazy, timeout=60)
    assert outcome.ok, outcome.message
    assert outcome.value == [], f"misbehaving truncations (offset, error, message): {outcome.value}"


def test_truncation_with_length_tag_as_last_byte() -> None:
    # Minimal case of the sweep above: a length-delimited tag is the very last byte of a file
    # large enough for the lazy wire walker.
    data = wb.model(wb.graph(initializers=[PAD_INIT])) + wb.tag(wb.MODEL["graph"], wb.LEN)
    outcome = isolated(lambda: onnxlite.loads(data, lazy=True))
    outcome.refused("<bytes>", "model", kind=ModelFormatError)


def _truncated_files(folder: str, data: bytes, offsets: list[int], lazy: bool) -> list[tuple[int, str, str]]:
    bad = []
    for n in offsets:
        path = os.path.join(folder, f"cut_{n}.onnx")
        with open(path, "wb") as f:
            f.write(data[:n])
        try:
            exercise(onnxlite.load(path, lazy=lazy))
        except OnnxliteError as e:
            if "\n" in str(e) or f"cut_{n}.onnx" not in str(e):
                bad.append((n, type(e).__name__, f"message does not name the file: {e}"))
        except BaseException as e:  # noqa: BLE001 - anything but OnnxliteError is the finding
            bad.append((n, type(e).__name__, str(e)[:300]))
        os.unlink(path)
    return bad


@pytest.mark.parametrize("lazy", LAZY)
def test_truncated_files_load_or_refuse_naming_the_file(tmp_path: Path, lazy: bool) -> None:
    offsets = sorted(set(range(0, len(REAL), 7)) | set(range(len(REAL) - 40, len(REAL))) | {1, 2, 3})
    outcome = isolated(_truncated_files, str(tmp_path), REAL, offsets, lazy, timeout=60)
    assert outcome.ok, outcome.message
    assert outcome.value == []


def test_truncated_memory_mapped_file(tmp_path: Path) -> None:
    # lazy=True memory-maps the file instead of reading it: a separate code path.
    big = np.arange(300_000, dtype=np.float32)
    proto = real_model()
    proto.graph.initializer.append(numpy_helper.from_array(big, "big"))
    data = proto.SerializeToString()
    assert len(data) > 1 << 20
    offsets = [0, 1, 5, 100, 2000, 600_000, len(data) // 2, len(data) - 3000, len(data) - 10, len(data) - 1]
    outcome = isolated(_truncated_files, str(tmp_path), data, offsets, True, timeout=60)
    assert outcome.ok, outcome.message
    assert outcome.value == []


# --- random corruption ---------------------------------------------------------------------------


def _mutants(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        data = bytearray(REAL)
        for _ in range(rng.choice((1, 1, 2, 5))):
            pos = rng.randrange(len(data))
            data[pos] = rng.choice((0x00, 0x7F, 0x80, 0xFF, rng.randrange(256)))
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("lazy", LAZY)
def test_random_byte_corruption_loads_or_refuses(lazy: bool) -> None:
    outcome = isolated(lambda: sweep(_mutants(1234, 3000), lazy), timeout=60)
    assert outcome.ok, outcome.message
    assert outcome.value == [], f"misbehaving mutants (index, error, message): {outcome.value}"


# --- corrupted varints, absurd lengths, bad wire types ----------------------------------------------

OVERLONG = b"\xff" * 10 + b"\x01"  # 11-byte varint
NODE_OK = wb.node("Relu", ["x"], ["y"], name="r0")


def _model_with_node(bad_node_body: bytes, pad: bool) -> bytes:
    inits = [PAD_INIT] if pad else []
    return wb.model(wb.graph(nodes=[NODE_OK, bad_node_body], initializers=inits))


def _corrupt_cases() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, the path the message must name). Every enclosing length is honest,
    so the bad spot is where the cases say."""
    cases: dict[str, tuple[bytes, str]] = {}
    for pad in (False, True):
        sfx = "_lazy" if pad else ""
        attr_bad_int = wb.sfield(wb.ATTR["name"], "axis") + wb.tag(wb.ATTR["i"], wb.VARINT) + OVERLONG
        tensor_bad_dims = (wb.lfield(wb.TENSOR["dims"], b"\x02" + OVERLONG)
                           + wb.vfield(wb.TENSOR["data_type"], 1))
        cases[f"varint11_model{sfx}"] = (
            wb.tag(wb.MODEL["ir_version"], wb.VARINT) + OVERLONG
            + wb.model(wb.graph(initializers=[PAD_INIT] if pad else [])),
            "model.ir_version")
        cases[f"varint11_node{sfx}"] = (
            _model_with_node(wb.node("Relu", ["x"], ["z"], attributes=[attr_bad_int]), pad),
            "model.graph.node[1].attribute[0]")
        cases[f"varint11_tensor{sfx}"] = (
            _model_with_node(wb.node("Constant", [], ["c"], attributes=[
                wb.attribute_tensor("value", tensor_bad_dims)]), pad),
            "model.graph.node[1].attribute[0].t.dims")
        cases[f"x80_run_to_eof{sfx}"] = (
            wb.model(wb.graph(initializers=[PAD_INIT] if pad else [])) + b"\x80" * 40, "model")
        cases[f"x80_run_as_length{sfx}"] = (
            wb.model(wb.graph(initializers=[PAD_INIT] if pad else [])) + wb.tag(6, wb.LEN) + b"\x80" * 12,
            "model.doc_string")
        # absurd lengths, one level at a time
        huge = 2**40
        cases[f"len2**40_model{sfx}"] = (
            wb.model(wb.graph(initializers=[PAD_INIT] if pad else []))
            + wb.tag(wb.MODEL["graph"], wb.LEN) + wb.varint(huge) + b"\x0a\x01",
            "model.graph")
        cases[f"len2**40_graph{sfx}"] = (
            wb.model(wb.graph(initializers=[PAD_INIT] if pad else [])
                     + wb.tag(wb.GRAPH["node"], wb.LEN) + wb.varint(huge) + b"\x22\x01R"),
            "model.graph.node")
        cases[f"len2**40_node{sfx}"] = (
            _model_with_node(NODE_OK + wb.tag(wb.NODE["attribute"], wb.LEN) + wb.varint(huge) + b"\x0a", pad),
            "model.graph.node[1].attribute")
        cases[f"len2**40_tensor{sfx}"] = (
            wb.model(wb.graph(initializers=([PAD_INIT] if pad else []) + [
                wb.tensor("w", dims=[1],
                          extra=wb.tag(wb.TENSOR["raw_data"], wb.LEN) + wb.varint(huge) + b"abcd")])),
            ".raw_data")
        # wire types 6 and 7, field number 0
        for wt in (6, 7):
            cases[f"wiretype{wt}_model{sfx}"] = (
                wb.model(wb.graph(initializers=[PAD_INIT] if pad else [])) + wb.tag(3, wt) + b"\x01", "model")
            cases[f"wiretype{wt}_node{sfx}"] = (
                _model_with_node(NODE_OK + wb.tag(wb.NODE["attribute"], wt) + b"\x01", pad),
                "model.graph.node[1]")
        cases[f"field0_model{sfx}"] = (
            wb.model(wb.graph(initializers=[PAD_INIT] if pad else [])) + wb.tag(0, wb.VARINT) + b"\x01",
            "model")
        cases[f"field0_tensor{sfx}"] = (
            wb.model(wb.graph(initializers=([PAD_INIT] if pad else []) + [
                wb.tensor("w", dims=[1], raw=b"abcd", extra=wb.tag(0, wb.LEN) + b"\x01x")])),
            "model.graph.initializer")
    return cases


CORRUPT = _corrupt_cases()


@pytest.mark.parametrize("lazy", LAZY)
@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_malformed_bytes_are_refused_naming_the_place(name: str, lazy: bool) -> None:
    data, where = CORRUPT[name]
    outcome = isolated(lambda: onnxlite.loads(data, lazy=lazy))
    outcome.refused("<bytes>", where, kind=ModelFormatError)


@pytest.mark.parametrize("lazy", LAZY)
@pytest.mark.parametrize("name", ["len2**40_tensor_lazy", "varint11_node_lazy", "wiretype7_node"])
def test_malformed_file_is_refused_naming_file_and_place(tmp_path: Path, name: str, lazy: bool) -> None:
    data, where = CORRUPT[name]
    path = tmp_path / "hostile.onnx"
    path.write_bytes(data)
    isolated(lambda: onnxlite.load(str(path), lazy=lazy)).refused("hostile.onnx", where,
                                                                  kind=ModelFormatError)


def _peak_alloc_of_loads(data: bytes, lazy: bool) -> int:
    tracemalloc.start()
    try:
        onnxlite.loads(data, lazy=lazy)
    except OnnxliteError:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("lazy", LAZY)
@pytest.mark.parametrize("name", ["len2**40_model", "len2**40_tensor_lazy", "len2**40_graph_lazy"])
def test_absurd_length_allocates_nothing_big(name: str, lazy: bool) -> None:
    outcome = isolated(_peak_alloc_of_loads, CORRUPT[name][0], lazy)
    assert outcome.ok, outcome.message
    assert outcome.value < 4 << 20, f"refusing a tiny file allocated {outcome.value} bytes"


# --- not an ONNX file at all ------------------------------------------------------------------------

NOT_ONNX = {
    "empty": b"",
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
            + bytes(40)),
    "text": b"This is not an ONNX model, just some words.\n" * 3,
    "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(50),
    "json": b'{"ir_version": 8, "graph": {"node": []}}\n',
    "zeros": bytes(64),
    "one_byte": b"\x08",
    "big_text": b"lorem ipsum dolor sit amet " * 200,
}


@pytest.mark.parametrize("lazy", LAZY)
@pytest.mark.parametrize("name", sorted(NOT_ONNX))
def test_non_onnx_bytes_are_refused(name: str, lazy: bool) -> None:
    isolated(lambda: onnxlite.loads(NOT_ONNX[name], lazy=lazy)).refused("<bytes>", kind=ModelFormatError)


@pytest.mark.parametrize("lazy", LAZY)
@pytest.mark.parametrize("name", sorted(NOT_ONNX))
def test_non_onnx_files_are_refused_naming_the_file(tmp_path: Path, name: str, lazy: bool) -> None:
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(NOT_ONNX[name])
    isolated(lambda: onnxlite.load(str(path), lazy=lazy)).refused(f"{name}.onnx", kind=ModelFormatError)


@pytest.mark.parametrize("lazy", LAZY)
def test_random_garbage_is_refused(lazy: bool) -> None:
    rng = random.Random(99)
    blobs = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) for _ in range(1500)]
    outcome = isolated(sweep, blobs, lazy, timeout=60)
    assert outcome.ok, outcome.message
    assert outcome.value == []


# --- model paths that are not regular files -----------------------------------------------------


def _special_path(tmp_path: Path, kind: str) -> Path:
    if kind == "directory":
        (tmp_path / "dir.onnx").mkdir()
        return tmp_path / "dir.onnx"
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe.onnx")
        return tmp_path / "pipe.onnx"
    if kind == "symlink_to_fifo":
        os.mkfifo(tmp_path / "pipe")
        os.symlink(tmp_path / "pipe", tmp_path / "link.onnx")
        return tmp_path / "link.onnx"
    if kind == "symlink_to_dev_zero":
        os.symlink("/dev/zero", tmp_path / "zero.onnx")
        return tmp_path / "zero.onnx"
    if kind == "missing":
        return tmp_path / "missing.onnx"
    return Path({"dev_null": "/dev/null", "dev_zero": "/dev/zero", "dev_urandom": "/dev/urandom"}[kind])


SPECIAL = ["directory", "fifo", "symlink_to_fifo", "symlink_to_dev_zero", "dev_null", "dev_zero",
           "dev_urandom",
           "missing"]


@pytest.mark.parametrize("lazy", [None, *LAZY])
@pytest.mark.parametrize("kind", SPECIAL)
def test_model_path_that_is_not_a_regular_file(tmp_path: Path, kind: str, lazy: bool | None) -> None:
    path = _special_path(tmp_path, kind)
    isolated(lambda: onnxlite.load(str(path), lazy=lazy), timeout=10).refused(path.name)


@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
def test_model_path_as_pathlike(tmp_path: Path, kind: str) -> None:
    path = _special_path(tmp_path, kind)
    isolated(onnxlite.load, path, timeout=10).refused(path.name)


# --- hostile tensors ----------------------------------------------------------------------------------

HUGE = 2**40

TENSOR_CASES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    # name -> (TensorProto body named 'w', fragments the .numpy() error must hold)
    "raw_too_short": (wb.tensor("w", dims=[4], raw=bytes(12)), ("raw_data", "12")),
    "raw_too_long": (wb.tensor("w", dims=[4], raw=bytes(20)), ("raw_data", "20")),
    "raw_too_short_lazy": (wb.tensor("w", dims=[1000], raw=bytes(3996)), ("raw_data", "3996")),
    "huge_dims_tiny_raw": (wb.tensor("w", dims=[HUGE, HUGE], raw=bytes(4)), ()),
    "huge_dims_tiny_float_data": (wb.tensor("w", dims=[HUGE, HUGE], float_data=[1.0]), ()),
    "2**31_squared_tiny_raw": (wb.tensor("w", dims=[2**31, 2**31], raw=bytes(4)), ()),
    "2**31_squared_tiny_float_data": (wb.tensor("w", dims=[2**31, 2**31], float_data=[1.0]), ()),
    "2**31_squared_int64_data": (wb.tensor("w", dims=[2**31, 2**31], data_type=wb.INT64, int64_data=[1]), ()),
    "huge_dims_string": (wb.tensor("w", dims=[2**31, 2**31], data_type=8,
                                   extra=wb.lfield(wb.TENSOR["string_data"], b"abc")), ()),
    "negative_dim": (wb.tensor("w", dims=[-1, 4], raw=bytes(16)), ("-1",)),
    "negative_dim_typed": (wb.tensor("w", dims=[2, -3], float_data=[1.0] * 6), ("-3",)),
    "data_type_99": (wb.tensor("w", dims=[1], data_type=99, raw=bytes(4)), ("99",)),
    "data_type_undefined": (wb.tensor("w", dims=[1], data_type=0, raw=bytes(4)), ()),
    "segment": (wb.tensor("w", dims=[2], raw=bytes(8), segment=(0, 2)), ("segment",)),
    "float_data_count": (wb.tensor("w", dims=[2], float_data=[1.0, 2.0, 3.0]), ("float_data", "3")),
    "int64_data_count": (wb.tensor("w", dims=[3], data_type=wb.INT64, int64_data=[1]), ("int64_data",)),
    "wrong_typed_field": (wb.tensor("w", dims=[1], int64_data=[1]), ("int64_data",)),
    "string_with_raw": (wb.tensor("w", dims=[1], data_type=8, raw=b"abcd"), ()),
}


def _tensor_model(tensor_body: bytes, as_attribute: bool) -> bytes:
    if as_attribute:
        const = wb.node("Constant", [], ["w"], name="c",
                        attributes=[wb.attribute_tensor("value", tensor_body)])
        return wb.model(wb.graph(nodes=[const], initializers=[SMALL_INIT], outputs=["w"]))
    return wb.model(wb.graph(initializers=[tensor_body, SMALL_INIT]))


def _hostile_tensor(data: bytes, lazy: bool) -> dict[str, Any]:
    """Load, find tensor 'w', try everything; report what raised (numpy must) and the peak
    Python allocation while decoding."""
    model = onnxlite.loads(data, lazy=lazy)
    found = [(where, t) for where, t in model.tensors() if t.name == "w"]
    assert len(found) == 1
    tensor = found[0][1]
    repr(tensor)  # must never raise
    report: dict[str, Any] = {}
    for prop in ("dtype", "shape", "nbytes", "location"):
        try:
            getattr(tensor, prop)
        except OnnxliteError:
            pass
    tracemalloc.start()
    try:
        tensor.numpy()
        report["numpy"] = "returned"
    except BaseException as e:  # noqa: BLE001 - which type comes out is what is checked
        report["numpy"] = (tuple(c.__name__ for c in type(e).__mro__), str(e))
    report["peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the rest of the model stays usable
    report["other"] = model.graph.initializers["s"].numpy().tolist()
    return report


@pytest.mark.parametrize("lazy", LAZY)
@pytest.mark.parametrize("as_attribute", [False, True], ids=["initializer", "attribute"])
@pytest.mark.parametrize("name", sorted(TENSOR_CASES))
def test_hostile_tensor_loads_and_numpy_refuses_naming_it(name: str, as_attribute: bool, lazy: bool) -> None:
    body, fragments = TENSOR_CASES[name]
    outcome = isolated(_hostile_tensor, _tensor_model(body, as_attribute), lazy, timeout=10)
    assert outcome.ok, f"load or a plain property failed: {outcome.types[:1]} {outcome.message}"
    report = outcome.value
    assert report["other"] == [1.0, 2.0]
    assert report["numpy"] != "returned", "a hostile tensor decoded without complaint"
    types, message = report["numpy"]
    assert "ModelFormatError" in types, f"{types[0]}: {message}"
    assert "\n" not in message
    # the tensor's place (its exact spelling is the library's) and its name
    where = ("node[0]", "attribute") if as_attribute else ("initializer[0]",)
    for fragment in (*where, "'w'", *fragments):
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert report["peak"] < 1 << 20, f"refusing a tiny tensor allocated {report['peak']} bytes"


@pytest.mark.parametrize("lazy", LAZY)
def test_raw_data_wins_over_typed_field(lazy: bool) -> None:
    # onnx.proto: "Data is stored in raw_data (if set) otherwise in type-specified field", so a
    # tensor with both may decode to raw_data's values; refusing it is also fine. Nothing else is.
    model = onnxlite.loads(_tensor_model(wb.tensor("w", dims=[1], float_data=[1.0], raw=bytes(4)), False),
                           lazy=lazy)
    try:
        assert model.graph.initializers["w"].numpy().tolist() == [0.0]
    except OnnxliteError as e:
        assert "'w'" in str(e)


def test_data_type_99_error_names_the_tensor() -> None:
    # The minimal form of the data_type_99 case above, in process.
    model = onnxlite.loads(_tensor_model(TENSOR_CASES["data_type_99"][0], False))
    with pytest.raises(ModelFormatError, match=r"initializer\[0\].*'w'.*99"):
        model.graph.initializers["w"].numpy()


def test_hostile_sparse_tensor_is_refused() -> None:
    values = wb.tensor("sv", dims=[1], raw=struct.pack("<f", 1.0))
    for dims, idx in (
        ([HUGE, HUGE], wb.tensor("si", dims=[1, 2], data_type=wb.INT64, raw=bytes(16))),
        ([2**31, 2**31], wb.tensor("si", dims=[1, 2], data_type=wb.INT64, raw=bytes(16))),
        ([4], wb.tensor("si", dims=[1], data_type=wb.INT64, raw=struct.pack("<q", 7))),
        ([4], wb.tensor("si", dims=[1], data_type=wb.INT64, raw=struct.pack("<q", -1))),
        ([-4], wb.tensor("si", dims=[1], data_type=wb.INT64, raw=struct.pack("<q", 0))),
    ):
        sparse = wb.lfield(1, values) + wb.lfield(2, idx) + wb.packed_varints(3, dims)
        model = onnxlite.loads(wb.model(wb.graph() + wb.lfield(15, sparse)))
        with pytest.raises(ModelFormatError, match=r"graph\.sparse_initializer\[0\]"):
            model.graph.sparse_initializers[0].numpy()


# --- recursion bombs ------------------------------------------------------------------------------


def _typeproto_bomb(depth: int) -> bytes:
    inner = wb.lfield(1, wb.vfield(1, 1))  # TypeProto{tensor_type{elem_type: FLOAT}}
    for _ in range(depth):
        inner = wb.lfield(4, wb.lfield(1, inner))  # TypeProto{sequence_type{elem_type: inner}}
    vi = wb.sfield(1, "x") + wb.lfield(2, inner)
    return wb.model(wb.graph(outputs=[]) + wb.lfield(wb.GRAPH["input"], vi))


def _graphs_bomb(depth: int) -> bytes:
    body = wb.graph("leaf")
    for level in range(depth):
        attr = (wb.sfield(wb.ATTR["name"], "body") + wb.vfield(wb.ATTR["type"], wb.ATTR_GRAPHS)
                + wb.lfield(wb.ATTR["graphs"], body))
        body = wb.graph(f"g{level}", nodes=[wb.node("Custom", [], [f"y{level}"], attributes=[attr])])
    return wb.model(body)


BOMBS = {
    "if_150": lambda: wb.model(wb.nested_if(150)),
    "if_1000": lambda: wb.model(wb.nested_if(1000)),
    "graphs_1000": lambda: _graphs_bomb(1000),
    "typeproto_1000": lambda: _typeproto_bomb(1000),
    "if_1000_lazy": lambda: wb.model(wb.nested_if(1000, wb.graph("leaf", initializers=[PAD_INIT]))),
}


@pytest.mark.parametrize("lazy", LAZY)
@pytest.mark.parametrize("name", sorted(BOMBS))
def test_recursion_bomb_is_refused_without_recursion_error(name: str, lazy: bool, tmp_path: Path) -> None:
    data = BOMBS[name]()
    isolated(lambda: onnxlite.loads(data, lazy=lazy), timeout=30).refused("<bytes>", "deep",
                                                                          kind=ModelFormatError)
    path = tmp_path / "bomb.onnx"
    path.write_bytes(data)
    isolated(lambda: onnxlite.load(str(path), lazy=lazy), timeout=30).refused("bomb.onnx",
                                                                              kind=ModelFormatError)


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    return depth


def _walk_deep_model_with_tight_stack(data: bytes) -> dict[str, Any]:
    model = onnxlite.loads(data)
    # A recursive walk over ~30 nested graphs needs far more than 40 extra frames.
    sys.setrecursionlimit(_stack_depth() + 40)
    tensors = [where for where, _ in model.tensors()]
    values = [t.numpy().tolist() for _, t in model.tensors()]
    uses = [(n.name, i) for n, i in model.graph.value("c").uses]
    all_values = sorted(model.graph.values)
    return {"tensors": len(tensors), "deepest": max(tensors, key=len), "values": values, "uses": len(uses),
            "names": all_values}


def test_deepest_loadable_model_walks_without_recursion() -> None:
    # Protobuf refuses more than 100 nested messages; find the deepest If chain that still
    # loads, then walk it with almost no stack to spare.
    depth = 40
    while depth > 0:
        outcome = isolated(onnxlite.loads, wb.model(wb.nested_if(depth)))
        if outcome.ok:
            break
        outcome.refused("deep", kind=ModelFormatError)
        depth -= 1
    assert depth >= 20
    # every level reads 'c' from the outermost scope
    outcome = isolated(_walk_deep_model_with_tight_stack, wb.model(wb.nested_if(depth)))
    assert outcome.ok, f"{outcome.types[:1]} {outcome.message}"
    assert outcome.value["tensors"] == 1
    assert outcome.value["values"] == [[1.0]]
    assert outcome.value["uses"] == depth
    assert outcome.value["deepest"].count(".g.") == depth


def _deep_inner_value_lookup(data: bytes) -> str:
    model = onnxlite.loads(data)
    graph = model.graph
    while graph.nodes:
        graph = graph.nodes[0].subgraphs()[0]
    try:
        graph.value("nowhere")
    except KeyError:
        return graph.value("c").kind + "/KeyError"
    return graph.value("c").kind + "/found"


def test_deepest_graph_scope_lookup_works() -> None:
    outcome = isolated(_deep_inner_value_lookup, wb.model(wb.nested_if(30)))
    assert outcome.ok, f"{outcome.types[:1]} {outcome.message}"
    # 'c' is read but never defined (no graph input declares it); 'nowhere' is neither defined nor read
    assert outcome.value == "undefined/KeyError"


# --- external data -------------------------------------------------------------------------------------

PAYLOAD = np.arange(4, dtype=np.float32)


def _ext_model(entries: list[tuple[str, str]], dims: tuple[int, ...] = (4,)) -> bytes:
    return wb.model(wb.graph(initializers=[wb.tensor("w", dims=dims, external=entries), SMALL_INIT]))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """tmp_path/model/ with data.bin (the payload), sub/, and tmp_path/outside/secret.bin."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "data.bin").write_bytes(PAYLOAD.tobytes())
    (model_dir / "sub").mkdir()
    (model_dir / "sub" / "inner.bin").write_bytes(PAYLOAD.tobytes())
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(b"S" * 16)
    return model_dir


def _opened_paths_while(fn: Callable[[], Any]) -> tuple[list[str], Outcome]:
    """Run fn recording every path handed to os.open / open (resolved)."""
    opened: list[str] = []
    real_os_open, real_open = os.open, builtins.open

    def spy_os_open(path: Any, *a: Any, **k: Any) -> int:
        opened.append(os.fsdecode(os.path.realpath(path)))
        return real_os_open(path, *a, **k)

    def spy_open(file: Any, *a: Any, **k: Any) -> Any:
        if isinstance(file, (str, bytes, os.PathLike)):
            opened.append(os.fsdecode(os.path.realpath(file)))
        return real_open(file, *a, **k)

    os.open, builtins.open, _io.open = spy_os_open, spy_open, spy_open  # type: ignore[assignment]
    try:
        try:
            out = Outcome(True, fn())
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            out = Outcome(False, None, tuple(c.__name__ for c in type(e).__mro__), str(e))
    finally:
        os.open, builtins.open, _io.open = real_os_open, real_open, real_open  # type: ignore[assignment]
    return opened, out


def _read_external(model_path: str) -> tuple[list[str], Outcome]:
    model = onnxlite.load(model_path)
    tensor = model.graph.initializers["w"]
    return _opened_paths_while(lambda: tensor.numpy().tolist())


def _setup_external(folder: Path, case: str) -> tuple[list[tuple[str, str]], str]:
    """(external_data entries, what the message must name) for one hostile case."""
    secret = str(folder.parent / "outside" / "secret.bin")
    if case == "symlink_outside":
        os.symlink(secret, folder / "link.bin")
        return [("location", "link.bin")], "link.bin"
    if case == "symlinked_dir_outside":
        os.symlink(folder.parent / "outside", folder / "linkdir")
        return [("location", "linkdir/secret.bin")], "linkdir/secret.bin"
    if case == "symlink_dev_zero":
        os.symlink("/dev/zero", folder / "zero.bin")
        return [("location", "zero.bin"), ("length", "16")], "zero.bin"
    if case == "fifo":
        os.mkfifo(folder / "pipe.bin")
        return [("location", "pipe.bin")], "pipe.bin"
    if case == "symlink_to_fifo":
        os.mkfifo(folder / "pipe")
        os.symlink(folder / "pipe", folder / "pipe.bin")
        return [("location", "pipe.bin")], "pipe.bin"
    locations = {
        "absolute": secret,
        "dotdot": "../outside/secret.bin",
        "nested_dotdot": "sub/../../outside/secret.bin",
        "backslash_dotdot": "..\\outside\\secret.bin",
        "windows_drive": "C:\\outside\\secret.bin",
        "windows_drive_slash": "C:/outside/secret.bin",
        "unc": "\\\\server\\share\\secret.bin",
        "nul_byte": "data.bin\x00../../outside/secret.bin",
        "empty": "",
        "directory": "sub",
        "dot": ".",
    }
    return [("location", locations[case])], repr(locations[case])[1:-1] if case != "empty" else "location"


UNSAFE = ["absolute", "dotdot", "nested_dotdot", "backslash_dotdot", "windows_drive", "windows_drive_slash",
          "unc", "nul_byte", "symlink_outside", "symlinked_dir_outside", "symlink_dev_zero", "empty"]
NOT_REGULAR = ["directory", "dot", "fifo", "symlink_to_fifo"]


@pytest.mark.parametrize("case", UNSAFE + NOT_REGULAR)
def test_unsafe_external_location_is_refused_before_reading(folder: Path, case: str) -> None:
    entries, named = _setup_external(folder, case)
    model_path = folder / "model.onnx"
    model_path.write_bytes(_ext_model(entries))
    outcome = isolated(_read_external, str(model_path), timeout=5)
    assert outcome.ok, f"load itself failed: {outcome.types[:1]} {outcome.message}"  # load is lazy
    opened, result = outcome.value
    result.refused("initializer[0]", "'w'", kind=ExternalDataError)
    if case in UNSAFE:
        assert "UnsafePathError" in result.types, result.message
    if case not in ("nul_byte", "empty"):
        assert named in result.message
    secret = os.path.realpath(folder.parent / "outside" / "secret.bin")
    assert secret not in opened, "the file outside the model folder was opened"
    assert "/dev/zero" not in opened


def test_unsafe_external_location_is_refused_by_external_path_and_raw_bytes(folder: Path) -> None:
    (folder / "model.onnx").write_bytes(_ext_model([("location", "../outside/secret.bin")]))
    tensor = onnxlite.load(folder / "model.onnx").graph.initializers["w"]
    assert tensor.location == "external" and tensor.shape == (4,)  # metadata needs no file
    for access in (tensor.external_path, tensor.raw_bytes, tensor.numpy):
        with pytest.raises(UnsafePathError, match="outside"):
            access()


@pytest.mark.parametrize("target", ["data.bin", "sub/inner.bin"])
def test_symlink_staying_inside_is_allowed(folder: Path, target: str) -> None:
    os.symlink(folder / target, folder / "link.bin")
    (folder / "model.onnx").write_bytes(_ext_model([("location", "link.bin")]))
    np.testing.assert_array_equal(onnxlite.load(folder / "model.onnx").graph.initializers["w"].numpy(),
                                  PAYLOAD)


def test_relative_symlink_in_subfolder_staying_inside_is_allowed(folder: Path) -> None:
    os.symlink("../data.bin", folder / "sub" / "up.bin")
    (folder / "model.onnx").write_bytes(_ext_model([("location", "sub/up.bin")]))
    np.testing.assert_array_equal(onnxlite.load(folder / "model.onnx").graph.initializers["w"].numpy(),
                                  PAYLOAD)


BOUNDS = {
    # name -> (extra entries, dims)
    "offset_past_end": ([("offset", "100")], (4,)),
    "offset_at_end_with_length": ([("offset", "16"), ("length", "16")], (4,)),
    "length_past_end": ([("offset", "0"), ("length", "1000")], (250,)),
    "offset_plus_length_past_end": ([("offset", "8"), ("length", "16")], (4,)),
    "overflow_2**63": ([("offset", str(2**63)), ("length", str(2**63))], (4,)),
    "overflow_2**64": ([("offset", str(2**64 - 8)), ("length", "16")], (4,)),
    "huge_length": ([("length", str(2**62))], (4,)),
}


@pytest.mark.parametrize("case", sorted(BOUNDS))
def test_external_range_outside_the_file_is_refused(folder: Path, case: str) -> None:
    extra, dims = BOUNDS[case]
    (folder / "model.onnx").write_bytes(_ext_model([("location", "data.bin"), *extra], dims))
    tensor = onnxlite.load(folder / "model.onnx").graph.initializers["w"]
    for access in (tensor.numpy, tensor.raw_bytes):
        with pytest.raises(ExternalDataError) as info:
            access()
        assert "data.bin" in str(info.value) and "'w'" in str(info.value)


@pytest.mark.parametrize("value", ["12abc", "-5", "0x10", "1e3", " 12", "12 ", "+4", "²", "١٢", "4.0", "nan"])
@pytest.mark.parametrize("key", ["offset", "length"])
def test_non_numeric_offset_or_length_is_refused(folder: Path, key: str, value: str) -> None:
    (folder / "model.onnx").write_bytes(_ext_model([("location", "data.bin"), (key, value)]))
    tensor = onnxlite.load(folder / "model.onnx").graph.initializers["w"]
    try:
        array = tensor.numpy()
    except OnnxliteError as e:
        # '١٢' (Arabic-Indic twelve) is a decimal number to Python's int(); reading it as 12 and
        # then refusing the range or the size is fine too.
        assert (key in str(e) or value == "١٢") and "'w'" in str(e), str(e)
    except BaseException as e:  # noqa: BLE001 - the point is which type comes out
        pytest.fail(f"{key}={value!r}: {type(e).__name__}: {e}")
    else:
        # Only a value that really is a decimal number may be accepted.
        assert value == "١٢" and key == "offset", f"{key}={value!r} was accepted"
        assert array.shape == (4,)


def test_missing_location_key_is_refused(folder: Path) -> None:
    (folder / "model.onnx").write_bytes(_ext_model([("offset", "0"), ("length", "16")]))
    tensor = onnxlite.load(folder / "model.onnx").graph.initializers["w"]
    with pytest.raises(ExternalDataError, match=r"initializer\[0\].*'w'.*location"):
        tensor.numpy()


def test_missing_data_file_loads_and_fails_on_access(folder: Path) -> None:
    (folder / "model.onnx").write_bytes(_ext_model([("location", "gone.bin")]))
    model = onnxlite.load(folder / "model.onnx")
    tensor = model.graph.initializers["w"]
    assert tensor.shape == (4,) and tensor.location == "external"
    assert model.graph.initializers["s"].numpy().tolist() == [1.0, 2.0]
    with pytest.raises(ExternalDataError) as info:
        tensor.numpy()
    message = str(info.value)
    assert "gone.bin" in message and "initializer[0]" in message and "'w'" in message and "\n" not in message


def test_external_length_disagreeing_with_shape(folder: Path) -> None:
    (folder / "model.onnx").write_bytes(_ext_model([("location", "data.bin"), ("length", "8")]))
    with pytest.raises(ModelFormatError, match=r"'w'.*8 bytes"):
        onnxlite.load(folder / "model.onnx").graph.initializers["w"].numpy()


def test_external_data_from_bytes_without_base_dir(folder: Path) -> None:
    data = _ext_model([("location", "data.bin")])
    model = onnxlite.loads(data)
    assert model.graph.initializers["w"].shape == (4,)
    with pytest.raises(ExternalDataError, match=r"'w'.*data\.bin.*base_dir"):
        model.graph.initializers["w"].numpy()
    # and with a base_dir the same bytes read fine, still inside that folder only
    np.testing.assert_array_equal(onnxlite.loads(data, base_dir=folder).graph.initializers["w"].numpy(),
                                  PAYLOAD)
    unsafe = onnxlite.loads(_ext_model([("location", "../outside/secret.bin")]), base_dir=folder)
    with pytest.raises(UnsafePathError):
        unsafe.graph.initializers["w"].numpy()


def test_external_data_in_a_stream_without_base_dir(folder: Path) -> None:
    stream = _io.BytesIO(_ext_model([("location", "data.bin")]))
    model = onnxlite.load(stream)
    with pytest.raises(ExternalDataError, match="base_dir"):
        model.graph.initializers["w"].numpy()


def test_hostile_external_model_does_not_save_elsewhere(folder: Path, tmp_path: Path) -> None:
    # Saving to another folder copies external data; an unsafe location must stop that too,
    # before anything is written.
    (folder / "model.onnx").write_bytes(_ext_model([("location", "../outside/secret.bin")]))
    model = onnxlite.load(folder / "model.onnx")
    out = tmp_path / "elsewhere"
    out.mkdir()
    with pytest.raises(UnsafePathError):
        onnxlite.save(model, out / "copy.onnx")
    assert list(out.iterdir()) == []
