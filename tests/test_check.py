"""`onnxlite check`: no false alarm on the corpus, every check caught on a mutated model, the
onnx checker's verdict on the same models, deep nesting, lazy models and the CLI.

Severity follows the standard's two consumers: what onnx.checker (full_check=True) and onnxruntime
both refuse is an error, what both accept at most a warning, and where they disagree a warning that
says which one refuses. The mutation table pins both verdicts of every entry
(`test_onnx_checker_verdicts`, `test_onnxruntime_verdicts`), so a change in either is noticed, and
`test_severity_follows_the_consumers` derives each severity from them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import onnxlite
from onnxlite import _proto, check, cli, versions
from onnxlite._proto.opschemas import ONNX_VERSION
from onnxlite.model import Tensor

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "tools" / "example" / "tiny_cnn.onnx"

# --- building models -------------------------------------------------------------------------------


def vi(name: str, elem: int = 1, shape: tuple[Any, ...] | None = (2,)) -> Any:
    v = _proto.ValueInfoProto()
    v.name = name
    v.type.tensor_type.elem_type = elem
    if shape is not None:
        v.type.tensor_type.shape.SetInParent()
        for d in shape:
            dim = v.type.tensor_type.shape.dim.add()
            if isinstance(d, str):
                dim.dim_param = d
            else:
                dim.dim_value = d
    return v


def attr(name: str, value: Any) -> Any:
    a = _proto.AttributeProto()
    a.name = name
    if isinstance(value, int):
        a.type, a.i = 2, value
    elif isinstance(value, float):
        a.type, a.f = 1, value
    elif isinstance(value, str):
        a.type, a.s = 3, value.encode()
    elif isinstance(value, list) and all(isinstance(v, int) for v in value):
        a.type = 7
        a.ints.extend(value)
    elif isinstance(value, _proto.GraphProto):
        a.type = 5
        a.g.CopyFrom(value)
    elif isinstance(value, _proto.TensorProto):
        a.type = 4
        a.t.CopyFrom(value)
    else:
        raise TypeError(value)
    return a


def node(op: str, inputs: list[str], outputs: list[str], name: str = "", domain: str = "",
         **attrs: Any) -> Any:
    n = _proto.NodeProto()
    n.op_type, n.name, n.domain = op, name, domain
    n.input.extend(inputs)
    n.output.extend(outputs)
    n.attribute.extend(attr(k, v) for k, v in attrs.items())
    return n


def tensor(name: str, array: Any) -> Any:
    return Tensor.from_numpy(np.asarray(array), name).proto


def graph(nodes: list[Any], inputs: list[Any], outputs: list[Any], inits: list[Any] = (),  # type: ignore[assignment]
          name: str = "g") -> Any:
    g = _proto.GraphProto()
    g.name = name
    g.node.extend(nodes)
    g.input.extend(inputs)
    g.output.extend(outputs)
    g.initializer.extend(inits)
    return g


def model(g: Any, opset: int = 17, ir: int = 8, imports: dict[str, int] | None = None,
          functions: list[Any] = ()) -> onnxlite.Model:  # type: ignore[assignment]
    m = _proto.ModelProto()
    m.ir_version = ir
    m.graph.CopyFrom(g)
    for domain, version in {"": opset, **(imports or {})}.items():
        e = m.opset_import.add()
        e.domain, e.version = domain, version
    m.functions.extend(functions)
    return onnxlite.Model(m)


def base_graph() -> Any:
    """x -> Relu 'relu1' -> a; (a, w) -> Add 'add1' -> b; b -> Identity 'out' -> y."""
    return graph(
        [node("Relu", ["x"], ["a"], "relu1"), node("Add", ["a", "w"], ["b"], "add1"),
         node("Identity", ["b"], ["y"], "out")],
        [vi("x")], [vi("y")], [tensor("w", np.ones(2, np.float32))])


def base() -> onnxlite.Model:
    return model(base_graph())


def if_model(then_nodes: list[Any], then_out: str = "t", after: list[Any] = ()) -> onnxlite.Model:  # type: ignore[assignment]
    """x -> Relu 'relu1' -> a; If 'if1'(cond) with then/else branches -> if_out; ``after`` nodes."""
    then = graph(then_nodes, [], [vi(then_out, shape=None)], name="then")
    other = graph([node("Identity", ["a"], ["e"], "else_id")], [], [vi("e", shape=None)], name="else")
    g = graph([node("Relu", ["x"], ["a"], "relu1"),
               node("If", ["cond"], ["if_out"], "if1", then_branch=then, else_branch=other), *after],
              [vi("x"), vi("cond", elem=9, shape=())], [vi("if_out")])
    return model(g)


def function(name: str, inputs: list[str], outputs: list[str], nodes: list[Any], domain: str = "local",
             imports: dict[str, int] | None = None, attributes: list[str] = ()) -> Any:  # type: ignore[assignment]
    f = _proto.FunctionProto()
    f.name, f.domain = name, domain
    f.input.extend(inputs)
    f.output.extend(outputs)
    f.node.extend(nodes)
    f.attribute.extend(attributes)
    for d, v in (imports if imports is not None else {"": 17}).items():
        e = f.opset_import.add()
        e.domain, e.version = d, v
    return f


def function_model(functions: list[Any], call: Any | None = None) -> onnxlite.Model:
    call = call if call is not None else node("Double", ["x"], ["y"], "call", domain="local")
    return model(graph([call], [vi("x")], [vi("y")]), imports={"local": 1}, functions=functions)


DOUBLE = function("Double", ["X"], ["Y"], [node("Add", ["X", "X"], ["Y"], "add")])


def oracle() -> Any:
    """onnx, when it is the release the operator table was generated from: the verdicts pinned
    here are that release's (an older onnx knows fewer ops and checks less)."""
    onnx = pytest.importorskip("onnx")
    if onnx.__version__ != ONNX_VERSION:
        pytest.skip(f"verdicts pinned for onnx {ONNX_VERSION}; installed onnx {onnx.__version__}")
    return onnx


def errors(m: onnxlite.Model) -> list[check.Problem]:
    return [p for p in check.check_model(m) if p.severity == "error"]


# --- the mutation table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    build: Callable[[], onnxlite.Model]
    code: str
    where: str
    message: str  # a fragment of the message (it names the node)
    onnx: str  # what onnx.checker.check_model(full_check=True) says: "rejects" | "accepts"
    ort: str  # what onnxruntime does with it: "fails" | "runs"
    note: str = ""

    @property
    def severity(self) -> str:
        return "error" if (self.onnx, self.ort) == ("rejects", "fails") else "warning"


def _edit(edit: Callable[[Any], Any],
          build: Callable[[], onnxlite.Model] = base) -> Callable[[], onnxlite.Model]:
    def make() -> onnxlite.Model:
        m = build()
        edit(m.proto)
        return m
    return make


def _swap_first_nodes(p: Any) -> None:
    first, second = (_proto.NodeProto(), _proto.NodeProto())
    first.CopyFrom(p.graph.node[0])
    second.CopyFrom(p.graph.node[1])
    p.graph.node[0].CopyFrom(second)
    p.graph.node[1].CopyFrom(first)


def _cycle() -> onnxlite.Model:
    return model(graph([node("Add", ["x", "c"], ["b"], "p"), node("Relu", ["b"], ["c"], "q"),
                        node("Identity", ["b"], ["y"], "out")], [vi("x")], [vi("y")]))


def _float8_initializer(p: Any) -> None:
    t = p.graph.initializer.add()
    t.name, t.data_type, t.raw_data = "f8", 17, b"\x01\x02"
    t.dims.append(2)


def _declare_w(shape: tuple[int, ...], elem: int = 1) -> Callable[[Any], None]:
    def edit(p: Any) -> None:
        p.graph.input.append(vi("w", elem=elem, shape=shape))
    return edit


def _with_attr(index: int, a: Any) -> Callable[[Any], None]:
    def edit(p: Any) -> None:
        p.graph.node[index].attribute.append(a)
    return edit


def _two_values() -> Any:
    a = attr("k", 3)
    a.f = 1.5
    return a


def _ref_attr() -> Any:
    a = _proto.AttributeProto()
    a.name, a.type, a.ref_attr_name = "alpha", 1, "alpha"
    return a


def _custom_node_with(a: Any) -> Callable[[Any], None]:
    def edit(p: Any) -> None:
        n = node("Foo", ["b"], ["z"], "foo", domain="custom")
        n.attribute.append(a)
        p.graph.node.append(n)
        e = p.opset_import.add()
        e.domain, e.version = "custom", 1
    return edit


def _leaky_relu_with(a: Any) -> Callable[[Any], None]:
    def edit(p: Any) -> None:
        n = node("LeakyRelu", ["x"], ["a"], "relu1")
        n.attribute.append(a)
        p.graph.node[0].CopyFrom(n)
    return edit


def _softmax(axis: Any) -> onnxlite.Model:
    a = _proto.AttributeProto()
    a.name, a.type = "axis", 7
    a.ints.extend(axis)
    n = node("Softmax", ["x"], ["y"], "sm")
    n.attribute.append(a)
    return model(graph([n], [vi("x")], [vi("y")]))


def _replace_node(index: int, n: Any) -> Callable[[Any], None]:
    def edit(p: Any) -> None:
        p.graph.node[index].CopyFrom(n)
    return edit


def _raw_w(raw: bytes) -> Callable[[Any], None]:
    def edit(p: Any) -> None:
        p.graph.initializer[0].raw_data = raw
    return edit


def _typed_w(p: Any) -> None:
    t = p.graph.initializer[0]
    t.ClearField("raw_data")
    t.int32_data.extend([1, 1])


def _untyped_input(p: Any) -> None:
    p.graph.input[0].ClearField("type")


def _function_with(f: Any, call: Any | None = None) -> Callable[[], onnxlite.Model]:
    return lambda: function_model([f], call)


def _recursive() -> onnxlite.Model:
    a = function("A", ["X"], ["Y"], [node("B", ["X"], ["Y"], "to_b", domain="local")],
                 imports={"": 17, "local": 1})
    b = function("B", ["X"], ["Y"], [node("A", ["X"], ["Y"], "to_a", domain="local")],
                 imports={"": 17, "local": 1})
    return model(graph([node("A", ["x"], ["y"], "call", domain="local")], [vi("x")], [vi("y")]),
                 imports={"local": 1}, functions=[a, b])


def _function_ref() -> Any:
    n = node("Elu", ["X"], ["Y"], "elu")
    a = _proto.AttributeProto()
    a.name, a.type, a.ref_attr_name = "alpha", 1, "slope"
    n.attribute.append(a)
    return function("Scaled", ["X"], ["Y"], [n], attributes=["gain"])


def _duplicate_function(p: Any) -> None:
    p.functions.append(p.functions[0])


IF = "graph.node[1] 'if1'.attribute 'then_branch'.g"

MUTATIONS: dict[str, Mutation] = {
    "cycle": Mutation(
        _cycle, "cycle", "graph.node[0] 'p'", "nodes form a cycle: Add 'p' -> Relu 'q' -> Add 'p'",
        "rejects", ort="fails"),
    "topological-order": Mutation(
        _edit(_swap_first_nodes), "topological-order", "graph.node[0] 'add1'.input[0]",
        "Add 'add1' reads 'a' before Relu 'relu1' (node[1]) produces it", "rejects", ort="runs",
        note="onnxruntime sorts the main graph's nodes itself"),
    "undefined-input": Mutation(
        _edit(lambda p: p.graph.node[1].input.__setitem__(1, "nope")), "undefined-value",
        "graph.node[1] 'add1'.input[1]", "Add 'add1' reads 'nope', which nothing defines", "rejects",
        ort="fails"),
    "duplicate-output": Mutation(
        _edit(lambda p: p.graph.node[2].output.append("a")), "duplicate-definition",
        "graph.node[2] 'out'.output[1]", "Identity 'out' defines 'a', already defined by node[0]", "rejects",
        ort="fails"),
    "duplicate-output-of-input": Mutation(
        _edit(lambda p: p.graph.node[0].output.__setitem__(0, "x")), "duplicate-definition",
        "graph.node[0] 'relu1'.output[0]", "Relu 'relu1' defines 'x', already defined by a graph input",
        "rejects", ort="fails"),
    "missing-opset-import": Mutation(
        _edit(lambda p: p.graph.node.append(node("Foo", ["b"], ["z"], "foo", domain="com.example"))),
        "opset-import", "graph.node[3] 'foo'", "com.example.Foo 'foo' uses domain 'com.example', which the "
        "model does not import", "rejects", ort="fails"),
    "wrong-attribute-type": Mutation(
        lambda: _softmax([1]), "attribute-type", "graph.node[0] 'sm'.attribute 'axis'",
        "Softmax 'sm': attribute 'axis' is INTS; Softmax-13 expects INT", "rejects", ort="fails"),
    "unknown-op": Mutation(
        _edit(_replace_node(0, node("Frobnicate", ["x"], ["a"], "relu1"))), "unknown-op",
        "graph.node[0] 'relu1'",
        "Frobnicate 'relu1': ai.onnx has no operator 'Frobnicate'", "rejects", ort="fails"),
    "op-newer-than-opset": Mutation(
        _edit(_replace_node(0, node("Gelu", ["x"], ["a"], "gelu"))), "unknown-op", "graph.node[0] 'gelu'",
        "Gelu 'gelu': Gelu does not exist in ai.onnx opset 17 (it came in opset 20)", "rejects", ort="fails"),
    "input-count": Mutation(
        _edit(lambda p: p.graph.node[0].input.append("x")), "input-count", "graph.node[0] 'relu1'",
        "Relu 'relu1' has 2 inputs; Relu-14 takes exactly 1", "rejects", ort="fails"),
    "missing-attribute": Mutation(
        _edit(_replace_node(0, node("Cast", ["x"], ["a"], "cast"))), "missing-attribute",
        "graph.node[0] 'cast'",
        "Cast 'cast' lacks attribute 'to', which Cast-13 requires", "rejects", ort="fails"),
    "unknown-attribute": Mutation(
        _edit(_with_attr(0, attr("alpha", 0.5))), "unknown-attribute",
        "graph.node[0] 'relu1'.attribute 'alpha'",
        "Relu 'relu1' has attribute 'alpha', which Relu-14 does not define", "rejects", ort="fails"),
    "duplicate-attribute": Mutation(
        _edit(lambda p: p.graph.node[0].attribute.extend([attr("k", 1), attr("k", 2)])),
        "duplicate-attribute", "graph.node[0] 'relu1'.attribute 'k'",
        "Relu 'relu1' has two attributes named 'k'", "rejects", ort="fails"),
    "attribute-two-values": Mutation(
        _edit(_with_attr(1, _two_values())), "attribute", "graph.node[1] 'add1'.attribute 'k'",
        "Add 'add1': attribute 'k' holds more than one value (FLOAT, INT)", "rejects", ort="fails"),
    "ref-attr-outside-function": Mutation(
        _edit(_leaky_relu_with(_ref_attr())), "attribute", "graph.node[0] 'relu1'.attribute 'alpha'",
        "refers to 'alpha' (ref_attr_name), which only function bodies may do", "accepts", ort="runs",
        note="IR.md: ref_attr_name 'can only be used within the function body'; neither consumer looks"),
    "ir-feature-float8": Mutation(
        _edit(_float8_initializer), "ir-feature", "graph.initializer[1] 'f8'",
        "float8e4m3fn tensors need IR version 9; the model declares IR 8", "accepts", ort="runs",
        note="onnx.checker does not compare element types with the IR version (float8 came in IR 9)"),
    "ir-feature-overload": Mutation(
        _edit(lambda p: setattr(p.graph.node[2], "overload", "v2")), "ir-feature", "graph.node[2] 'out'",
        "overload need IR version 10", "accepts", ort="runs",
        note="not gated by onnx.checker (onnx.proto: overload came in IR 10)"),
    "initializer-shape": Mutation(
        _edit(_declare_w((3,))), "initializer-mismatch", "graph.initializer[0] 'w'",
        "initializer 'w' has shape [2]; graph.input[1] 'w' declares [3]", "rejects", ort="fails"),
    "initializer-dtype": Mutation(
        _edit(_declare_w((2,), elem=10)), "initializer-mismatch", "graph.initializer[0] 'w'",
        "initializer 'w' is float; graph.input[1] 'w' declares float16", "rejects", ort="fails"),
    "raw-data-short": Mutation(
        _edit(_raw_w(b"\0" * 7)), "tensor-data", "graph.initializer[0] 'w'",
        "tensor 'w' has 7 bytes of raw_data; float[2] needs 8", "rejects", ort="fails"),
    "raw-data-long": Mutation(
        _edit(_raw_w(b"\0" * 12)), "tensor-data", "graph.initializer[0] 'w'",
        "tensor 'w' has 12 bytes of raw_data; float[2] needs 8", "accepts", ort="fails",
        note="onnx.checker only refuses raw_data that is too short; numpy_helper.to_array cannot read it"),
    "typed-field": Mutation(
        _edit(_typed_w), "tensor-data", "graph.initializer[0] 'w'",
        "tensor 'w' holds float values in int32_data; they belong in float_data", "rejects", ort="fails"),
    "outer-scope-undefined": Mutation(
        lambda: if_model([node("Identity", ["ghost"], ["t"], "then_id")]), "undefined-value",
        f"{IF}.node[0] 'then_id'.input[0]", "Identity 'then_id' reads 'ghost', which nothing defines",
        "rejects", ort="fails"),
    "subgraph-redefines-outer": Mutation(
        lambda: if_model([node("Identity", ["x"], ["a"], "then_id")], then_out="a"), "duplicate-definition",
        f"{IF}.node[0] 'then_id'.output[0]",
        "Identity 'then_id' defines 'a', already defined in an enclosing graph",
        "rejects", ort="fails"),
    "subgraph-reads-later-value": Mutation(
        lambda: if_model([node("Identity", ["late"], ["t"], "then_id")],
                         after=[node("Relu", ["a"], ["late"], "relu_late")]),
        "topological-order", f"{IF}.node[0] 'then_id'.input[0]",
        "Identity 'then_id' reads 'late' before Relu 'relu_late' (node[2]) produces it", "rejects",
        ort="fails"),
    "subgraph-reads-own-output": Mutation(
        lambda: if_model([node("Identity", ["if_out"], ["t"], "then_id")]), "cycle",
        f"{IF}.node[0] 'then_id'.input[0]",
        "If 'if1' reads 'if_out', its own output (through Identity 'then_id' in a subgraph)", "rejects",
        ort="fails"),
    "subgraph-output-from-outer": Mutation(
        lambda: if_model([], then_out="a"), "undefined-value", f"{IF}.output[0] 'a'",
        "graph output 'a' is a value of an enclosing graph", "rejects", ort="fails"),
    "graph-output-undefined": Mutation(
        _edit(lambda p: setattr(p.graph.output[0], "name", "zz")), "undefined-value", "graph.output[0] 'zz'",
        "graph output 'zz' is not produced", "rejects", ort="fails"),
    "duplicate-graph-input": Mutation(
        _edit(lambda p: p.graph.input.append(vi("x"))), "duplicate-input", "graph.input[1] 'x'",
        "graph input 'x' is listed twice", "rejects", ort="fails"),
    "duplicate-graph-output": Mutation(
        _edit(lambda p: p.graph.output.append(vi("y"))), "duplicate-output", "graph.output[1] 'y'",
        "graph output 'y' is listed twice", "accepts", ort="runs"),
    "duplicate-initializer": Mutation(
        _edit(lambda p: p.graph.initializer.append(p.graph.initializer[0])), "duplicate-initializer",
        "graph.initializer[1] 'w'", "initializer 'w' is defined twice", "rejects", ort="runs",
        note="onnxruntime takes one of the two"),
    "missing-type": Mutation(
        _edit(_untyped_input), "missing-type", "graph.input[0] 'x'",
        "main graph input/output 'x' has no type",
        "rejects", ort="fails"),
    "no-ir-version": Mutation(
        _edit(lambda p: p.ClearField("ir_version")), "ir-version", "ir_version", "ir_version is not set",
        "rejects", ort="fails"),
    "deprecated-op": Mutation(
        lambda: model(graph([node("Upsample", ["x", "s"], ["y"], "up")], [vi("x"), vi("s", shape=(1,))],
                            [vi("y")]), opset=10, ir=5),
        "deprecated-op", "graph.node[0] 'up'", "Upsample is deprecated as of opset 10", "rejects",
        ort="fails"),
    "duplicate-node-name": Mutation(
        _edit(lambda p: setattr(p.graph.node[1], "name", "relu1")), "duplicate-node-name",
        "graph.node[1] 'relu1'",
        "node name 'relu1' is also used by an earlier node of this graph", "accepts", ort="fails",
        note="IR.md: node names MUST be unique in a graph; onnx.checker does not look, onnxruntime refuses"),
    "function-recursion": Mutation(
        _recursive, "recursive-function", "functions[0] 'local.A'",
        "functions call each other in a cycle: local.A -> local.B -> local.A", "rejects", ort="fails"),
    "function-call-inputs": Mutation(
        _function_with(DOUBLE, node("Double", ["x", "x"], ["y"], "call", domain="local")), "function-call",
        "graph.node[0] 'call'", "local.Double 'call' passes 2 inputs; function 'local.Double' takes 1",
        "accepts", ort="fails",
        note="onnx.checker does not compare calls with function signatures"),
    "function-domain-not-imported": Mutation(
        _function_with(function("Double", ["X"], ["Y"], [node("Add", ["X", "X"], ["Y"], "add")], imports={})),
        "opset-import", "functions[0] 'local.Double'.node[0] 'add'",
        "Add 'add' uses domain 'ai.onnx', which the function 'local.Double' does not import", "rejects",
        ort="fails"),
    "function-undefined-value": Mutation(
        _function_with(function("Double", ["X"], ["Y"], [node("Add", ["X", "Z"], ["Y"], "add")])),
        "undefined-value", "functions[0] 'local.Double'.node[0] 'add'.input[1]",
        "Add 'add' reads 'Z', which nothing in function 'local.Double' defines", "rejects", ort="fails"),
    "function-output-undefined": Mutation(
        _function_with(function("Double", ["X"], ["Y"], [node("Add", ["X", "X"], ["W"], "add")])),
        "undefined-value", "functions[0] 'local.Double'.output[0] 'Y'",
        "function output 'Y' is not produced by any node or input of function 'local.Double'", "accepts",
        ort="fails",
        note="onnx.checker does not check that function outputs are defined"),
    "function-ref-attr": Mutation(
        _function_with(_function_ref(), node("Scaled", ["x"], ["y"], "call", domain="local")), "attribute",
        "functions[0] 'local.Scaled'.node[0] 'elu'.attribute 'alpha'",
        "refers to 'slope', which function 'local.Scaled' does not declare", "accepts",
        ort="runs", note="onnxruntime treats the reference as an omitted attribute"),
    "duplicate-function": Mutation(
        _edit(_duplicate_function, lambda: function_model([DOUBLE])), "duplicate-function",
        "functions[1] 'local.Double'", "function 'local.Double' is defined twice", "rejects", ort="fails"),
    "overload-without-function": Mutation(
        _edit(lambda p: (setattr(p.graph.node[0], "overload", "v9"), setattr(p, "ir_version", 10)),
              lambda: function_model([DOUBLE])),
        "function-call", "graph.node[0] 'call'", "local.Double 'call' calls overload 'v9', and the model has "
        "no such function", "accepts", ort="fails",
        note="onnx.checker does not resolve calls to model-local functions"),
}


def test_base_models_are_valid() -> None:
    for build in (base, lambda: if_model([node("Identity", ["a"], ["t"], "then_id")]),
                  lambda: function_model([DOUBLE])):
        assert check.check_model(build()) == []


@pytest.mark.parametrize("key", sorted(MUTATIONS))
def test_mutation_is_caught(key: str) -> None:
    mutation = MUTATIONS[key]
    problems = check.check_model(mutation.build())
    found = [p for p in problems if p.code == mutation.code and p.where == mutation.where]
    shown = "\n".join(map(str, problems))
    assert found, f"{key}: expected {mutation.code} at {mutation.where}, got:\n{shown}"
    assert any(mutation.message in p.message for p in found), "\n".join(map(str, found))
    assert all(p.severity == mutation.severity for p in found)
    assert check.is_valid(problems) == (mutation.severity == "warning")


@pytest.mark.parametrize("key", sorted(MUTATIONS))
def test_onnx_checker_verdicts(key: str) -> None:
    onnx = oracle()
    mutation = MUTATIONS[key]
    proto = onnx.ModelProto.FromString(onnxlite.dumps(mutation.build()))
    try:
        onnx.checker.check_model(proto, full_check=True)
        verdict = "accepts"
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError):
        verdict = "rejects"
    assert verdict == mutation.onnx, f"{key}: onnx.checker {verdict} it (table says {mutation.onnx})"


@pytest.mark.parametrize("key", sorted(MUTATIONS))
def test_severity_follows_the_consumers(key: str) -> None:
    """Error when onnx.checker and onnxruntime both refuse; a warning naming the one that refuses
    when they disagree; a plain warning when both accept."""
    from onnxlite.check._values import CHECKER_REFUSES, ORT_REFUSES

    mutation = MUTATIONS[key]
    found = [p for p in check.check_model(mutation.build()) if p.code == mutation.code
             and p.where == mutation.where]
    assert found
    for p in found:
        assert p.severity == mutation.severity, str(p)
        says = {("rejects", "runs"): CHECKER_REFUSES, ("accepts", "fails"): ORT_REFUSES}.get(
            (mutation.onnx, mutation.ort))
        if says is not None:
            assert p.message.endswith(says), str(p)
        else:
            assert ORT_REFUSES not in p.message and CHECKER_REFUSES not in p.message, str(p)


@pytest.mark.parametrize("key", sorted(MUTATIONS))
def test_onnxruntime_verdicts(key: str) -> None:
    """What onnxruntime does with each mutated model (it loads and runs it, or refuses)."""
    ort = pytest.importorskip("onnxruntime")
    ort.set_default_logger_severity(4)
    try:
        data = onnxlite.dumps(MUTATIONS[key].build())
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        session.run(None, {i.name: np.ones([2] * len(i.shape), np.float32) for i in session.get_inputs()})
        verdict = "runs"
    except Exception:  # noqa: BLE001 (any refusal is 'fails')
        verdict = "fails"
    assert verdict == MUTATIONS[key].ort


def test_raw_data_too_long_is_unreadable_for_onnx() -> None:
    """Why the 'raw-data-long' entry is an error although onnx.checker accepts the model."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    proto = onnx.ModelProto.FromString(onnxlite.dumps(MUTATIONS["raw-data-long"].build()))
    with pytest.raises(ValueError):
        numpy_helper.to_array(proto.graph.initializer[0])


# --- external data -----------------------------------------------------------------------------------


def _external(tmp_path: Path, **entries: str) -> tuple[onnxlite.Model, Path]:
    onnxlite.save(base(), tmp_path / "m.onnx", external_data=True, size_threshold=0)
    m = onnxlite.load(tmp_path / "m.onnx")
    t = m.proto.graph.initializer[0]
    for e in t.external_data:
        if e.key in entries:
            e.value = entries.pop(e.key)
    for key, value in entries.items():
        e = t.external_data.add()
        e.key, e.value = key, value
    (tmp_path / "mutated.onnx").write_bytes(onnxlite.dumps(m))
    return m, tmp_path / "mutated.onnx"


def _onnx_verdict(path: Path) -> str:
    onnx = oracle()
    try:
        onnx.checker.check_model(str(path), full_check=True)
        return "accepts"
    except onnx.checker.ValidationError:
        return "rejects"


def test_external_data_is_checked_without_reading_it(tmp_path: Path) -> None:
    onnxlite.save(base(), tmp_path / "m.onnx", external_data=True, size_threshold=0)
    assert check.check_model(onnxlite.load(tmp_path / "m.onnx")) == []
    # loaded from bytes: nothing to look the files up with
    problems = check.check_model(onnxlite.loads((tmp_path / "m.onnx").read_bytes()))
    assert [(p.code, p.severity) for p in problems] == [("external-data", "warning")]


@pytest.mark.parametrize(("entries", "message", "onnx_verdict"), [
    ({"offset": "1000"}, "tensor 'w': bytes 1000..1008 lie outside 'm.onnx.data' (8 bytes)", "accepts"),
    ({"length": "4"}, "tensor 'w': external length 4, but float[2] needs 8 bytes", "accepts"),
    ({"location": "missing.bin"}, "tensor 'w': external data file 'missing.bin' does not exist", "rejects"),
    ({"location": "../escape.bin"}, "is absolute or climbs out with '..'", "rejects"),
    ({"offset": "-3"}, "external data offset '-3' is not a non-negative integer", "accepts"),
])
def test_external_data_problems(tmp_path: Path, entries: dict[str, str], message: str,
                                onnx_verdict: str) -> None:
    m, path = _external(tmp_path, **entries)
    problems = check.check_model(m)
    assert [(p.where, p.code) for p in problems] == [("graph.initializer[0] 'w'", "external-data")]
    assert message in problems[0].message
    # onnx.checker looks for the file, but not at offsets and lengths
    if pytest.importorskip("onnx").__version__ == ONNX_VERSION:
        assert _onnx_verdict(path) == onnx_verdict


# --- the corpus: no false alarm -------------------------------------------------------------------------


def _corpus() -> Any:
    pytest.importorskip("onnx")
    import corpus

    return corpus


def _onnx_accepts(case: Any) -> bool:
    import onnx

    try:
        if case.path is not None:
            onnx.checker.check_model(str(case.path), full_check=True)
        else:
            onnx.checker.check_model(onnx.ModelProto.FromString(case.data), full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError):
        return False
    return True


def _load(case: Any, lazy: bool | None = None) -> onnxlite.Model:
    if case.path is not None:
        return onnxlite.load(case.path, lazy=lazy)
    return onnxlite.loads(case.data, lazy=lazy)


#: Corpus files onnx.checker rejects, and what onnxlite says about them.
CHECKER_REJECTS = {
    "node/test_mvn": None,  # shape inference fails inside a function body: not a structural problem
    "fixture/structure/sparse.onnx": None,  # shape inference: MatMul of a rank-0 value
    "fixture/structure/quirks.onnx": "metadata",  # a repeated metadata key: 'keys should be distinct'
    "fixture/wire/unknown_enum_values.onnx": "attribute",  # an attribute whose type is unknown to the schema
    # tf2onnx could not tell the shape of an einsum at opset 13 and declared that graph output without one
    "fixture/tf/tf_image_ops_opset13.onnx": "missing-type",
}


@pytest.mark.parametrize("source", ["node", "model", "wheel", "fixture"])
def test_no_false_alarm_on_the_corpus(source: str) -> None:
    corpus = _corpus()
    cases = [c for c in corpus.model_corpus() if c.source == source]
    assert cases
    pinned = pytest.importorskip("onnx").__version__ == ONNX_VERSION  # CHECKER_REJECTS is that release's
    wrong: list[str] = []
    for case in cases:
        problems = check.check_model(_load(case))
        if any(p.code == "internal-error" for p in problems):
            wrong.append(f"{case.id}: {problems}")
        accepted = _onnx_accepts(case)
        if accepted == (case.id in CHECKER_REJECTS) and pinned:
            verdict = "accepts" if accepted else "rejects"
            wrong.append(f"{case.id}: onnx.checker {verdict} it; update CHECKER_REJECTS")
        elif accepted:
            wrong += [f"{case.id}: {p}" for p in problems if p.severity == "error"]
        else:
            codes = {p.code for p in problems if p.severity in ("error", "warning")}
            expected = CHECKER_REJECTS.get(case.id)
            if expected is not None and expected not in codes:
                wrong.append(f"{case.id}: expected {expected}, got {problems}")
    assert not wrong, "\n".join(wrong[:40])


def test_lazy_and_eager_loads_check_alike() -> None:
    corpus = _corpus()
    for case in corpus.model_corpus():
        if case.source in ("wheel", "fixture"):
            lazy = check.check_model(_load(case, lazy=True))
            assert lazy == check.check_model(_load(case, lazy=False)), case.id


def test_lazy_payload_sizes_come_from_the_file(tmp_path: Path) -> None:
    g = base_graph()
    g.initializer[0].CopyFrom(tensor("w", np.ones(4096, np.float32)))
    g.input[0].CopyFrom(vi("x", shape=(4096,)))
    g.output[0].CopyFrom(vi("y", shape=(4096,)))
    onnxlite.save(model(g), tmp_path / "big.onnx")
    m = onnxlite.load(tmp_path / "big.onnx", lazy=True)
    assert len(m.proto.graph.initializer[0].raw_data) < 100  # a marker, not the payload
    assert check.check_model(m) == []
    m.proto.graph.initializer[0].dims[0] = 4095
    m.proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 4095
    m.proto.graph.output[0].type.tensor_type.shape.dim[0].dim_value = 4095
    problems = check.check_model(m)
    assert [p.message for p in problems] == [
        "tensor 'w' has 16384 bytes of raw_data; float[4095] needs 16380 (onnxruntime refuses this; "
        "onnx.checker accepts it)"]


# --- structure details ---------------------------------------------------------------------------------


def test_every_problem_is_one_line_and_names_its_place() -> None:
    for key, mutation in MUTATIONS.items():
        for p in check.check_model(mutation.build()):
            assert "\n" not in p.message and p.where and p.code and p.severity in ("error", "warning"), key
            assert str(p) == f"{p.where}: {p.severity} {p.code}: {p.message}"
            assert p.to_dict() == {"where": p.where, "severity": p.severity, "code": p.code,
                                   "message": p.message}


def test_cycle_across_three_nodes_lists_them_in_data_flow_order() -> None:
    m = model(graph([node("Relu", ["c"], ["a"], "r"), node("Neg", ["a"], ["b"], "n"),
                     node("Abs", ["b"], ["c"], "s"), node("Identity", ["c"], ["y"], "out")],
                    [vi("x")], [vi("y")]))
    problems = errors(m)
    assert [(p.code, p.where, p.message) for p in problems] == [
        ("cycle", "graph.node[0] 'r'", "nodes form a cycle: Relu 'r' -> Neg 'n' -> Abs 's' -> Relu 'r'")]


def test_order_mistake_outside_a_cycle_is_reported_besides_the_cycle() -> None:
    m = _cycle()
    m.proto.graph.node.append(node("Relu", ["late"], ["z"], "early"))
    m.proto.graph.node.append(node("Relu", ["x"], ["late"], "producer"))
    codes = [(p.code, p.where, p.severity) for p in check.check_model(m)]
    assert codes == [("cycle", "graph.node[0] 'p'", "error"),
                     ("topological-order", "graph.node[3] 'early'.input[0]", "warning")]


def test_node_reading_its_own_output() -> None:
    m = base()
    m.proto.graph.node[0].input[0] = "a"
    assert [(p.code, p.message) for p in errors(m)] == [("cycle", "Relu 'relu1' reads 'a', its own output")]


def test_subgraph_nodes_see_outer_values_defined_before_their_node() -> None:
    # a value of the outer graph used two levels down, and a loop-carried name local to the body
    inner = graph([node("Add", ["a", "x"], ["i"], "inner_add")], [], [vi("i", shape=None)], name="inner")
    then = graph([node("If", ["cond"], ["t"], "nested", then_branch=inner, else_branch=inner)], [],
                 [vi("t", shape=None)], name="then")
    m = if_model([])
    m.proto.graph.node[1].attribute[0].g.CopyFrom(then)
    assert check.check_model(m) == []


def test_subgraph_input_shadowing_an_outer_name_is_a_warning() -> None:
    body = graph([node("Identity", ["x"], ["out"], "body_id")], [vi("x", shape=None)],
                 [vi("out", shape=None)], name="body")
    m = if_model([])
    m.proto.graph.node[1].attribute[0].g.CopyFrom(body)
    m.proto.graph.node[1].attribute[0].g.output[0].name = "out"
    problems = check.check_model(m)
    assert [(p.code, p.severity, p.where) for p in problems] == [
        ("shadowed-name", "warning", f"{IF}.input[0] 'x'")]


def test_unnamed_nodes_are_named_by_position_and_domain() -> None:
    m = base()
    m.proto.graph.node[1].name = ""
    m.proto.graph.node[1].input[1] = "nope"
    [p] = errors(m)
    assert (p.where, p.message) == ("graph.node[1].input[1]",
                                    "Add node[1] reads 'nope', which nothing defines")


def test_training_graphs_see_the_main_graph() -> None:
    m = base()
    t = m.proto.training_info.add()
    t.algorithm.CopyFrom(graph([node("Add", ["w", "b"], ["w_new"], "update")], [], [vi("w_new", shape=None)],
                               name="algo"))
    e = t.update_binding.add()
    e.key, e.value = "w", "w_new"
    assert check.check_model(m) == []
    e.key, e.value = "not_an_initializer", "a"
    t.algorithm.node[0].output[0] = t.algorithm.output[0].name = "a"  # the combined graph defines 'a' twice
    codes = [(p.code, p.where, p.severity) for p in check.check_model(m)]
    assert codes == [("duplicate-definition", "training_info[0].algorithm.node[0] 'update'.output[0]",
                      "error"),
                     ("training-binding", "training_info[0].update_binding[0]", "warning")]


def test_opset_newer_than_known_and_ir_gates_for_opsets() -> None:
    m = base()
    m.proto.opset_import[0].version = 99
    problems = check.check_model(m)
    assert ("opset_import[0]", "opset-import", "warning") in [(p.where, p.code, p.severity) for p in problems]
    assert check.is_valid(problems)
    old = model(base_graph(), opset=9, ir=3)
    old.proto.graph.input.append(vi("w"))  # IR 3: initializers must be graph inputs
    [p] = check.check_model(old)
    assert (p.code, p.severity, p.message) == (
        "ir-opset", "warning", "opset ai.onnx 9 came with IR version 4; the model declares IR 3")


def test_symbolic_dims_match_any_size() -> None:
    m = base()
    m.proto.graph.input.append(vi("w", shape=("n",)))
    assert check.check_model(m) == []
    m.proto.graph.input[1].CopyFrom(vi("w", shape=("n", 2)))
    [p] = errors(m)
    assert p.message == "initializer 'w' has shape [2]; graph.input[1] 'w' declares [?, 2]"


def test_ir3_initializer_must_be_an_input() -> None:
    """onnx.checker refuses it, onnxruntime runs it: a warning saying so."""
    [p] = check.check_model(model(base_graph(), opset=8, ir=3))
    assert (p.code, p.where, p.severity, p.message) == (
        "ir-feature", "graph.initializer[0] 'w'", "warning",
        "initializers that are not graph inputs need IR version 4; the model declares IR 3 (onnx.checker "
        "refuses this; onnxruntime accepts it)")


def test_corrupt_fields_become_problems() -> None:
    m = base()
    a = m.proto.graph.node[1].attribute.add()
    a.name, a.type = "empty", 4  # a TENSOR attribute without a tensor
    data = onnxlite.dumps(m).replace(b"relu1", b"\xffelu1").replace(b"\x12\x01a", b"\x12\x01\xfe")
    problems = check.check_model(onnxlite.loads(data))  # names that are not UTF-8 come back as bytes
    assert [(p.code, p.where) for p in problems] == [
        ("undefined-value", "graph.node[1] 'add1'.input[0]"),
        ("attribute", "graph.node[1] 'add1'.attribute 'empty'"),
        ("unknown-attribute", "graph.node[1] 'add1'.attribute 'empty'")]
    # Relu's output is now b'\xfe'
    assert problems[0].message == "Add 'add1' reads 'a', which nothing defines"
    assert problems[1].message == "Add 'add1': TENSOR attribute 'empty' has no value"


# --- hostile nesting ---------------------------------------------------------------------------------------


def _nested(depth: int, leaf_input: str) -> onnxlite.Model:
    """``depth`` If nodes, each in the then-branch of the one above; the innermost reads
    ``leaf_input``. Built in place (copying each level into both branches of the next would
    double the model at every level)."""
    m = model(graph([], [vi("x"), vi("cond", elem=9, shape=())], [vi("y")]))
    g, out = m.proto.graph, "y"
    for level in range(depth):
        n = g.node.add()
        n.op_type, n.name = "If", f"if{level}"
        n.input.append("cond")
        n.output.append(out)
        n.attribute.append(attr("else_branch", graph([node("Identity", ["x"], ["e"], "else_id")], [],
                                                      [vi("e", shape=None)], name="else")))
        a = n.attribute.add()
        a.name, a.type = "then_branch", 5
        g, out = a.g, f"v{level}"
        g.name = f"then{level}"
        g.output.add().name = out
    g.node.append(node("Identity", [leaf_input], [out], "leaf"))
    return m


def test_a_thousand_nested_graphs() -> None:
    assert check.check_model(_nested(1000, "x")) == []
    assert versions.set_opset(_nested(1000, "x"), 18).opset_imports == {"": 18}
    [p] = check.check_model(_nested(1000, "ghost"))
    assert p.code == "undefined-value" and p.message == "Identity 'leaf' reads 'ghost', which nothing defines"
    assert p.where.startswith("graph.node[0] 'if0'.attribute 'then_branch'.g.node[0] 'if1'.attribute")
    assert p.where.count(".g.") == 1000 and p.where.endswith(".g.node[0] 'leaf'.input[0]")


# --- the CLI ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _plain_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_valid_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", str(EXAMPLE)) == (0, f"{EXAMPLE}: valid\n", "")


def test_cli_invalid_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = base()
    m.proto.graph.node[1].input[1] = "nope"
    m.proto.graph.output.append(vi("y"))
    path = tmp_path / "bad.onnx"
    onnxlite.save(m, path)
    code, out, err = run(capsys, "check", str(path), "--no-color")
    assert (code, err) == (1, "")
    assert out == (
        "graph.node[1] 'add1'.input[1]: error undefined-value: Add 'add1' reads 'nope', which nothing "
        "defines\n"
        "graph.output[1] 'y': warning duplicate-output: graph output 'y' is listed twice\n"
        f"{path}: invalid: 1 error, 1 warning\n")
    code, out, err = run(capsys, "check", str(path), "--json")
    assert (code, err) == (1, "")
    report = json.loads(out)
    assert report["valid"] is False and report["model"] == str(path)
    assert [p["code"] for p in report["problems"]] == ["undefined-value", "duplicate-output"]
    assert set(report["problems"][0]) == {"where", "severity", "code", "message"}


def test_cli_warnings_only_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "warn.onnx"
    onnxlite.save(MUTATIONS["duplicate-graph-output"].build(), path)
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0 and out.endswith(f"{path}: valid (1 warning)\n")
    code, out, _ = run(capsys, "check", "--json", str(path))
    assert code == 0 and json.loads(out)["valid"] is True


def test_cli_unreadable_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x0a\xff\xff\xff")
    code, out, err = run(capsys, "check", str(path))
    assert (code, out) == (1, "")
    assert err.startswith(f"onnxlite: error: {path}: ") and err.count("\n") == 1
    code, out, err = run(capsys, "check", str(tmp_path / "absent.onnx"))
    assert code == 1 and err.count("\n") == 1


def test_cli_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["check"], ["check", "a.onnx", "--bogus"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2
    capsys.readouterr()


def test_cli_colour_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    path = tmp_path / "bad.onnx"
    onnxlite.save(MUTATIONS["undefined-input"].build(), path)
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1 and "\x1b[" in out and "undefined-value" in out


def test_importing_the_cli_does_not_load_the_operator_table() -> None:
    import subprocess
    import sys

    script = ("import sys, onnxlite.cli; print('onnxlite._proto.opschemas' in sys.modules, "
              "'onnxlite.check' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.stdout.split() == ["False", "False"], out.stderr


# --- severity follows onnx.checker and onnxruntime (issue 10) ----------------------------------------------

ORT_REFUSES = "(onnxruntime refuses this; onnx.checker accepts it)"


def _verdicts(m: onnxlite.Model) -> tuple[str, str]:
    """(onnx.checker full_check, onnxruntime load + run) on ``m``."""
    onnx = oracle()
    ort = pytest.importorskip("onnxruntime")
    ort.set_default_logger_severity(4)
    data = onnxlite.dumps(m)
    try:
        onnx.checker.check_model(onnx.ModelProto.FromString(data), full_check=True)
        checker = "accepts"
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError):
        checker = "rejects"
    try:
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        session.run(None, {i.name: np.ones([2] * len(i.shape), np.float32) for i in session.get_inputs()})
        runtime = "runs"
    except Exception:  # noqa: BLE001 (any refusal is 'fails')
        runtime = "fails"
    return checker, runtime


def _chain(names: list[str]) -> Any:
    """Relu nodes x -> ... -> y named ``names``."""
    outs = [f"v{k}" for k in range(len(names) - 1)] + ["y"]
    ins = ["x"] + outs[:-1]
    return [node("Relu", [i], [o], nm) for i, o, nm in zip(ins, outs, names, strict=True)]


def test_ir_and_opset_newer_than_any_release_are_errors() -> None:
    m = base()
    m.proto.ir_version, m.proto.opset_import[0].version = 99, 999
    assert _verdicts(m) == ("rejects", "fails")
    problems = check.check_model(m)
    assert [(p.where, p.severity) for p in problems if p.code == "ir-version"] == [("ir_version", "error")]
    assert not check.is_valid(problems)
    m.proto.ir_version = 8  # opset 999 alone: onnx.checker accepts it, onnxruntime refuses
    assert _verdicts(m) == ("accepts", "fails")
    [p] = [p for p in check.check_model(m) if p.code == "opset-import"]
    assert p.severity == "warning" and p.message.endswith(ORT_REFUSES)


def test_negative_dim_is_a_warning() -> None:
    """ch_ppocr_mobile_v2.0_cls: a -1 dim that both consumers accept."""
    m = model(graph(_chain(["r"]), [vi("x", shape=(-1,))], [vi("y", shape=(-1,))]))
    assert _verdicts(m) == ("accepts", "runs")
    problems = check.check_model(m)
    assert [(p.code, p.severity, p.where) for p in problems] == [
        ("bad-type", "warning", "graph.input[0] 'x'"), ("bad-type", "warning", "graph.output[0] 'y'")]


def test_duplicate_node_names_in_functions() -> None:
    """silero_vad_openvino_16k: 'F0::anon' repeated. onnxruntime refuses duplicates only in the
    graphs it builds, so in a function nothing calls they are a plain warning."""
    body = [node("Relu", ["X"], ["a"], "F0::anon"), node("Relu", ["a"], ["Y"], "F0::anon")]
    f0 = function("F0", ["X"], ["Y"], body)
    uncalled = model(graph(_chain(["r"]), [vi("x")], [vi("y")]), imports={"local": 1}, functions=[f0])
    assert _verdicts(uncalled) == ("accepts", "runs")
    [p] = check.check_model(uncalled)
    assert (p.code, p.severity) == ("duplicate-node-name", "warning")
    assert p.where == "functions[0] 'local.F0'.node[1] 'F0::anon'"
    assert "refuses" not in p.message
    called = model(graph([node("F0", ["x"], ["y"], "c", domain="local")], [vi("x")], [vi("y")]),
                   imports={"local": 1}, functions=[f0])
    assert _verdicts(called) == ("accepts", "fails")
    [p] = check.check_model(called)
    assert p.severity == "warning" and p.message.endswith(ORT_REFUSES)


def test_training_bindings_onnx_checker_allows_are_warnings() -> None:
    g = base_graph()
    g.initializer.append(tensor("trip", np.array(0, np.int64)))
    m = model(g)
    t = m.proto.training_info.add()
    t.algorithm.CopyFrom(graph([node("Add", ["trip", "one"], ["trip_new"], "step")], [],
                               [vi("trip_new", elem=7, shape=())], [tensor("one", np.array(1, np.int64))],
                               name="algo"))
    e = t.update_binding.add()
    e.key, e.value = "trip_new", "trip"  # reversed: IR.md wants key=initializer, value=algorithm output
    assert _verdicts(m) == ("accepts", "runs")
    problems = check.check_model(m)
    assert [(p.code, p.severity) for p in problems] == [("training-binding", "warning")] * 2
    assert check.is_valid(problems)


def test_cli_groups_repeated_problems_and_json_counts_them(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    m = model(graph(_chain(["F0::anon"] * 15), [vi("x")], [vi("y")]))
    m.proto.graph.node[3].input[0] = "ghost"
    path = tmp_path / "dup.onnx"
    onnxlite.save(m, path)
    code, out, err = run(capsys, "check", str(path))
    assert (code, err) == (1, "")
    assert out == (
        "graph.node[1] 'F0::anon': warning duplicate-node-name: node name 'F0::anon' is also used by an "
        "earlier node of this graph (onnxruntime refuses this; onnx.checker accepts it) (and 13 more "
        "places)\n"
        "graph.node[3] 'F0::anon'.input[0]: error undefined-value: Relu 'F0::anon' reads 'ghost', which "
        "nothing defines\n"
        f"{path}: invalid: 1 error, 14 warnings\n")
    code, out, _ = run(capsys, "check", "--json", str(path))
    report = json.loads(out)
    assert code == 1 and len(report["problems"]) == 15
    assert report["counts"] == {"errors": 1, "warnings": 14, "by_code": {
        "warning duplicate-node-name": 14, "error undefined-value": 1}}


def test_cli_caps_lines_per_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A shuffled model: hundreds of order problems print as 20 lines and a count."""
    names = [f"n{k}" for k in range(60)]
    nodes = _chain(names)[::-1]
    m = model(graph(nodes, [vi("x")], [vi("y")]))
    path = tmp_path / "shuffled.onnx"
    onnxlite.save(m, path)
    code, out, _ = run(capsys, "check", str(path))
    lines = out.splitlines()
    assert code == 0 and len(lines) == 22
    assert lines[-2] == "... 39 more topological-order warnings (--json lists every one)"
    assert lines[-1] == f"{path}: valid (59 warnings)"


# --- types against the op's type constraints, and inference (issues 10 and 11) ----------------------------


def _parsed(text: str) -> onnxlite.Model:
    return onnxlite.parse_model(text)


SILERO_REWIRED = """<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x, int64 sr) => (float[2] y) {
    y = If(sr) <then_branch = t () => (float[2] a) { a = Relu(x) },
                else_branch = e () => (float[2] b) { b = Neg(x) }>
}"""


def test_declared_type_outside_the_op_constraints() -> None:
    """silero_vad after a bad rewire: the If reads the int64 input 'sr' as its bool condition."""
    m = _parsed(SILERO_REWIRED)
    assert _verdicts(m) == ("rejects", "fails")
    for infer in (False, True):
        [p] = check.check_model(m, infer=infer)
        assert (p.where, p.code, p.severity) == ("graph.node[0].input[0]", "type-constraint", "error")
        assert p.message == ("If '#0' reads 'sr' as tensor(int64); If-16 allows tensor(bool) for input "
                             "'cond' (B)")


def test_one_type_per_type_variable() -> None:
    m = _parsed("""<ir_version: 8, opset_import: ["" : 17]>
        g (float[2] x, int64[2] n) => (float[2] y) { y = Add(x, n) }""")
    assert _verdicts(m) == ("rejects", "fails")
    [p] = [p for p in check.check_model(m, infer=False) if p.code == "type-constraint"]
    assert (p.where, p.severity) == ("graph.node[0].input[1]", "error")
    assert p.message == ("Add '#0': input 1 ('n') is tensor(int64) but input 0 ('x') is tensor(float); "
                         "T must be one type")


def test_inferred_type_outside_the_op_constraints() -> None:
    """Nothing declares 'i': inference says int64, which Sqrt does not take."""
    m = _parsed("""<ir_version: 8, opset_import: ["" : 17]>
        g (float[2] x) => (float[2] y) { i = Cast<to = 7>(x)  y = Sqrt(i) }""")
    assert _verdicts(m)[0] == "rejects"
    assert [p.code for p in check.check_model(m, infer=False) if p.severity == "error"] == []
    [p] = [p for p in check.check_model(m) if p.code == "type-constraint"]
    assert (p.where, p.severity) == ("graph.node[1].input[0]", "error")
    assert p.message.startswith("Sqrt '#1' reads 'i' as tensor(int64); Sqrt-13 allows tensor(")


def test_contradictions_with_declarations() -> None:
    """A declared shape the computation contradicts: onnx.checker refuses it, onnxruntime warns and
    runs it (a warning saying so); a declared element type: both refuse (an error)."""
    shape = _parsed("""<ir_version: 8, opset_import: ["" : 17]>
        g (float[2] x) => (float[2] y) <float[3] r> { r = Relu(x)  y = Identity(r) }""")
    assert _verdicts(shape) == ("rejects", "runs")
    [p] = check.check_model(shape)
    assert (p.where, p.code, p.severity) == ("graph.node[0].output[0]", "type-contradiction", "warning")
    assert p.message == ("'#0' computes 'r' as float[2]; the model declares float[3] (onnx.checker refuses "
                         "this; onnxruntime accepts it)")
    dtype = _parsed("""<ir_version: 8, opset_import: ["" : 17]>
        g (float[2] x) => (float[2] y) <int64[2] r> { r = Relu(x)  y = Identity(r) }""")
    assert _verdicts(dtype) == ("rejects", "fails")
    assert ("type-contradiction", "error") in [(p.code, p.severity) for p in check.check_model(dtype)]
    assert check.check_model(shape, infer=False) == []
