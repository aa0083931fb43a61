"""`onnxlite convert IN OUT`: the same bytes with no option, external data and embedding with
every option (checked with onnx.load), the 2 GiB refusal, IN == OUT, and usage errors."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import helper, numpy_helper  # noqa: E402

from onnxlite import cli  # noqa: E402
from onnxlite._storage import writer  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CNN = FIXTURES / "torch" / "cnn_dynamo.onnx"
EXTERNAL = FIXTURES / "torch" / "external" / "embed_mlp.onnx"
PLAIN = [CNN, FIXTURES / "dtypes" / "all_dtypes_raw.onnx", FIXTURES / "structure" / "sparse.onnx",
         FIXTURES / "wire" / "base.onnx", FIXTURES / "structure" / "subgraphs.onnx",
         FIXTURES / "structure" / "training_info.onnx"]
# Not the other wire/ fixtures: they are deliberately non-canonical encodings (fields out of order,
# overlong varints, split messages...), which a save writes canonically (same message, other bytes).


def arrays(path: Path) -> dict[str, np.ndarray]:
    """Initializers of the main graph as onnx reads them (external data included)."""
    model = onnx.load(str(path))
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def external_locations(path: Path) -> set[str]:
    model = onnx.load(str(path), load_external_data=False)
    return {e.value for t in model.graph.initializer for e in t.external_data if e.key == "location"}


def same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a)


@pytest.mark.parametrize("src", PLAIN, ids=[p.name for p in PLAIN])
def test_no_option_writes_the_same_bytes(src: Path, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "out.onnx"
    assert cli.main(["convert", str(src), str(out)]) == 0
    assert out.read_bytes() == src.read_bytes()
    assert capsys.readouterr().out == f"wrote {out}\n"


def test_no_option_copies_external_data_beside_the_new_file(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    assert cli.main(["convert", str(EXTERNAL), str(out)]) == 0
    assert out.read_bytes() == EXTERNAL.read_bytes()
    assert same_arrays(arrays(out), arrays(EXTERNAL))


def test_external_data_default_location(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    src = tmp_path / "big.onnx"
    big = numpy_helper.from_array(np.arange(1024, dtype=np.float32), "big")  # 4 KiB: moved
    small = numpy_helper.from_array(np.arange(8, dtype=np.float32), "small")  # 32 bytes: stays
    output = helper.make_tensor_value_info("big", onnx.TensorProto.FLOAT, [1024])
    graph = helper.make_graph([], "g", [], [output], initializer=[big, small])
    onnx.save(helper.make_model(graph), str(src))
    assert cli.main(["convert", str(src), str(out), "--external-data"]) == 0
    model = onnx.load(str(out), load_external_data=False)
    assert [t.data_location for t in model.graph.initializer] == [onnx.TensorProto.EXTERNAL, 0]
    assert external_locations(out) == {"out.onnx.data"}
    assert same_arrays(arrays(out), arrays(src))
    assert cli.main(["convert", str(CNN), str(out), "--external-data", "--threshold", "64"]) == 0
    assert external_locations(out) == {"out.onnx.data"}
    assert same_arrays(arrays(out), arrays(CNN))


def test_external_data_location_and_threshold(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    assert cli.main(["convert", str(CNN), str(out), "--external-data", "--location", "w.bin",
                     "--threshold", "0"]) == 0
    model = onnx.load(str(out), load_external_data=False)
    assert all(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    assert (tmp_path / "w.bin").is_file()
    assert same_arrays(arrays(out), arrays(CNN))
    big = tmp_path / "big.onnx"
    assert cli.main(["convert", str(CNN), str(big), "--external-data", "--threshold", str(1 << 40)]) == 0
    assert external_locations(big) == set()
    assert same_arrays(arrays(big), arrays(CNN))


def test_external_data_per_tensor(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    assert cli.main(["convert", str(CNN), str(out), "--external-data", "--per-tensor", "--threshold", "0",
                     "--location", "tensors"]) == 0
    locations = external_locations(out)
    assert len(locations) == len(onnx.load(str(CNN)).graph.initializer)
    assert all(loc.startswith("tensors/") for loc in locations)
    assert same_arrays(arrays(out), arrays(CNN))


def test_embed(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    assert cli.main(["convert", str(EXTERNAL), str(out), "--embed"]) == 0
    assert external_locations(out) == set()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.onnx"]
    assert same_arrays(arrays(out), arrays(EXTERNAL))


def test_embed_refused_past_2_gib(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setattr(writer, "PROTOBUF_LIMIT", 1000)  # stands in for 2 GiB
    out = tmp_path / "out.onnx"
    assert cli.main(["convert", str(EXTERNAL), str(out), "--embed"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("onnxlite: error: ") and "2 GiB" in err and err.count("\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("options", [[], ["--embed"], ["--external-data"],
                                     ["--external-data", "--per-tensor", "--threshold", "0"]])
def test_in_place(tmp_path: Path, options: list[str]) -> None:
    folder = tmp_path / "m"
    shutil.copytree(EXTERNAL.parent, folder)
    path = folder / EXTERNAL.name
    before = arrays(path)
    assert cli.main(["convert", str(path), str(path), *options]) == 0
    assert same_arrays(arrays(path), before)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temporary files
    # and again, from the result
    assert cli.main(["convert", str(path), str(path), *options]) == 0
    assert same_arrays(arrays(path), before)


def test_in_place_embedded_model(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    shutil.copy(CNN, path)
    before = arrays(path)
    assert cli.main(["convert", str(path), str(path), "--external-data", "--threshold", "0"]) == 0
    assert external_locations(path) == {"m.onnx.data"}
    assert cli.main(["convert", str(path), str(path), "--embed"]) == 0
    assert external_locations(path) == set()
    assert same_arrays(arrays(path), before)


def test_usage_errors(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "out.onnx"
    assert cli.main(["convert", str(CNN), str(out), "--location", "x.bin"]) == 2
    assert "--location only go with --external-data" in capsys.readouterr().err
    assert cli.main(["convert", str(CNN), str(out), "--per-tensor", "--threshold", "5"]) == 2
    with pytest.raises(SystemExit) as info:
        cli.main(["convert", str(CNN), str(out), "--embed", "--external-data"])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["convert", str(CNN), str(out), "--threshold", "-1"])
    assert not out.exists()


def test_errors_are_one_line(tmp_path: Path, capsys: Any) -> None:
    assert cli.main(["convert", str(tmp_path / "missing.onnx"), str(tmp_path / "out.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.onnx" in err
    assert cli.main(["convert", str(CNN), str(tmp_path / "nowhere" / "out.onnx")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert cli.main(["convert", str(CNN), str(tmp_path / "out.onnx"), "--external-data",
                     "--location", "../escape.bin"]) == 1
    assert "escape" in capsys.readouterr().err
    assert not (tmp_path.parent / "escape.bin").exists()
