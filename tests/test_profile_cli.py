"""`onnxlite profile` and the many-file mode of info/check/profile (PATH... --jsonl)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from onnxlite import cli
from tests.corpus import node_cases

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TORCH = FIXTURES / "torch"
HOSTILE = FIXTURES / "hostile"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_profile_json_csv_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    model = str(TORCH / "cnn_dynamo.onnx")
    code, out, _ = run(capsys, "profile", model, "--json", "--dim", "batch=2")
    j = json.loads(out)
    assert code == 0 and j["totals"]["macs"] == 2 * 2496
    code, out, _ = run(capsys, "profile", model, "--csv")
    assert code == 0 and out.splitlines()[0].startswith("name,op_type,domain,graph,scope,count,macs,flops")
    code, out, _ = run(capsys, "profile", model, "--input-shape", "x=1,1,8,8", "--top", "2", "--no-color")
    assert code == 0
    assert out.splitlines()[0] == (f"{model}: 2,496 MACs, 5,763 FLOPs, 237 parameters (956 bytes), "
                                   "peak activations 2,048 bytes")
    assert "Top 2 nodes" in out and "By op type" in out and "By scope" in out


def test_profile_of_an_unreadable_file_is_one_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07\x12")
    code, out, err = run(capsys, "profile", str(bad))
    assert (code, out) == (1, "") and err.startswith("onnxlite: error: ") and len(err.splitlines()) == 1


def _folder(tmp_path: Path) -> tuple[Path, list[str]]:
    """The onnx backend node cases as files, plus the hostile fixtures (copied in)."""
    root = tmp_path / "corpus"
    (root / "node").mkdir(parents=True)
    for case in node_cases():
        (root / "node" / f"{case.id.split('/', 1)[1]}.onnx").write_bytes(case.read())
    shutil.copytree(HOSTILE, root / "hostile", symlinks=True)
    files = sorted(str(p) for p in root.rglob("*.onnx"))
    return root, files


def test_info_jsonl_over_the_node_cases_and_hostile_files(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    root, files = _folder(tmp_path)
    assert len(files) > 1500
    code, out, err = run(capsys, "info", "--jsonl", "--jobs", "2", str(root))
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in records] == files                # every file once, in sorted path order
    failed = [r["path"] for r in records if "error" in r]
    hostile = {str(root / "hostile" / n) for n in ("bad_wire_type.onnx", "deep_if_150.onnx",
                                                   "length_overflow.onnx", "truncated.onnx")}
    assert set(failed) == hostile
    assert all("node_count" in r for r in records if "error" not in r)
    assert code == 1                                           # some file failed, after every record
    assert err.startswith(f"{len(files)} files, {len(failed)} failed, ")


def test_many_file_text_mode_check_and_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = TORCH / "cnn_dynamo.onnx", TORCH / "attention_dynamo.onnx"
    code, out, _ = run(capsys, "check", str(a), str(b))
    lines = out.splitlines()  # sorted path order, whatever the order given
    assert code == 0 and lines[:2] == [f"{b}: valid", f"{a}: valid"]
    assert lines[2].startswith("2 files, 0 failed")
    code, out, err = run(capsys, "profile", "--jsonl", "--dim", "batch=1", str(a), str(b))
    recs = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["path"] for r in recs] == [str(b), str(a)]
    assert recs[1]["totals"]["macs"] == 2496 and set(recs[0]) >= {"nodes", "by_scope", "not_counted"}


def test_folders_do_not_follow_symlinks_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(TORCH / "cnn_dynamo.onnx", outside / "secret.onnx")
    inside = tmp_path / "models"
    (inside / "sub").mkdir(parents=True)
    shutil.copy(TORCH / "cnn_dynamo.onnx", inside / "sub" / "a.onnx")
    os.symlink(outside / "secret.onnx", inside / "link.onnx")
    os.symlink(outside, inside / "linked_dir")
    os.symlink(inside / "sub" / "a.onnx", inside / "inner_link.onnx")   # stays inside: followed
    code, out, _ = run(capsys, "info", "--jsonl", str(inside))
    paths = [json.loads(line)["path"] for line in out.splitlines()]
    assert code == 0 and paths == [str(inside / "inner_link.onnx"), str(inside / "sub" / "a.onnx")]
