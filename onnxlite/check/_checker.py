"""Validate a model: structure (docs/IR.md, onnx.proto) and the standard operator schemas.

`check_model` returns a list of `Problem` (nothing when the model is valid) and never raises on
a loaded model: a corrupt field is a problem like any other. Each problem names the exact place
(``graph.node[3] 'conv1'.input[1]``, ``functions[0] 'my.F'.node[2]``), a short code and a
one-line message naming the node. Errors make a model invalid; warnings do not.

Codes: ir-version, ir-feature (a proto feature newer than the declared IR version), ir-opset
(warning: an imported opset newer than the IR version), opset-import, unknown-op,
deprecated-op / experimental-op (warnings), input-count, output-count, attribute (a malformed
AttributeProto), unknown-attribute, missing-attribute, attribute-type, duplicate-attribute,
duplicate-definition (SSA), duplicate-input, duplicate-output (warning), duplicate-initializer,
duplicate-node-name, shadowed-name (warning), undefined-value, topological-order, type-constraint,
type-contradiction, infer (warning: inference could not run),
cycle, empty-name, empty-node, missing-type, bad-type, tensor, tensor-data,
initializer-mismatch, external-data, function, function-call, function-opset,
recursive-function, duplicate-function, metadata (warning), training-binding, missing-graph,
internal-error.

Everything is iterative: hostile files nest graphs a thousand levels deep. ::

    from onnxlite import check
    problems = check.check_model(onnxlite.load("model.onnx"))
    for p in problems:
        print(p)          # graph.node[3] 'conv1'.input[1]: error undefined-value: Conv 'conv1' reads ...
    check.is_valid(problems)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from onnxlite import versions
from onnxlite._proto.opschemas import LATEST_OPSET, UNBOUNDED
from onnxlite.check._types import TypeChecks
from onnxlite.check._values import CHECKER_REFUSES, ERROR, ORT_REFUSES, WARNING, Path, Values
from onnxlite.errors import OnnxliteError
from onnxlite.model import AttributeType, Model, domain_label, iter_nodes, walk
from onnxlite.versions import IR_GATES, LATEST_IR_VERSION, normalize_domain, op_schema
from onnxlite.versions import render_path as render

__all__ = ["Problem", "check_model", "is_valid"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a model: where (a path in the model), a short kebab-case code, a
    one-line message, and the severity ('error' makes the model invalid, 'warning' does not)."""

    where: str
    code: str
    message: str
    severity: str = ERROR

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "severity": self.severity, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.where}: {self.severity} {self.code}: {self.message}"


def is_valid(problems: Iterable[Problem]) -> bool:
    """True when none of ``problems`` is an error (warnings allowed)."""
    return not any(p.severity == ERROR for p in problems)


def check_model(model: Model, *, external_data: bool = True, infer: bool = True) -> list[Problem]:
    """Every problem found in ``model``, in model order; empty when the model is valid.

    With ``external_data`` (the default) the files external tensors name are looked up beside
    the model (existence, and offset/length against the file size; no data is read). The types
    of the values standard ops read and write are checked against the ops' type constraints:
    declared types always, and with ``infer`` (the default) every value's type from
    `onnxlite.infer`, which also reports declarations the computation contradicts. ::

        problems = check_model(onnxlite.load("model.onnx"))
        errors = [p for p in problems if p.severity == "error"]
    """
    checker = _Checker(model, external_data)
    try:
        checker.run()
        TypeChecks(model, checker.add, infer).run()
    except (OnnxliteError, ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError) as e:
        checker.add("model", "internal-error",
                    f"checking stopped early: {type(e).__name__}: {e} (a bug in onnxlite; please report it)")
    return checker.problems


# --- labels -----------------------------------------------------------------------------------

def _node_suffix(i: int, node: Any) -> tuple[str, int, str]:
    return ("node", i, node.name)


def _label(node: Any, i: int) -> str:
    op = f"{node.domain}.{node.op_type}" if node.domain else node.op_type
    return f"{op} '{node.name}'" if node.name else f"{op} node[{i}]"


class _Label:
    """A node's label in messages, formatted only when a message is."""

    __slots__ = ("node", "index")

    def __init__(self, node: Any, index: int) -> None:
        self.node, self.index = node, index

    def __str__(self) -> str:
        return _label(self.node, self.index)


def _domain_label(domain: str) -> str:
    return domain_label(domain)


def _function_id(f: Any) -> str:
    name = f"{f.domain}.{f.name}" if f.domain else f.name
    return f"{name}:{f.overload}" if f.overload else name


# --- static facts -----------------------------------------------------------------------------

_SINGLE_FIELDS = tuple((str(kind.field), kind) for kind in AttributeType if kind and not kind.is_list)
_LIST_FIELDS = tuple((str(kind.field), kind) for kind in AttributeType if kind.is_list)
#: no proto default: an attribute of these types without a value has none
_NEEDS_VALUE = frozenset({AttributeType.TENSOR, AttributeType.GRAPH, AttributeType.SPARSE_TENSOR,
                          AttributeType.TYPE_PROTO})
#: Ops onnx.checker lets through unverified (its experimental list) when no schema knows them.
_EXPERIMENTAL = {"ATen", "Affine", "ConstantFill", "Crop", "DynamicSlice", "GRUUnit", "GivenTensorFill",
                 "ImageScaler", "ParametricSoftplus", "Scale", "ScaledTanh"}


def _arity(lo: int, hi: int) -> str:
    if hi >= UNBOUNDED:
        return f"at least {lo}"
    return f"exactly {lo}" if lo == hi else f"{lo} to {hi}"


# --- scopes -----------------------------------------------------------------------------------

class _Scope:
    """A graph or function body being checked. ``defs`` maps each name defined here to its
    position (-1: input or initializer, i: output of node i). A subgraph sees the names its
    parent defines before ``limit`` (the index of the node holding it; None: all of them)."""

    __slots__ = ("proto", "kind", "path", "parent", "limit", "defs", "deps", "backward", "opsets",
                 "function", "attrs", "owner")

    def __init__(self, proto: Any, kind: str, path: Path, parent: _Scope | None, limit: int | None,
                 opsets: dict[str, int], function: Any = None, attrs: frozenset[str] | None = None) -> None:
        self.proto = proto
        self.kind = kind  # 'main' | 'subgraph' | 'training' | 'initialization' | 'function'
        self.path = path
        self.parent = parent
        self.limit = limit
        self.defs: dict[str, int] = {}
        self.deps: list[list[int]] = []
        # (reader, producer, name, where, reader label, direct): reads of a value produced at or after the
        # reader; direct: the reader is the node itself, not a node in one of its subgraphs
        self.backward: list[tuple[int, int, str, Path, object, bool]] = []
        self.opsets = opsets
        self.function = function  # the FunctionProto whose body this is (or is nested in)
        self.attrs = attrs  # that function's attribute names
        self.owner = "function " + repr(_function_id(function)) if function is not None else "model"

    def visible_outer(self, name: str) -> bool:
        s = self
        while s.parent is not None:
            pos = s.parent.defs.get(name)
            if pos is not None and (pos < 0 or s.limit is None or pos < s.limit):
                return True
            s = s.parent
        return False


class _Checker:
    def __init__(self, model: Model, external_data: bool) -> None:
        self.model = model
        self.proto = model.proto
        self.ir = int(model.proto.ir_version)
        self.external = external_data
        self.problems: list[Problem] = []
        self.opsets: dict[str, int] = {}
        self.functions: dict[tuple[str, str, str], Any] = {}
        self._function_where: dict[tuple[str, str, str], str] = {}
        self.function_domains: set[str] = set()
        self.values = Values(model.store, external_data, self.add)
        self._reachable: set[tuple[str, str, str]] = set()

    def add(self, where: Path, code: str, message: str, severity: str = ERROR) -> None:
        self.problems.append(Problem(render(where), code, message, severity))

    def run(self) -> None:
        m = self.proto
        self._model_fields()
        self._ir_gates()
        self._function_index()
        scopes: list[_Scope] = []
        main = None
        if m.HasField("graph"):
            main = _Scope(m.graph, "main", "graph", None, None, self.opsets)
            scopes.append(main)
        else:
            self.add("graph", "missing-graph", "the model has no graph")
        for i, t in enumerate(m.training_info):
            if t.HasField("initialization"):
                scopes.append(_Scope(t.initialization, "initialization", f"training_info[{i}].initialization",
                                     None, None, self.opsets))
            if t.HasField("algorithm"):
                scopes.append(_Scope(t.algorithm, "training", f"training_info[{i}].algorithm", main, None,
                                     self.opsets))
        for i, f in enumerate(m.functions):
            opsets = self._imports(f.opset_import, f"functions[{i}] '{_function_id(f)}'")
            attrs = frozenset(f.attribute) | {a.name for a in f.attribute_proto}
            scopes.append(_Scope(f, "function", f"functions[{i}] '{_function_id(f)}'", None, None, opsets,
                                 f, attrs))
        # Children are checked after their parent (they need its names) and before it finishes
        # (their reads of its values are edges of its dependency graph).
        stack: list[tuple[bool, _Scope]] = [(False, s) for s in reversed(scopes)]
        while stack:
            finish, scope = stack.pop()
            if finish:
                self._order(scope)
                continue
            children: list[_Scope] = []
            if scope.kind == "function":
                self._function(scope, children)
            else:
                self._graph(scope, children)
            stack.append((True, scope))
            stack.extend((False, c) for c in reversed(children))
        for i, t in enumerate(m.training_info):
            self._bindings(i, t)

    def _callees(self, proto: Any) -> dict[tuple[str, str, str], None]:
        """The model-local functions a graph or function body calls, subgraphs included."""
        found: dict[tuple[str, str, str], None] = {}
        for n in iter_nodes(proto):
            k = (n.domain, n.op_type, n.overload)
            if k in self.functions:
                found[k] = None
        return found

    def _called(self, function: Any) -> bool:
        return (function.domain, function.name, function.overload) in self._reachable

    # --- model ----------------------------------------------------------------------------------

    def _model_fields(self) -> None:
        m = self.proto
        if not self.ir:
            self.add("ir_version", "ir-version", "ir_version is not set")
        elif self.ir > LATEST_IR_VERSION:
            # onnx.checker and onnxruntime both refuse an IR version newer than they know
            self.add("ir_version", "ir-version", f"IR version {self.ir} is newer than any ONNX release "
                     f"onnxlite knows (the newest is {LATEST_IR_VERSION}); checked as {LATEST_IR_VERSION}")
        self.opsets.update(self._imports(m.opset_import, "model"))
        if self.ir >= 3 and not len(m.opset_import):
            self.add("opset_import", "opset-import", f"IR version {self.ir} needs an opset_import, "
                     "and the model has none")
        seen: set[str] = set()
        for i, e in enumerate(m.metadata_props):
            if e.key in seen:
                self.add(f"metadata_props[{i}]", "metadata", f"metadata key {e.key!r} appears more than once",
                         WARNING)
            seen.add(e.key)
        need = versions.ir_needed_by_opsets(self.opsets)
        if self.ir and need is not None and need[0] > self.ir:
            self.add("ir_version", "ir-opset", f"opset {need[1]} came with IR version {need[0]}; the model "
                     f"declares IR {self.ir}", WARNING)

    def _imports(self, entries: Any, owner: str) -> dict[str, int]:
        found: dict[str, int] = {}
        where = "opset_import" if owner == "model" else f"{owner}.opset_import"
        for i, e in enumerate(entries):
            domain, version = normalize_domain(e.domain), int(e.version)
            w = f"{where}[{i}]"
            if version < 1:
                self.add(w, "opset-import", f"{_domain_label(domain)} is imported at version {version}")
            latest = LATEST_OPSET.get(domain)
            if latest is not None and version > latest:
                self.add(w, "opset-import", f"{_domain_label(domain)} opset {version} is newer than onnxlite "
                         f"knows ({latest}); its ops are checked as of opset {latest}" + ORT_REFUSES, WARNING)
            if domain in found and found[domain] != version:
                self.add(w, "opset-import", f"{_domain_label(domain)} is imported twice, at versions "
                         f"{found[domain]} and {version}")
            found.setdefault(domain, version)
        return found

    def _ir_gates(self) -> None:
        if not self.ir:
            return
        for key, where in versions.used_features(self.proto).items():
            gate = IR_GATES[key]
            if gate.ir_version > self.ir:
                # onnx.checker gates only initializers outside the inputs; onnxruntime none of these
                note = CHECKER_REFUSES if key == "initializer-not-input" else ""
                self.add(where, "ir-feature", f"{gate.what} need IR version {gate.ir_version}; the model "
                         f"declares IR {self.ir}" + note, WARNING)

    def _function_index(self) -> None:
        fns = self.proto.functions
        for i, f in enumerate(fns):
            key = (f.domain, f.name, f.overload)
            if key in self.functions:
                self.add(f"functions[{i}] '{_function_id(f)}'", "duplicate-function",
                         f"function {_function_id(f)!r} is defined twice")
                continue
            self.functions[key] = f
            self._function_where[key] = f"functions[{i}] '{_function_id(f)}'"
            self.function_domains.add(f.domain)
        # recursion: a cycle in the call graph (calls at any subgraph depth), found iteratively
        calls: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}
        for key, f in self.functions.items():
            calls[key] = list(self._callees(f))
        # functions reachable from the model's graphs (onnxruntime inlines only those)
        roots: dict[tuple[str, str, str], None] = {}
        for body in walk(self.model, functions=False):
            if body.parent is None:
                roots.update(self._callees(body.proto))
        todo = list(roots)
        while todo:
            for k in calls.get(todo.pop(), ()):
                if k not in roots:
                    roots[k] = None
                    todo.append(k)
        self._reachable = set(roots)
        state: dict[tuple[str, str, str], int] = {}  # 1 on the current path, 2 done
        for root in calls:
            if root in state:
                continue
            path = [root]
            state[root] = 1
            its = [iter(calls[root])]
            while its:
                nxt = next(its[-1], None)
                if nxt is None:
                    state[path.pop()] = 2
                    its.pop()
                elif state.get(nxt) == 1:
                    cycle = path[path.index(nxt):] + [nxt]
                    self.add(self._function_where[nxt], "recursive-function",
                             "functions call each other in a cycle: "
                             + " -> ".join(_function_id(self.functions[k]) for k in cycle))
                elif nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    its.append(iter(calls[nxt]))

    def _bindings(self, i: int, t: Any) -> None:
        main = self.proto.graph
        inits = {x.name for x in main.initializer} | {x.name for x in t.algorithm.initializer}
        for field, graph in (("initialization_binding", t.initialization), ("update_binding", t.algorithm)):
            outputs = {o.name for o in graph.output}
            for j, e in enumerate(getattr(t, field)):
                w = f"training_info[{i}].{field}[{j}]"
                # onnx.checker does not look at bindings and onnxruntime's inference ignores training
                # graphs: a binding IR.md does not allow is worth a warning, not an error
                if e.key not in inits:
                    self.add(w, "training-binding", f"binding target {e.key!r} is not an initializer of the "
                             "main graph or the algorithm", WARNING)
                if e.value not in outputs:
                    self.add(w, "training-binding", f"binding source {e.value!r} is not an output of the "
                             f"{field.split('_')[0]} graph", WARNING)

    # --- graphs and functions ---------------------------------------------------------------------

    def _graph(self, s: _Scope, children: list[_Scope]) -> None:
        g = s.proto
        main = s.kind == "main"
        if s.kind in ("main", "subgraph") and not g.name:
            self.add(s.path, "empty-name", "the graph has no name (every graph must have one)")
        declared: dict[str, tuple[Any, Path]] = {}
        for field in ("input", "output", "value_info"):
            for i, v in enumerate(getattr(g, field)):
                if v.HasField("type") and v.name not in declared:
                    declared[v.name] = (v.type, (s.path, (field, i, v.name)))
        inputs: set[str] = set()
        for i, v in enumerate(g.input):
            w = (s.path, ("input", i, v.name))
            self.values.value_info(v, w, required=main)
            if not v.name:
                self.add(w, "empty-name", "a graph input has no name")
            elif v.name in inputs:
                self.add(w, "duplicate-input", f"graph input {v.name!r} is listed twice")
            else:
                inputs.add(v.name)
                if s.kind == "subgraph" and s.visible_outer(v.name):
                    self.add(w, "shadowed-name", f"subgraph input {v.name!r} hides a value of the same name "
                             "in an enclosing graph", WARNING)
                s.defs[v.name] = -1
        inits: set[str] = set()
        items = [(t, ("initializer", i, t.name), False) for i, t in enumerate(g.initializer)]
        items += [(sp, ("sparse_initializer", i, sp.values.name), True)
                  for i, sp in enumerate(g.sparse_initializer)]
        for t, suffix, sparse in items:
            w = (s.path, suffix)
            name = t.values.name if sparse else t.name
            if sparse:
                self.values.sparse(t, w, declared.get(name))
            else:
                self.values.tensor(t, w, declared.get(name))
            if not name:
                self.add(w, "empty-name", "an initializer has no name")
            elif name in inits:
                self.add(w, "duplicate-initializer",
                         f"initializer {name!r} is defined twice" + CHECKER_REFUSES, WARNING)
            else:
                inits.add(name)
                if s.kind == "subgraph" and name in inputs and self.ir >= 4:
                    self.add(w, "shadowed-name", f"subgraph initializer {name!r} is also a subgraph input "
                             "(IR 4 and later allow this only where the op says so)", WARNING)
                elif s.kind == "subgraph" and s.visible_outer(name):
                    self.add(w, "shadowed-name", f"subgraph initializer {name!r} hides a value of the same "
                             "name in an enclosing graph", WARNING)
                s.defs.setdefault(name, -1)
        self._body(s, g.node, children)
        seen: set[str] = set()
        for i, v in enumerate(g.output):
            w = (s.path, ("output", i, v.name))
            self.values.value_info(v, w, required=main)
            if not v.name:
                self.add(w, "empty-name", "a graph output has no name")
                continue
            if v.name in seen:
                self.add(w, "duplicate-output", f"graph output {v.name!r} is listed twice", WARNING)
            seen.add(v.name)
            if v.name not in s.defs and not (s.kind == "training" and s.visible_outer(v.name)):
                if s.visible_outer(v.name):
                    self.add(w, "undefined-value", f"graph output {v.name!r} is a value of an enclosing "
                             "graph; a subgraph must produce its outputs itself (an Identity node does)")
                else:
                    self.add(w, "undefined-value", f"graph output {v.name!r} is not produced by any node, "
                             "input or initializer of the graph")
        for i, v in enumerate(g.value_info):
            self.values.value_info(v, (s.path, ("value_info", i, v.name)), required=False)

    def _function(self, s: _Scope, children: list[_Scope]) -> None:
        f = s.proto
        fid = repr(_function_id(f))
        if not f.name:
            self.add(s.path, "empty-name", "a function has no name")
        if self.ir >= 8 and not f.HasField("domain"):
            self.add(s.path, "function", f"function {fid} has no domain field (IR 8 and later need one)")
        for i, name in enumerate(f.input):
            if name in s.defs:
                self.add((s.path, f".input[{i}]"), "duplicate-input",
                         f"function {fid} lists input {name!r} twice")
            s.defs[name] = -1
        seen_attrs: set[str] = set()
        for i, name in enumerate(f.attribute):
            if name in seen_attrs:
                self.add((s.path, f".attribute[{i}]"), "duplicate-attribute",
                         f"function {fid} declares attribute {name!r} twice")
            seen_attrs.add(name)
        for i, a in enumerate(f.attribute_proto):
            w = (s.path, f".attribute_proto[{i}] '{a.name}'")
            if a.name in seen_attrs:
                self.add(w, "duplicate-attribute", f"function {fid} declares attribute {a.name!r} twice")
            seen_attrs.add(a.name)
            self._attribute(s, a, w, f"function {fid}", -1, [], default=True)
        self._body(s, f.node, children)
        outputs: set[str] = set()
        for i, name in enumerate(f.output):
            w = (s.path, f".output[{i}] '{name}'")
            if name in outputs:
                self.add(w, "duplicate-output", f"function {fid} lists output {name!r} twice")
            outputs.add(name)
            if name not in s.defs:
                self.add(w, "undefined-value", f"function output {name!r} is not produced by any node or "
                         f"input of function {fid}" + ORT_REFUSES, WARNING)
        for i, v in enumerate(f.value_info):
            self.values.value_info(v, (s.path, f".value_info[{i}] '{v.name}'"), required=False)

    def _body(self, s: _Scope, nodes: Any, children: list[_Scope]) -> None:
        """Definitions of the node outputs, then every node in order."""
        for i, n in enumerate(nodes):
            for j, out in enumerate(n.output):
                if not out:
                    continue
                prev = s.defs.get(out)
                w = ((s.path, _node_suffix(i, n)), ("output", j, ""))
                if prev is not None:
                    what = ("a graph input or initializer" if s.kind != "function" else "a function input") \
                        if prev < 0 else ("another of its outputs" if prev == i else f"node[{prev}]")
                    self.add(w, "duplicate-definition", f"{_label(n, i)} defines {out!r}, already defined "
                             f"by {what} (each value must be defined once)")
                elif s.kind != "initialization" and s.visible_outer(out):
                    self.add(w, "duplicate-definition", f"{_label(n, i)} defines {out!r}, already defined in "
                             "an enclosing graph (each value must be defined once)")
                else:
                    s.defs[out] = i
        s.deps = [[] for _ in range(len(nodes))]
        names: dict[str, int] = {}
        # IR.md: unique in a graph. onnx.checker does not look; onnxruntime refuses duplicates in
        # every graph it loads (a function body when a call inlines it)
        note = ORT_REFUSES if s.function is None or self._called(s.function) else ""
        for i, n in enumerate(nodes):
            if n.name:
                if n.name in names:
                    self.add((s.path, _node_suffix(i, n)), "duplicate-node-name",
                             f"node name {n.name!r} is also used by an earlier node of this graph" + note,
                             WARNING)
                names.setdefault(n.name, i)
            self._node(s, i, n, children)

    # --- nodes ------------------------------------------------------------------------------------

    def _node(self, s: _Scope, i: int, node: Any, children: list[_Scope]) -> None:
        nw = (s.path, _node_suffix(i, node))
        label = _Label(node, i)
        if not node.op_type:
            self.add(nw, "empty-name", f"{label} has no op_type")
        if not len(node.input) and not len(node.output):
            self.add(nw, "empty-node", f"{label} has neither inputs nor outputs")
        for j, name in enumerate(node.input):
            if name:
                self._read(s, i, name, (nw, ("input", j, "")), label)
        types: dict[str, int] = {}
        for a in node.attribute:
            aw = (nw, f".attribute '{a.name}'")
            if a.name in types:
                self.add(aw, "duplicate-attribute", f"{label} has two attributes named {a.name!r}")
                continue
            types[a.name] = self._attribute(s, a, aw, label, i, children)
        domain = normalize_domain(node.domain)
        version = s.opsets.get(domain)
        if version is None:
            self.add(nw, "opset-import", f"{label} uses domain {_domain_label(domain)!r}, which the "
                     f"{s.owner} does not import")
        fn = self.functions.get((node.domain, node.op_type, node.overload))
        if fn is not None:
            self._call(node, fn, nw, label)
        elif node.overload:
            self.add(nw, "function-call", f"{label} calls overload {node.overload!r}, and the model has no "
                     "such function" + ORT_REFUSES, WARNING)
        elif version is not None and domain in LATEST_OPSET:
            self._schema(s, node, domain, version, types, nw, label)
        elif node.domain in self.function_domains:
            self.add(nw, "function-call", f"{label}: the model defines functions in domain {node.domain!r} "
                     f"but none named {node.op_type!r}", WARNING)

    def _read(self, s: _Scope, i: int, name: str, where: Path, label: object) -> None:
        """Resolve a node input: defined earlier in this scope, or visible from an enclosing one."""
        pos = s.defs.get(name)
        if pos is not None:
            if pos >= i:
                s.backward.append((i, pos, name, where, label, True))
            elif pos >= 0:
                s.deps[i].append(pos)
            return
        inner = s
        while inner.parent is not None:
            k, p = inner.limit, inner.parent
            pos = p.defs.get(name)
            if pos is not None:
                if pos >= 0 and k is not None:
                    if pos >= k:
                        p.backward.append((k, pos, name, where, label, False))
                    else:
                        p.deps[k].append(pos)
                return
            inner = p
        where_from = f"function {_function_id(s.function)!r}" if s.kind == "function" or s.function else None
        self.add(where, "undefined-value", f"{label} reads {name!r}, which nothing "
                 + (f"in {where_from} defines" if where_from else "defines"))

    def _attribute(self, s: _Scope, a: Any, where: Path, label: object, i: int, children: list[_Scope],
                   default: bool = False) -> int:
        """Check one AttributeProto; returns its type (0 when unknown). Subgraphs go to ``children``."""
        filled = [code for field, code in _SINGLE_FIELDS if a.HasField(field)]
        filled += [code for field, code in _LIST_FIELDS if len(getattr(a, field))]
        name = repr(a.name)
        if not a.name:
            self.add(where, "attribute", f"{label} has an attribute without a name")
        kind = int(a.type) if a.HasField("type") else 0
        if a.HasField("type") and not AttributeType.is_known(kind):
            self.add(where, "attribute", f"{label}: attribute {name} has unknown type {kind}")
            return 0
        if not a.HasField("type") and self.ir >= 2:
            self.add(where, "attribute", f"{label}: attribute {name} has no type (IR 2 and later need one)")
        if len(filled) > 1:
            self.add(where, "attribute", f"{label}: attribute {name} holds more than one value ("
                     + ", ".join(AttributeType(c).name for c in filled) + ")")
        elif filled and a.HasField("type") and filled[0] != kind:
            self.add(where, "attribute", f"{label}: attribute {name} is typed {AttributeType(kind).name} "
                     f"but holds a {AttributeType(filled[0]).name} value")
        if a.ref_attr_name:
            if s.function is None:
                self.add(where, "attribute", f"{label}: attribute {name} refers to {a.ref_attr_name!r} "
                         "(ref_attr_name), which only function bodies may do (IR.md; onnx.checker and "
                         "onnxruntime do not look)", WARNING)
            elif filled:
                self.add(where, "attribute", f"{label}: attribute {name} refers to {a.ref_attr_name!r} "
                         "and also holds a value")
            elif s.attrs is not None and a.ref_attr_name not in s.attrs:
                self.add(where, "attribute", f"{label}: attribute {name} refers to {a.ref_attr_name!r}, "
                         f"which function {_function_id(s.function)!r} does not declare (so it is "
                         "always omitted)", WARNING)
        elif not filled and kind in _NEEDS_VALUE:
            self.add(where, "attribute", f"{label}: {AttributeType(kind).name} attribute {name} has "
                     "no value")
        if a.HasField("t"):
            self.values.tensor(a.t, (where, ".t"))
        for j, t in enumerate(a.tensors):
            self.values.tensor(t, (where, f".tensors[{j}]"))
        if a.HasField("sparse_tensor"):
            self.values.sparse(a.sparse_tensor, (where, ".sparse_tensor"))
        for j, sp in enumerate(a.sparse_tensors):
            self.values.sparse(sp, (where, f".sparse_tensors[{j}]"))
        graphs = [(a.g, ".g")] if a.HasField("g") else []
        graphs += [(g, f".graphs[{j}]") for j, g in enumerate(a.graphs)]
        for g, suffix in graphs:
            # a graph as a function attribute's default value is checked on its own
            parent, limit = (None, None) if default else (s, i)
            children.append(_Scope(g, "subgraph", (where, suffix), parent, limit, s.opsets, s.function,
                                   s.attrs))
        if a.HasField("tp"):
            self.values.type(a.tp, (where, ".tp"), required=False)
        for j, t in enumerate(a.type_protos):
            self.values.type(t, (where, f".type_protos[{j}]"), required=False)
        return kind or (filled[0] if filled else 0)

    def _call(self, node: Any, fn: Any, where: Path, label: object) -> None:
        fid = repr(_function_id(fn))
        if len(node.input) > len(fn.input):
            self.add(where, "function-call", f"{label} passes {len(node.input)} inputs; function {fid} takes "
                     f"{len(fn.input)}" + ORT_REFUSES, WARNING)
        if len(node.output) > len(fn.output):
            self.add(where, "function-call", f"{label} takes {len(node.output)} outputs; function {fid} has "
                     f"{len(fn.output)}" + ORT_REFUSES, WARNING)
        declared = set(fn.attribute) | {a.name for a in fn.attribute_proto}
        for a in node.attribute:
            if a.name not in declared:
                self.add((where, f".attribute '{a.name}'"), "unknown-attribute",
                         f"{label} passes attribute {a.name!r}, which function {fid} does not declare",
                         WARNING)

    def _schema(self, s: _Scope, node: Any, domain: str, version: int, types: dict[str, int], where: Path,
                label: object) -> None:
        op = node.op_type
        schema = op_schema(domain, op, version)
        if schema is None:
            rows = versions.schema_history(domain, op)
            if not rows and domain == "" and op in _EXPERIMENTAL:
                self.add(where, "experimental-op", f"{label}: {op} is an experimental op without a schema; "
                         "not checked", WARNING)
            elif not rows:
                self.add(where, "unknown-op", f"{label}: {_domain_label(domain)} has no operator {op!r}")
            else:
                self.add(where, "unknown-op", f"{label}: {op} does not exist in {_domain_label(domain)} "
                         f"opset {version} (it came in opset {rows[0].since_version})")
            return
        this = f"{op}-{schema.since_version}"
        if schema.deprecated:
            self.add(where, "deprecated-op", f"{label}: {op} is deprecated as of opset "
                     f"{schema.since_version}")
        if s.function is not None:
            self._function_opset(node, domain, version, where, label)
        n = len(node.input)
        if not schema.min_inputs <= n <= schema.max_inputs:
            self.add(where, "input-count", f"{label} has {n} input{'s' * (n != 1)}; {this} takes "
                     f"{_arity(schema.min_inputs, schema.max_inputs)}")
        n = len(node.output)
        if not schema.min_outputs <= n <= schema.max_outputs:
            self.add(where, "output-count", f"{label} has {n} output{'s' * (n != 1)}; {this} has "
                     f"{_arity(schema.min_outputs, schema.max_outputs)}")
        for name, kind in types.items():
            if isinstance(name, str) and name.startswith("__"):
                continue  # onnx reserves these for implementation details
            spec = schema.attributes.get(name)
            aw = (where, f".attribute '{name}'")
            if spec is None:
                self.add(aw, "unknown-attribute", f"{label} has attribute {name!r}, which {this} does not "
                         "define")
            elif kind and kind != spec[0]:
                expected = AttributeType.name_of(spec[0], str(spec[0]))
                self.add(aw, "attribute-type", f"{label}: attribute {name!r} is "
                         f"{AttributeType.name_of(kind)}; {this} expects {expected}")
        for name, (_, required) in schema.attributes.items():
            if required and name not in types:
                self.add(where, "missing-attribute", f"{label} lacks attribute {name!r}, which {this} "
                         "requires")

    def _function_opset(self, node: Any, domain: str, version: int, where: Path, label: object) -> None:
        """onnx.checker: an op in a function must mean the same at the function's and the model's
        import of its domain."""
        model_version = self.opsets.get(domain)
        if model_version is None or model_version == version:
            return
        a, b = op_schema(domain, node.op_type, version), op_schema(domain, node.op_type, model_version)
        if (a.since_version if a else None) != (b.since_version if b else None):
            self.add(where, "function-opset", f"{label}: the function imports {_domain_label(domain)} "
                     f"{version} and the model {model_version}, where {node.op_type} differs")

    # --- ordering -----------------------------------------------------------------------------------

    def _order(self, s: _Scope) -> None:
        """Report reads of values produced later: cycles (with the nodes on them) and plain
        order mistakes. Nodes only read earlier nodes unless some read goes backwards, so the
        strongly connected components are computed only then."""
        if not s.backward:
            return
        nodes = s.proto.node
        preds = [list(d) for d in s.deps]
        for reader, producer, *_ in s.backward:
            preds[reader].append(producer)
        comp = _components(preds)
        first: dict[int, int] = {}  # component -> its first node in file order
        for k, c in enumerate(comp):
            first.setdefault(c, k)
        reported: set[int] = set()
        for reader, producer, name, where, label, direct in s.backward:
            c = comp[reader]
            if reader == producer:
                holder = _label(nodes[reader], reader)
                via = "" if str(label) == holder else f" (through {label} in a subgraph)"
                self.add(where, "cycle", f"{holder} reads {name!r}, its own output{via}")
            elif c == comp[producer]:
                if c not in reported:
                    reported.add(c)
                    cycle = _cycle(preds, comp, first[c])
                    at = (s.path, _node_suffix(cycle[0], nodes[cycle[0]]))
                    self.add(at, "cycle", "nodes form a cycle: "
                             + " -> ".join(_label(nodes[k], k) for k in cycle + [cycle[0]]))
            else:
                # onnxruntime sorts the main graph itself, not subgraphs, nor reads from inside them
                lenient = direct and s.kind == "main"
                self.add(where, "topological-order", f"{label} reads {name!r} before "
                         f"{_label(nodes[producer], producer)} (node[{producer}]) produces it; nodes must be "
                         "in topological order" + (CHECKER_REFUSES if lenient else ""),
                         WARNING if lenient else ERROR)

# --- graph algorithms (iterative) -------------------------------------------------------------------

def _components(preds: list[list[int]]) -> list[int]:
    """Strongly connected component id of every node (Tarjan's algorithm, without recursion)."""
    n = len(preds)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    comp = [-1] * n
    stack: list[int] = []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, k = work.pop()
            if k == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            edges = preds[v]
            while k < len(edges):
                u = edges[k]
                k += 1
                if index[u] < 0:
                    work.append((v, k))
                    work.append((u, 0))
                    break
                if on_stack[u]:
                    low[v] = min(low[v], index[u])
            else:
                if low[v] == index[v]:
                    while True:
                        u = stack.pop()
                        on_stack[u] = False
                        comp[u] = v
                        if u == v:
                            break
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[v])
    return comp


def _cycle(preds: list[list[int]], comp: list[int], start: int) -> list[int]:
    """Nodes on one cycle in ``start``'s component, in data-flow order, from its first node."""
    c = comp[start]
    seen: dict[int, int] = {}
    walk: list[int] = []
    v = start
    while v not in seen:
        seen[v] = len(walk)
        walk.append(v)
        v = next((u for u in preds[v] if comp[u] == c and u != v), v)
    loop = walk[seen[v]:]
    loop.reverse()
    first = loop.index(min(loop))  # start at the cycle's first node in file order
    return loop[first:] + loop[:first]
