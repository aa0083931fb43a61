"""The `onnxlite info` and `onnxlite dump` commands: rendered output, JSON, options, exit codes,
error lines, colour decisions and a closed pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.text import Text

import onnxlite
import onnxlite.summary
from onnxlite import _proto
from onnxlite.cli import _main as cli

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "tools" / "example" / "tiny_cnn.onnx"

TINY_CNN_INFO = """\
tiny_cnn.onnx  12.7 KiB
A tiny CNN classifier for 3x8x8 images (onnxlite's quick-start example).

Model
  IR version  10
  Opsets      ai.onnx 21
  Producer    onnxlite-example 1
  Graph       tiny_cnn: 5 nodes
  Metadata    license: Apache-2.0
  Types       1 of 5 node outputs declared, 5 inferred

Inputs (1)
  image  float  [batch, 3, 8, 8]

Outputs (1)
  probs  float  [batch, 10]

Operators: 5 nodes, 5 op types
  Conv     1    Flatten  1    Gemm     1    Relu     1    Softmax  1

Parameters: 3,114 (3.1K) in 4 tensors, 12.2 KiB
  dtype  tensors  elements     bytes
  float        4     3,114  12.2 KiB
  From    4 initializers in the main graph
  Stored  12.2 KiB in the model file
"""


@pytest.fixture(autouse=True)
def _plain_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Colourless, 100 columns: what a pipe gets, whatever terminal runs the tests."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- info -----------------------------------------------------------------------------------------

def test_info_renders_the_example_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "info", str(EXAMPLE))
    assert (code, err) == (0, "")
    assert out == TINY_CNN_INFO


def test_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "info", "--json", str(EXAMPLE))
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["ir_version"] == 10 and data["opset_import"] == {"": 21}
    assert data["node_count"] == 5 and data["initializer_count"] == 4
    assert data["op_counts"] == {"Conv": 1, "Flatten": 1, "Gemm": 1, "Relu": 1, "Softmax": 1}
    assert (data["parameter_count"], data["parameter_bytes"]) == (3114, 12456)
    assert data["outputs"] == [{"name": "probs", "dtype": "float", "shape": ["batch", 10],
                                "type": "float[batch,10]", "initializer": False}]
    assert data["types"] == {"values": 5, "declared": 1, "inferred": 5}
    assert data == onnxlite.summary.summarize(onnxlite.load(EXAMPLE), str(EXAMPLE), types=True).to_dict()


def test_info_is_deterministic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _model_with_everything(tmp_path)
    first = run(capsys, "info", str(path))
    assert first[0] == 0 and "MISSING" in first[1]
    assert run(capsys, "info", str(path)) == first


def test_debug_flag_is_accepted_after_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "info", "--debug", str(EXAMPLE))[0] == 0
    assert run(capsys, "--debug", "info", str(EXAMPLE))[0] == 0


# --- errors ----------------------------------------------------------------------------------------

def _bad_files(tmp_path: Path) -> dict[str, Path]:
    data = EXAMPLE.read_bytes()
    files = {
        "missing": tmp_path / "missing.onnx",
        "directory": tmp_path / "folder.onnx",
        "truncated": tmp_path / "truncated.onnx",
        "garbage": tmp_path / "garbage.onnx",
        "empty": tmp_path / "empty.onnx",
        "text": tmp_path / "text.onnx",
    }
    files["directory"].mkdir()
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["garbage"].write_bytes(bytes(range(256)) * 4)
    files["empty"].write_bytes(b"")
    files["text"].write_text("this is not an onnx model\n")
    return files


@pytest.mark.parametrize("command", ["info", "dump"])
def test_unreadable_files_give_one_line_and_exit_1(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind, path in _bad_files(tmp_path).items():
        for extra in ([], ["--json"]) if command == "info" else ([],):
            code, out, err = run(capsys, command, *extra, str(path))
            assert code == 1, kind
            assert out == "", kind
            lines = err.splitlines()
            assert len(lines) == 1, (kind, err)
            assert lines[0].startswith("onnxlite: error: ") and str(path) in lines[0], (kind, err)
            assert "Traceback" not in err


def test_error_messages_say_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _bad_files(tmp_path)
    messages = {kind: run(capsys, "info", str(path))[2] for kind, path in files.items()}
    assert "No such file or directory" in messages["missing"]
    assert "is a directory" in messages["directory"]
    assert "not a valid ONNX model" in messages["truncated"]
    assert "empty" in messages["empty"]


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _bad_files(tmp_path)["truncated"]
    code, out, err = run(capsys, "--debug", "info", str(path))
    assert code == 1 and out == ""
    assert "Traceback (most recent call last)" in err and "ModelFormatError" in err
    assert err.rstrip().splitlines()[-1].startswith("onnxlite: error: ")


@pytest.mark.parametrize("argv", [
    [], ["info"], ["info", "--bogus", "x"], ["dump"], ["nosuchcommand"],
    ["dump", "--preview", "-1", "x"], ["dump", "--depth", "two", "x"],
])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    if not argv:
        assert cli.main(argv) == 2
        return
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    assert capsys.readouterr().out == ""


def test_unexpected_errors_still_give_one_line(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("too deep")

    monkeypatch.setattr(onnxlite.summary, "summarize", broken)
    code, out, err = run(capsys, "info", str(EXAMPLE))
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and "RecursionError: too deep" in err and str(EXAMPLE) in err


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    m = _proto.ModelProto(ir_version=10)
    m.opset_import.add(domain="", version=21)
    m.graph.initializer.append(onnxlite.Tensor.from_numpy(np.arange(200_000, dtype=np.float32), "w").proto)
    m.graph.output.add(name="w")
    path = tmp_path / "big.onnx"
    path.write_bytes(m.SerializeToString())
    for argv in (["dump", "--full"], ["info", "--json"]):
        proc = subprocess.Popen([sys.executable, "-m", "onnxlite", *argv, str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 0, err
        assert err == b""


# --- dump ------------------------------------------------------------------------------------------

def test_dump_prints_the_text_form(capsys: pytest.CaptureFixture[str]) -> None:
    from onnxlite import text

    code, out, err = run(capsys, "dump", str(EXAMPLE))
    assert (code, err) == (0, "")
    expected = text.format_model(onnxlite.load(EXAMPLE), types="inferred")
    assert out == expected if expected.endswith("\n") else out == expected + "\n"
    assert out.startswith("<\n   ir_version: 10,")
    assert run(capsys, "dump", str(EXAMPLE))[1] == out  # byte for byte, every time


def test_dump_passes_every_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from onnxlite import text

    seen: list[dict[str, Any]] = []

    def fake(model: onnxlite.Model, **kwargs: Any) -> str:
        seen.append(kwargs)
        return "text"

    monkeypatch.setattr(text, "format_model", fake)
    assert run(capsys, "dump", str(EXAMPLE)) == (0, "text\n", "")
    assert seen[-1] == {"full": False, "preview": 8, "stats": False, "op_types": None, "name_pattern": None,
                        "max_depth": None, "header_only": False, "jobs": min(2, os.cpu_count() or 1),
                        "strict": False, "types": "inferred"}
    argv = ["dump", "--full", "--stats", "--preview", "3", "--op", "Conv", "--op", "Relu", "--name", "r*",
            "--depth", "2", "--header", "--no-color", str(EXAMPLE)]
    assert run(capsys, *argv)[0] == 0
    assert seen[-1] == {"full": True, "preview": 3, "stats": True, "op_types": ["Conv", "Relu"],
                        "name_pattern": "r*", "max_depth": 2, "header_only": True,
                        "jobs": min(2, os.cpu_count() or 1), "strict": True, "types": None}
    assert run(capsys, "dump", "--no-infer", str(EXAMPLE))[0] == 0
    assert seen[-1]["types"] == "declared"


@pytest.mark.parametrize("options", [["--full"], ["--stats"], ["--preview", "0"], ["--op", "Gemm"],
                                     ["--name", "r*"], ["--depth", "0"], ["--header"]])
def test_dump_options_run(options: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "dump", *options, str(EXAMPLE))
    assert (code, err) == (0, "") and out.startswith("<\n")


def test_dump_header_is_short(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "dump", "--header", str(EXAMPLE))[1]
    assert "tiny_cnn (float[batch,3,8,8] image) => (float[batch,10] probs)" in out
    assert "Conv" not in out


class _FakeTerminal:
    def __init__(self) -> None:
        self.written: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, data: str) -> int:
        self.written.append(data)
        return len(data)

    def flush(self) -> None:
        pass


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["dump", str(EXAMPLE)])
    assert not cli._want_color(args)  # captured stdout is no terminal (and NO_COLOR is set)
    monkeypatch.setattr(sys, "stdout", _FakeTerminal())
    assert not cli._want_color(args)  # NO_COLOR set
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: no effect (no-color.org)
    assert cli._want_color(args)
    monkeypatch.delenv("NO_COLOR")
    assert cli._want_color(args)
    assert not cli._want_color(parser.parse_args(["dump", "--no-color", str(EXAMPLE)]))


def test_dump_on_a_terminal_is_highlighted(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "xterm-256color")
    assert cli.main(["dump", str(EXAMPLE)]) == 0
    out = "".join(terminal.written)
    assert "\x1b[" in out
    from onnxlite import text

    # the same text, not wrapped to the terminal width
    assert _strip_ansi(out) == text.format_model(onnxlite.load(EXAMPLE), types="inferred").rstrip("\n") + "\n"


def test_huge_dumps_stay_plain_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr(cli, "HIGHLIGHT_MAX_CHARS", 100)
    assert cli.main(["dump", str(EXAMPLE)]) == 0
    out = "".join(terminal.written)
    assert "\x1b[" not in out and out.startswith("<\n   ir_version: 10,")


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_highlighter_styles_the_parts_of_the_syntax() -> None:
    sample = ('<\n   ir_version: 10,\n   producer_name: "a # b"\n>\n'
              'g (float[N] x) => (float[N] y)\n{\n'
              '   [n1] y = com.x.Custom <alpha: float = 0.5> (x)  # a comment\n}\n')
    text = Text(sample)
    cli.onnx_highlighter().highlight(text)

    def styled(style: str) -> list[str]:
        return [sample[s.start:s.end].strip() for s in text.spans if s.style == f"onnx.{style}"]

    assert styled("keyword") == ["ir_version", "producer_name"]
    assert styled("string") == ['"a # b"']
    assert styled("comment") == ["# a comment"]  # not the '#' inside the string
    assert styled("op") == ["com.x.Custom"]
    assert "10" in styled("number") and "0.5" in styled("number")
    assert styled("type") == ["float", "float", "float"]
    assert styled("name") == ["[n1]"]


# --- light imports ------------------------------------------------------------------------------------

def test_import_onnxlite_does_not_import_rich() -> None:
    code = ("import sys, onnxlite, onnxlite.cli, onnxlite.summary; "
            "bad = [m for m in ('rich', 'numpy', 'onnx') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_info_json_needs_neither_rich_nor_numpy() -> None:
    """Without inference (--no-infer: only declared types counted) info stays light."""
    code = ("import sys, io, contextlib; from onnxlite.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['info', '--json', '--no-infer', sys.argv[1]]) == 0\n"
            "bad = [m for m in ('rich', 'numpy') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code, str(EXAMPLE)], check=True, timeout=60)


# --- a model with everything ------------------------------------------------------------------------

def _model_with_everything(folder: Path) -> Path:
    import test_summary

    return test_summary.build_rich_model(folder)


def test_info_of_the_hand_built_model_through_main(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import test_summary

    path = _model_with_everything(tmp_path)
    code, out, err = run(capsys, "info", str(path))
    assert (code, err) == (0, "")
    size = os.path.getsize(path)
    assert out == test_summary.RICH_EXPECTED.replace(
        "?SIZE?", f"{cli._size(size)}, {cli._size(size + 144)} with external data")


# --- dump and weights: filters, --full promises, types -----------------------------------------------

def test_a_filter_matching_nothing_is_an_error_with_a_did_you_mean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "dump", "--op", "conv", str(EXAMPLE)) == (
        1, "", f"onnxlite: error: {EXAMPLE}: no node has op 'conv'; did you mean 'Conv'?\n")
    code, out, err = run(capsys, "dump", "--name", "zzz*", str(EXAMPLE))
    assert (code, out) == (1, "")
    assert err == f"onnxlite: error: {EXAMPLE}: no node has a name or output name matching --name 'zzz*'\n"
    code, out, err = run(capsys, "dump", "--op", "Relu", "--name", "relx", str(EXAMPLE))
    assert code == 1 and err.endswith("no Relu node has a name or output name matching --name 'relx'; "
                                      "did you mean 'relu'?\n")
    code, out, err = run(capsys, "dump", "--op", "Conv", "--op", "conv", str(EXAMPLE))
    assert code == 0 and "= Conv <" in out
    assert err == "onnxlite: note: no node has op 'conv'; did you mean 'Conv'?\n"
    out_dir = tmp_path / "w"
    assert run(capsys, "weights", str(EXAMPLE), "-o", str(out_dir), "--only", "zzz*") == (
        1, "", f"onnxlite: error: {EXAMPLE}: no tensor name matches --only 'zzz*' (4 tensors)\n")
    code, _, err = run(capsys, "weights", str(EXAMPLE), "-o", str(out_dir), "--only", "conv.weigth")
    assert code == 1 and err.endswith("did you mean 'conv.weight'?\n")
    assert not out_dir.exists()


def _external_model(folder: Path) -> Path:
    path = folder / "m.onnx"
    onnxlite.save(onnxlite.load(EXAMPLE), path, external_data=True, location="m.bin", size_threshold=0)
    return path


def test_dump_full_fails_when_external_data_is_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _external_model(tmp_path)
    (tmp_path / "m.bin").unlink()
    code, out, err = run(capsys, "dump", str(path))  # a summary can do without the values
    assert code == 0 and "# error:" in out
    code, out, err = run(capsys, "dump", "--full", str(path))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("onnxlite: error: ") and "m.bin" in err


def test_dump_header_clips_long_metadata_unless_full(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = onnxlite.load(EXAMPLE)
    chars = "\n".join(chr(0x4E00 + i) for i in range(18_000))
    model.proto.metadata_props.add(key="character_dict", value=chars)
    path = tmp_path / "dict.onnx"
    onnxlite.save(model, path)
    code, out, err = run(capsys, "dump", "--header", str(path))
    assert (code, err) == (0, "")
    assert len(out.splitlines()) < 20
    assert '"character_dict": "' + chars[:80].split("\n")[0] + '..."' in out
    assert ('# header values clipped (--full shows them whole): "character_dict": 35999 chars, 18000 lines'
            in out)
    code, out, err = run(capsys, "dump", "--header", "--full", str(path))
    assert code == 0 and chars in out


def test_dump_shows_inferred_output_types_and_stays_parseable(capsys: pytest.CaptureFixture[str]) -> None:
    import onnx.parser

    from onnxlite import text

    code, out, _ = run(capsys, "dump", "--full", str(EXAMPLE))
    assert code == 0
    assert "[flatten] f = Flatten <axis: int = 1> (r)  # float[batch,288]\n" in out
    code, declared, _ = run(capsys, "dump", "--full", "--no-infer", str(EXAMPLE))
    assert "[flatten] f = Flatten <axis: int = 1> (r)  # ?\n" in declared
    assert "[softmax] probs = Softmax <axis: int = -1> (logits)  # float[batch,10]\n" in declared
    plain = text.format_model(onnxlite.load(EXAMPLE), full=True)
    for printed in (out, declared):  # the comments change neither parser's model
        assert onnx.parser.parse_model(printed) == onnx.parser.parse_model(plain)
        assert onnxlite.parse_model(printed).proto == onnxlite.parse_model(plain).proto


def test_info_counts_declared_and_inferred_types(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "info", "--no-infer", str(EXAMPLE))
    assert code == 0 and "  Types       1 of 5 node outputs declared\n" in out


def test_importing_the_printer_does_not_import_inference() -> None:
    import subprocess
    import sys

    code = ("import sys, onnxlite, onnxlite.text\n"
            "m = onnxlite.load(sys.argv[1])\n"
            "onnxlite.text.format_model(m, full=True, types='declared')\n"
            "print('onnxlite.infer' in sys.modules, 'ml_dtypes' in sys.modules)\n"
            "onnxlite.text.format_model(m, types='inferred')\n"
            "print('onnxlite.infer' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, str(EXAMPLE)], capture_output=True, text=True,
                         check=True)
    assert out.stdout == "False False\nTrue\n"
