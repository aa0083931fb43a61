"""Saves, conversions and weights exports killed with SIGKILL at random moments leave the previous
files intact, and after one more write that finishes nothing else is left in the folder; loading
one model from many threads and processes at once is safe.

The writer is watched through /proc/PID/fd: a file open for writing in the output folder is what
a save writes through (an unnamed O_TMPFILE shows there as ``FOLDER/#INODE (deleted)``). A save
that is never seen writing fails the test, and so does one seen writing a target's own name (an
in-place write), whatever the kill then leaves."""

from __future__ import annotations

import hashlib
import os
import random
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
from onnxlite._storage import tempfiles

pytestmark = pytest.mark.skipif(not (hasattr(signal, "SIGKILL") and os.path.isdir("/proc/self/fd")),
                                reason="needs SIGKILL and /proc (Linux)")

ROUNDS = 3


def _big_model(path: Path, tensors: int = 12, floats: int = 4 << 20) -> None:
    """~200 MB of float32 weights as external data (written once, quickly, with numpy)."""
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


@pytest.fixture(scope="module")
def big_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    _big_model(src / "m.onnx")
    return src / "m.onnx"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _state(folder: Path) -> dict[str, str]:
    """Name -> content digest of what a reader sees: every entry, recursively."""
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _writing_into(pid: int, folder: Path) -> list[str]:
    """The files under ``folder`` that process ``pid`` has open for writing, as /proc shows them."""
    found = []
    prefix = str(folder) + os.sep
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                flags = int(next(line for line in f if line.startswith("flags:")).split()[1], 8)
        except (OSError, StopIteration, ValueError, IndexError):
            continue
        if target.startswith(prefix) and flags & 0o3:  # O_WRONLY or O_RDWR
            found.append(target[len(prefix):])
    return found


def _kill_while_writing(script: str, folder: Path, rng: random.Random) -> tuple[list[str], int]:
    """Run ``script``; once it is seen writing under ``folder``, SIGKILL it after a random delay.
    Returns (the files seen open for writing, its exit status)."""
    proc = subprocess.Popen([sys.executable, "-c", script])
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        seen = _writing_into(proc.pid, folder)
        if seen:
            time.sleep(rng.uniform(0, 0.15))
            seen += _writing_into(proc.pid, folder)
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.0005)
    return seen, proc.wait()


def _assert_through_temporaries(seen: list[str], targets: set[str]) -> None:
    assert seen, "the write finished without ever being seen writing in the output folder"
    in_place = sorted({name for name in seen if name in targets})
    assert not in_place, f"written in place, not through a temporary file: {in_place}"


def _leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


@pytest.mark.parametrize("unnamed", [True, False], ids=["O_TMPFILE", "named-temporaries"])
@pytest.mark.parametrize("command", ["save", "convert"])
def test_killed_saves_leave_only_the_target(big_model: Path, tmp_path: Path, unnamed: bool,
                                            command: str) -> None:
    """Random kills never leave a half-written target, and the next save that finishes leaves
    nothing but the model and its data file in the folder."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "m.onnx").write_bytes(b"previous model")
    (out / "m.onnx.data").write_bytes(b"previous data")
    before = _state(out)
    ref = tmp_path / "ref"
    ref.mkdir()
    onnxlite.save(onnxlite.load(big_model), ref / "m.onnx", external_data=True)
    finished = _state(ref)
    setup = "" if unnamed else "from onnxlite._storage import tempfiles; tempfiles.USE_UNNAMED = False; "
    if command == "save":
        call = (f"m = onnxlite.load({str(big_model)!r}); "
                f"onnxlite.save(m, {str(out / 'm.onnx')!r}, external_data=True)")
    else:
        call = (f"from onnxlite.cli import main; "
                f"main(['convert', {str(big_model)!r}, {str(out / 'm.onnx')!r}, '--external-data'])")
    script = f"import onnxlite; {setup}{call}"
    rng = random.Random(f"{command}-{unnamed}")
    left_by_kills: list[str] = []
    for _ in range(ROUNDS):
        seen, status = _kill_while_writing(script, out, rng)
        _assert_through_temporaries(seen, {"m.onnx", "m.onnx.data"})
        if unnamed:  # nothing named in the folder while writing (the kill may hit after linking)
            assert all(name.endswith(" (deleted)") or tempfiles.is_own_temporary(name) for name in seen), seen
        # a reader sees the previous files or the finished ones, never a part of one
        visible = {k: v for k, v in _state(out).items() if not k.startswith(".")}
        assert visible["m.onnx"] in (before["m.onnx"], finished["m.onnx"]), status
        if visible not in (before, finished):
            # killed between replacing the data file and the model file: the old model sits
            # beside the new data until the next save of it puts the backup back (its first step)
            assert visible["m.onnx"] == before["m.onnx"] and any(n.endswith(".bak") for n in os.listdir(out))
            tempfiles.recover_backups([out], out / "m.onnx")
            visible = {k: v for k, v in _state(out).items() if not k.startswith(".")}
        assert visible in (before, finished), status
        left_by_kills += _leftovers(out, {"m.onnx", "m.onnx.data"})
        assert all(tempfiles.is_own_temporary(name) for name in _leftovers(out, {"m.onnx", "m.onnx.data"}))
    if not unnamed:  # named temporaries do stay behind a kill: the next save must clear them
        assert left_by_kills
    proc = subprocess.run([sys.executable, "-c", script], check=True)
    assert proc.returncode == 0
    assert _state(out) == finished  # nothing but the target and its data file


def test_weights_exports_killed_leave_the_previous_folder(big_model: Path, tmp_path: Path) -> None:
    """Exports killed at random moments leave the previous folder (or the finished one); the next
    export that finishes leaves nothing beside it."""
    dest = tmp_path / "weights"
    dest.mkdir()
    (dest / "old.npy").write_bytes(b"previous export")
    before = _state(dest)
    from onnxlite import weights

    weights.export_weights(onnxlite.load(big_model), tmp_path / "ref", force=True)
    finished = _state(tmp_path / "ref")
    (tmp_path / "ref").rename(tmp_path.parent / f"{tmp_path.name}-ref")  # out of the folder watched
    script = (f"import onnxlite; from onnxlite import weights; m = onnxlite.load({str(big_model)!r}); "
              f"weights.export_weights(m, {str(dest)!r}, force=True)")
    rng = random.Random(0)
    left_by_kills: list[str] = []
    for _ in range(ROUNDS):
        seen, status = _kill_while_writing(script, tmp_path, rng)
        _assert_through_temporaries(seen, {f"weights/{name}" for name in finished} | {"weights/old.npy"})
        assert _state(dest) in (before, finished), status
        left_by_kills += _leftovers(tmp_path, {"weights"})
        assert all(tempfiles.is_own_temporary(name) for name in _leftovers(tmp_path, {"weights"}))
    assert left_by_kills  # a folder cannot be unnamed: the next export clears what kills left
    subprocess.run([sys.executable, "-c", script], check=True)
    assert _leftovers(tmp_path, {"weights"}) == []
    assert _state(dest) == finished


def test_cleanup_removes_only_own_names_of_writers_that_are_gone(tmp_path: Path) -> None:
    target = tmp_path / "m.onnx"
    target.write_bytes(b"model")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = f".m.onnx.onnxlite-{gone.pid}-0123abcd"
    live = f".m.onnx.onnxlite-{os.getppid()}-0123abcd"
    names = [dead + ".tmp", dead + ".bak", live + ".tmp", ".m.onnx.0123abcd.tmp",
             ".other.onnxlite-1-0123abcd.tmp", dead + ".tmp.keep"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / (dead + ".old")).mkdir()
    removed = tempfiles.clean_stale(target)
    assert sorted(p.name for p in removed) == sorted([dead + ".tmp", dead + ".bak", dead + ".old"])
    assert _leftovers(tmp_path, {"m.onnx"}) == sorted(names[2:])


@pytest.mark.parametrize("model_landed", [False, True])
def test_data_backups_of_a_killed_save_are_settled_by_the_next_save(tmp_path: Path,
                                                                    model_landed: bool) -> None:
    """A save killed after replacing the data file: if its model file never landed the backup
    goes back (the old model reads those bytes), else it is dropped; then the save proceeds."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    model, data = tmp_path / "m.onnx", tmp_path / "m.onnx.data"
    model.write_bytes(b"old model")
    data.write_bytes(b"new data")
    new_model = tmp_path / "new"
    new_model.write_bytes(b"new model")
    inode = new_model.stat().st_ino
    if model_landed:
        os.replace(new_model, model)
    backup = tempfiles.backup_name(data, model, inode)
    backup = backup.with_name(backup.name.replace(f"-{os.getpid()}-", f"-{gone.pid}-"))
    backup.write_bytes(b"old data")
    other = tempfiles.backup_name(data, tmp_path / "other.onnx", inode)  # another model's: kept
    other = other.with_name(other.name.replace(f"-{os.getpid()}-", f"-{gone.pid}-"))
    other.write_bytes(b"x")
    tempfiles.recover_backups([tmp_path], model)
    assert data.read_bytes() == (b"new data" if model_landed else b"old data")
    assert not backup.exists() and other.exists()
    assert tempfiles.is_own_temporary(backup.name) and tempfiles.is_own_temporary(other.name)


def test_cleanup_puts_back_a_folder_set_aside_when_its_target_is_missing(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    aside = tmp_path / f".weights.onnxlite-{gone.pid}-0123abcd.old"
    aside.mkdir()
    (aside / "a.npy").write_bytes(b"previous")
    tempfiles.clean_stale(tmp_path / "weights")
    assert (tmp_path / "weights" / "a.npy").read_bytes() == b"previous"
    assert not aside.exists()


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
