"""Saving safely: atomic writes, no mutation of the caller's model, no appending to data files,
exact size_threshold, umask permissions, the 2 GiB limit, and huge sparse external data.

`onnx` is the oracle for reading what onnxlite writes. Big files are sparse (os.truncate), so the
multi-gigabyte cases take no disk and no time.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sys
from collections.abc import Iterator
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
from onnxlite import ExternalDataError, ModelFormatError, OnnxliteError, SaveError, UnsafePathError
from onnxlite._storage import writer

# --- a model with every kind of tensor storage ------------------------------------------------

W = np.arange(64 * 64, dtype=np.float32).reshape(64, 64) / 7  # 16 KiB: external
A = np.arange(300, dtype=np.int64) * -3  # 2400 bytes
B = np.arange(8, dtype=np.float32)  # 32 bytes: stays embedded
TYPED = np.linspace(-1, 1, 512, dtype=np.float32)  # 2048 bytes in float_data, not raw_data
CONST = np.arange(256, dtype=np.float32) + 0.5  # 1024 bytes in a node attribute
EXPECTED = {"w": W, "a": A, "b": B, "typed": TYPED}


def make_model() -> onnx.ModelProto:
    typed = oh.make_tensor("typed", OnnxTensor.FLOAT, [512], TYPED.tolist())
    strings = oh.make_tensor("names", OnnxTensor.STRING, [2], [b"alpha", b"beta"])  # type: ignore[list-item]
    nodes = [
        oh.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
        oh.make_node("Constant", [], ["k"], name="const", value=numpy_helper.from_array(CONST, "k")),
        oh.make_node("Add", ["y", "k"], ["z"], name="add"),
    ]
    graph = oh.make_graph(
        nodes, "g", [oh.make_tensor_value_info("x", OnnxTensor.FLOAT, [1, 64])],
        [oh.make_tensor_value_info("z", OnnxTensor.FLOAT, [1, 64])],
        initializer=[numpy_helper.from_array(W, "w"), numpy_helper.from_array(A, "a"),
                     numpy_helper.from_array(B, "b"), typed, strings])
    return oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])


def values_of(model: onnxlite.Model) -> dict[str, np.ndarray]:
    out = {name: np.array(model.graph.initializers[name].numpy()) for name in EXPECTED}
    out["k"] = np.array(model.graph.nodes[1].attributes["value"].value.numpy())
    return out


def check_values(values: dict[str, np.ndarray]) -> None:
    for name, expected in {**EXPECTED, "k": CONST}.items():
        np.testing.assert_array_equal(values[name], expected, err_msg=name)


def check_with_onnx(path: Path) -> None:
    """The oracle reads the saved file (and its external data) to the same arrays."""
    proto = onnx.load(str(path))
    found = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    for name, expected in EXPECTED.items():
        np.testing.assert_array_equal(found[name], expected, err_msg=name)
    names = numpy_helper.to_array(found_tensor(proto, "names")).tolist()
    assert [s.decode() if isinstance(s, bytes) else s for s in names] == ["alpha", "beta"]
    np.testing.assert_array_equal(numpy_helper.to_array(proto.graph.node[1].attribute[0].t), CONST)


def found_tensor(proto: onnx.ModelProto, name: str) -> onnx.TensorProto:
    return next(t for t in proto.graph.initializer if t.name == name)


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every entry under ``folder`` (hidden ones too): relative name -> (content hash, mode)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            rel = str(path.relative_to(folder))
            st = os.lstat(path)
            if path.is_symlink():
                out[rel] = ("link:" + os.readlink(path), st.st_mode)
            elif path.is_file():
                out[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mode)
            else:
                out[rel] = ("dir", st.st_mode)
    return out


def stray(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp"))


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """src/model.onnx with external data in src/weights.bin, written by the onnx package."""
    folder = tmp_path / "src"
    folder.mkdir()
    onnx.save(make_model(), str(folder / "model.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location="weights.bin", size_threshold=1024)
    return folder / "model.onnx"


@pytest.fixture
def embedded(tmp_path: Path) -> Path:
    path = tmp_path / "embedded.onnx"
    onnx.save(make_model(), str(path))
    return path


@pytest.fixture
def dst(tmp_path: Path) -> Path:
    """dst/ holding a previous, unrelated model.onnx + model.onnx.data pair and another file."""
    folder = tmp_path / "dst"
    folder.mkdir()
    old = make_model()
    old.producer_name = "previous"
    onnx.save(old, str(folder / "model.onnx"), save_as_external_data=True, location="model.onnx.data",
              size_threshold=0)
    (folder / "notes.txt").write_text("keep me")
    return folder


def test_baseline_external_model_reads(src: Path) -> None:
    model = onnxlite.load(src)
    assert model.graph.initializers["w"].location == "external"
    check_values(values_of(model))


# --- atomic: a refused or failed save leaves everything as it was ----------------------------

REFUSALS: dict[str, dict[str, Any]] = {
    "location_dotdot": {"external_data": True, "location": "../escape.bin"},
    "location_nested_dotdot": {"external_data": True, "location": "sub/../../escape.bin"},
    "location_backslash": {"external_data": True, "location": "..\\escape.bin"},
    "location_absolute": {"external_data": True, "location": "/tmp/onnxlite-escape.bin"},
    "location_drive": {"external_data": True, "location": "C:\\escape.bin"},
    "location_nul": {"external_data": True, "location": "w\x00.bin"},
    "location_is_model": {"external_data": True, "location": "model.onnx"},
    "location_is_model_dot": {"external_data": True, "location": "./model.onnx"},
    "location_under_model_file": {"external_data": True, "location": "model.onnx/w.bin"},
    "location_dotdot_per_tensor": {"external_data": True, "location": "../escape", "per_tensor": True},
    "negative_threshold": {"external_data": True, "size_threshold": -1},
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_save_leaves_previous_files_intact(src: Path, dst: Path, case: str) -> None:
    model = onnxlite.load(src)
    before_model = model.proto.SerializeToString()
    before = snapshot(dst)
    with pytest.raises(OnnxliteError) as info:
        onnxlite.save(model, dst / "model.onnx", **REFUSALS[case])
    assert "\n" not in str(info.value)
    assert snapshot(dst) == before, "a refused save changed the destination folder"
    assert not (dst.parent / "escape.bin").exists() and not Path("/tmp/onnxlite-escape.bin").exists()
    assert model.proto.SerializeToString() == before_model
    check_values(values_of(model))


@pytest.mark.parametrize("case", ["location_dotdot", "location_is_model"])
def test_refusal_messages_say_what_is_wrong(src: Path, dst: Path, case: str) -> None:
    with pytest.raises(OnnxliteError) as info:
        onnxlite.save(onnxlite.load(src), dst / "model.onnx", **REFUSALS[case])
    message = str(info.value)
    assert REFUSALS[case]["location"] in message
    if case == "location_dotdot":
        assert isinstance(info.value, UnsafePathError)
    else:
        assert "model file" in message


def _counting_write_piece(fail_at: int | None, exc: BaseException | None) -> tuple[Any, dict[str, int]]:
    """A stand-in for the io module's piece writer that counts calls and raises ``exc`` at call
    number ``fail_at`` (0-based): a disk filling up or an interrupt in the middle of a save."""
    real = writer._write_piece
    count = {"n": 0}

    def write_piece(fd: int, piece: Any) -> int:
        n = count["n"]
        count["n"] += 1
        if fail_at is not None and n == fail_at and exc is not None:
            raise exc
        return real(fd, piece)

    return write_piece, count


@pytest.mark.parametrize("exc", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk_full", "interrupt"])
@pytest.mark.parametrize("when", ["first", "middle", "last"])
@pytest.mark.parametrize("options", [{"external_data": True}, {"external_data": True, "per_tensor": True},
                                     {"external_data": False}, {}],
                         ids=["external", "per_tensor", "embed", "keep"])
def test_write_failing_midway_leaves_no_trace(
    src: Path, dst: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException, when: str,
    options: dict[str, Any]
) -> None:
    model = onnxlite.load(src)
    # a dry run elsewhere counts the pieces this save writes
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    counter, count = _counting_write_piece(None, None)
    monkeypatch.setattr(writer, "_write_piece", counter)
    onnxlite.save(model, scratch / "model.onnx", **options)
    total = count["n"]
    assert total >= 1
    fail_at = {"first": 0, "middle": total // 2, "last": total - 1}[when]
    before = snapshot(dst)
    monkeypatch.setattr(writer, "_write_piece", _counting_write_piece(fail_at, exc)[0])
    with pytest.raises(type(exc)):
        onnxlite.save(model, dst / "model.onnx", **options)
    monkeypatch.undo()
    assert stray(dst) == []
    assert snapshot(dst) == before
    check_values(values_of(model))


def test_failure_between_renames_leaves_previous_model_consistent(
    src: Path, dst: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data file is renamed into place before the model file. If the model's rename then
    fails, the previous model.onnx must still read its own, previous weights: a previous model
    paired with new data would give wrong values without any error."""
    previous = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(dst / "model.onnx")).graph.initializer
                if t.data_type != OnnxTensor.STRING}
    model = onnxlite.load(src)
    real_replace = os.replace

    def replace(a: Any, b: Any) -> None:
        if Path(b).name == "model.onnx":
            raise OSError(errno.EIO, "simulated failure")
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError):
        # a different layout from the previous pair: onnxlite aligns offsets, onnx does not
        onnxlite.save(model, dst / "model.onnx", external_data=True, location="model.onnx.data",
                      size_threshold=0)
    monkeypatch.undo()
    assert stray(dst) == []
    reread = onnx.load(str(dst / "model.onnx"))
    assert reread.producer_name == "previous"
    for t in reread.graph.initializer:
        if t.data_type != OnnxTensor.STRING:
            np.testing.assert_array_equal(numpy_helper.to_array(t), previous[t.name], err_msg=t.name)


def test_successful_save_leaves_no_temporary_files(src: Path, dst: Path) -> None:
    model = onnxlite.load(src)
    for options in ({}, {"external_data": True}, {"external_data": False},
                    {"external_data": True, "per_tensor": True, "location": "tensors"}):
        onnxlite.save(model, dst / "model.onnx", **options)
        assert stray(dst) == []
        check_with_onnx(dst / "model.onnx")


def test_save_into_missing_folder_or_onto_a_directory(src: Path, tmp_path: Path) -> None:
    model = onnxlite.load(src)
    with pytest.raises(SaveError):
        onnxlite.save(model, tmp_path / "nowhere" / "model.onnx")
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "adir").mkdir()
    with pytest.raises(SaveError):
        onnxlite.save(model, tmp_path / "adir")
    assert list((tmp_path / "adir").iterdir()) == []


# --- the 2 GiB limit and huge sparse external data -------------------------------------------


def _vm_rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _sparse_external_model(folder: Path, nbytes: int, dtype: int = wb.UINT8, itemsize: int = 1) -> Path:
    """folder/big.onnx whose tensor 'big' lives in a sparse folder/big.bin of ``nbytes`` bytes;
    the first page holds a known pattern."""
    data = folder / "big.bin"
    with open(data, "wb") as f:
        f.write(bytes(range(256)) * 16)
    os.truncate(data, nbytes)
    assert os.stat(data).st_blocks * 512 < 1 << 20, "the file system does not make sparse files"
    dims = [nbytes // itemsize]
    body = wb.model(wb.graph(initializers=[
        wb.tensor("big", dims=dims, data_type=dtype,
                  external=[("location", "big.bin"), ("length", str(nbytes))]),
        wb.tensor("small", dims=[2], raw=np.array([1.5, 2.5], np.float32).tobytes()),
    ]))
    (folder / "big.onnx").write_bytes(body)
    return folder / "big.onnx"


def _disk_usage(folder: Path) -> int:
    return sum(os.lstat(p).st_blocks * 512 for p in folder.rglob("*"))


LINUX = pytest.mark.skipif(sys.platform != "linux", reason="needs /proc/self/status and sparse files")


@LINUX
def test_model_over_2gib_cannot_be_embedded(tmp_path: Path, dst: Path) -> None:
    path = _sparse_external_model(tmp_path, 2**31 + 4096)
    model = onnxlite.load(path)
    before_model = model.proto.SerializeToString()
    before, usage, rss = snapshot(dst), _disk_usage(dst), _vm_rss()
    with pytest.raises(SaveError) as info:
        onnxlite.save(model, dst / "model.onnx", external_data=False)
    assert "external_data=True" in str(info.value) and "\n" not in str(info.value)
    assert snapshot(dst) == before and _disk_usage(dst) == usage
    assert _vm_rss() - rss < 64 << 20  # refused before reading the data (timed in tools/bench_storage.py)
    assert model.proto.SerializeToString() == before_model
    # and the way the message suggests works, without copying a byte more than needed
    assert model.graph.initializers["big"].numpy()[:4].tolist() == [0, 1, 2, 3]


@LINUX
@pytest.mark.parametrize("lazy", [None, True, False])
def test_8gib_external_tensor_loads_in_constant_memory(tmp_path: Path, lazy: bool | None) -> None:
    path = _sparse_external_model(tmp_path, 8 << 30, wb.FLOAT, 4)
    rss = _vm_rss()
    model = onnxlite.load(path, lazy=lazy)
    tensor = model.graph.initializers["big"]
    assert tensor.shape == (2**31,) and tensor.nbytes == 8 << 30
    array = tensor.numpy()
    window = np.array(array[1000:1010])
    tail = np.array(array[-4:])
    expected = np.frombuffer(bytes(range(256)) * 16, dtype="<f4")[1000:1010]
    np.testing.assert_array_equal(window, expected)
    assert tail.tolist() == [0.0] * 4
    assert [t for _, t in model.tensors()][1].numpy().tolist() == [1.5, 2.5]
    assert _vm_rss() - rss < 64 << 20, "reading one slice of a sparse 8 GiB file grew RSS"
    assert not array.flags.writeable


# --- save never mutates the caller's model ---------------------------------------------------

OPTIONS = [
    {},
    {"external_data": True},
    {"external_data": True, "size_threshold": 0},
    {"external_data": True, "location": "weights.bin"},
    {"external_data": True, "per_tensor": True},
    {"external_data": True, "per_tensor": True, "location": "tensors"},
    {"external_data": False},
]


def _ids(options: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items()) or "default"


@pytest.mark.parametrize("options", OPTIONS, ids=_ids)
@pytest.mark.parametrize("origin", ["external", "embedded", "embedded_lazy", "bytes"])
def test_save_never_mutates_the_callers_model(
    src: Path, embedded: Path, tmp_path: Path, origin: str, options: dict[str, Any]
) -> None:
    if origin == "external":
        model = onnxlite.load(src)
    elif origin == "bytes":
        model = onnxlite.loads(embedded.read_bytes())
    else:
        model = onnxlite.load(embedded, lazy=origin == "embedded_lazy")
    before = model.proto.SerializeToString()
    out = tmp_path / "out"
    out.mkdir()
    for target in (out / "copy.onnx", src.parent / "again.onnx"):
        onnxlite.save(model, target, **options)
        assert model.proto.SerializeToString() == before, f"save to {target.parent.name} changed the model"
        check_with_onnx(target)
        check_values(values_of(onnxlite.load(target)))
    check_values(values_of(model))


# --- re-saving a model with external data ----------------------------------------------------


class Held:
    """An open descriptor on the current inode of a file, to see later what happened to it
    (a hard link would do too, but the onnx oracle refuses data files with several links)."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.original = path.read_bytes()

    def unchanged(self) -> bool:
        size = os.fstat(self.fd).st_size
        return size == len(self.original) and os.pread(self.fd, size + 1, 0) == self.original

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def hold() -> Iterator[Any]:
    held: list[Held] = []

    def make(path: Path) -> Held:
        held.append(Held(path))
        return held[-1]

    yield make
    for h in held:
        h.close()


@pytest.mark.parametrize("touched", [False, True], ids=["untouched", "values_read_before"])
@pytest.mark.parametrize("options", [
    {"external_data": True, "location": "weights.bin"},
    {"external_data": True, "location": "weights.bin", "size_threshold": 0},
    {},
], ids=_ids)
def test_resave_to_same_folder_and_location(src: Path, hold: Any, touched: bool,
                                            options: dict[str, Any]) -> None:
    model = onnxlite.load(src)
    if touched:
        check_values(values_of(model))
    held = hold(src.parent / "weights.bin")
    onnxlite.save(model, src, **options)
    # the original data file is never appended to nor rewritten in place
    assert held.unchanged()
    assert stray(src.parent) == []
    check_values(values_of(model))  # the in-memory model still reads the right values
    check_with_onnx(src)
    check_values(values_of(onnxlite.load(src)))
    # and once more, from the model just saved
    again = onnxlite.load(src)
    onnxlite.save(again, src, **options)
    check_values(values_of(again))
    check_with_onnx(src)


@pytest.mark.parametrize("options",
                         [{}, {"external_data": True}, {"external_data": True, "location": "weights.bin"},
                                     {"external_data": False}], ids=_ids)
def test_resave_to_another_folder(src: Path, tmp_path: Path, hold: Any, options: dict[str, Any]) -> None:
    model = onnxlite.load(src)
    held = hold(src.parent / "weights.bin")
    other = tmp_path / "other"
    other.mkdir()
    onnxlite.save(model, other / "model.onnx", **options)
    assert held.unchanged()
    check_values(values_of(model))
    check_with_onnx(other / "model.onnx")
    # the copy stands alone: removing the source folder changes nothing
    for p in sorted(src.parent.iterdir()):
        p.unlink()
    check_with_onnx(other / "model.onnx")


def test_save_onto_own_external_data_file_is_refused(src: Path) -> None:
    """Saving the model under the name of the data file it reads from would replace its own
    weights with the model bytes."""
    model = onnxlite.load(src)
    before = snapshot(src.parent)
    with pytest.raises(OnnxliteError):
        onnxlite.save(model, src.parent / "weights.bin")
    assert snapshot(src.parent) == before
    check_values(values_of(onnxlite.load(src)))


def test_other_loaded_model_never_reads_wrong_values_after_a_resave(src: Path) -> None:
    """Two models loaded from one file; the first is re-saved over it with a new data layout.
    The second, which had not read its weights yet, must read the right values or raise an
    ExternalDataError that says the file changed, never silently read the new layout."""
    first = onnxlite.load(src)
    second = onnxlite.load(src)
    onnxlite.save(first, src, external_data=True, location="weights.bin", size_threshold=0)
    try:
        values = values_of(second)
    except ExternalDataError:
        return
    check_values(values)


@pytest.mark.parametrize("lazy", [True, False])
def test_save_over_the_file_the_model_was_loaded_from(embedded: Path, lazy: bool) -> None:
    model = onnxlite.load(embedded, lazy=lazy)
    choices: list[dict[str, Any]] = [{}, {"external_data": True}, {"external_data": False}]
    for options in choices:
        onnxlite.save(model, embedded, **options)
        check_values(values_of(model))
        check_with_onnx(embedded)


def test_data_file_that_is_a_symlink_is_replaced_not_written_through(src: Path, tmp_path: Path) -> None:
    outside = tmp_path / "precious.bin"
    outside.write_bytes(b"do not touch")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "model.onnx.data")
    onnxlite.save(onnxlite.load(src), out / "model.onnx", external_data=True)
    assert outside.read_bytes() == b"do not touch"
    check_with_onnx(out / "model.onnx")


def test_location_through_a_symlinked_folder_does_not_write_outside(src: Path, tmp_path: Path) -> None:
    """location='link/w.bin' where link/ points outside the output folder: writing there puts
    the weights outside the model folder, where onnxlite's own loader refuses to read them."""
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "link")
    model = onnxlite.load(src)
    try:
        onnxlite.save(model, out / "model.onnx", external_data=True, location="link/w.bin")
    except UnsafePathError:
        assert not (out / "model.onnx").exists()
    else:
        check_values(values_of(onnxlite.load(out / "model.onnx")))
    assert list(outside.iterdir()) == []


def test_location_in_new_subfolders_is_created(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    onnxlite.save(onnxlite.load(src), out / "model.onnx", external_data=True, location="a/b/weights.bin")
    assert (out / "a" / "b" / "weights.bin").is_file()
    check_with_onnx(out / "model.onnx")


@pytest.mark.parametrize("name",
                         ["../../evil", "/etc/passwd", "a\\..\\..\\b", "CON", "", ".hidden", "model.onnx",
                                  "x" * 300, "w:1", "名前"])
def test_per_tensor_file_names_stay_inside(tmp_path: Path, name: str) -> None:
    proto = make_model()
    proto.graph.initializer[0].name = name  # 'w'
    proto.graph.node[0].input[1] = name
    path = tmp_path / "src.onnx"
    onnx.save(proto, str(path))
    out = tmp_path / "out"
    out.mkdir()
    onnxlite.save(onnxlite.load(path), out / "model.onnx", external_data=True, per_tensor=True)
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.parent == out or p == path for p in written), written
    reread = onnx.load(str(out / "model.onnx"))
    np.testing.assert_array_equal(numpy_helper.to_array(reread.graph.initializer[0]), W)


# --- exact size_threshold -------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [1024, 100, 1])
def test_size_threshold_is_inclusive(tmp_path: Path, threshold: int) -> None:
    at = numpy_helper.from_array(np.arange(threshold, dtype=np.uint8), "at")
    below = numpy_helper.from_array(np.arange(threshold - 1, dtype=np.uint8), "below")
    typed_at = oh.make_tensor("typed_at", OnnxTensor.UINT8, [threshold],
                              [1] * threshold)  # int32_data storage
    graph = oh.make_graph([], "g", [], [], initializer=[at, below, typed_at])
    path = tmp_path / "in.onnx"
    onnx.save(oh.make_model(graph), str(path))
    out = tmp_path / "out.onnx"
    onnxlite.save(onnxlite.load(path), out, external_data=True, size_threshold=threshold)
    proto = onnx.load(str(out), load_external_data=False)
    where = {t.name: t.data_location for t in proto.graph.initializer}
    assert where == {"at": OnnxTensor.EXTERNAL, "below": OnnxTensor.DEFAULT, "typed_at": OnnxTensor.EXTERNAL}
    reread = onnx.load(str(out))
    np.testing.assert_array_equal(numpy_helper.to_array(reread.graph.initializer[0]),
                                  np.arange(threshold, dtype=np.uint8))
    np.testing.assert_array_equal(numpy_helper.to_array(reread.graph.initializer[1]),
                                  np.arange(threshold - 1, dtype=np.uint8))


# --- permissions --------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[Any]:
    old = os.umask(0o022)
    os.umask(old)

    def set_(mask: int) -> None:
        os.umask(mask)

    yield set_
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077, 0o027])
def test_saved_files_follow_the_umask(src: Path, tmp_path: Path, umask: Any, mask: int) -> None:
    model = onnxlite.load(src)
    umask(mask)
    out = tmp_path / "out"
    out.mkdir()
    onnxlite.save(model, out / "model.onnx", external_data=True)
    onnxlite.save(model, out / "per.onnx", external_data=True, per_tensor=True, location="t")
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 4
    for p in files:
        assert os.stat(p).st_mode & 0o777 == 0o666 & ~mask, f"{p.name}: {oct(os.stat(p).st_mode & 0o777)}"


# --- hostile tensors meet save ---------------------------------------------------------------


@pytest.mark.parametrize("dims", [[2**40, 2**40], [2**31, 2**31], [2**40]])
@pytest.mark.parametrize("options", [{"external_data": True}, {"external_data": False}, {}], ids=_ids)
def test_save_of_tensor_with_absurd_dims(tmp_path: Path, dims: list[int], options: dict[str, Any]) -> None:
    data = wb.model(wb.graph(initializers=[
        wb.tensor("h", dims=dims, raw=bytes(4)),
        wb.tensor("z", dims=[1024], raw=np.arange(1024, dtype=np.float32).tobytes()),
    ]))
    model = onnxlite.loads(data)
    out = tmp_path / "out"
    out.mkdir()
    try:
        onnxlite.save(model, out / "model.onnx", **options)
    except OnnxliteError:
        assert list(out.iterdir()) == []
        return
    # if it saves, it saved the tensor as it was (still refused on read) and the rest intact,
    # without laying out the data file by the declared size (a 4 TiB file for 4 real bytes)
    sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    assert max(sizes.values()) < 1 << 20, f"files written for 4 KiB of real data: {sizes}"
    reread = onnxlite.load(out / "model.onnx")
    with pytest.raises(ModelFormatError):
        reread.graph.initializers["h"].numpy()
    assert reread.graph.initializers["z"].numpy()[-1] == 1023


@pytest.mark.parametrize("raw_len", [4, 20])
def test_save_does_not_repair_a_short_or_long_tensor_with_invented_bytes(tmp_path: Path,
                                                                         raw_len: int) -> None:
    """A FLOAT[4] tensor with 4 (or 20) raw bytes is malformed. Moving it to external data must
    not produce a well-formed tensor: writing length=16 next to 4 real bytes invents 12 zeros."""
    data = wb.model(wb.graph(initializers=[
        wb.tensor("h", dims=[4], raw=bytes(range(1, raw_len + 1))),
        wb.tensor("z", dims=[16], raw=bytes(64)),  # so the data file goes on past h's slot
    ]))
    model = onnxlite.loads(data)
    with pytest.raises(ModelFormatError):
        model.graph.initializers["h"].numpy()
    try:
        onnxlite.save(model, tmp_path / "m.onnx", external_data=True, size_threshold=0)
    except OnnxliteError:
        return
    with pytest.raises(OnnxliteError):
        onnxlite.load(tmp_path / "m.onnx").graph.initializers["h"].numpy()


@pytest.mark.parametrize("options", [{"external_data": True}, {"external_data": False}], ids=_ids)
def test_save_of_external_string_tensor(tmp_path: Path, options: dict[str, Any]) -> None:
    """A STRING tensor claiming external data (invalid: strings have no raw form)."""
    (tmp_path / "s.bin").write_bytes(b"abcd")
    data = wb.model(wb.graph(initializers=[
        wb.tensor("s", dims=[1], data_type=8, external=[("location", "s.bin")])]))
    (tmp_path / "m.onnx").write_bytes(data)
    model = onnxlite.load(tmp_path / "m.onnx")
    out = tmp_path / "out"
    out.mkdir()
    try:
        onnxlite.save(model, out / "m.onnx", **options)
    except OnnxliteError as e:
        assert "'s'" in str(e) or "initializer[0]" in str(e)
        assert list(out.iterdir()) == []


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/hostname"])
def test_save_of_model_with_unsafe_external_location(tmp_path: Path, location: str) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (tmp_path / "outside.bin").write_bytes(bytes(16))
    (folder / "m.onnx").write_bytes(wb.model(wb.graph(initializers=[
        wb.tensor("w", dims=[4], external=[("location", location)])])))
    model = onnxlite.load(folder / "m.onnx")
    out = tmp_path / "out"
    out.mkdir()
    choices: list[dict[str, Any]] = [{}, {"external_data": True}, {"external_data": False}]
    for options in choices:
        with pytest.raises(UnsafePathError):
            onnxlite.save(model, out / "m.onnx", **options)
        assert list(out.iterdir()) == []

