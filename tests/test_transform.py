"""Whole-graph transforms (onnxlite.transform): toposort, remove_unused, extract.

Unit tests build small graphs with onnxlite's own protobuf classes, so they run without `onnx`.
The oracle tests (`onnx` checker, onnxruntime, onnx.utils.extract_model) run over the corpus of
tests/corpus.py and the PyTorch fixtures, and skip when those packages are missing.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import onnxlite
from onnxlite import CycleError, EditError, _proto, transform
from onnxlite._storage import wire
from onnxlite.dtypes import DataType
from onnxlite.model import _repeated
from onnxlite.model import iter_nodes as _walk_nodes

HAVE_ONNX = importlib.util.find_spec("onnx") is not None
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# --- building graphs --------------------------------------------------------------------------


def vi(name: str, dtype: int = 1, shape: Iterable[int | str] | None = (2,)) -> Any:
    v = _proto.ValueInfoProto(name=name)
    v.type.tensor_type.elem_type = dtype
    if shape is not None:
        v.type.tensor_type.shape.SetInParent()
        for d in shape:
            dim = v.type.tensor_type.shape.dim.add()
            if isinstance(d, int):
                dim.dim_value = d
            else:
                dim.dim_param = d
    return v


def tensor(name: str, values: Any) -> Any:
    return onnxlite.Tensor.from_numpy(np.asarray(values, np.float32), name).proto


def node(op: str, inputs: Iterable[str], outputs: Iterable[str], name: str = "", domain: str = "",
         **graphs: Any) -> Any:
    n = _proto.NodeProto(op_type=op, name=name, domain=domain)
    n.input.extend(inputs)
    n.output.extend(outputs)
    for attr, g in graphs.items():
        a = n.attribute.add(name=attr, type=5)
        a.g.CopyFrom(g)
    return n


def graph(nodes: Iterable[Any], inputs: Iterable[str] = (), outputs: Iterable[str] = (),
          initializers: Iterable[Any] = (), name: str = "g", typed: bool = True) -> Any:
    g = _proto.GraphProto(name=name)
    g.node.extend(nodes)
    g.input.extend(vi(x) if typed else _proto.ValueInfoProto(name=x) for x in inputs)
    g.output.extend(vi(x) if typed else _proto.ValueInfoProto(name=x) for x in outputs)
    g.initializer.extend(initializers)
    return g


def model(g: Any, opsets: dict[str, int] | None = None, ir: int = 8,
          functions: Iterable[Any] = ()) -> onnxlite.Model:
    m = _proto.ModelProto(ir_version=ir, producer_name="test")
    for domain, version in (opsets or {"": 17}).items():
        m.opset_import.add(domain=domain, version=version)
    m.graph.CopyFrom(g)
    m.functions.extend(functions)
    return onnxlite.Model(m)


def function(name: str, domain: str, inputs: list[str], outputs: list[str], nodes: Iterable[Any],
             opsets: dict[str, int] | None = None) -> Any:
    f = _proto.FunctionProto(name=name, domain=domain)
    f.input.extend(inputs)
    f.output.extend(outputs)
    f.node.extend(nodes)
    for d, v in (opsets or {"": 17}).items():
        f.opset_import.add(domain=d, version=v)
    return f


def names(container: Any) -> list[str]:
    return [n.name for n in container.node]


def subgraph_protos(n: Any) -> Iterator[Any]:
    for a in n.attribute:
        if a.HasField("g"):
            yield a.g
        yield from a.graphs


def assert_topological(g: Any) -> None:
    """No node (or subgraph of it) reads a name that a node at or after it produces, in its graph
    or in any enclosing one; names a subgraph defines itself shadow the outer ones."""
    stack: list[tuple[Any, frozenset[str]]] = [(g, frozenset())]
    while stack:
        g, outer = stack.pop()
        own = {v.name for v in g.input} | {t.name for t in g.initializer}
        outer = outer - own
        later = Counter(o for n in g.node for o in n.output if o)
        for i, n in enumerate(g.node):
            pending = {k for k, c in later.items() if c} | outer
            for x in n.input:
                assert not (x and x in pending), f"node[{i}] {n.op_type} reads {x!r} before it is produced"
            stack.extend((sg, frozenset(pending)) for sg in subgraph_protos(n))
            for o in n.output:
                if o:
                    later[o] -= 1


def shuffle(g: Any, rng: random.Random) -> None:
    """Permute the nodes of ``g`` and of all its subgraphs."""
    stack = [g]
    while stack:
        g = stack.pop()
        nodes = [_clone(n) for n in g.node]
        rng.shuffle(nodes)
        del g.node[:]
        g.node.extend(nodes)
        for n in g.node:
            stack.extend(subgraph_protos(n))


def _clone(m: Any) -> Any:
    c = type(m)()
    c.CopyFrom(m)
    return c


def chain(n: int) -> Any:
    """x0 -> n0 -> x1 -> n1 ... -> x{n}, stored in reverse order."""
    nodes = [node("Relu", [f"x{k}"], [f"x{k + 1}"], f"n{k}") for k in reversed(range(n))]
    return graph(nodes, ["x0"], [f"x{n}"])


# --- toposort ---------------------------------------------------------------------------------


def test_toposort_reverses_a_reversed_chain() -> None:
    m = model(chain(50))
    view = m.graph
    assert view.value("x1").producer.proto.name == "n0"
    transform.toposort(m)
    assert names(m.proto.graph) == [f"n{k}" for k in range(50)]
    assert_topological(m.proto.graph)
    assert view.value("x1").producer._index == 0  # the cached index was refreshed


def test_toposort_is_stable() -> None:
    # d and b are ready from the start; a valid order must come out unchanged and untouched
    nodes = [node("Relu", ["x"], ["d"], "d"), node("Relu", ["x"], ["b"], "b"),
             node("Add", ["b", "d"], ["c"], "c"), node("Relu", ["x"], ["a"], "a")]
    m = model(graph(nodes, ["x"], ["c", "a"]))
    before = onnxlite.dumps(m)
    transform.toposort(m)
    assert onnxlite.dumps(m) == before
    # out of order: only what must move moves, ties go to the earlier node
    nodes = [node("Add", ["b", "d"], ["c"], "c"), node("Relu", ["x"], ["d"], "d"),
             node("Relu", ["x"], ["a"], "a"), node("Relu", ["x"], ["b"], "b")]
    m = model(graph(nodes, ["x"], ["c", "a"]))
    transform.toposort(m)
    assert names(m.proto.graph) == ["d", "a", "b", "c"]


def test_toposort_keeps_references_to_nodes_valid() -> None:
    m = model(chain(5))
    proto_n0 = m.proto.graph.node[4]
    transform.toposort(m)
    proto_n0.doc_string = "still attached"
    assert m.proto.graph.node[0].doc_string == "still attached"


def test_toposort_identifies_nodes_by_position_not_name() -> None:
    # repeated and empty names: graphsurgeon-style name keys would see false cycles here
    nodes = [node("Relu", ["b"], ["c"], "same"), node("Relu", ["a"], ["b"], "same"),
             node("Relu", ["x"], ["a"], ""), node("Relu", ["c"], ["d"], "")]
    m = model(graph(nodes, ["x"], ["d"]))
    transform.toposort(m)
    assert [n.output[0] for n in m.proto.graph.node] == ["a", "b", "c", "d"]


def test_omitted_and_dangling_inputs_are_not_dependencies() -> None:
    nodes = [node("Clip", ["y", "", "nowhere"], ["z"], "clip"), node("Relu", ["x"], ["y"], "relu"),
             node("Relu", ["x"], [""], "no_output")]
    m = model(graph(nodes, ["x"], ["z"]))
    transform.toposort(m)
    assert names(m.proto.graph) == ["relu", "clip", "no_output"]


def test_subgraph_reading_a_later_value_moves_after_its_producer() -> None:
    # If's branches read 'late' from the outer scope; 'late' is produced by a later node
    then = graph([node("Add", ["late", "late"], ["t"], "inner")], outputs=["t"], name="then")
    other = graph([node("Identity", ["x"], ["e"], "inner2")], outputs=["e"], name="else")
    nodes = [node("Relu", ["x"], ["cond"], "cond"), node("If", ["cond"], ["out"], "if", then_branch=then,
                                                         else_branch=other),
             node("Relu", ["x"], ["late"], "producer")]
    m = model(graph(nodes, ["x"], ["out"]))
    transform.toposort(m)
    assert names(m.proto.graph) == ["cond", "producer", "if"]
    assert_topological(m.proto.graph)


def test_loop_body_nested_two_deep_reads_a_later_value() -> None:
    inner = graph([node("Add", ["v", "late"], ["w"], "deep")], ["i2", "c2", "v"], ["c2", "w"], name="inner")
    body = graph([node("Loop", ["", "", "v"], ["r"], "inner_loop", body=inner),
                  node("Identity", ["cond_in"], ["cond_out"], "cond")],
                 ["i", "cond_in", "v"], ["cond_out", "r"], name="body")
    nodes = [node("Loop", ["n", "", "x"], ["y"], "loop", body=body), node("Relu", ["x"], ["late"], "late")]
    m = model(graph(nodes, ["x", "n"], ["y"]))
    transform.toposort(m)
    assert names(m.proto.graph) == ["late", "loop"]


def test_names_a_subgraph_defines_shadow_outer_producers() -> None:
    # the body defines 'v' itself (an input), so the later outer 'v' is not a dependency
    body = graph([node("Relu", ["v"], ["o"], "inner")], ["i", "c", "v"], ["c", "o"], name="body")
    nodes = [node("Loop", ["n", "", "x"], ["y"], "loop", body=body), node("Relu", ["x"], ["v"], "v")]
    m = model(graph(nodes, ["x", "n"], ["y", "v"]))
    before = onnxlite.dumps(m)
    transform.toposort(m)
    assert onnxlite.dumps(m) == before


def test_subgraphs_and_functions_are_sorted_too() -> None:
    then = graph([node("Relu", ["a"], ["t"], "second"), node("Relu", ["x"], ["a"], "first")],
                 outputs=["t"], name="then")
    other = graph([node("Relu", ["x"], ["e"], "only")], outputs=["e"], name="else")
    f = function("F", "local", ["p"], ["q"],
                 [node("Relu", ["m"], ["q"], "f2"), node("Relu", ["p"], ["m"], "f1")])
    nodes = [node("If", ["c"], ["y"], "if", then_branch=then, else_branch=other),
             node("F", ["y"], ["z"], "call", domain="local")]
    m = model(graph(nodes, ["x", "c"], ["z"]), {"": 17, "local": 1}, functions=[f])
    transform.toposort(m)
    assert names(m.proto.graph.node[0].attribute[0].g) == ["first", "second"]
    assert names(m.proto.functions[0]) == ["f1", "f2"]


def test_toposort_of_a_graph_view_and_a_function_view() -> None:
    body = graph([node("Relu", ["a"], ["o"], "2"), node("Relu", ["v"], ["a"], "1")],
                 ["i", "c", "v"], ["c", "o"])
    m = model(graph([node("Loop", ["n", "", "x"], ["y"], "loop", body=body)], ["x", "n"], ["y"]),
              functions=[function("F", "d", ["p"], ["q"], [node("Relu", ["m"], ["q"], "b"),
                                                             node("Relu", ["p"], ["m"], "a")])])
    sub = m.graph.nodes[0].subgraphs()[0]
    transform.toposort(sub)
    assert names(m.proto.graph.node[0].attribute[0].g) == ["1", "2"]
    assert names(m.proto.functions[0]) == ["b", "a"]  # a graph view sorts that graph only
    transform.toposort(m.functions[0])
    assert names(m.proto.functions[0]) == ["a", "b"]


def test_cycle_names_one_cycle_in_order_and_changes_nothing() -> None:
    # b -> c -> d -> b is a cycle; 'a' feeds it and 'e' hangs off it, neither is on it
    nodes = [node("Relu", ["x"], ["a"], "a"), node("Add", ["a", "d"], ["b"], "b"),
             node("Relu", ["b"], ["c"], "c"), node("Relu", ["c"], ["d"], "d"),
             node("Relu", ["d"], ["e"], "e")]
    f = function("F", "d", ["p"], ["q"], [node("Relu", ["m"], ["q"], "f2"), node("Relu", ["p"], ["m"], "f1")])
    m = model(graph(list(reversed(nodes)), ["x"], ["e"]), functions=[f])
    before = onnxlite.dumps(m)
    with pytest.raises(CycleError) as info:
        transform.toposort(m)
    # positions in the reversed list: e=0 d=1 c=2 b=3 a=4
    assert info.value.nodes == ["graph.node[1] 'd'", "graph.node[3] 'b'", "graph.node[2] 'c'"]
    assert str(info.value) == (
        "graph: nodes form a cycle: graph.node[1] 'd' -(d)-> graph.node[3] 'b' -(b)-> graph.node[2] 'c' "
        "-(c)-> graph.node[1] 'd'; toposort cannot order them until a node on it stops depending on its "
        "own result")
    assert isinstance(info.value, EditError) and "\n" not in str(info.value)
    assert onnxlite.dumps(m) == before  # the sortable function was not sorted either


def test_self_loop_and_unnamed_nodes_in_a_cycle() -> None:
    m = model(graph([node("Add", ["x", "y"], ["y"])], ["x"], ["y"]))
    with pytest.raises(CycleError) as info:
        transform.toposort(m)
    assert info.value.nodes == ["graph.node[0]"]
    nodes = [node("Relu", ["b"], ["a"]), node("Relu", ["a"], ["b"])]
    with pytest.raises(CycleError) as info:
        transform.toposort(model(graph(nodes, [], ["a"])))
    assert info.value.nodes == ["graph.node[0]", "graph.node[1]"]


def test_cycle_through_a_subgraph_and_inside_a_subgraph() -> None:
    # the If reads 'b' inside its branch; 'b' is computed from the If's own output
    then = graph([node("Identity", ["b"], ["t"], "uses_b")], outputs=["t"], name="then")
    other = graph([node("Identity", ["x"], ["e"])], outputs=["e"], name="else")
    nodes = [node("If", ["x"], ["y"], "if", then_branch=then, else_branch=other),
             node("Relu", ["y"], ["b"], "relu")]
    with pytest.raises(CycleError) as info:
        transform.toposort(model(graph(nodes, ["x"], ["b"])))
    assert info.value.nodes == ["graph.node[0] 'if'", "graph.node[1] 'relu'"]
    assert "-(b)->" in str(info.value) and "-(y)->" in str(info.value)
    inner = graph([node("Relu", ["q"], ["p"], "p"), node("Relu", ["p"], ["q"], "q")],
                  outputs=["p"], name="then")
    nodes = [node("If", ["x"], ["y"], "if", then_branch=inner, else_branch=other)]
    with pytest.raises(CycleError) as info:
        transform.toposort(model(graph(nodes, ["x"], ["y"])))
    where = "graph.node[0] 'if'.attribute 'then_branch'.g"
    assert info.value.nodes == [f"{where}.node[0] 'p'", f"{where}.node[1] 'q'"]


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    return depth


def test_deep_nesting_needs_no_recursion() -> None:
    # 1000 nested If (built in place: protobuf refuses to parse or copy more than ~33 levels);
    # the innermost graph is out of order and holds a dead node, and reads 'x' from the top
    depth = 1000
    m = model(graph([], ["x", "c"], ["o"]))
    g = m.proto.graph
    for _ in range(depth):
        n = g.node.add(op_type="If", name="if")
        n.input.append("c")
        n.output.append("o")
        other = graph([node("Identity", ["x"], ["o"])], outputs=["o"])
        n.attribute.add(name="else_branch", type=5).g.CopyFrom(other)
        a = n.attribute.add(name="then_branch", type=5)
        a.g.output.add(name="o")
        g = a.g
    g.node.extend([node("Relu", ["b"], ["o"], "second"), node("Relu", ["x"], ["b"], "first"),
                   node("Relu", ["x"], ["dead"], "dead")])
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + 50)  # a recursive walk would need 1000s of frames
    try:
        transform.toposort(m)
        removed = transform.remove_unused(m)
        with pytest.raises(EditError, match="too deeply for protobuf to copy"):
            transform.extract(m, ["x", "c"], ["o"])
    finally:
        sys.setrecursionlimit(limit)
    assert names(g) == ["first", "second"]
    assert len(removed.nodes) == 1 and removed.nodes[0].endswith(".node[2] 'dead'")
    assert removed.nodes[0].count("attribute 'then_branch'.g") == depth


def test_toposort_large_reversed_chain() -> None:
    m = model(chain(20_000))
    transform.toposort(m)
    g = m.proto.graph
    assert g.node[0].name == "n0" and g.node[19_999].name == "n19999"
    assert all(g.node[k].input[0] == f"x{k}" for k in range(0, 20_000, 997))


def test_toposort_without_moving_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    # other protobuf implementations: the nodes are copied into place instead of moved
    monkeypatch.setattr(_repeated, "_SORT_MOVES", False)
    m = model(chain(10))
    transform.toposort(m)
    assert names(m.proto.graph) == [f"n{k}" for k in range(10)]
    nodes = [node("Relu", ["x"], ["dead"], "dead"), node("Relu", ["x"], ["y"], "y")]
    r = transform.remove_unused(model(graph(nodes, ["x"], ["y"])))
    assert r.nodes == ["graph.node[0] 'dead'"]


def test_toposort_refuses_other_objects() -> None:
    with pytest.raises(TypeError):
        transform.toposort(_proto.GraphProto())  # type: ignore[arg-type]


# --- remove_unused ----------------------------------------------------------------------------


def test_remove_unused_removes_dead_nodes_and_what_only_they_read() -> None:
    nodes = [node("Relu", ["x"], ["a"], "live"), node("Add", ["a", "w_dead"], ["d1"], "dead1"),
             node("Relu", ["d1"], ["d2"], "dead2"), node("Add", ["a", "w"], ["y"], "out")]
    g = graph(nodes, ["x", "unused_input"], ["y"], [tensor("w", [1, 2]), tensor("w_dead", [3, 4])])
    g.value_info.extend([vi("a"), vi("d1"), vi("stale")])
    m = model(g)
    view = m.graph
    assert view.value("w_dead").uses
    removed = transform.remove_unused(m)
    assert removed.nodes == ["graph.node[1] 'dead1'", "graph.node[2] 'dead2'"]
    assert removed.initializers == ["w_dead"]
    assert removed.value_info == ["d1", "stale"]
    assert removed.inputs == [] and removed.functions == [] and removed.opset_imports == []
    assert str(removed) == "removed 2 nodes, 1 initializer, 2 value info"
    assert removed.details() == ["nodes: graph.node[1] 'dead1', graph.node[2] 'dead2'",
                                 "initializers: w_dead", "value info: d1, stale"]
    assert removed.count == 5 and bool(removed)
    assert names(m.proto.graph) == ["live", "out"]
    assert [v.name for v in m.proto.graph.input] == ["x", "unused_input"]
    assert "w_dead" not in view.values  # the index was refreshed
    again = transform.remove_unused(m)
    assert not again and str(again) == "nothing to remove"


def test_remove_inputs_option_and_initializers_that_are_inputs() -> None:
    # IR 3: every initializer is a graph input; an unused one stays with its input by default
    nodes = [node("Add", ["x", "w"], ["y"], "add")]
    g = graph(nodes, ["x", "w", "v", "spare"], ["y"], [tensor("w", [1, 2]), tensor("v", [3, 4])])
    m = model(g, ir=3)
    assert not transform.remove_unused(m)
    removed = transform.remove_unused(m, remove_inputs=True)
    assert removed.inputs == ["v", "spare"] and removed.initializers == ["v"]
    assert [v.name for v in m.proto.graph.input] == ["x", "w"]


def test_outer_scope_uses_keep_producers_at_any_depth() -> None:
    # 'deep' is read only three levels down, by a kept node; 'dead_outer' only by a dead inner node
    level3 = graph([node("Add", ["deep", "deep"], ["o3"], "reads_deep"),
                    node("Relu", ["dead_outer"], ["junk"], "dead_inner")], outputs=["o3"], name="l3")
    level2 = graph([node("If", ["c"], ["o2"], "if3", then_branch=level3, else_branch=level3)], outputs=["o2"])
    level1 = graph([node("If", ["c"], ["o1"], "if2", then_branch=level2, else_branch=level2)], outputs=["o1"])
    nodes = [node("Relu", ["x"], ["deep"], "deep"), node("Relu", ["x"], ["dead_outer"], "dead_outer"),
             node("If", ["c"], ["y"], "if1", then_branch=level1, else_branch=level1)]
    m = model(graph(nodes, ["x", "c"], ["y"]))
    removed = transform.remove_unused(m)
    assert names(m.proto.graph) == ["deep", "if1"]
    assert "graph.node[1] 'dead_outer'" in removed.nodes
    assert len([n for n in removed.nodes if n.endswith("'dead_inner'")]) == 8  # 2 x 2 x 2 copies
    assert sum(1 for n in _walk_nodes(m.proto.graph) if n.name == "reads_deep") == 8


def test_subgraph_initializers_value_info_and_inputs() -> None:
    body = graph([node("Add", ["v", "bw"], ["o"], "keep"), node("Mul", ["v", "bdead"], ["junk"], "drop")],
                 ["i", "c", "v"], ["c", "o"], [tensor("bw", [1]), tensor("bdead", [2])], name="body")
    body.value_info.extend([vi("junk"), vi("o")])
    m = model(graph([node("Loop", ["n", "", "x"], ["y"], "loop", body=body)], ["x", "n"], ["y"]))
    removed = transform.remove_unused(m, remove_inputs=True)
    where = "graph.node[0] 'loop'.attribute 'body'.g"
    assert removed.nodes == [f"{where}.node[1] 'drop'"]
    assert removed.initializers == [f"{where}: bdead"]
    assert removed.value_info == [f"{where}: junk"]
    assert removed.inputs == []  # subgraph inputs are fixed by the operator; 'i' is unused but stays
    b = m.proto.graph.node[0].attribute[0].g
    assert [v.name for v in b.input] == ["i", "c", "v"] and [t.name for t in b.initializer] == ["bw"]


def test_custom_domain_nodes_stay_unless_asked() -> None:
    nodes = [node("Relu", ["x"], ["y"], "relu"), node("Relu", ["x"], ["fed"], "feeds_custom"),
             node("Print", ["fed"], ["printed"], "print", domain="com.example"),
             node("Log", ["x"], [], "log_no_outputs", domain="com.example"),
             node("Relu", ["x"], [""], "std_no_outputs")]
    m = model(graph(nodes, ["x"], ["y"]), {"": 17, "com.example": 1})
    removed = transform.remove_unused(m)
    assert removed.nodes == ["graph.node[4] 'std_no_outputs'"]
    assert removed.opset_imports == []
    removed = transform.remove_unused(m, remove_custom=True)
    assert removed.nodes == ["graph.node[1] 'feeds_custom'", "graph.node[2] 'print'",
                             "graph.node[3] 'log_no_outputs'"]
    assert removed.opset_imports == ["com.example"]
    assert [o.domain for o in m.proto.opset_import] == [""]


def test_side_effects_through_functions_and_subgraphs() -> None:
    pure = function("Pure", "local", ["p"], ["q"], [node("Relu", ["p"], ["q"])])
    noisy = function("Noisy", "local", ["p"], ["q"], [node("Print", ["p"], ["q"], domain="com.example")],
                     {"": 17, "com.example": 1})
    calls_noisy = function("CallsNoisy", "local", ["p"], ["q"], [node("Noisy", ["p"], ["q"], domain="local")],
                           {"": 17, "local": 1})
    then = graph([node("Print", ["x"], ["t"], "print_in_branch", domain="com.example")], outputs=["t"])
    other = graph([node("Identity", ["x"], ["e"])], outputs=["e"])
    nodes = [node("Relu", ["x"], ["y"], "out"), node("Pure", ["x"], ["a"], "pure", domain="local"),
             node("CallsNoisy", ["x"], ["b"], "calls_noisy", domain="local"),
             node("If", ["c"], ["z"], "if_with_print", then_branch=then, else_branch=other)]
    m = model(graph(nodes, ["x", "c"], ["y"]), {"": 17, "local": 1, "com.example": 1},
              functions=[pure, noisy, calls_noisy])
    removed = transform.remove_unused(m)
    assert removed.nodes == ["graph.node[1] 'pure'"]
    assert removed.functions == ["local.Pure"]
    assert [f.name for f in m.proto.functions] == ["Noisy", "CallsNoisy"]
    removed = transform.remove_unused(m, remove_custom=True)
    assert removed.functions == ["local.Noisy", "local.CallsNoisy"]
    assert sorted(removed.opset_imports) == ["com.example", "local"]


def test_functions_called_transitively_and_their_opset_imports() -> None:
    leaf = function("Leaf", "lib", ["p"], ["q"], [node("Relu", ["p"], ["q"])], {"": 17, "com.unused": 1})
    mid = function("Mid", "lib", ["p"], ["q"], [node("Leaf", ["p"], ["q"], domain="lib")], {"": 17, "lib": 1})
    orphan = function("Orphan", "other", ["p"], ["q"], [node("Relu", ["p"], ["q"])])
    orphan2 = function("Orphan2", "other", ["p"], ["q"], [node("Orphan", ["p"], ["q"], domain="other")],
                       {"": 17, "other": 1})
    overload = function("Mid", "lib", ["p"], ["q"], [node("Relu", ["p"], ["q"])])
    overload.overload = "v2"
    m = model(graph([node("Mid", ["x"], ["y"], "call", domain="lib")], ["x"], ["y"]),
              {"": 17, "lib": 1, "other": 1, "ai.onnx.ml": 3},
              functions=[leaf, mid, orphan, orphan2, overload])
    removed = transform.remove_unused(m)
    assert removed.functions == ["other.Orphan", "other.Orphan2", "lib.Mid:v2"]
    assert removed.opset_imports == ["other", "ai.onnx.ml", "functions[0] 'lib.Leaf': com.unused"]
    assert [o.domain for o in m.proto.opset_import] == ["", "lib"]
    assert [f.name for f in m.proto.functions] == ["Leaf", "Mid"]
    keep_all = model(graph([node("Mid", ["x"], ["y"], "call", domain="lib")], ["x"], ["y"]),
                     {"": 17, "lib": 1, "other": 1}, functions=[leaf, mid, orphan, orphan2])
    removed = transform.remove_unused(keep_all, functions=False, opset_imports=False)
    assert not removed


def test_function_bodies_are_cleaned() -> None:
    f = function("F", "lib", ["p"], ["q"],
                 [node("Relu", ["p"], ["q"], "keep"), node("Relu", ["p"], ["junk"], "drop")])
    m = model(graph([node("F", ["x"], ["y"], domain="lib")], ["x"], ["y"]), {"": 17, "lib": 1}, functions=[f])
    removed = transform.remove_unused(m)
    assert removed.nodes == ["functions[0] 'lib.F'.node[1] 'drop'"]
    assert names(m.proto.functions[0]) == ["keep"]


def test_sparse_initializers_and_quantization_annotations() -> None:
    nodes = [node("Add", ["x", "sp"], ["a"], "add"), node("Relu", ["x"], ["dead"], "dead")]
    g = graph(nodes, ["x"], ["a"], [tensor("scale", [0.5]), tensor("dead_scale", [0.25])])
    for name in ("sp", "sp_dead"):
        s = g.sparse_initializer.add()
        s.values.CopyFrom(tensor(name, [1.0]))
        s.indices.CopyFrom(onnxlite.Tensor.from_numpy(np.array([0], np.int64)).proto)
        s.dims.append(2)
    for tensor_name, scale in (("a", "scale"), ("dead", "dead_scale")):
        ann = g.quantization_annotation.add(tensor_name=tensor_name)
        ann.quant_parameter_tensor_names.add(key="SCALE_TENSOR", value=scale)
    m = model(g)
    removed = transform.remove_unused(m)
    assert removed.sparse_initializers == ["sp_dead"]
    assert removed.initializers == ["dead_scale"]  # 'scale' is kept by the annotation of a kept value
    assert removed.quantization_annotations == ["dead"]
    assert [a.tensor_name for a in m.proto.graph.quantization_annotation] == ["a"]


def test_training_info_keeps_what_it_binds_and_reads() -> None:
    nodes = [node("Add", ["x", "w"], ["y"], "add")]
    g = graph(nodes, ["x"], ["y"], [tensor("w", [1, 2]), tensor("lr", [0.1]), tensor("bound", [0]),
                                    tensor("junk", [0])])
    m = model(g)
    t = m.proto.training_info.add()
    t.algorithm.CopyFrom(graph([node("Mul", ["w", "lr"], ["w_new"], "step")], outputs=["w_new"], name="algo"))
    t.update_binding.add(key="w", value="w_new")
    t.initialization.CopyFrom(graph([node("Identity", ["x0"], ["b0"])], ["x0"], ["b0"], name="init"))
    t.initialization_binding.add(key="bound", value="b0")
    removed = transform.remove_unused(m)
    assert removed.initializers == ["junk"]
    assert len(m.proto.training_info[0].algorithm.node) == 1


def test_remove_unused_keeps_the_default_domain() -> None:
    m = model(graph([], ["x"], ["x"]), {"": 17, "ai.onnx.ml": 3})
    removed = transform.remove_unused(m)
    assert removed.opset_imports == ["ai.onnx.ml"]
    assert [o.domain for o in m.proto.opset_import] == [""]


def test_model_without_graph_keeps_its_functions() -> None:
    m = _proto.ModelProto(ir_version=8)
    m.opset_import.add(domain="", version=17)
    m.functions.append(function("F", "lib", ["p"], ["q"], [node("Relu", ["p"], ["q"])]))
    model_ = onnxlite.Model(m)
    assert not transform.remove_unused(model_, opset_imports=False)
    assert len(m.functions) == 1


# --- extract ----------------------------------------------------------------------------------


def _linear_model(ir: int = 8) -> onnxlite.Model:
    nodes = [node("Add", ["x", "w1"], ["a"], "add1"), node("Relu", ["a"], ["b"], "relu"),
             node("Mul", ["b", "w2"], ["c"], "mul"), node("Add", ["c", "skip"], ["y"], "add2"),
             node("Relu", ["x"], ["side"], "side")]
    g = graph(nodes, ["x", "skip"], ["y", "side"], [tensor("w1", [1, 2]), tensor("w2", [3, 4]),
                                                    tensor("unused", [5])])
    g.value_info.extend([vi("a"), vi("b", shape=("N",)), vi("side")])
    m = model(g, ir=ir)
    m.proto.metadata_props.add(key="author", value="me")
    m.proto.doc_string = "doc"
    return m


def test_extract_the_nodes_between() -> None:
    m = _linear_model()
    before = onnxlite.dumps(m)
    part = transform.extract(m, ["b", "skip"], ["y"])
    assert onnxlite.dumps(m) == before  # the source is untouched
    g = part.proto.graph
    assert names(g) == ["mul", "add2"]
    assert [t.name for t in g.initializer] == ["w2"]
    assert [v.name for v in g.input] == ["b", "skip"] and [v.name for v in g.output] == ["y"]
    assert str(part.graph.inputs[0].type) == "float[N]"  # from value_info
    assert len(g.value_info) == 0 and part.proto.producer_name == "test"
    assert part.metadata_props == {"author": "me"} and part.doc_string == "doc"
    assert part.opset_imports == {"": 17} and part.ir_version == 8 and part.store is m.store


def test_extract_missing_input_names_the_value_and_the_node() -> None:
    m = _linear_model()
    with pytest.raises(EditError) as info:
        transform.extract(m, ["b"], ["y"])
    assert str(info.value) == ("extract: value 'skip' needed by graph.node[3] 'add2' is a graph input not "
                               "among the inputs: add it to inputs")
    m.proto.graph.node[1].input[0] = "undefined"
    with pytest.raises(EditError, match=r"value 'undefined' needed by graph.node\[1\] 'relu' is not comp"):
        transform.extract(m, ["x", "skip"], ["y"])
    with pytest.raises(EditError, match="^extract: output 'skip' is a graph input not among the inputs"):
        transform.extract(m, [], ["skip"])
    with pytest.raises(EditError, match="output 'nope' is not computed"):
        transform.extract(m, ["x"], ["nope"])
    with pytest.raises(EditError, match="input 'nope' is not in the graph"):
        transform.extract(m, ["nope"], ["side"])
    with pytest.raises(EditError, match="lists 'y' more than once"):
        transform.extract(m, ["x"], ["y", "y"])
    with pytest.raises(EditError, match="must be a list"):
        transform.extract(m, "x", ["y"])  # type: ignore[arg-type]


def test_extract_types() -> None:
    m = _linear_model()
    m.proto.graph.value_info.pop(1)  # 'b' has no declared type now: inference gives it
    part = transform.extract(m, ["b", "skip"], ["y"])
    assert str(part.graph.inputs[0].type) == "float[2]"
    relu = m.proto.graph.node[1]
    relu.op_type, relu.domain = "Foo", "custom"  # and now inference cannot tell either
    m.proto.opset_import.add(domain="custom", version=1)
    with pytest.raises(EditError) as info:
        transform.extract(m, ["b", "skip"], ["y"])
    assert "type of input 'b' is unknown (nothing declares it and inference cannot tell)" in str(info.value)
    assert "types={'b': (dtype, shape)}" in str(info.value) and "--type 'b=" in str(info.value)
    part = transform.extract(m, ["b", "skip"], ["y"], types={"b": ("float", ["N", 2])})
    assert str(part.graph.inputs[0].type) == "float[N,2]"
    part = transform.extract(m, ["b", "skip"], ["y"],
                             types={"b": (DataType.FLOAT16, None), "y": (10, [None])})
    assert str(part.graph.inputs[0].type) == "float16" and str(part.graph.outputs[0].type) == "float16[?]"
    x_type = m.graph.inputs[0].type
    assert x_type is not None
    part = transform.extract(m, ["b", "skip"], ["y"], types={"b": x_type})
    assert str(part.graph.inputs[0].type) == "float[2]"
    # an initializer fed as an input, or asked as an output, takes the initializer's type
    part = transform.extract(m, ["b", "skip", "w2"], ["y", "w1"], types={"b": ("float", [2])})
    assert "w2" not in part.graph.initializers and str(part.graph.outputs[1].type) == "float[2]"
    assert "w1" in part.graph.initializers
    for bad, msg in ((("float",), "must be a Type or"), (("floaty", None), "data type 'floaty'"),
                     (("float", [-1]), "dimension -1"), (("float", [True]), "dimension True")):
        with pytest.raises(EditError, match=msg):
            transform.extract(m, ["b", "skip"], ["y"], types={"b": bad})  # type: ignore[dict-item]
    with pytest.raises(EditError, match="types names 'q', which is neither"):
        transform.extract(m, ["b", "skip"], ["y"], types={"b": ("float", None), "q": ("float", None)})


def test_extract_ir3_initializers_are_inputs() -> None:
    m = _linear_model(ir=3)
    part = transform.extract(m, ["b", "skip"], ["y"])
    assert [v.name for v in part.proto.graph.input] == ["b", "skip", "w2"]
    assert str(part.graph.inputs[2].type) == "float[2]"


def test_extract_keeps_subgraph_reads_functions_and_annotations() -> None:
    lib = function("F", "lib", ["p"], ["q"], [node("G", ["p"], ["q"], domain="lib")], {"": 17, "lib": 1})
    lib2 = function("G", "lib", ["p"], ["q"], [node("Relu", ["p"], ["q"])])
    unused = function("H", "lib", ["p"], ["q"], [node("Relu", ["p"], ["q"])])
    then = graph([node("Add", ["outer", "w"], ["t"], "reads_outer")], outputs=["t"], name="then")
    other = graph([node("F", ["outer"], ["e"], domain="lib")], outputs=["e"], name="else")
    nodes = [node("Relu", ["x"], ["outer"], "outer"), node("Relu", ["x"], ["c"], "cond"),
             node("If", ["c"], ["y"], "if", then_branch=then, else_branch=other)]
    g = graph(nodes, ["x"], ["y"], [tensor("w", [1, 2]), tensor("s", [0.5])])
    g.value_info.extend([vi("c", 9, ()), vi("outer")])
    ann = g.quantization_annotation.add(tensor_name="outer")
    ann.quant_parameter_tensor_names.add(key="SCALE_TENSOR", value="s")
    m = model(g, {"": 17, "lib": 1}, functions=[lib, lib2, unused])
    part = transform.extract(m, ["c", "outer"], ["y"])
    assert names(part.proto.graph) == ["if"]
    assert [t.name for t in part.proto.graph.initializer] == ["w", "s"]
    assert [f.name for f in part.proto.functions] == ["F", "G"]
    assert [a.tensor_name for a in part.proto.graph.quantization_annotation] == ["outer"]
    with pytest.raises(EditError, match="value 'outer' needed by graph.node\\[1\\] 'if' is not computed"):
        transform.extract(model(graph(nodes[1:], ["x"], ["y"])), ["c"], ["y"])


def test_extract_refuses_an_input_that_a_kept_node_also_computes() -> None:
    nodes = [node("Split", ["x"], ["a", "b"], "split"), node("Add", ["a", "b"], ["y"], "add")]
    m = model(graph(nodes, ["x"], ["y"]))
    m.proto.graph.value_info.extend([vi("a"), vi("b")])
    with pytest.raises(EditError) as info:
        transform.extract(m, ["x", "a"], ["y"])
    assert str(info.value) == ("extract: input 'a' is also computed by graph.node[0] 'split', which the "
                               "outputs need for 'b': add 'b' to the inputs too, or do not list 'a'")
    assert names(transform.extract(m, ["a", "b"], ["y"]).proto.graph) == ["add"]


def test_extract_output_can_be_an_input() -> None:
    part = transform.extract(_linear_model(), ["a"], ["a", "b"])
    assert names(part.proto.graph) == ["relu"]
    assert [v.name for v in part.proto.graph.output] == ["a", "b"]


# --- oracles: onnx checker and onnxruntime over the corpus ------------------------------------


def _corpus_cases() -> list[Any]:
    if not HAVE_ONNX:
        return []
    import corpus

    return list(corpus.model_corpus())


CASES = _corpus_cases()


def _load(case: Any) -> onnxlite.Model:
    return onnxlite.loads(case.read(), base_dir=case.path.parent if case.path is not None else None)


def _checker_ok(data: bytes) -> bool:
    onnx = pytest.importorskip("onnx")
    try:
        onnx.checker.check_model(onnx.load_from_string(data))
    except Exception:  # noqa: BLE001 - the oracle's verdict, whatever it raises
        return False
    return True


def _feeds(case: Any, m: onnxlite.Model) -> dict[str, np.ndarray] | None:
    """The first data set's inputs of a node/model case, when they are all plain arrays."""
    if not case.data_sets:
        return None
    inputs = case.data_sets[0][0]
    names_ = [v.name for v in m.proto.graph.input if v.name not in m.graph.initializers]
    if len(inputs) != len(names_) or not all(isinstance(a, np.ndarray) for a in inputs):
        return None
    return dict(zip(names_, inputs, strict=True))


def _run(data: bytes, feeds: dict[str, np.ndarray]) -> list[Any] | None:
    ort = pytest.importorskip("onnxruntime")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: the corpus makes onnxruntime chatty
    try:
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        return list(session.run(None, feeds))
    except Exception:  # noqa: BLE001 - onnxruntime does not run every corpus model or dtype
        return None


def _same(a: Any, b: Any) -> bool:
    """Equal outputs (sequences compared item by item, NaN equal to NaN)."""
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            _same(x, y) for x, y in zip(a, b, strict=True))
    x, y = np.asarray(a), np.asarray(b)
    return x.shape == y.shape and x.dtype == y.dtype and bool(
        np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))


def _compare_runs(case_id: str, original: bytes, transformed: bytes, feeds: dict[str, np.ndarray]) -> bool:
    """Whether onnxruntime computed the same outputs for both; False when it cannot run the
    original or the original is not deterministic (random operators)."""
    expected = _run(original, feeds)
    if expected is None or not _same(expected, _run(original, feeds)):
        return False
    got = _run(transformed, feeds)
    assert got is not None, f"{case_id}: onnxruntime refuses the transformed model"
    assert _same(expected, got), f"{case_id}: onnxruntime computes other outputs"
    return True


def _has_subgraph(g: Any) -> bool:
    return any(True for n in g.node for _ in subgraph_protos(n))


def _run_sample() -> set[str]:
    """Cases run in onnxruntime after sorting: every one with subgraphs, and a fixed sample of the rest."""
    out = set()
    for c in CASES:
        if c.data_sets and (random.Random(c.id).random() < 0.08
                            or _has_subgraph(_proto.ModelProto.FromString(c.read()).graph)):
            out.add(c.id)
    return out


RUN_SAMPLE = _run_sample()


@pytest.mark.skipif(not CASES, reason="needs onnx for the corpus")
def test_toposort_of_shuffled_corpus_models() -> None:
    """Every corpus model with its nodes (also in subgraphs) permuted: toposort gives an order
    that is topological, that onnx.checker accepts when it accepted the original, and (for a
    sample) that onnxruntime runs to the same outputs."""
    rng = random.Random(20240501)
    checked = ran = moved = 0
    for case in CASES:
        try:
            original = _load(case)
        except onnxlite.OnnxliteError:
            continue  # the few corpus models onnxlite refuses are tested elsewhere
        data = onnxlite.dumps(original)
        transform.toposort(original)
        assert onnxlite.dumps(original) == data, f"{case.id}: toposort changed a sorted model"
        m = _load(case)
        shuffle(m.proto.graph, rng)
        shuffled = onnxlite.dumps(m)
        transform.toposort(m)
        assert_topological(m.proto.graph)
        result = onnxlite.dumps(m)
        moved += result != shuffled
        if _checker_ok(data):
            assert _checker_ok(result), f"{case.id}: onnx.checker refuses the sorted model"
            checked += 1
        if case.id in RUN_SAMPLE:
            feeds = _feeds(case, m)
            ran += feeds is not None and _compare_runs(case.id, data, result, feeds)
    assert checked > 1000 and ran > 50 and moved > 150, (checked, ran, moved)  # not vacuous


def _plant(m: onnxlite.Model) -> int:
    """Add dead things at the end of every list of the main graph, of the first subgraph found,
    and of the model's functions and opset imports; return how many were planted."""
    g = m.proto.graph
    const = node("Constant", [], ["__dead_c"], "__dead_const")
    a = const.attribute.add(name="value", type=4)
    a.t.CopyFrom(tensor("", [1.0]))
    g.node.extend([const, node("Identity", ["__dead_c"], ["__dead_i"], "__dead_identity")])
    g.initializer.append(tensor("__dead_w", [2.0]))
    g.value_info.append(vi("__dead_i"))
    m.proto.functions.append(function("F", "__dead", ["p"], ["q"], [node("Relu", ["p"], ["q"])]))
    m.proto.opset_import.add(domain="__dead", version=1)
    planted = 6
    for n in _walk_nodes(g):
        for sg in subgraph_protos(n):
            reads = [sg.output[0].name if sg.output else ""]
            sg.node.append(node("Identity", reads, ["__dead_sub"], "__dead_sub"))
            return planted + 1
    return planted


@pytest.mark.skipif(not CASES, reason="needs onnx for the corpus")
def test_remove_unused_over_the_corpus() -> None:
    """Nothing dead: nothing changes, byte for byte. Planted dead things: exactly those go, and
    the bytes are the original ones again. Something dead already: the result still passes
    onnx.checker and (sample) runs to the same outputs."""
    planted_cases = cleaned = ran = 0
    for case in CASES:
        try:
            m = _load(case)
        except onnxlite.OnnxliteError:
            continue
        data = onnxlite.dumps(m)
        removed = transform.remove_unused(m)
        result = onnxlite.dumps(m)
        if not removed:
            assert result == data, f"{case.id}: changed without reporting it"
            planted = _plant(m)
            removed = transform.remove_unused(m)
            assert removed.count == planted, (case.id, removed)
            assert onnxlite.dumps(m) == data, f"{case.id}: planted dead things were not removed exactly"
            planted_cases += 1
            continue
        cleaned += 1
        if _checker_ok(data):
            assert _checker_ok(result), f"{case.id}: onnx.checker refuses the cleaned model ({removed})"
        feeds = _feeds(case, m) if removed.nodes and random.Random(case.id).random() < 0.4 else None
        if feeds is not None:
            ran += _compare_runs(case.id, data, result, feeds)
    assert planted_cases > 1000 and cleaned > 20 and ran > 15, (planted_cases, cleaned, ran)


def test_remove_unused_agrees_with_onnx_ir() -> None:
    """onnx_ir's passes remove the same nodes, initializers and functions (with remove_custom,
    which matches its policy) on the PyTorch fixtures with dead code planted in them."""
    ir = pytest.importorskip("onnx_ir")
    from onnx_ir.passes.common import unused_removal

    onnx = pytest.importorskip("onnx")
    for path in sorted((FIXTURES / "torch").glob("*.onnx")):
        m = onnxlite.load(path)
        _plant(m)
        data = onnxlite.dumps(m)
        transform.remove_unused(m, remove_custom=True, opset_imports=False)
        ours = onnx.load_from_string(onnxlite.dumps(m))
        theirs = ir.from_proto(onnx.load_from_string(data))
        unused_removal.RemoveUnusedNodesPass()(theirs)
        unused_removal.RemoveUnusedFunctionsPass()(theirs)
        theirs_proto = ir.to_proto(theirs)
        assert [n.name for n in ours.graph.node] == [n.name for n in theirs_proto.graph.node], path.name
        assert ({t.name for t in ours.graph.initializer} == {t.name for t in theirs_proto.graph.initializer})
        assert [f.name for f in ours.functions] == [f.name for f in theirs_proto.functions]


# --- extract: real models against onnxruntime -------------------------------------------------


def _intermediates(path: Path, feeds: dict[str, np.ndarray], wanted: list[str]) -> dict[str, np.ndarray]:
    """Values of ``wanted`` in the original model, by exposing them as outputs (onnx as oracle)."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    ref = onnx.load(str(path))
    have = {o.name for o in ref.graph.output}
    ref.graph.output.extend(onnx.ValueInfoProto(name=w) for w in wanted if w not in have)
    session = ort.InferenceSession(ref.SerializeToString(), providers=["CPUExecutionProvider"])
    out_names = [o.name for o in session.get_outputs()]
    return dict(zip(out_names, session.run(None, feeds), strict=True))


EXTRACTS = [
    ("torch/cnn_dynamo.onnx", ["relu"], ["y"]),
    ("torch/cnn_dynamo.onnx", ["x"], ["max_pool2d"]),
    ("torch/cnn_torchscript.onnx", ["/Relu_output_0"], ["y"]),
    ("torch/cnn_torchscript.onnx", ["x"], ["/bn/BatchNormalization_output_0"]),
    ("torch/attention_torchscript.onnx", ["x", "/Softmax_output_0"], ["y"]),
    ("torch/attention_dynamo.onnx", ["split_split_0", "split_split_1", "split_split_2", "val_15", "x"],
     ["transpose_4", "matmul", "val_0"]),
    ("torch/cond_dynamo.onnx", ["x", "gt"], ["getitem"]),
]


def _random_feeds(m: onnxlite.Model) -> dict[str, np.ndarray]:
    """Float inputs of the shapes the model declares (symbolic dimensions: 3)."""
    rng = np.random.default_rng(0)
    shapes = {v.name: [d if isinstance(d, int) else 3 for d in v.shape or ()] for v in m.graph.inputs}
    return {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()
            if name not in m.graph.initializers}


@pytest.mark.parametrize(("file", "inputs", "outputs"), EXTRACTS, ids=[f"{e[0]}:{e[2]}" for e in EXTRACTS])
def test_extract_real_models(file: str, inputs: list[str], outputs: list[str], tmp_path: Path) -> None:
    """The extracted model passes onnx.checker and, fed the original model's intermediate
    values, onnxruntime computes the original's values of the outputs; onnx.utils.extract_model
    picks the same nodes and initializers."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    path = FIXTURES / file
    m = onnxlite.load(path)
    values = _intermediates(path, _random_feeds(m), inputs + outputs)
    # torchscript exports carry no value_info: the types of new inputs/outputs come from inference
    part = transform.extract(m, inputs, outputs)
    declared = {v.name: v for v in part.proto.graph.input} | {v.name: v for v in part.proto.graph.output}
    for name in inputs + outputs:  # the inferred types agree with the arrays onnxruntime computes
        v = onnxlite.ValueInfo(declared[name])
        assert v.dtype is not None and v.dtype.np_dtype == values[name].dtype, name
        assert v.shape is not None and len(v.shape) == values[name].ndim, name
        assert all(not isinstance(d, int) or d == n for d, n in zip(v.shape, values[name].shape, strict=True))
    data = onnxlite.dumps(part)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    got = _run(data, {k: values[k] for k in inputs})
    assert got is not None
    for name, value in zip(outputs, got, strict=True):
        np.testing.assert_allclose(value, values[name], rtol=1e-5, atol=1e-6)
    # onnx's extractor (it runs shape inference, so it may know more types; compare structure)
    onnx.utils.extract_model(str(path), str(tmp_path / "ref.onnx"), inputs, outputs, check_model=False)
    ref = onnx.load(str(tmp_path / "ref.onnx"))
    assert [n.name for n in part.proto.graph.node] == [n.name for n in ref.graph.node]
    assert [f.name for f in part.proto.functions] == [f.name for f in ref.functions]
    ours, theirs = {t.name for t in part.proto.graph.initializer}, {t.name for t in ref.graph.initializer}
    assert ours >= theirs
    if ours != theirs:  # onnx's extractor misses initializers read only inside subgraphs (If branches)
        assert not _checker_ok(ref.SerializeToString())


def test_extract_lazy_embedded_weights(tmp_path: Path) -> None:
    """A lazily loaded model: the extracted model carries the markers (nothing was read) and
    saving it writes the real bytes."""
    onnx = pytest.importorskip("onnx")
    from onnx import helper as oh
    from onnx import numpy_helper

    w = (np.arange(512 * 1024, dtype=np.float32) / 1000).reshape(1024, 512)
    w2 = np.linspace(-1, 1, 512 * 600, dtype=np.float32).reshape(512, 600)
    nodes = [oh.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
             oh.make_node("Relu", ["h"], ["r"], name="relu"),
             oh.make_node("MatMul", ["r", "w2"], ["y"], name="mm2")]
    g = oh.make_graph(nodes, "g", [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 1024])],
                      [oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 600])],
                      [numpy_helper.from_array(w, "w"), numpy_helper.from_array(w2, "w2")],
                      value_info=[oh.make_tensor_value_info("r", onnx.TensorProto.FLOAT, [1, 512])])
    src = tmp_path / "big.onnx"
    onnx.save(oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)]), str(src))
    m = onnxlite.load(src, lazy=True)
    part = transform.extract(m, ["r"], ["y"])
    raw = part.proto.graph.initializer[0].raw_data
    assert len(raw) == wire.MARKER_LEN and raw.startswith(wire.MAGIC)  # still lazy
    out = tmp_path / "out" / "part.onnx"
    out.parent.mkdir()
    onnxlite.save(part, out)
    ref = onnx.load(str(out))
    onnx.checker.check_model(ref)
    assert [t.name for t in ref.graph.initializer] == ["w2"]
    np.testing.assert_array_equal(numpy_helper.to_array(ref.graph.initializer[0]), w2)
    x = np.random.default_rng(1).standard_normal((1, 512)).astype(np.float32)
    got = _run(out.read_bytes(), {"r": x})
    assert got is not None
    np.testing.assert_allclose(got[0], x @ w2, rtol=1e-4, atol=1e-4)
    # the source model still saves its own weights, unchanged
    onnxlite.save(m, tmp_path / "again.onnx")
    again = onnx.load(str(tmp_path / "again.onnx"))
    np.testing.assert_array_equal(numpy_helper.to_array(again.graph.initializer[0]), w)


def test_extract_external_data(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    path = FIXTURES / "torch" / "external" / "embed_mlp.onnx"
    m = onnxlite.load(path)
    part = transform.extract(m, ["ids"], ["linear"])
    assert sorted(t.name for t in part.proto.graph.initializer) == ["emb.weight", "fc1.bias", "val_0"]
    ref = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    for mode in (None, False, True):
        out = tmp_path / f"mode-{mode}" / "part.onnx"
        out.parent.mkdir()
        onnxlite.save(part, out, external_data=mode, size_threshold=0)
        loaded = onnx.load(str(out))
        onnx.checker.check_model(str(out))
        for t in loaded.graph.initializer:
            np.testing.assert_array_equal(numpy_helper.to_array(t), ref[t.name])
        ids = np.array([[1, 2, 3]], np.int64)
        got = _run(out.read_bytes() if mode is False else loaded.SerializeToString(), {"ids": ids})
        expected = _intermediates(path, {"ids": ids}, ["linear"])["linear"]
        assert got is not None
        np.testing.assert_allclose(got[0], expected, rtol=1e-6)


def _vm_rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(sys.platform != "linux", reason="needs /proc/self/status and sparse files")
def test_extract_from_a_model_over_2gib(tmp_path: Path) -> None:
    """A 2 GiB + 4 KiB external tensor in a sparse file: extracting and saving never reads or
    allocates it (saving beside the source references the same file; elsewhere, the data is
    copied extent by extent)."""
    onnx = pytest.importorskip("onnx")
    nbytes = 2**31 + 4096
    data = tmp_path / "big.bin"
    with open(data, "wb") as f:
        f.write(bytes(range(256)) * 16)
    os.truncate(data, nbytes)
    if os.stat(data).st_blocks * 512 >= 1 << 20:
        pytest.skip("the file system does not make sparse files")
    big = _proto.TensorProto(name="big", data_type=2, dims=[nbytes], data_location=1)
    big.external_data.add(key="location", value="big.bin")
    big.external_data.add(key="length", value=str(nbytes))
    nodes = [node("Shape", ["big"], ["s"], "shape"), node("Relu", ["x"], ["y"], "relu")]
    g = graph(nodes, ["x"], ["y"], [big, tensor("small", [1.5])])
    g.output.append(vi("s", 7, (1,)))
    src = tmp_path / "big.onnx"
    src.write_bytes(model(g).proto.SerializeToString())
    rss = _vm_rss()
    m = onnxlite.load(src)
    part = transform.extract(m, [], ["s"])
    assert [t.name for t in part.proto.graph.initializer] == ["big"]
    beside = tmp_path / "part.onnx"
    onnxlite.save(part, beside)
    other = tmp_path / "elsewhere" / "part.onnx"
    other.parent.mkdir()
    onnxlite.save(part, other)
    assert _vm_rss() - rss < 64 << 20, "the weights were read into memory"
    for out, location in ((beside, "big.bin"), (other, "big.bin")):
        ref = onnx.load(str(out), load_external_data=False)
        onnx.checker.check_model(str(out))
        entries = {e.key: e.value for e in ref.graph.initializer[0].external_data}
        assert entries["location"] == location and int(entries.get("length", nbytes)) == nbytes
        assert [n.name for n in ref.graph.node] == ["shape"]
        loaded = onnxlite.load(out)
        head = np.array(loaded.graph.initializers["big"].numpy()[:4096])
        assert head.tobytes() == bytes(range(256)) * 16
    assert os.path.getsize(other.parent / "big.bin") == nbytes
