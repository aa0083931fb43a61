"""`onnxlite.weights` and `onnxlite weights`: every tensor out as .npy/.npz/safetensors (checked
against onnx.numpy_helper over the corpus), the file formats written by hand (.npy headers byte
for byte as numpy writes them, ZIP and ZIP64 read by zipfile and numpy, safetensors read by the
package), flat memory on a large sparse model, safe file names, the manifest, atomic folders,
and edited weights back in with every mismatch listed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import helper, numpy_helper  # noqa: E402

import onnxlite  # noqa: E402
from onnxlite import _proto, cli, weights  # noqa: E402
from onnxlite._storage.io import iter_tensors  # noqa: E402
from onnxlite.errors import WeightsError  # noqa: E402
from onnxlite.weights import _data as _weightdata  # noqa: E402
from onnxlite.weights import _files as _weightfiles  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

ROOT_EXAMPLE = Path(__file__).resolve().parent.parent / "tools" / "example" / "tiny_cnn.onnx"
FIXTURES = corpus.FIXTURES
ALL_DTYPES = FIXTURES / "dtypes" / "all_dtypes_raw.onnx"
SPARSE = FIXTURES / "structure" / "sparse.onnx"
UNSUPPORTED = {"fixture/structure/tensor_segment.onnx"}  # segmented tensors are refused (tested below)


# --- the oracle -------------------------------------------------------------------------------------

def onnx_arrays(proto: onnx.ModelProto) -> dict[str, np.ndarray]:
    """path -> onnx.numpy_helper.to_array of every tensor (paths as Model.tensors() names them).
    Strings are taken from string_data: to_array decodes them as UTF-8 and fails on other bytes,
    which ONNX allows."""
    out = {}
    for path, t in iter_tensors(proto):
        if t.data_type == onnx.TensorProto.STRING:
            values = np.empty(len(t.string_data), dtype=object)
            values[:] = list(t.string_data)
            out[path] = values.reshape(tuple(t.dims))
        else:
            try:
                out[path] = numpy_helper.to_array(t)
            except KeyError:  # an older onnx (CI's protobuf-4.25 leg) lacks the newest types
                pytest.skip(f"onnx {onnx.__version__} does not know data type {t.data_type} ({path})")
    return out


def same(got: np.ndarray, want: np.ndarray) -> bool:
    """Equal dtype, shape and bits (NaN-safe; strings compared as bytes)."""
    if want.dtype == object:  # onnx gives str when the bytes are UTF-8
        def as_bytes(x: Any) -> bytes:
            return x.encode() if isinstance(x, str) else bytes(x)

        return got.shape == want.shape and [as_bytes(x) for x in got.reshape(-1)] == \
            [as_bytes(x) for x in want.reshape(-1)]
    if got.dtype != want.dtype or got.shape != want.shape:
        return False
    return bool(np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(want).tobytes())


def _has_tensors(case: corpus.Case) -> bool:
    m = onnx.ModelProto.FromString(case.read())
    return any(True for _ in iter_tensors(m))


def _cases() -> list[corpus.Case]:
    nodes = [c for c in corpus.node_cases() if _has_tensors(c)]
    return nodes + [c for c in corpus.fixture_cases() if c.id not in UNSUPPORTED]


CASES = _cases()


def _load_both(case: corpus.Case) -> tuple[onnxlite.Model, onnx.ModelProto]:
    if case.path is not None:
        return onnxlite.load(case.path), onnx.load(str(case.path))
    return onnxlite.loads(case.read()), onnx.ModelProto.FromString(case.read())


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_tensor_matches_onnx(case: corpus.Case, tmp_path: Path) -> None:
    model, proto = _load_both(case)
    want = onnx_arrays(proto)
    out = tmp_path / "w"
    manifest = weights.export_weights(model, out)
    assert sorted(e.path for e in manifest.tensors) == sorted(want)
    names = {e.file for e in manifest.tensors}
    assert sorted(p.name for p in out.iterdir()) == sorted(names | {"manifest.json"})
    for e in manifest.tensors:
        arr = np.load(out / e.file, allow_pickle=False)  # ml_dtypes is imported: exotic types load
        expected = want[e.path]
        assert same(arr, expected), (e.id, arr.dtype, expected.dtype)
        data = np.ascontiguousarray(arr)
        assert e.sha256 == hashlib.sha256(data.tobytes()).hexdigest() and e.nbytes == data.nbytes
    back = weights.read_weights(out)
    assert {e.id for e in manifest.tensors} == set(back)
    # nothing edited: nothing replaced, the model saves byte-identical
    assert weights.changed_weights(model, out) == []
    assert onnxlite.dumps(weights.replace_weights(model, out)) == onnxlite.dumps(model)


def test_origins_and_paths(tmp_path: Path) -> None:
    model = onnxlite.load(FIXTURES / "structure" / "attributes.onnx")
    origins = {w.origin for w in weights.iter_weights(model)}
    assert origins == {"constant", "attribute"}
    sub = onnxlite.load(FIXTURES / "structure" / "subgraphs.onnx")
    found = list(weights.iter_weights(sub))
    assert any(".g.initializer[" in w.path or ".graphs[" in w.path for w in found)
    assert all(w.path.startswith("model.") for w in found)
    sparse = list(weights.iter_weights(onnxlite.load(SPARSE)))
    assert {w.part for w in sparse if w.origin == "sparse"} == {"values", "indices"}


def test_manifest_fields(tmp_path: Path) -> None:
    model = onnxlite.load(ALL_DTYPES)
    manifest = weights.export_weights(model, tmp_path / "w", model_name="all_dtypes_raw.onnx")
    text = (tmp_path / "w" / "manifest.json").read_text()
    data = json.loads(text)
    assert data == manifest.to_dict() and text.count("\n") == len(manifest.tensors) + 2  # a line each
    assert data["model"] == "all_dtypes_raw.onnx" and data["format"] == "npy"
    assert data["onnxlite_version"] == onnxlite.__version__
    entry = next(t for t in data["tensors"] if t["dtype"] == "bfloat16")
    for key in ("name", "file", "key", "dtype", "shape", "nbytes", "sha256", "origin", "path"):
        assert key in entry
    assert entry["key"] is None and entry["origin"] == "initializer"


def test_exotic_dtypes_header_names_the_ml_dtypes_type(tmp_path: Path) -> None:
    model = onnxlite.load(ALL_DTYPES)
    manifest = weights.export_weights(model, tmp_path / "w")
    seen = set()
    for e in manifest.tensors:
        if e.dtype in ("bfloat16", "float8e4m3fn", "int4", "float4e2m1", "float6e2m3", "uint2"):
            with open(tmp_path / "w" / e.file, "rb") as f:
                assert np.lib.format.read_magic(f) == (1, 0)
                header = np.lib.format.read_array_header_1_0(f)
            assert header[2] == np.dtype(getattr(ml_dtypes, e.saved_dtype))
            seen.add(e.dtype)
    assert len(seen) == 6


def test_byte_aligned_tensors_are_streamed_not_decoded(tmp_path: Path, monkeypatch: Any) -> None:
    model = onnxlite.load(ALL_DTYPES)
    aligned = [w for w in weights.iter_weights(model)
               if w.dtype.bitwidth % 8 == 0 and w.dtype != onnxlite.DataType.STRING]

    def refuse(self: Any) -> None:
        raise AssertionError("numpy() called on a byte-aligned tensor")

    monkeypatch.setattr(onnxlite.Tensor, "numpy", refuse)
    manifest = weights.export_weights(model, tmp_path / "w", only=[w.id for w in aligned])
    assert len(manifest.tensors) == len(aligned) > 10


@pytest.mark.parametrize("chunk", [None, 1, 7, 100])
def test_as_float32(tmp_path: Path, monkeypatch: Any, chunk: int | None) -> None:
    if chunk is not None:  # conversions run in steps of whole elements, also for packed types
        monkeypatch.setattr(_weightdata, "_CONVERT_CHUNK", chunk)
    model = onnxlite.load(ALL_DTYPES, lazy=chunk == 7)  # lazy: the raw bytes are read with pread
    want = onnx_arrays(onnx.load(str(ALL_DTYPES)))
    manifest = weights.export_weights(model, tmp_path / "w", as_dtype="float32")
    assert json.loads((tmp_path / "w" / "manifest.json").read_text())["converted_to"] == "float32"
    for e in manifest.tensors:
        arr = np.load(tmp_path / "w" / e.file, allow_pickle=False)
        expected = want[e.path]
        if expected.dtype.kind == "f" or expected.dtype.type.__module__.startswith("ml_dtypes") and \
                "float" in expected.dtype.name:
            assert arr.dtype == np.float32, e.id
            with np.errstate(over="ignore"):
                np.testing.assert_array_equal(arr, expected.astype(np.float32))
        elif expected.dtype.name in ("int4", "int2", "uint4", "uint2"):
            assert arr.dtype in (np.int8, np.uint8)
            np.testing.assert_array_equal(arr, expected.astype(arr.dtype))
    # saved as float32, put back unchanged: nothing to replace
    assert weights.changed_weights(model, tmp_path / "w") == []


def test_npz(tmp_path: Path) -> None:
    model = onnxlite.load(ALL_DTYPES)
    want = onnx_arrays(onnx.load(str(ALL_DTYPES)))
    manifest = weights.export_weights(model, tmp_path / "w", format="npz")
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["manifest.json", "weights.npz"]
    with np.load(tmp_path / "w" / "weights.npz", allow_pickle=False) as npz:
        for e in manifest.tensors:
            assert e.file == "weights.npz" and e.key is not None
            assert same(npz[e.key], want[e.path]), e.id
    back = weights.read_weights(tmp_path / "w")
    assert all(same(back[e.id], want[e.path]) for e in manifest.tensors)


def test_safetensors_read_by_the_safetensors_package(tmp_path: Path) -> None:
    safetensors = pytest.importorskip("safetensors")
    model = onnxlite.load(ALL_DTYPES)
    proto = onnx.load(str(ALL_DTYPES))
    want = onnx_arrays(proto)
    keep = [w.id for w in weights.iter_weights(model) if w.dtype != onnxlite.DataType.STRING]
    manifest = weights.export_weights(model, tmp_path / "w", format="safetensors", only=keep)
    data = (tmp_path / "w" / "weights.safetensors").read_bytes()
    stored = dict(safetensors.deserialize(data))
    st_names = {"bfloat16": "BF16", "float8e4m3fn": "F8_E4M3", "float8e5m2": "F8_E5M2", "float": "F32",
                "float16": "F16", "int64": "I64", "bool": "BOOL", "uint8": "U8"}
    raw_seen = 0
    for e in manifest.tensors:
        info = stored[e.key]
        tensor = dict(iter_tensors(proto))[e.path]
        raw = numpy_helper.to_array(tensor)
        if e.stored_as == "raw":
            raw_seen += 1
            assert info["dtype"] == "U8"
            assert bytes(info["data"]) == onnxlite.Tensor(
                onnxlite.loads(proto.SerializeToString()).proto.graph.initializer[
                    int(e.path.rsplit("[", 1)[1][:-1])]).raw_bytes()
        else:
            assert list(info["shape"]) == list(raw.shape)
            assert bytes(info["data"]) == np.ascontiguousarray(raw).tobytes(), e.id
            if e.dtype in st_names:
                assert info["dtype"] == st_names[e.dtype], e.id
        assert hashlib.sha256(bytes(info["data"])).hexdigest() == e.sha256
    assert raw_seen >= 5  # int4, float4, float6, fnuz, complex...
    back = weights.read_weights(tmp_path / "w")
    for e in manifest.tensors:
        assert same(back[e.id], want[e.path]), e.id
    assert weights.changed_weights(model, tmp_path / "w") == []


def test_safetensors_refuses_strings(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    with pytest.raises(WeightsError, match="cannot hold string tensors: string_"):
        weights.export_weights(onnxlite.load(ALL_DTYPES), tmp_path / "w", format="safetensors")
    assert not (tmp_path / "w").exists()


def test_safetensors_written_without_the_package(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    """The format is written (and read back) by onnxlite itself: the package is only an oracle."""
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    model_path = FIXTURES / "torch" / "cnn_dynamo.onnx"
    model = onnxlite.load(model_path)
    manifest = weights.export_weights(model, tmp_path / "w", format="safetensors")
    back = weights.read_weights(tmp_path / "w")
    for w in weights.iter_weights(model):
        assert same(np.asarray(back[w.id]), w.numpy()), w.id
    assert len(manifest.tensors) == len(back)
    assert cli.main(["weights", str(model_path), "-o", str(tmp_path / "w2"), "--format", "safetensors"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {tmp_path / 'w2'}: ")


def test_sparse_kept_or_densified(tmp_path: Path) -> None:
    model = onnxlite.load(SPARSE)
    proto = onnx.load(str(SPARSE))
    manifest = weights.export_weights(model, tmp_path / "dense", densify=True)
    dense = [e for e in manifest.tensors if e.densified]
    assert dense
    for e in dense:
        arr = np.load(tmp_path / "dense" / e.file)
        sp = _resolve_onnx(proto, e.path)
        values = numpy_helper.to_array(sp.values).reshape(-1)
        indices = numpy_helper.to_array(sp.indices)
        expected = np.zeros(int(np.prod(sp.dims)), dtype=values.dtype)
        flat = indices if indices.ndim == 1 else np.ravel_multi_index(tuple(indices.T), tuple(sp.dims))
        expected[flat] = values
        assert same(arr, expected.reshape(tuple(sp.dims))), e.id
    # unchanged densified tensors are fine; an edited one cannot go back
    assert weights.changed_weights(model, tmp_path / "dense") == []
    e = dense[0]
    arr = np.load(tmp_path / "dense" / e.file)
    np.save(tmp_path / "dense" / e.file, arr + 1)
    with pytest.raises(WeightsError, match="densified sparse tensor cannot be put back"):
        weights.replace_weights(model, tmp_path / "dense")


def _resolve_onnx(proto: Any, path: str) -> Any:
    msg = proto
    for part in path.split(".")[1:]:
        name, _, index = part.partition("[")
        msg = getattr(msg, name)
        if index:
            msg = msg[int(index[:-1])]
    return msg


# --- file names -------------------------------------------------------------------------------------

UNSAFE = ["../x", "a/b", "a\\b", "CON", "con.txt", "nul", "Lpt1", "A", "a", "x" * 300, ".hidden", "..",
          "ünïcode name", "manifest.json", "manifest", "w:1", "a?*|<>\""]


def _named_model(names: list[str], tmp_path: Path) -> Path:
    inits = [numpy_helper.from_array(np.full((2,), i, dtype=np.float32), name)
             for i, name in enumerate(names)]
    output = helper.make_tensor_value_info(names[0], onnx.TensorProto.FLOAT, [2])
    graph = helper.make_graph([], "g", [], [output], initializer=inits)
    path = tmp_path / "named.onnx"
    onnx.save(helper.make_model(graph), str(path))
    return path


@pytest.mark.parametrize("format", ["npy", "npz"])
def test_unsafe_names_give_safe_unique_portable_files(tmp_path: Path, format: str) -> None:
    model = onnxlite.load(_named_model(UNSAFE, tmp_path))
    out = tmp_path / "out"
    manifest = weights.export_weights(model, out, format=format)
    assert [e.name for e in manifest.tensors] == UNSAFE
    stems = [e.file if format == "npy" else e.key for e in manifest.tensors]
    assert len({s.lower() for s in stems if s}) == len(UNSAFE)  # unique, ignoring case
    reserved = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
    for s in stems:
        assert s and "/" not in s and "\\" not in s and not s.startswith(".") and len(s) <= 120
        assert all(c.isascii() and (c.isalnum() or c in "._+-") for c in s)
        assert s.split(".")[0].lower() not in reserved
        assert s.lower() != "manifest.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["named.onnx", "out"]  # nothing escaped
    back = weights.read_weights(out)
    for i, name in enumerate(UNSAFE):
        assert back[name].tolist() == [i, i]


# --- the output folder ------------------------------------------------------------------------------

def test_non_empty_folder_refused_unless_force(tmp_path: Path) -> None:
    model = onnxlite.load(FIXTURES / "torch" / "cnn_dynamo.onnx")
    out = tmp_path / "w"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(WeightsError, match="not empty.*--force"):
        weights.export_weights(model, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    weights.export_weights(model, out, force=True)
    assert not (out / "keep.txt").exists() and (out / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]  # no temporary siblings left
    empty = tmp_path / "empty"
    empty.mkdir()
    weights.export_weights(model, empty)  # an empty folder is fine
    (tmp_path / "file").write_text("x")
    with pytest.raises(WeightsError, match="not a folder"):
        weights.export_weights(model, tmp_path / "file", force=True)


@pytest.mark.parametrize("format", ["npy", "npz", "safetensors"])
def test_failure_midway_leaves_nothing(tmp_path: Path, monkeypatch: Any, format: str) -> None:
    model = onnxlite.load(FIXTURES / "torch" / "cnn_dynamo.onnx")
    calls = {"n": 0}
    real = _weightdata.pwrite

    def failing(fd: int, data: Any, pos: int) -> None:  # the third write, in a worker, hits a full disk
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real(fd, data, pos)

    monkeypatch.setattr(_weightdata, "pwrite", failing)
    out = tmp_path / "w"
    out.mkdir()
    (out / "old.npy").write_text("old")
    with pytest.raises(OSError, match="No space"):
        weights.export_weights(model, out, force=True, format=format)
    assert calls["n"] >= 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]
    assert [p.name for p in out.iterdir()] == ["old.npy"]


def test_progress_reports_every_byte(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    manifest = weights.export_weights(onnxlite.load(FIXTURES / "torch" / "cnn_dynamo.onnx"), tmp_path / "w",
                                      progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (manifest.nbytes, manifest.nbytes)


def test_only_patterns(tmp_path: Path) -> None:
    model = onnxlite.load(_named_model(["enc.w", "enc.b", "dec.w"], tmp_path))
    manifest = weights.export_weights(model, tmp_path / "w", only=["*.w"])
    assert [e.name for e in manifest.tensors] == ["enc.w", "dec.w"]
    manifest = weights.export_weights(model, tmp_path / "w2", only=["enc.*", "dec.w"])
    assert len(manifest.tensors) == 3


def test_segmented_tensors_are_refused(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="segmented"):
        weights.export_weights(onnxlite.load(FIXTURES / "structure" / "tensor_segment.onnx"), tmp_path / "w")
    assert list(tmp_path.iterdir()) == []


# --- weights back in --------------------------------------------------------------------------------

def _export_edit_replace(src: Path, tmp_path: Path, format: str) -> None:
    model = onnxlite.load(src)
    before = onnxlite.dumps(model)
    out = tmp_path / "w"
    manifest = weights.export_weights(model, out, format=format)
    target = max(manifest.tensors, key=lambda e: e.nbytes)
    arrays = weights.read_weights(out)
    edited = np.array(arrays[target.id]) * 2 + 1
    if format == "npy":
        np.save(out / target.file, edited)
    else:
        rest = {e.key: np.asarray(arrays[e.id]) for e in manifest.tensors if e.id != target.id}
        rest[target.key] = edited
        np.savez(out / "weights.npz", **rest)  # type: ignore[arg-type]
    changes = weights.changed_weights(model, out)
    assert [w.id for w, _ in changes] == [target.id]
    new = weights.replace_weights(model, out)
    assert onnxlite.dumps(model) == before  # the caller's model is untouched
    dest = tmp_path / "edited.onnx"
    onnxlite.save(new, dest)
    got = onnx_arrays(onnx.load(str(dest)))
    want = onnx_arrays(onnx.load(str(src)))
    assert set(got) == set(want)
    for path, value in want.items():
        if path == target.path:
            assert same(got[path], edited.astype(value.dtype))
        else:
            assert same(got[path], value), path


@pytest.mark.parametrize("format", ["npy", "npz"])
def test_round_trip_edit_one_file(tmp_path: Path, format: str) -> None:
    _export_edit_replace(FIXTURES / "torch" / "cnn_dynamo.onnx", tmp_path, format)


def test_round_trip_external_model(tmp_path: Path) -> None:
    _export_edit_replace(FIXTURES / "torch" / "external" / "embed_mlp.onnx", tmp_path, "npy")


def test_untouched_tensors_keep_their_bytes(tmp_path: Path) -> None:
    src = FIXTURES / "torch" / "attention_torchscript.onnx"
    model = onnxlite.load(src, lazy=True)
    out = tmp_path / "w"
    manifest = weights.export_weights(model, out)
    first = manifest.tensors[0]
    np.save(out / first.file, np.load(out / first.file) + 1)
    new = weights.replace_weights(model, out)
    untouched = [w for w in weights.iter_weights(new) if w.path != first.path]
    assert all(w.tensor.proto.raw_data == t.tensor.proto.raw_data
               for w, t in zip(untouched, [w for w in weights.iter_weights(model) if w.path != first.path],
                               strict=True))


def test_bfloat16_edit_and_float32_copy_back(tmp_path: Path) -> None:
    model = onnxlite.load(ALL_DTYPES)
    out = tmp_path / "w"
    manifest = weights.export_weights(model, out, as_dtype="float32")
    e = next(e for e in manifest.tensors if e.dtype == "bfloat16" and e.nbytes)
    arr = np.load(out / e.file)
    np.save(out / e.file, np.full_like(arr, 1.5))
    new = weights.replace_weights(model, out)
    w = next(w for w in weights.iter_weights(new) if w.path == e.path)
    assert w.numpy().dtype == ml_dtypes.bfloat16
    assert (w.numpy().astype(np.float32) == 1.5).all()


def test_every_mismatch_is_listed_before_anything_changes(tmp_path: Path) -> None:
    src = FIXTURES / "torch" / "cnn_dynamo.onnx"
    model = onnxlite.load(src)
    out = tmp_path / "w"
    manifest = weights.export_weights(model, out)
    a, b, c, d = manifest.tensors[:4]
    np.save(out / a.file, np.load(out / a.file).astype(np.float64))  # dtype
    np.save(out / b.file, np.zeros((1, 2, 3), np.float32))  # shape
    (out / d.file).unlink()  # missing file: reported on its own, before the rest
    with pytest.raises(WeightsError, match="missing"):
        weights.replace_weights(model, out)
    weights.export_weights(model, out / ".." / "w2")
    np.save(tmp_path / "w2" / d.file, np.load(tmp_path / "w2" / d.file))
    np.save(out / d.file, np.load(tmp_path / "w2" / d.file))
    data = json.loads((out / "manifest.json").read_text())
    data["tensors"][2]["name"] = "renamed"
    (out / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(WeightsError) as info:
        weights.replace_weights(model, out)
    text = str(info.value)
    assert "3 problems" in text
    assert f"{a.file} ({a.id!r}): dtype float64, expected float32" in text
    assert f"{b.file} ({b.id!r}): shape [1, 2, 3], expected {b.shape}" in text
    assert f"name 'renamed' does not match the model's {c.name!r}" in text
    out_model = tmp_path / "new.onnx"
    assert cli.main(["weights", str(src), "--replace", str(out), "-o", str(out_model)]) == 1
    assert not out_model.exists()


def test_replace_from_a_mapping(tmp_path: Path) -> None:
    model = onnxlite.load(FIXTURES / "torch" / "cnn_dynamo.onnx")
    first = next(weights.iter_weights(model))
    new = weights.replace_weights(model, {first.name: np.zeros(first.shape, np.float32)})
    assert not next(weights.iter_weights(new)).numpy().any()
    assert first.numpy().any()
    with pytest.raises(WeightsError) as info:
        weights.replace_weights(model, {"nope": np.zeros(1), first.path: np.zeros(1, np.int8)})
    text = str(info.value)
    assert "'nope': no such tensor" in text and "dtype int8" in text and "shape [1]" in text


def test_replace_with_a_bad_manifest(tmp_path: Path) -> None:
    model = onnxlite.load(FIXTURES / "torch" / "cnn_dynamo.onnx")
    with pytest.raises(WeightsError, match="no manifest.json"):
        weights.replace_weights(model, tmp_path)
    out = tmp_path / "w"
    weights.export_weights(model, out)
    data = json.loads((out / "manifest.json").read_text())
    data["tensors"][0]["file"] = "../../etc/passwd"
    (out / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(WeightsError, match="unsafe file"):
        weights.read_weights(out)


# --- the command ------------------------------------------------------------------------------------

def test_cli_export_and_replace(tmp_path: Path, capsys: Any) -> None:
    src = FIXTURES / "torch" / "cnn_dynamo.onnx"
    out = tmp_path / "w"
    assert cli.main(["weights", str(src), "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: ")
    assert cli.main(["weights", str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("onnxlite: error: ") and "--force" in err and err.count("\n") == 1
    assert cli.main(["weights", str(src), "-o", str(out), "--force", "--format", "npz"]) == 0
    capsys.readouterr()
    manifest = weights.read_manifest(out)
    e = manifest.tensors[0]
    arrays = {m.key: np.asarray(a) for m, a in zip(manifest.tensors, weights.read_weights(out).values(),
                                                     strict=True)}
    arrays[e.key] = arrays[e.key] + 1
    np.savez(out / "weights.npz", **arrays)  # type: ignore[arg-type]
    new = tmp_path / "new.onnx"
    assert cli.main(["weights", str(src), "--replace", str(out), "-o", str(new)]) == 0
    assert capsys.readouterr().out == f"wrote {new}: 1 tensor replaced from {out}\n"
    assert onnx.load(str(new)).graph.initializer  # readable by onnx
    assert cli.main(["weights", str(src), "--replace", str(out), "-o", str(new), "--format", "npz"]) == 2
    assert "cannot be used with --replace" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["weights", str(src)])  # -o is required
    assert exit_info.value.code == 2


def test_cli_replace_mismatches_one_per_line(tmp_path: Path, capsys: Any) -> None:
    src = ROOT_EXAMPLE
    out = tmp_path / "w"
    assert cli.main(["weights", str(src), "-o", str(out)]) == 0
    np.save(out / "conv.weight.npy", np.zeros((2, 2), np.float32))
    np.save(out / "fc.bias.npy", np.zeros(3, np.float64))
    capsys.readouterr()
    assert cli.main(["weights", str(src), "--replace", str(out), "-o", str(tmp_path / "new.onnx")]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"onnxlite: error: {src}: cannot replace weights: 3 problems:"
    assert lines[1:] == [
        "  conv.weight.npy ('conv.weight'): shape [2, 2], expected [8, 3, 3, 3]",
        "  fc.bias.npy ('fc.bias'): dtype float64, expected float32 (float)",
        "  fc.bias.npy ('fc.bias'): shape [3], expected [10]",
    ]
    assert not (tmp_path / "new.onnx").exists()


def test_cli_help_lists_the_commands(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "weights" in out and "convert" in out


def test_no_stray_files_in_cwd(tmp_path: Path) -> None:
    assert not any(p.name.startswith(".w.") for p in Path(os.getcwd()).iterdir())


# --- the file formats, written by hand --------------------------------------------------------------

EXOTIC_SHAPES = [(), (0,), (7,), (2, 3), (10**12, 1), (1, 2, 0, 4), tuple(range(1, 31)), (99999999999,) * 3]
DTYPES = [dt for dt in onnxlite.DataType if dt not in (onnxlite.DataType.UNDEFINED, onnxlite.DataType.STRING)]


def _numpy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    f = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(f, header)
    except ValueError:
        f = io.BytesIO()
        np.lib.format.write_array_header_2_0(f, header)
    return f.getvalue()


@pytest.mark.parametrize("dtype", DTYPES, ids=[dt.short_name for dt in DTYPES])
def test_saved_dtypes_and_npy_headers_match_numpy(dtype: onnxlite.DataType) -> None:
    name = _weightdata.NUMPY_NAME[dtype]
    np_dtype = dtype.np_dtype
    assert name == np_dtype.name
    assert _weightdata.itemsize(name) == np_dtype.itemsize
    descr = np_dtype.name if np_dtype.type.__module__.startswith("ml_dtypes") else \
        np.lib.format.dtype_to_descr(np_dtype)
    assert _weightdata.npy_descr(name) == descr
    assert _weightdata.resolve_dtype(name) == np_dtype
    for shape in EXOTIC_SHAPES:
        assert _weightfiles.npy_header(descr, shape) == _numpy_header(descr, shape), shape
    if name in _weightdata.SAFETENSORS_DTYPE:  # the converted-to types have codes too
        assert _weightdata.resolve_dtype(name).itemsize == _weightdata.itemsize(name)


def test_npy_header_version_2_and_strings() -> None:
    for shape in [(1,) * 22000, (3,) * 30000]:  # over 64 KiB of header: numpy writes version 2.0
        ours = _weightfiles.npy_header("<f4", shape)
        assert ours == _numpy_header("<f4", shape) and ours[6:8] == b"\x02\x00"
    assert _weightfiles.npy_header("|S5", (4,)) == _numpy_header("|S5", (4,))


def _member_data(raw: bytes) -> tuple[np.ndarray, bytes]:
    f = io.BytesIO(raw)
    if np.lib.format.read_magic(f) == (1, 0):
        np.lib.format.read_array_header_1_0(f)
    else:
        np.lib.format.read_array_header_2_0(f)
    return np.load(io.BytesIO(raw), allow_pickle=False), raw[f.tell():]


@pytest.mark.parametrize("zip64", [False, True])
def test_npz_is_a_stored_zip_with_exact_bytes(tmp_path: Path, monkeypatch: Any, zip64: bool) -> None:
    if zip64:  # every size, offset and count takes the ZIP64 records, as past 4 GiB / 65535 members
        monkeypatch.setattr(_weightfiles, "_ZIP64_LIMIT", 16)
        monkeypatch.setattr(_weightfiles, "_ZIP64_ENTRIES", 2)
    model = onnxlite.load(ALL_DTYPES)
    want = onnx_arrays(onnx.load(str(ALL_DTYPES)))
    manifest = weights.export_weights(model, tmp_path / "w", format="npz")
    archive = tmp_path / "w" / "weights.npz"
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None  # every CRC checks
        infos = zf.infolist()
        assert [i.filename for i in infos] == [f"{e.key}.npy" for e in manifest.tensors]
        assert all(i.compress_type == zipfile.ZIP_STORED and i.date_time == (1980, 1, 1, 0, 0, 0)
                   for i in infos)
        if zip64:
            assert all(i.file_size >= 16 and i.extra for i in infos)
        for e in manifest.tensors:
            arr, data = _member_data(zf.read(f"{e.key}.npy"))
            assert same(arr, want[e.path]), e.id
            assert hashlib.sha256(data).hexdigest() == e.sha256 and len(data) == e.nbytes
    raw = archive.read_bytes()
    assert (b"PK\x06\x06" in raw) == zip64  # the ZIP64 end record
    with np.load(archive, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(e.key for e in manifest.tensors)
    weights.export_weights(model, tmp_path / "again", format="npz")
    assert (tmp_path / "again" / "weights.npz").read_bytes() == raw  # deterministic


def test_safetensors_layout_and_package_loaders(tmp_path: Path) -> None:
    safetensors = pytest.importorskip("safetensors")
    from safetensors.numpy import load_file

    model = onnxlite.load(ALL_DTYPES)
    keep = [w.id for w in weights.iter_weights(model) if w.dtype != onnxlite.DataType.STRING]
    manifest = weights.export_weights(model, tmp_path / "w", format="safetensors", only=keep)
    raw = (tmp_path / "w" / "weights.safetensors").read_bytes()
    hlen = int.from_bytes(raw[:8], "little")
    assert (8 + hlen) % 8 == 0 and raw[8:9] == b"{"
    header = json.loads(raw[8:8 + hlen])
    assert header.pop("__metadata__") == {"format": "onnxlite"}
    spans = sorted((info["data_offsets"], info["dtype"]) for info in header.values())
    end = 0
    sizes = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2,
             "U16": 2}
    for (begin, stop), dtype in spans:
        assert begin == end  # contiguous, no holes
        assert begin % sizes.get(dtype, 1) == 0  # every tensor aligned to its element size
        end = stop
    assert 8 + hlen + end == len(raw)
    with safetensors.safe_open(str(tmp_path / "w" / "weights.safetensors"), "numpy") as f:
        assert f.metadata() == {"format": "onnxlite"}
        assert sorted(f.keys()) == sorted(e.key for e in manifest.tensors)
    back = weights.read_weights(tmp_path / "w")
    plain = [e.id for e in manifest.tensors if e.saved_dtype in ("float32", "float64", "int64", "int8",
                                                                 "uint16", "bool")]
    weights.export_weights(model, tmp_path / "plain", format="safetensors", only=plain)
    loaded = load_file(str(tmp_path / "plain" / "weights.safetensors"))  # its numpy loader: no bf16, f8
    assert sorted(loaded) == sorted(plain) and len(plain) >= 6
    for key in plain:
        assert same(loaded[key], np.asarray(back[key])), key
    weights.export_weights(model, tmp_path / "again", format="safetensors", only=keep)
    assert (tmp_path / "again" / "weights.safetensors").read_bytes() == raw  # deterministic


def test_safetensors_reserved_key(tmp_path: Path) -> None:
    model = onnxlite.load(_named_model(["__metadata__", "w"], tmp_path))
    with pytest.raises(WeightsError, match="reserves the key '__metadata__'"):
        weights.export_weights(model, tmp_path / "w", format="safetensors")
    assert not (tmp_path / "w").exists()
    weights.export_weights(model, tmp_path / "w", format="safetensors", only="w")


@pytest.mark.parametrize("format", ["npy", "npz", "safetensors"])
def test_same_files_from_memory_mapped_and_threads(tmp_path: Path, monkeypatch: Any, format: str) -> None:
    """Lazy (memory-mapped) and in-memory models, one worker thread or four, give the same bytes."""
    sources = [ALL_DTYPES, FIXTURES / "torch" / "cnn_dynamo.onnx", SPARSE,
               FIXTURES / "torch" / "external" / "embed_mlp.onnx"]
    for i, src in enumerate(sources):
        outputs = []
        for lazy, threads in [(False, 1), (True, 4), (True, 1)]:
            monkeypatch.setattr(_weightdata, "workers", lambda n=threads: n)
            model = onnxlite.load(src, lazy=lazy)
            only = None
            if format == "safetensors":
                only = [w.id for w in weights.iter_weights(model) if w.dtype != onnxlite.DataType.STRING]
            out = tmp_path / f"{i}-{lazy}-{threads}"
            weights.export_weights(model, out, format=format, only=only)
            outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
        assert outputs[0] == outputs[1] == outputs[2], src.name


def test_progress_is_reported_from_the_calling_thread(tmp_path: Path) -> None:
    threads = set()

    def progress(done: int, total: int) -> None:
        threads.add(threading.get_ident())

    weights.export_weights(onnxlite.load(ALL_DTYPES), tmp_path / "w", progress=progress)
    assert threads == {threading.get_ident()}


def test_short_data_refused_before_writing(tmp_path: Path) -> None:
    m = _proto.ModelProto(ir_version=10)
    m.graph.initializer.add(name="w", data_type=1, dims=[4], raw_data=b"\0" * 12)
    path = tmp_path / "short.onnx"
    path.write_bytes(m.SerializeToString())
    for format in ("npy", "npz", "safetensors"):
        with pytest.raises(WeightsError, match=r"'w': has 12 bytes of data, but float \[4\] needs 16"):
            weights.export_weights(onnxlite.load(path), tmp_path / "w", format=format)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short.onnx"]


_REAL = 4  # tensors of real data, 64 MiB each, then one of 64 MiB inside a hole of the data file
_BIG = 16 << 20  # float32 elements per tensor


def _large_sparse_model(folder: Path) -> Path:
    """320 MiB of float32 external data: four tensors of real data (written with numpy), and one
    that lies in a hole of the data file (a sparse file where the file system allows it)."""
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    with open(folder / "w.bin", "wb") as f:
        for i in range(_REAL + 1):
            if i < _REAL:
                np.full(_BIG, i + 1, np.float32).tofile(f)
            t = m.graph.initializer.add(name=f"w{i}", data_type=1, data_location=1)
            t.dims.append(_BIG)
            entries = (("location", "w.bin"), ("offset", str(4 * _BIG * i)), ("length", str(4 * _BIG)))
            for key, value in entries:
                t.external_data.add(key=key, value=value)
        f.truncate(4 * _BIG * (_REAL + 1))
    path = folder / "m.onnx"
    path.write_bytes(m.SerializeToString())
    return path


_MEASURE = r"""
import json, os, shutil, sys
import numpy, ml_dtypes
import onnxlite
from onnxlite import weights

def peak_kib():  # VmHWM: the peak RSS of this process image (ru_maxrss counts the parent's too)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

model = onnxlite.load(sys.argv[1])
result = {"before": peak_kib()}
for format in ("npy", "npz", "safetensors"):
    out = sys.argv[2] + "/" + format
    manifest = weights.export_weights(model, out, format=format)
    files = {e.file for e in manifest.tensors}
    result[format] = {"peak": peak_kib(), "sha256": [e.sha256 for e in manifest.tensors],
                      "blocks": sum(os.stat(out + "/" + f).st_blocks for f in files) * 512}
    shutil.rmtree(out)
print(json.dumps(result))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_memory_stays_flat_on_a_large_sparse_model(tmp_path: Path) -> None:
    """Peak RSS (file-backed pages of the model's mapping included) grows by far less than the
    256 MiB of real data each format writes; the tensor in a hole is saved as zeros, and as a
    hole where the file system has them."""
    path = _large_sparse_model(tmp_path)
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    want = [hashlib.sha256(np.full(_BIG, i + 1, np.float32).tobytes()).hexdigest() for i in range(_REAL)]
    want.append(hashlib.sha256(bytes(4 * _BIG)).hexdigest())
    sparse_source = os.stat(tmp_path / "w.bin").st_blocks * 512 < 4 * _BIG * (_REAL + 0.5)
    for format in ("npy", "npz", "safetensors"):
        grown = (result[format]["peak"] - result["before"]) * 1024  # ru_maxrss is in KiB on Linux
        assert grown < 96 << 20, (format, grown >> 20)
        assert result[format]["sha256"] == want, format
        if sparse_source:
            assert result[format]["blocks"] < 4 * _BIG * (_REAL + 0.5), format


_NO_NUMPY = r"""
import sys
import onnxlite
from onnxlite import weights
manifest = weights.export_weights(onnxlite.load(sys.argv[1]), sys.argv[2])
print(len(manifest.tensors), "numpy" in sys.modules)
"""


def test_npy_export_of_stored_bytes_needs_no_numpy(tmp_path: Path) -> None:
    """Saving tensors as they are stored imports no numpy (a third of the command's start-up)."""
    m = _proto.ModelProto(ir_version=10)
    for i, dt in enumerate([1, 10, 16, 7, 2, 9, 11]):  # float, float16, bfloat16, int64, uint8, bool, double
        values = (np.arange(300_000 + i) % 100).astype(onnxlite.DataType(dt).np_dtype)
        t = onnxlite.Tensor.from_numpy(values, f"t{i}")
        m.graph.initializer.append(t.proto)
    path = tmp_path / "m.onnx"
    path.write_bytes(m.SerializeToString())  # > 1 MiB: loaded lazily, tensors stay in the file
    proc = subprocess.run([sys.executable, "-c", _NO_NUMPY, str(path), str(tmp_path / "w")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["7", "False"]
    back = weights.read_weights(tmp_path / "w")
    for i, t in enumerate(m.graph.initializer):
        assert same(np.asarray(back[f"t{i}"]), onnxlite.Tensor(t).numpy())


def test_typed_fields_packed_without_numpy_match_codec() -> None:
    from onnxlite._storage.codec import decode_typed, encode_raw

    seen: set[onnxlite.DataType] = set()
    protos = [_proto.ModelProto.FromString(case.read()) for case in CASES]
    synthetic = _proto.ModelProto()
    rng = np.random.default_rng(0)
    for dt, field, values in [
        (1, "float_data", rng.standard_normal(50).astype(np.float32).tolist()),
        (11, "double_data", [1.5, -0.0, float("inf"), float("nan"), 1e308]),
        (6, "int32_data", [-(1 << 31), (1 << 31) - 1, 0, -1]),
        (7, "int64_data", [-(1 << 63), (1 << 63) - 1, 0, -1]),
        (13, "uint64_data", [0, (1 << 64) - 1, 12345]),
    ]:
        t = synthetic.graph.initializer.add(name=field, data_type=dt, dims=[len(values)])
        getattr(t, field).extend(values)
    # float32 bit patterns protobuf would quiet when read as Python floats: a signalling NaN
    snan = synthetic.graph.initializer.add(name="snan", data_type=1, dims=[3])
    snan.MergeFromString(bytes([(4 << 3) | 2, 12]) + np.array([0x7F800001, 0x3F800000, 0xFFC00123],
                                                                 "<u4").tobytes())
    for proto in [*protos, synthetic]:
        for path, t in iter_tensors(proto):
            try:
                dt = onnxlite.DataType(t.data_type)
            except ValueError:
                continue
            numel = int(np.prod(t.dims, dtype=object)) if len(t.dims) else 1
            got = _weightdata._typed_raw(t, dt, numel)
            if got is None:
                continue
            assert got == encode_raw(decode_typed(t, where=path))[1], path
            seen.add(dt)
    assert seen == set(_weightdata._TYPED_PACK)
    assert _weightdata._typed_raw(snan, onnxlite.DataType.FLOAT, 3) == np.array(
        [0x7F800001, 0x3F800000, 0xFFC00123], "<u4").tobytes()
    wrong = _proto.TensorProto(data_type=1, dims=[3], float_data=[1.0, 2.0])  # codec refuses it, with why
    assert _weightdata._typed_raw(wrong, onnxlite.DataType.FLOAT, 3) is None
    mixed = _proto.TensorProto(data_type=1, dims=[1], float_data=[1.0], int64_data=[1])
    assert _weightdata._typed_raw(mixed, onnxlite.DataType.FLOAT, 1) is None


def test_module_doctests() -> None:
    import doctest

    result = doctest.testmod(_weightfiles)
    assert result.failed == 0 and result.attempted > 0
