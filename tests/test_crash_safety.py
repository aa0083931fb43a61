"""A save or a weights export killed with SIGKILL mid-write leaves the previous files intact;
loading one model from many threads and processes at once is safe."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import onnxlite
from onnxlite import _proto

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _big_model(path: Path, tensors: int = 24, floats: int = 4 << 20) -> None:
    """~400 MB of float32 weights as external data (written once, quickly, with numpy)."""
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    offset = 0
    with open(path.parent / "w.bin", "wb") as f:
        for i in range(tensors):
            np.full(floats, i, np.float32).tofile(f)
            t = m.graph.initializer.add(name=f"w{i}", data_type=1, data_location=1)
            t.dims.append(floats)
            for key, value in (("location", "w.bin"), ("offset", str(offset)), ("length", str(4 * floats))):
                t.external_data.add(key=key, value=value)
            offset += 4 * floats
    path.write_bytes(m.SerializeToString())


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _kill_when(proc: subprocess.Popen[bytes], folder: Path, pattern: str) -> bool:
    """SIGKILL ``proc`` as soon as a file matching ``pattern`` appears in ``folder``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if any(folder.glob(pattern)):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.001)
    proc.wait()
    return False


def test_save_killed_mid_write_leaves_previous_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _big_model(src / "m.onnx")
    out = tmp_path / "out"
    out.mkdir()
    (out / "m.onnx").write_bytes(b"previous model")
    (out / "m.onnx.data").write_bytes(b"previous data")
    before = {p.name: _digest(p) for p in out.iterdir()}
    script = (f"import onnxlite; m = onnxlite.load({str(src / 'm.onnx')!r}); "
              f"onnxlite.save(m, {str(out / 'm.onnx')!r}, external_data=True)")
    proc = subprocess.Popen([sys.executable, "-c", script])
    killed = _kill_when(proc, out, ".m.onnx.data.*.tmp")
    if not killed:
        pytest.skip("the save finished before it could be killed")
    after = {p.name: _digest(p) for p in out.iterdir() if not p.name.startswith(".")}
    assert after == before  # the real names still hold the previous files, byte for byte
    # what a SIGKILL leaves is only the temporary file, under a hidden name
    leftovers = [p.name for p in out.iterdir() if p.name not in before]
    assert all(name.startswith(".") and name.endswith(".tmp") for name in leftovers)


def test_weights_export_killed_mid_write_leaves_previous_folder(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _big_model(src / "m.onnx")
    dest = tmp_path / "weights"
    dest.mkdir()
    (dest / "old.npy").write_bytes(b"previous export")
    script = (f"import onnxlite; from onnxlite import weights; m = onnxlite.load({str(src / 'm.onnx')!r}); "
              f"weights.export_weights(m, {str(dest)!r}, force=True)")
    proc = subprocess.Popen([sys.executable, "-c", script])
    killed = _kill_when(proc, tmp_path, ".weights.*.tmp/*.npy")
    if not killed:
        pytest.skip("the export finished before it could be killed")
    assert [p.name for p in dest.iterdir()] == ["old.npy"]
    assert (dest / "old.npy").read_bytes() == b"previous export"


def test_one_model_loaded_from_many_threads_and_processes(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    m = _proto.ModelProto(ir_version=10)
    for i in range(16):
        m.graph.initializer.append(onnxlite.Tensor.from_numpy(np.full(5000, i, np.float32), f"w{i}").proto)
    path.write_bytes(m.SerializeToString())

    def load_sum(_: int) -> float:
        model = onnxlite.load(path, lazy=True)
        return float(sum(t.numpy().sum() for t in model.graph.initializers.values()))

    expected = 5000.0 * sum(range(16))
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(load_sum, range(32))) == [expected] * 32
    script = (f"import onnxlite; m = onnxlite.load({str(path)!r}, lazy=True); "
              "print(sum(float(t.numpy().sum()) for t in m.graph.initializers.values()))")
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    assert [float(p.communicate(timeout=60)[0]) for p in procs] == [expected] * 4
