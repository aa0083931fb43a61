"""`onnxlite.versions`: the IR-version gate table against onnx.proto, `set_opset` and
`set_ir_version` on real corpus models with onnx.checker and onnxruntime as oracles, refusals
that leave the model untouched, functions' opset imports and lazily loaded weights."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import onnxlite
from onnxlite import _proto, check, versions
from onnxlite._proto.opschemas import LATEST_OPSET, OPSET_IR
from onnxlite._storage import wire
from onnxlite.dtypes import DataType
from onnxlite.errors import EditError
from onnxlite.model import Tensor

REPO = Path(__file__).resolve().parent.parent

# --- small models -------------------------------------------------------------------------------------


def vi(name: str, elem: int = 1, shape: tuple[int, ...] = (2,)) -> Any:
    v = _proto.ValueInfoProto()
    v.name = name
    v.type.tensor_type.elem_type = elem
    v.type.tensor_type.shape.SetInParent()
    for d in shape:
        v.type.tensor_type.shape.dim.add().dim_value = d
    return v


def node(op: str, inputs: list[str], outputs: list[str], name: str = "", domain: str = "") -> Any:
    n = _proto.NodeProto()
    n.op_type, n.name, n.domain = op, name, domain
    n.input.extend(inputs)
    n.output.extend(outputs)
    return n


def model(nodes: list[Any], opset: int = 17, ir: int = 8, inits: list[Any] = (),  # type: ignore[assignment]
          imports: dict[str, int] | None = None) -> onnxlite.Model:
    m = _proto.ModelProto()
    m.ir_version = ir
    g = m.graph
    g.name = "g"
    g.node.extend(nodes)
    g.input.append(vi("x"))
    g.output.append(vi("y"))
    g.initializer.extend(inits)
    for domain, version in {"": opset, **(imports or {})}.items():
        e = m.opset_import.add()
        e.domain, e.version = domain, version
    return onnxlite.Model(m)


def relu_add(opset: int = 17, ir: int = 8) -> onnxlite.Model:
    w = Tensor.from_numpy(np.array([1.0, -2.0], np.float32), "w").proto
    return model([node("Relu", ["x"], ["a"], "relu"), node("Add", ["a", "w"], ["y"], "add")], opset, ir, [w])


def onnx_accepts(m: onnxlite.Model) -> bool:
    onnx = pytest.importorskip("onnx")
    try:
        onnx.checker.check_model(onnx.ModelProto.FromString(onnxlite.dumps(m)), full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError):
        return False
    return True


def ort_run(data: bytes, feeds: dict[str, Any]) -> list[Any] | None:
    """onnxruntime's outputs, or None when it cannot load or run the model."""
    ort = pytest.importorskip("onnxruntime")
    try:
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        return list(session.run(None, feeds))
    except Exception:  # noqa: BLE001 (any refusal by the oracle is 'does not run')
        return None


# --- the gate table -------------------------------------------------------------------------------------


def _ir_history() -> dict[int, str]:
    """IR version -> the comment onnx.proto's ``enum Version`` gives it."""
    text = (REPO / "onnx.proto").read_text()
    history: dict[int, str] = {}
    for match in re.finditer(r"// IR VERSION (\d+) published on [^\n]*\n((?:\s*//[^\n]*\n)*)", text):
        history[int(match.group(1))] = match.group(2)
    return history


def test_dtype_gates_follow_onnx_proto() -> None:
    history = _ir_history()
    assert max(history) == versions.LATEST_IR_VERSION == 14
    named = {}
    for ir, comment in history.items():
        for word in re.findall(r"\b[A-Z][A-Z0-9]+\b", comment):
            if word in DataType.__members__:
                named[DataType[word]] = ir
    assert named, "no data types found in onnx.proto's version comments"
    gated = {dt: versions.IR_GATES[f"dtype-{dt.short_name}"].ir_version for dt in named}
    assert gated == named
    # every type newer than the original set has a gate
    assert {dt for dt in DataType if dt >= DataType.BFLOAT16} == set(named)


@pytest.mark.parametrize(("feature", "words"), [
    ("quantization_annotation", "quantization annotation"), ("sparse_initializer", "sparse initializers"),
    ("training_info", "TrainingInfoProto"), ("functions", "list of FunctionProtos"),
    ("type-sparse-tensor", "TypeProto.SparseTensor"), ("type-optional", "TypeProto.Optional"),
    ("function-attribute-default", "AttributeProto to FunctionProto"), ("overload", "overload"),
    ("metadata_props", "metadata_props"), ("multi-device", "multi-device"), ("opset_import", "opset_import"),
])
def test_feature_gates_follow_onnx_proto(feature: str, words: str) -> None:
    history = _ir_history()
    history[3] = (REPO / "onnx.proto").read_text().split("IR VERSION 3")[1].split("IR_VERSION_2017_11_3")[0]
    ir = versions.IR_GATES[feature].ir_version
    assert words in history[ir], f"{feature}: onnx.proto's IR {ir} comment does not mention {words!r}"


def test_opset_ir_table_is_consistent() -> None:
    for domain, table in OPSET_IR.items():
        assert list(table) == list(range(1, max(table) + 1)), domain
        assert list(table.values()) == sorted(table.values()), domain
    assert LATEST_OPSET[""] == max(OPSET_IR[""])


def test_used_features_name_the_first_use() -> None:
    m = relu_add()
    m.proto.graph.node[1].overload = "x"
    t = m.proto.graph.initializer.add()
    t.name, t.data_type = "i4", DataType.INT4
    assert versions.used_features(m.proto) == {
        "opset_import": "opset_import", "overload": "graph.node[1] 'add'",
        "dtype-int4": "graph.initializer[1] 'i4'",
        "initializer-not-input": "graph.initializer[0] 'w'"}


# --- set_opset --------------------------------------------------------------------------------------------


def test_set_opset_returns_a_new_model_and_raises_the_ir_version() -> None:
    m = relu_add(opset=17, ir=8)
    before = onnxlite.dumps(m)
    new = versions.set_opset(m, 21)
    assert onnxlite.dumps(m) == before  # the caller's model is untouched
    assert new.opset_imports == {"": 21} and new.ir_version == 10 == OPSET_IR[""][21]
    assert new.store is m.store
    assert check.check_model(new) == []
    assert onnx_accepts(new)
    x = np.array([-1.0, 3.0], np.float32)
    assert ort_run(onnxlite.dumps(new), {"x": x})[0].tolist() == [1.0, 1.0]  # type: ignore[index]
    down = versions.set_opset(new, 14)
    assert down.opset_imports == {"": 14} and down.ir_version == 10  # lowering never lowers the IR version


def test_refusal_names_each_changed_op_and_leaves_the_model_alone() -> None:
    m = model([node("Reshape", ["x", "s"], ["y"], "r"), node("Squeeze", ["y"], ["z"], "sq")], opset=13, ir=7)
    before = onnxlite.dumps(m)
    with pytest.raises(EditError) as e:
        versions.set_opset(m, 19)
    assert str(e.value) == ("cannot change ai.onnx opset 13 -> 19: Reshape changed in opset 14 (adds "
                            "allowzero): converting needs a version converter")  # 19 only added types
    assert onnxlite.dumps(m) == before
    with pytest.raises(EditError, match=r"Squeeze changed in opset 13 \(drops axes, changes inputs\)"):
        versions.set_opset(model([node("Squeeze", ["x"], ["y"], "sq")], opset=11, ir=6), 13)
    with pytest.raises(EditError, match=r"13 -> 12: Gelu does not exist before opset 20"):
        versions.set_opset(model([node("Gelu", ["x"], ["y"])], opset=13), 12)
    with pytest.raises(EditError, match=r"Upsample is deprecated in opset 10"):
        versions.set_opset(model([node("Upsample", ["x", "s"], ["y"])], opset=9, ir=4), 10)


def test_a_refused_change_is_one_onnx_would_refuse_too() -> None:
    """Squeeze-11 takes 'axes' as an attribute, Squeeze-13 as an input: changing only the number
    gives a model onnx.checker rejects, which is why set_opset refuses."""
    m = model([node("Squeeze", ["x"], ["y"], "sq")], opset=11, ir=6)
    a = m.proto.graph.node[0].attribute.add()
    a.name, a.type = "axes", 7
    a.ints.append(0)
    m.proto.graph.input[0].CopyFrom(vi("x", shape=(1, 2)))
    assert onnx_accepts(m)
    naive = onnxlite.Model(_proto.ModelProto.FromString(onnxlite.dumps(m)))
    naive.proto.opset_import[0].version = 13
    naive.proto.ir_version = 7
    assert not onnx_accepts(naive)
    assert any(p.code == "unknown-attribute" for p in check.check_model(naive))
    with pytest.raises(EditError):
        versions.set_opset(m, 13)


@pytest.mark.parametrize(("args", "message"), [
    ((25,), None),
    ((29,), "ai.onnx opset 29 is newer than onnxlite knows (28)"),
    ((0,), "opset version must be a whole number >= 1, got 0"),
    (("18",), "opset version must be a whole number >= 1, got '18'"),
    ((3, "com.example"), "the model does not import domain 'com.example'; nothing to change"),
    ((6, "ai.onnx.ml"), "ai.onnx.ml opset 6 is newer than onnxlite knows (5)"),
])
def test_set_opset_arguments(args: tuple[Any, ...], message: str | None) -> None:
    m = relu_add()
    m.proto.opset_import.add().domain = "ai.onnx.ml"
    m.proto.opset_import[-1].version = 3
    if message is None:
        assert versions.set_opset(m, *args).opset_imports[""] == args[0]
        return
    before = onnxlite.dumps(m)
    with pytest.raises(EditError) as e:
        versions.set_opset(m, *args)
    assert str(e.value) == message
    assert onnxlite.dumps(m) == before


def test_custom_domains_change_freely_and_ai_onnx_is_the_default_domain() -> None:
    m = model([node("Relu", ["x"], ["a"]), node("Foo", ["a"], ["y"], domain="com.example")],
              imports={"com.example": 1})
    assert versions.set_opset(m, 7, "com.example").opset_imports == {"": 17, "com.example": 7}
    m.proto.opset_import[0].domain = "ai.onnx"
    assert versions.set_opset(m, 18).opset_imports == {"ai.onnx": 18, "com.example": 1}
    assert versions.set_opset(m, 18, "ai.onnx").opset_imports == {"ai.onnx": 18, "com.example": 1}


def test_functions_move_with_the_model() -> None:
    f = _proto.FunctionProto()
    f.name, f.domain = "Double", "local"
    f.input.append("X")
    f.output.append("Y")
    f.node.append(node("Add", ["X", "X"], ["Y"], "add"))
    f.opset_import.add().version = 16  # an older import than the model's, and compatible with it
    m = model([node("Double", ["x"], ["y"], "call", domain="local")], imports={"local": 1})
    m.proto.functions.append(f)
    assert check.is_valid(check.check_model(m)) and onnx_accepts(m)
    new = versions.set_opset(m, 18)
    assert new.opset_imports == {"": 18, "local": 1}
    assert new.functions[0].opset_imports == {"": 18}
    assert check.check_model(new) == [] and onnx_accepts(new)
    # an op in the function changes between the function's version and the target: refused
    new.proto.functions[0].node[0].op_type = "Reshape"
    new.proto.functions[0].opset_import[0].version = 13
    with pytest.raises(EditError, match=r"Reshape changed in opset 14 \(adds allowzero\)"):
        versions.set_opset(new, 18)


def test_lazy_weights_stay_lazy_and_readable(tmp_path: Path) -> None:
    big = np.arange(1 << 18, dtype=np.float32)
    w = Tensor.from_numpy(big[:2], "w").proto
    m = model([node("Relu", ["x"], ["a"], "relu"), node("Add", ["a", "w"], ["y"], "add")], inits=[w])
    m.proto.graph.initializer.append(Tensor.from_numpy(big, "big").proto)
    onnxlite.save(m, tmp_path / "m.onnx")
    lazy = onnxlite.load(tmp_path / "m.onnx", lazy=True)
    marker = lazy.proto.graph.initializer[1].raw_data
    assert wire.parse_marker(marker) is not None  # the payload stayed in the file
    new = versions.set_opset(lazy, 18)
    assert new.proto.graph.initializer[1].raw_data == marker  # still a marker, not the payload
    assert np.array_equal(new.graph.initializers["big"].numpy(), big)
    onnxlite.save(new, tmp_path / "new.onnx")
    again = onnxlite.load(tmp_path / "new.onnx")
    assert again.opset_imports == {"": 18} and np.array_equal(again.graph.initializers["big"].numpy(), big)
    assert np.array_equal(lazy.graph.initializers["big"].numpy(), big)


# --- set_ir_version ----------------------------------------------------------------------------------------


def test_set_ir_version_refusals() -> None:
    m = relu_add(opset=17, ir=9)
    t = m.proto.graph.initializer.add()
    t.name, t.data_type, t.raw_data = "f8", DataType.FLOAT8E4M3FN, b"\x01\x02"
    t.dims.append(2)
    before = onnxlite.dumps(m)
    with pytest.raises(EditError) as e:
        versions.set_ir_version(m, 8)
    assert str(e.value) == ("cannot set IR version 8: float8e4m3fn tensors (graph.initializer[1] 'f8') "
                            "need IR 9")
    with pytest.raises(EditError) as e:
        versions.set_ir_version(m, 3)
    assert str(e.value) == (
        "cannot set IR version 3: initializers that are not graph inputs (graph.initializer[0] 'w') need "
        "IR 4; "
        "float8e4m3fn tensors (graph.initializer[1] 'f8') need IR 9; opset ai.onnx 17 needs IR 8")
    with pytest.raises(EditError, match="IR version 15 is newer than onnxlite knows"):
        versions.set_ir_version(m, 15)
    with pytest.raises(EditError, match="IR version must be a whole number"):
        versions.set_ir_version(m, True)
    assert onnxlite.dumps(m) == before
    assert versions.set_ir_version(m, 14).ir_version == 14


def _corpus() -> Any:
    pytest.importorskip("onnx")
    import corpus

    return corpus


def test_lowest_ir_version_over_the_corpus() -> None:
    """For every corpus model onnx.checker accepts: the lowest IR version set_ir_version allows
    is accepted by onnx.checker too, and every lower one is refused."""
    onnx = pytest.importorskip("onnx")
    corpus = _corpus()
    wrong = []
    for case in corpus.model_corpus():
        if case.source not in ("node", "model"):
            continue
        m = onnxlite.loads(case.data)
        if not onnx_accepts(m):
            continue
        lowest = None
        for ir in range(1, versions.LATEST_IR_VERSION + 1):
            try:
                lowest = versions.set_ir_version(m, ir)
                break
            except EditError:
                continue
        if lowest is None:
            wrong.append(f"{case.id}: no IR version allowed")
            continue
        by_opsets = versions.ir_needed_by_opsets(m.opset_imports)
        need = max([versions.IR_GATES[k].ir_version for k in versions.used_features(m.proto)]
                   + [by_opsets[0] if by_opsets else 3])
        valid = check.is_valid(check.check_model(lowest))
        if lowest.ir_version != need or not onnx_accepts(lowest) or not valid:
            wrong.append(f"{case.id}: IR {lowest.ir_version} (needs {need})")
        assert onnx.ModelProto.FromString(onnxlite.dumps(lowest)).ir_version == lowest.ir_version
    assert not wrong, "\n".join(wrong[:20])


_RANDOM = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli",
           "Multinomial"}


def _feeds(case: Any, m: onnxlite.Model) -> dict[str, Any] | None:
    if not case.data_sets:
        return None
    inputs = case.data_sets[0][0]
    names = [v.name for v in m.graph.inputs if v.name not in m.graph.initializers]
    if len(names) != len(inputs) or not all(isinstance(x, np.ndarray) for x in inputs):
        return None
    return dict(zip(names, inputs, strict=True))


def _same(a: list[Any], b: list[Any]) -> bool:
    """Equal outputs; floats within a few ulps (onnxruntime may run another kernel for another op
    version: ReduceLogSumExp-18 and -28 differ by one ulp)."""
    def close(x: Any, y: Any) -> bool:
        if not isinstance(x, np.ndarray):
            return True
        if x.dtype.kind in "fc" and x.shape == y.shape:
            return bool(np.allclose(x, y, rtol=1e-6, atol=0, equal_nan=True))
        return bool(np.array_equal(x, y))
    return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))


def test_permitted_opset_changes_over_the_corpus() -> None:
    """A sample of onnx's node tests moved one to three opsets up or down wherever set_opset
    allows it: onnx.checker still accepts the model and onnxruntime still runs it to the same
    outputs (where it ran the original)."""
    corpus = _corpus()
    import onnx

    newest = min(LATEST_OPSET[""], onnx.defs.onnx_opset_version())  # what the installed oracle knows
    cases = [c for c in corpus.node_cases() if not c.id.startswith("node/test_training")][::7]
    tried = changed = ran = 0
    wrong: list[str] = []
    for case in cases:
        m = onnxlite.loads(case.data)
        old = m.opset_imports.get("")
        if old is None or len(m.opset_imports) != 1:
            continue
        feeds = _feeds(case, m)
        before = ort_run(case.data, feeds) if feeds is not None else None
        accepted = onnx_accepts(m)
        for target in (old + 3, old + 2, old + 1, old - 1, old - 2):
            if not 1 <= target <= newest:
                continue
            tried += 1
            try:
                new = versions.set_opset(m, target)
            except EditError:
                continue
            changed += 1
            assert onnxlite.dumps(m) == case.data
            assert new.ir_version == max(m.ir_version, OPSET_IR[""][target])
            if accepted and not onnx_accepts(new):
                wrong.append(f"{case.id}: opset {target} rejected by onnx.checker")
            if accepted and not check.is_valid(check.check_model(new)):
                wrong.append(f"{case.id}: opset {target}: {check.check_model(new)}")
            if before is not None:
                after = ort_run(onnxlite.dumps(new), feeds)  # type: ignore[arg-type]
                ran += 1
                random = {n.op_type for n in m.graph.nodes} & _RANDOM
                if after is None or not (random or _same(before, after)):
                    what = "fails" if after is None else "differs"
                    wrong.append(f"{case.id}: opset {target}: onnxruntime {what}")
            break  # one permitted change per case keeps this quick
    assert changed > 50 and ran > 30, (tried, changed, ran)
    assert not wrong, "\n".join(wrong[:20])


# --- type-only version steps (issue 10) ---------------------------------------------------------------


def test_type_only_steps_are_allowed_when_the_types_were() -> None:
    """Add/Mul/Concat at 13 and 14 only widened their types: a float model moves over them."""
    m = model([node("Add", ["x", "x"], ["a"], "add"), node("Mul", ["a", "a"], ["b"], "mul"),
               node("Concat", ["b"], ["y"], "cat")], opset=12, ir=7)
    m.proto.graph.node[2].attribute.add(name="axis", type=2, i=0)
    new = versions.set_opset(m, 14)
    assert new.opset_imports == {"": 14} and onnx_accepts(new) and check.check_model(new) == []
    x = np.array([1.0, 2.0], np.float32)
    assert ort_run(onnxlite.dumps(new), {"x": x})[0].tolist() == [4.0, 16.0]  # type: ignore[index]
    assert versions.set_opset(new, 12).opset_imports == {"": 12}


def test_type_only_step_refused_for_a_type_the_target_lacks() -> None:
    """Add-14 added int8; going back to 13 with an int8 input is refused, naming the type."""
    m = model([node("Add", ["x", "x"], ["y"], "add")], opset=14, ir=7)
    for v in (m.proto.graph.input[0], m.proto.graph.output[0]):
        v.type.tensor_type.elem_type = 3  # int8
    assert onnx_accepts(m)
    with pytest.raises(EditError, match=r"Add 'add': input 0 \('x'\) is tensor\(int8\), which Add-13 does "
                       "not allow"):
        versions.set_opset(m, 13)
    m.proto.graph.ClearField("input")  # undeclared: onnxlite cannot tell, and says how to record it
    with pytest.raises(EditError, match="run `onnxlite infer` to record it"):
        versions.set_opset(m, 13)


def test_semantic_steps_are_the_type_only_ones_whose_defaults_changed() -> None:
    """Every step `type_only_step` would call type-only keeps onnx's attribute defaults, except the
    ones listed as semantic changes."""
    import onnx.defs

    from onnxlite._proto.opschemas import SCHEMAS

    found = set()
    for (domain, op), _ in SCHEMAS.items():
        rows = versions.schema_history(domain, op)
        for a, b in zip(rows, rows[1:], strict=False):
            bare = versions._SEMANTIC_STEPS - {(domain, op, b.since_version)}
            saved, versions._SEMANTIC_STEPS = versions._SEMANTIC_STEPS, bare
            try:
                only = versions.type_only_step(domain, op, a, b)
            finally:
                versions._SEMANTIC_STEPS = saved
            if not only:
                continue
            sa = onnx.defs.get_schema(op, a.since_version, domain)
            sb = onnx.defs.get_schema(op, b.since_version, domain)
            defaults = [{k: v.default_value.SerializeToString() for k, v in x.attributes.items()}
                        for x in (sa, sb)]
            if defaults[0] != defaults[1]:
                found.add((domain, op, b.since_version))
    assert found == versions._SEMANTIC_STEPS
