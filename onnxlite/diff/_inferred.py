"""Output types by inference where neither model declares them (the ``output_types`` change kind).

Inferred types only add detail to nodes already reported changed (a rewired Reshape, a Conv with
new pads): a changed attribute alters the types of everything downstream, and listing every
downstream node would bury the change itself. Declared types are compared everywhere.

Inference runs only when some node is reported changed (when only names and order differ it is
skipped: the 100,000-node chain pays nothing). Functions are not
inferred here (inference types them per call); their declared types are still compared.

Inferred types are compared by dtype, rank and known sizes; two symbolic sizes count as equal
(each model's inference numbers its own fresh symbols).
"""

from __future__ import annotations

from typing import Any

from onnxlite.diff._compare import Collected
from onnxlite.errors import OnnxliteError
from onnxlite.model import Model


def upstream_changed(out: Collected) -> bool:
    """Whether inference could add anything: only nodes already reported changed are annotated."""
    return bool(out.changed)


def compare_inferred(a: Model, b: Model, out: Collected) -> None:
    """Add ``output_types`` to paired nodes whose undeclared outputs infer to different types."""
    from onnxlite.infer import TensorType, format_type, infer_types

    try:
        ta, tb = infer_types(a).types, infer_types(b).types
    except OnnxliteError:  # a model inference cannot read at all: declared types only
        return
    records = {(r["graph"], r["a"]): r for r in out.changed}

    def key(t: Any) -> Any:
        if isinstance(t, TensorType):
            dims = None if t.shape is None else tuple(d if isinstance(d, int) else "?" for d in t.shape)
            return ("tensor", t.dtype, dims)
        return format_type(t)

    for m in out.matchings:
        ga, gb = m.a, m.b
        if ga.is_function or ga.path not in ta or gb.path not in tb:
            continue
        types_a, types_b = ta[ga.path], tb[gb.path]
        for i, j in enumerate(m.pa):
            if j < 0 or (ga.path, ga.labels[i]) not in records:
                continue
            found: dict[str, list[Any]] = {}
            for slot, (x, y) in enumerate(zip(ga.outs[i], gb.outs[j], strict=False)):
                if x < 0 or y < 0:
                    continue
                na, nb = ga.names[x], gb.names[y]
                if na in ga.declared or nb in gb.declared:
                    continue  # declared on a side: compared as declared (or not at all)
                xa, xb = types_a.get(na), types_b.get(nb)
                if xa is None or xb is None or key(xa) == key(xb):
                    continue
                found[str(slot)] = [format_type(xa), format_type(xb)]
            if not found:
                continue
            rec = records.get((ga.path, ga.labels[i]))
            if rec is None:
                continue  # a type change downstream of a change, not a change of this node
            if "output_types" not in rec["what"]:
                rec["what"].append("output_types")
            types = rec.setdefault("output_types", {})
            for where, pair in found.items():
                types.setdefault(where, pair + ["inferred"])
