"""load/save: lazy payloads, external data in every mode, atomic writes. Runs without onnx."""

from __future__ import annotations

import io as pyio
import os
from pathlib import Path

import numpy as np
import pytest

import onnxlite
from onnxlite import _proto
from onnxlite._storage import wire

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tools" / "example" / "tiny_cnn.onnx"


def _model(sizes: dict[str, int], typed: tuple[str, ...] = ()) -> onnxlite.Model:
    """A chain of Add nodes over float32 initializers of the given element counts."""
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    g = m.graph
    g.name = "g"
    prev = "x"
    for i, (name, n) in enumerate(sizes.items()):
        arr = (np.arange(n, dtype=np.float32) + i).reshape(n)
        g.initializer.append(onnxlite.Tensor.from_numpy(arr, name, typed=name in typed).proto)
        g.node.add(op_type="Add", input=[prev, name], output=[f"v{i}"])
        prev = f"v{i}"
    return onnxlite.Model(m)


def _arrays(model: onnxlite.Model) -> dict[str, np.ndarray]:
    return {name: np.array(t.numpy()) for name, t in model.graph.initializers.items()}


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)


def test_example_round_trips_byte_identical(tmp_path: Path) -> None:
    m = onnxlite.load(EXAMPLE)
    out = tmp_path / "out.onnx"
    onnxlite.save(m, out)
    assert out.read_bytes() == EXAMPLE.read_bytes()
    assert onnxlite.dumps(m) == EXAMPLE.read_bytes()
    with open(EXAMPLE, "rb") as f:
        assert onnxlite.dumps(onnxlite.load(f)) == EXAMPLE.read_bytes()


def test_large_payloads_stay_in_the_file(tmp_path: Path) -> None:
    model = _model({"big": 300_000, "small": 10})
    path = tmp_path / "m.onnx"
    onnxlite.save(model, path)
    assert onnxlite.load(path, lazy=False).graph.initializers["big"].location == "raw"
    assert onnxlite.load(path).graph.initializers["big"].location == "file"  # 1.2 MB: lazy by default
    loaded = onnxlite.load(path, lazy=True)
    big = loaded.graph.initializers["big"]
    assert big.location == "file"
    assert len(big.proto.raw_data) == wire.MARKER_LEN  # the payload was not parsed into memory
    assert loaded.graph.initializers["small"].location == "raw"
    arr = big.numpy()
    assert not arr.flags.writeable and arr.shape == (300_000,) and arr[12345] == 12345
    assert onnxlite.dumps(loaded) == path.read_bytes()


def test_loads_keeps_payloads_in_the_given_bytes() -> None:
    data = onnxlite.dumps(_model({"big": 50_000}))
    loaded = onnxlite.loads(data, lazy=True)
    assert loaded.graph.initializers["big"].location == "file"
    assert onnxlite.dumps(loaded) == data
    assert onnxlite.loads(bytearray(data)).graph.initializers["big"].numpy()[7] == 7
    assert onnxlite.load(pyio.BytesIO(data)).graph.initializers["big"].numpy()[9] == 9


@pytest.mark.parametrize("per_tensor", [False, True])
def test_external_data_true_moves_exactly_the_big_tensors(tmp_path: Path, per_tensor: bool) -> None:
    # 256 floats = 1024 bytes = the threshold: external; 255 floats = 1020 bytes: embedded
    model = _model({"at": 256, "below": 255, "big": 100_000, "typed": 1000}, typed=("typed",))
    expected = _arrays(model)
    before = model.proto.SerializeToString()
    path = tmp_path / "m.onnx"
    onnxlite.save(model, path, external_data=True, per_tensor=per_tensor)
    assert model.proto.SerializeToString() == before  # the caller's model is untouched
    loaded = onnxlite.load(path)
    where = {name: t.location for name, t in loaded.graph.initializers.items()}
    assert where == {"at": "external", "below": "raw", "big": "external", "typed": "external"}
    assert _same(_arrays(loaded), expected)
    files = sorted(p.name for p in tmp_path.iterdir())
    if per_tensor:
        assert files == ["at.bin", "big.bin", "m.onnx", "typed.bin"]
    else:
        assert files == ["m.onnx", "m.onnx.data"]
        offsets = [int(t.external_data["offset"]) for t in loaded.graph.initializers.values()
                   if t.location == "external"]
        assert all(o % 64 == 0 for o in offsets)


def test_external_data_location_and_threshold(tmp_path: Path) -> None:
    model = _model({"a": 1000, "b": 10})
    onnxlite.save(model, tmp_path / "m.onnx", external_data=True, location="w/weights.bin", size_threshold=0)
    loaded = onnxlite.load(tmp_path / "m.onnx")
    assert {t.external_data["location"] for t in loaded.graph.initializers.values()} == {"w/weights.bin"}
    assert _same(_arrays(loaded), _arrays(model))


def test_resave_external_model_to_other_folder_is_self_contained(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    model = _model({"a": 5000, "b": 3000})
    onnxlite.save(model, src / "m.onnx", external_data=True)
    loaded = onnxlite.load(src / "m.onnx")
    dst = tmp_path / "dst"
    dst.mkdir()
    onnxlite.save(loaded, dst / "copy.onnx")
    assert (dst / "copy.onnx").read_bytes() == (src / "m.onnx").read_bytes()
    assert sorted(p.name for p in dst.iterdir()) == ["copy.onnx", "m.onnx.data"]
    for p in src.iterdir():
        p.unlink()
    assert _same(_arrays(onnxlite.load(dst / "copy.onnx")), _arrays(model))


def test_resave_same_folder_same_location_never_appends(tmp_path: Path) -> None:
    model = _model({"a": 5000, "b": 3000})
    path = tmp_path / "m.onnx"
    onnxlite.save(model, path, external_data=True)
    data = tmp_path / "m.onnx.data"
    size = data.stat().st_size
    loaded = onnxlite.load(path)
    for _ in range(3):
        onnxlite.save(loaded, path, external_data=True)
        assert data.stat().st_size == size
    assert _same(_arrays(loaded), _arrays(model))  # still reads its original bytes
    assert _same(_arrays(onnxlite.load(path)), _arrays(model))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.onnx.data"]


def test_embed_external_back(tmp_path: Path) -> None:
    model = _model({"a": 5000, "b": 30})
    onnxlite.save(model, tmp_path / "ext.onnx", external_data=True)
    onnxlite.save(onnxlite.load(tmp_path / "ext.onnx"), tmp_path / "emb.onnx", external_data=False)
    onnxlite.save(model, tmp_path / "direct.onnx")
    assert (tmp_path / "emb.onnx").read_bytes() == (tmp_path / "direct.onnx").read_bytes()


def test_failed_save_leaves_previous_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"previous")
    model = _model({"a": 5000})
    with pytest.raises(onnxlite.UnsafePathError):
        onnxlite.save(model, path, external_data=True, location="../out.bin")
    with pytest.raises(onnxlite.SaveError):
        onnxlite.save(model, path, external_data=True, location="m.onnx")
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_saved_file_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        onnxlite.save(_model({"a": 10}), tmp_path / "m.onnx")
    finally:
        os.umask(old)
    assert (tmp_path / "m.onnx").stat().st_mode & 0o777 == 0o644


def test_over_two_gib_embedded_is_refused_with_advice(tmp_path: Path) -> None:
    m = _proto.ModelProto(ir_version=10)
    t = m.graph.initializer.add(name="huge", data_type=1, data_location=1)
    t.dims.append(2**29 + 16)  # 2 GiB + 64 bytes of float32
    for key, value in (("location", "huge.bin"), ("offset", "0"), ("length", str(4 * (2**29 + 16)))):
        t.external_data.add(key=key, value=value)
    with open(tmp_path / "huge.bin", "wb") as f:
        f.truncate(4 * (2**29 + 16))  # sparse: no disk used
    (tmp_path / "m.onnx").write_bytes(m.SerializeToString())
    loaded = onnxlite.load(tmp_path / "m.onnx")
    assert loaded.graph.initializers["huge"].shape == (2**29 + 16,)
    with pytest.raises(onnxlite.SaveError, match="external_data=True"):
        onnxlite.save(loaded, tmp_path / "out.onnx", external_data=False)
    assert not (tmp_path / "out.onnx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.bin", "m.onnx"]


def test_empty_and_garbage_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(onnxlite.ModelFormatError, match="empty"):
        onnxlite.load(tmp_path / "empty.onnx")
    with pytest.raises(onnxlite.ModelFormatError, match="not"):
        onnxlite.loads(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(onnxlite.ExternalDataError):
        onnxlite.load(tmp_path / "missing.onnx")


def test_file_names_for_tensors_are_portable() -> None:
    import doctest

    from onnxlite._storage import paths as _paths

    assert doctest.testmod(_paths).failed == 0
    used: set[str] = set()
    names = [_paths.safe_file_name(n, used, ".bin") for n in ("W", "w", "CON", "a/../b", "x" * 300)]
    assert names[0] == "W.bin" and names[1] == "w_1.bin" and names[2].startswith("_CON")
    assert all("/" not in n and ".." not in n and len(n) < 130 for n in names)
    assert len({n.lower() for n in names}) == len(names)


def test_thousands_of_external_files_under_a_low_descriptor_limit(tmp_path: Path) -> None:
    """One external file per tensor (as some exporters write) with more files than the soft
    descriptor limit allows: reading every tensor and re-saving still work."""
    resource = pytest.importorskip("resource")
    import subprocess
    import sys

    model = _model({f"t{i}": 8 for i in range(300)})
    onnxlite.save(model, tmp_path / "m.onnx", external_data=True, per_tensor=True, size_threshold=0)
    script = (
        "import onnxlite\n"
        "m = onnxlite.load('m.onnx')\n"
        "print(sum(float(t.numpy()[0]) for t in m.graph.initializers.values()))\n"
        "onnxlite.save(m, 'inline.onnx', external_data=False)\n"
    )

    def low_limit() -> None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))

    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         preexec_fn=low_limit, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == sum(range(300))
    assert _same(_arrays(onnxlite.load(tmp_path / "inline.onnx")), _arrays(model))


def test_sparse_external_data_is_copied_as_sparse(tmp_path: Path) -> None:
    """Holes in a data file stay holes in the copy (a 64 GB sparse file re-saves in an instant
    and a few KB of disk); the data around them is copied exactly."""
    src = tmp_path / "src"
    src.mkdir()
    n = 16 << 20  # 64 MiB of float32 per tensor, mostly holes
    m = _proto.ModelProto(ir_version=10)
    with open(src / "w.bin", "wb") as f:
        f.truncate(8 * n)
        for where in (0, 4 * n - 4096, 4 * n + (1 << 20), 8 * n - 8):
            f.seek(where)
            f.write(np.arange(2, dtype=np.float32).tobytes() + b"\x07" * 8)
    for i in range(2):
        t = m.graph.initializer.add(name=f"w{i}", data_type=1, data_location=1)
        t.dims.append(n)
        for key, value in (("location", "w.bin"), ("offset", str(4 * n * i)), ("length", str(4 * n))):
            t.external_data.add(key=key, value=value)
    (src / "m.onnx").write_bytes(m.SerializeToString())
    model = onnxlite.load(src / "m.onnx")
    for dest, options in ((tmp_path / "keep", {}), (tmp_path / "moved", {"external_data": True})):
        dest.mkdir()
        onnxlite.save(model, dest / "m.onnx", **options)  # type: ignore[arg-type]
        data = next(p for p in dest.iterdir() if p.name != "m.onnx")
        assert data.stat().st_blocks * 512 < 8 << 20  # far less disk than the 128 MiB it spans
        copy = onnxlite.load(dest / "m.onnx")
        for name in ("w0", "w1"):
            a, b = model.graph.initializers[name].numpy(), copy.graph.initializers[name].numpy()
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32))


def test_data_type_prints_its_name_and_repr_keeps_the_number() -> None:
    t = onnxlite.load(EXAMPLE).graph.initializers
    dtype = next(iter(t.values())).dtype
    assert str(dtype) == "FLOAT" and f"{dtype}" == "FLOAT" and f"{dtype:>7}" == "  FLOAT"
    assert repr(dtype) == "<DataType.FLOAT: 1>" and f"{dtype:d}" == "1" and dtype == 1
    assert [str(d) for d in onnxlite.DataType] == [d.name for d in onnxlite.DataType]


def test_format_model_is_exported_beside_parse_model_without_importing_the_printer() -> None:
    import subprocess
    import sys

    script = ("import sys, onnxlite; assert 'onnxlite.text' not in sys.modules, 'printer imported'; "
              "f = onnxlite.format_model; from onnxlite.text import format_model; assert f is format_model; "
              "assert 'format_model' in dir(onnxlite) and 'format_model' in onnxlite.__all__")
    subprocess.run([sys.executable, "-c", script], check=True)
    model = onnxlite.load(EXAMPLE)
    text = onnxlite.format_model(model, full=True)
    again = onnxlite.parse_model(text)
    assert onnxlite.format_model(again, full=True) == text
    with pytest.raises(AttributeError, match="no attribute 'format_models'"):
        onnxlite.format_models  # noqa: B018


def _mapped(path: Path) -> bool:
    """Whether this process maps or has open ``path`` (per /proc/self)."""
    real = os.path.realpath(path)
    with open("/proc/self/maps") as f:
        if any(line.rstrip("\n").endswith(" " + real) for line in f):
            return True
    return any(os.path.realpath(f"/proc/self/fd/{fd}") == real for fd in os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads /proc/self/maps (Linux)")
def test_close_releases_maps_and_files_at_a_known_point(tmp_path: Path) -> None:
    model = _model({"small": 8, "big": 400_000, "ext": 300_000})
    onnxlite.save(model, tmp_path / "e.onnx", external_data=True, size_threshold=1_500_000)
    assert (tmp_path / "e.onnx").stat().st_size > 1 << 20  # mapped on load, not read whole
    loaded = onnxlite.load(tmp_path / "e.onnx")
    tensors = loaded.graph.initializers
    assert float(tensors["ext"].numpy()[5]) == 7.0 and float(tensors["big"].numpy()[5]) == 6.0
    assert _mapped(tmp_path / "e.onnx") and _mapped(tmp_path / "e.onnx.data")
    import gc

    gc.collect()  # the arrays above are gone: nothing holds the maps but the model
    loaded.close()
    assert loaded.closed
    assert not _mapped(tmp_path / "e.onnx") and not _mapped(tmp_path / "e.onnx.data")
    assert len(loaded.graph.nodes) == 3  # the graph is in memory: it still answers
    assert float(tensors["small"].numpy()[1]) == 1.0  # embedded bytes need no file
    for name in ("big", "ext"):
        with pytest.raises(onnxlite.ModelClosedError, match=r"model '.*e\.onnx' was closed; load it again"):
            loaded.graph.initializers[name].numpy()
    with pytest.raises(onnxlite.ModelClosedError, match="was closed"):
        onnxlite.save(loaded, tmp_path / "again.onnx")  # never the marker bytes in place of data
    assert not (tmp_path / "again.onnx").exists()
    loaded.close()  # twice is fine


def test_model_is_a_context_manager(tmp_path: Path) -> None:
    onnxlite.save(_model({"w": 300_000}), tmp_path / "m.onnx")
    with onnxlite.load(tmp_path / "m.onnx", lazy=True) as model:
        assert float(model.graph.initializers["w"].numpy()[3]) == 3.0
        assert not model.closed
    assert model.closed
    with pytest.raises(onnxlite.ModelClosedError):
        model.graph.initializers["w"].numpy()
    # an array obtained before closing stays valid (its mapping is released when it goes)
    with onnxlite.load(tmp_path / "m.onnx", lazy=True) as model:
        kept = model.graph.initializers["w"].numpy()
    assert float(kept[299_999]) == 299_999.0


@pytest.mark.parametrize("where", ["embedded", "lazy", "external", "typed"])
def test_write_raw_and_raw_sha256_agree_with_raw_bytes(tmp_path: Path, where: str) -> None:
    """Tensor.write_raw copies the stored bytes to a descriptor (at its position, from the file
    by the kernel when they live in one); raw_sha256 hashes them without mapping them."""
    import hashlib

    model = _model({"w": 300_000, "small": 5}, typed=("w",) if where == "typed" else ())
    if where in ("lazy", "external"):
        onnxlite.save(model, tmp_path / "m.onnx", external_data=where == "external")
        model = onnxlite.load(tmp_path / "m.onnx", lazy=True)
    tensor = model.graph.initializers["w"]
    assert tensor.is_external == (where == "external")
    expected = (np.arange(300_000, dtype="<f4")).tobytes()
    assert bytes(tensor.raw_bytes()) == expected
    with open(tmp_path / "out.bin", "wb") as f:
        f.write(b"head")
        f.flush()
        assert tensor.write_raw(f.fileno()) == len(expected)
    assert (tmp_path / "out.bin").read_bytes() == b"head" + expected
    assert tensor.raw_sha256() == hashlib.sha256(expected).hexdigest()
    strings = onnxlite.Tensor.from_numpy(np.array([b"a"], dtype=object), "s")
    with pytest.raises(onnxlite.ModelFormatError, match="STRING tensor has no raw bytes"):
        strings.raw_sha256()
