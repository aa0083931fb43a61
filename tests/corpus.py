"""The conformance corpus: every model the `onnx` package generates or ships, plus tests/fixtures.

Sources (the first part of every case id):

- ``node/<name>``: `onnx.backend.test.case.node.collect_testcases()`, serialized by onnx. Each also
  carries its data sets (inputs/outputs as numpy arrays or TensorProtos), decoded as tensors by
  `node_data_tensors`.
- ``model/<name>``: `onnx.backend.test.case.model.collect_testcases()` cases that hold a model. The
  ``real`` kind holds none, only a ``url`` naming a file of the wheel, which ``wheel/`` covers
  (`model_cases_without_model` lists them and `test_conformance` checks each url is covered).
- ``wheel/<path>``: every ``.onnx`` file under ``onnx/backend/test/data`` (read from disk).
- ``fixture/<path>``: every ``.onnx`` file under ``tests/fixtures`` except ``hostile/`` (covered by
  the hostile-input tests). Read from disk, so external data beside them is found.

Tensor files (``.pb``) shipped in the wheel are separate `TensorFile` cases.

Collecting the node cases runs onnx's reference code (about five seconds), so everything here is
computed once per process (``functools.cache``) and shared by all tests.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from onnxlite.dtypes import DataType


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(itertools.takewhile(str.isdigit, piece))
        parts.append(int(digits or 0))
    return tuple(parts)


#: The installed onnx. The test extras pin the oracle release (pyproject.toml); CI's protobuf-4.25 leg
#: runs the newest onnx whose wheel accepts protobuf 4.25 (1.22.0), whose corpus and behaviour are
#: older. Tests that pin something of a newer onnx skip there with `needs_onnx`, naming the release.
ONNX_VERSION = _version(onnx.__version__)
#: The release the test extras pin (pyproject.toml): tests that pin its exact corpus or tables
#: need it (``needs_onnx(ORACLE, ...)``).
ORACLE = re.search(r'"onnx==([0-9.]+)"', (Path(__file__).resolve().parent.parent / "pyproject.toml")
                   .read_text()).group(1)  # type: ignore[union-attr]


def needs_onnx(version: str, what: str) -> pytest.MarkDecorator:
    """Skip unless the installed onnx is at least `version`; `what` says which part of that release
    the test depends on (its corpus, a data type it added, a behaviour it changed)."""
    return pytest.mark.skipif(
        ONNX_VERSION < _version(version),
        reason=f"needs onnx >= {version} ({what}); installed onnx {onnx.__version__}")


#: Data types newer than the oldest onnx CI runs, with the onnx release that added them.
DTYPE_SINCE = {27: "1.23", 28: "1.23"}  # FLOAT6E2M3, FLOAT6E3M2


def onnx_predates(data_type: int) -> bool:
    """Whether the installed onnx is older than the release that added `data_type`."""
    return ONNX_VERSION < _version(DTYPE_SINCE.get(int(data_type), "0"))


def skip_unless_onnx_knows(data_types: Iterable[int], where: str = "") -> None:
    """Skip the running test when one of `data_types` is an ONNX data type the installed onnx
    predates (it is the oracle: without it there is nothing to compare with). Values that no
    release defines are not skipped: refusing them is what the test is about."""
    known = set(onnx.TensorProto.DataType.values())
    missing = sorted(({int(t) for t in data_types} & {int(t) for t in DataType}) - known)
    if missing:
        names = ", ".join(DataType(t).name for t in missing)
        since = max((DTYPE_SINCE.get(t, "99") for t in missing), key=_version)
        pytest.skip(f"needs onnx >= {since} (data type {names}{' in ' + where if where else ''}); "
                    f"installed onnx {onnx.__version__}")


ONNX_DIR = Path(onnx.__file__).resolve().parent
WHEEL_DATA = ONNX_DIR / "backend" / "test" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: Covered by the hostile-input tests, not by conformance (those files are meant to be refused).
FIXTURES_EXCLUDED = ("hostile",)
#: Folders starting with "." are tools/make_fixtures.py's work in progress (".staging" is built and
#: then renamed into place), not part of the corpus.


@dataclass(frozen=True)
class Case:
    """One model: serialized bytes (``data``) or a file on disk (``path``)."""

    id: str
    source: str  # 'node' | 'model' | 'wheel' | 'fixture'
    data: bytes | None = None
    path: Path | None = None
    # node cases: onnx's data sets, [(inputs, outputs), ...]; kept as generated, encoded on demand
    data_sets: Any = field(default=None, compare=False, repr=False)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    @property
    def on_disk(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class TensorFile:
    """A ``.pb`` file of the wheel: a TensorProto, or a SequenceProto/OptionalProto of them,
    depending on the type the model gives that input/output."""

    id: str
    path: Path
    kind: str  # 'tensor_type' | 'sequence_type' | 'optional_type' | ...


@functools.cache
def node_cases() -> tuple[Case, ...]:
    from onnx.backend.test.case import node

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # onnx's reference code overflows and divides by 0 on purpose
        collected = node.collect_testcases(None)  # onnx < 1.23 has no default for op_type
    assert all(c.model is not None for c in collected)
    return tuple(
        Case(f"node/{c.name}", "node", data=c.model.SerializeToString(), data_sets=c.data_sets)  # type: ignore[union-attr]
        for c in collected
    )


@functools.cache
def _collected_model_cases() -> tuple[Any, ...]:
    from onnx.backend.test.case import model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(model.collect_testcases())


def model_cases() -> tuple[Case, ...]:
    return tuple(
        Case(f"model/{c.name}", "model", data=c.model.SerializeToString(), data_sets=c.data_sets)
        for c in _collected_model_cases() if c.model is not None
    )


def model_cases_without_model() -> dict[str, str]:
    """name -> url of the model cases that hold no model (kind 'real': the url names a wheel file)."""
    return {c.name: c.url for c in _collected_model_cases() if c.model is None}


@functools.cache
def wheel_cases() -> tuple[Case, ...]:
    return tuple(
        Case(f"wheel/{p.relative_to(WHEEL_DATA).as_posix()}", "wheel", path=p)
        for p in sorted(WHEEL_DATA.rglob("*.onnx"))
    )


def _fixture_files() -> Iterator[Path]:
    if not FIXTURES.is_dir():
        return
    for p in sorted(FIXTURES.rglob("*")):
        rel = p.relative_to(FIXTURES)
        if rel.parts[0] in FIXTURES_EXCLUDED or any(part.startswith(".") for part in rel.parts[:-1]):
            continue
        if not p.is_file():
            continue
        yield p


def fixture_files() -> list[Path]:
    """Every file under tests/fixtures except the excluded folders (read afresh: another tool
    regenerates them)."""
    return list(_fixture_files())


def fixture_cases() -> tuple[Case, ...]:
    return tuple(
        Case(f"fixture/{p.relative_to(FIXTURES).as_posix()}", "fixture", path=p)
        for p in _fixture_files() if p.suffix == ".onnx"
    )


def manifest() -> dict[str, dict[str, Any]]:
    """The entries of tests/fixtures/MANIFEST.json (written by tools/make_fixtures.py) by file path
    relative to tests/fixtures; empty when there is no manifest."""
    path = FIXTURES / "MANIFEST.json"
    if not path.is_file():
        return {}
    return {e["file"]: e for e in json.loads(path.read_text()).get("fixtures", [])}


@functools.cache
def model_corpus() -> tuple[Case, ...]:
    cases = node_cases() + model_cases() + wheel_cases() + fixture_cases()
    ids = [c.id for c in cases]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, f"duplicate case ids: {sorted(dupes)}"
    return cases


# --- tensors --------------------------------------------------------------------------------------

def _pb_kind(path: Path) -> str:
    """The type of the model input/output a .pb file holds a value of.

    Layouts: ``<case>/model.onnx`` + ``<case>/test_data_set_N/{input,output}_K.pb``, and
    ``light/light_X.onnx`` + ``light/light_X_output_K.pb``.
    """
    stem = path.stem
    if path.parent.name.startswith("test_data_set_"):
        model_path = path.parent.parent / "model.onnx"
        which, index = stem.rsplit("_", 1)
    else:
        prefix, which, index = stem.rsplit("_", 2)
        model_path = path.parent / f"{prefix}.onnx"
    m = onnx.load(str(model_path), load_external_data=False)
    values = m.graph.input if which == "input" else m.graph.output
    kind = values[int(index)].type.WhichOneof("value")
    return str(kind)


@functools.cache
def wheel_tensor_files() -> tuple[TensorFile, ...]:
    return tuple(
        TensorFile(f"wheel-pb/{p.relative_to(WHEEL_DATA).as_posix()}", p, _pb_kind(p))
        for p in sorted(WHEEL_DATA.rglob("*.pb"))
    )


def tensor_file_protos(tf: TensorFile) -> list[tuple[str, bytes]]:
    """(label, serialized TensorProto) for every tensor the file holds."""
    data = tf.path.read_bytes()
    if tf.kind == "tensor_type":
        return [("tensor", data)]
    if tf.kind == "sequence_type":
        seq = onnx.SequenceProto.FromString(data)
        return [(f"sequence[{i}]", t.SerializeToString()) for i, t in enumerate(seq.tensor_values)]
    if tf.kind == "optional_type":
        opt = onnx.OptionalProto.FromString(data)
        return [("optional", opt.tensor_value.SerializeToString())] if opt.HasField("tensor_value") else []
    raise AssertionError(f"{tf.id}: .pb of kind {tf.kind}: extend tests/corpus.py to read it")


def node_data_tensors(case: Case) -> list[tuple[str, bytes]]:
    """(label, serialized TensorProto) for every tensor in a node case's data sets. onnx keeps
    them as numpy arrays (encoded here with `numpy_helper.from_array`, as onnx does when it writes
    the test data to disk) or as TensorProtos (types numpy cannot hold, e.g. float8, int4)."""
    out: list[tuple[str, bytes]] = []
    for k, (inputs, outputs) in enumerate(case.data_sets or ()):
        for side, values in (("input", inputs), ("output", outputs)):
            for j, value in enumerate(values):
                label = f"data_set[{k}].{side}[{j}]"
                # a list is a sequence value; None an empty optional (no tensor to decode)
                items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
                for i, item in items:
                    where = label if i is None else f"{label}[{i}]"
                    if item is None:
                        continue
                    if isinstance(item, onnx.TensorProto):
                        out.append((where, item.SerializeToString()))
                    else:
                        out.append((where, numpy_helper.from_array(np.asarray(item)).SerializeToString()))
    return out
