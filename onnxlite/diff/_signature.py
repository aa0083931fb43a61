"""Structural signatures of nodes, computed without names.

``forward`` hashes a node with everything upstream of it (its op, attributes and, slot by slot,
the signatures of its inputs; graph inputs by position or interface pairing, initializers by
dtype and shape); ``backward`` with everything downstream (its consumers and the input slots
they read it at, graph outputs by position). Over a DAG one pass in topological order is the
fixed point of Weisfeiler-Lehman refinement in that direction, so repeated identical blocks get
different signatures from their position in the dataflow. Commutative ops hash their inputs as
a multiset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onnxlite.diff._graphinfo import GraphInfo


def leaf_labels(info: GraphInfo, input_labels: dict[int, int], outer_label: Any) -> dict[int, int]:
    """Labels of the values no node produces: paired graph inputs share ``input_labels``, other
    inputs go by position, initializers and the outputs of Constant nodes alike by dtype and shape
    (not content: content is compared after pairing), outer names as ``outer_label(name)`` says."""
    out: dict[int, int] = {}
    for vid, leaf in info.leaf.items():
        if leaf.kind == "input":
            out[vid] = input_labels.get(leaf.position, hash(("input", leaf.position)))
        elif leaf.kind == "initializer":
            t = leaf.tensor
            out[vid] = hash(("init", int(t.data_type), tuple(t.dims)))
        elif leaf.kind == "sparse":
            s = leaf.tensor
            out[vid] = hash(("sparse", int(s.values.data_type), tuple(s.dims)))
        elif leaf.kind == "outer":
            out[vid] = outer_label(info.names[vid])
        else:
            out[vid] = hash(("undefined",))
    for vid, (dtype, dims, _) in info.constant.items():  # a Constant's output reads like an initializer
        out[vid] = hash(("init", dtype, dims))
    return out


def value_sig(info: GraphInfo, sf: list[int], leaves: dict[int, int], vid: int) -> int:
    if vid < 0:
        return 0
    label = leaves.get(vid)
    if label is not None:
        return label
    node, slot = info.producer[vid]
    return hash((sf[node], slot))


def forward(info: GraphInfo, leaves: dict[int, int]) -> list[int]:
    """Per node: hash of its local label and the forward signatures of its inputs."""
    sf = [0] * len(info.protos)
    producer = info.producer
    for i in info.order:
        vs = []
        for vid in info.ins[i]:
            if vid < 0:
                vs.append(0)
                continue
            label = leaves.get(vid)
            if label is None:
                node, slot = producer[vid]
                label = hash((sf[node], slot))
            vs.append(label)
        if info.commutative[i]:
            vs.sort()
        imp = []
        for vid in info.implicit[i]:
            label = leaves.get(vid)
            if label is None:
                node, slot = producer[vid]
                label = hash((sf[node], slot))
            imp.append(label)
        imp.sort()
        sf[i] = hash((info.local[i], tuple(vs), tuple(imp)))
    return sf


def backward(info: GraphInfo) -> list[int]:
    """Per node: hash of its local label and, per output, the multiset of (consumer's backward
    signature, input slot) plus the graph output positions the value takes."""
    sb = [0] * len(info.protos)
    out_pos: dict[int, list[int]] = {}
    for pos, vid in enumerate(info.outputs):
        out_pos.setdefault(vid, []).append(pos)
    commutative = info.commutative
    for i in reversed(info.order):
        per_out = []
        for vid in info.outs[i]:
            if vid < 0:
                per_out.append(0)
                continue
            uses = sorted((sb[c], -2 if slot >= 0 and commutative[c] else slot)
                          for c, slot in info.consumers[vid])
            per_out.append(hash((tuple(uses), tuple(out_pos.get(vid, ())))))
        sb[i] = hash((info.local[i], tuple(per_out)))
    return sb


def outer_labels(pairs: dict[str, int]) -> Callable[[str], int]:
    """``outer_label`` for a body whose enclosing values were paired: a shared label per pair
    (``pairs``: outer name -> pair id), else one label for every unpaired outer name."""
    def label(name: str) -> int:
        pid = pairs.get(name)
        return hash(("outer", pid)) if pid is not None else hash(("outer-unpaired",))
    return label



