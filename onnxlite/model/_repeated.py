"""Rearranging repeated protobuf fields in place (node lists, initializers...): shared by every
feature that reorders or trims a graph, so the one subtle part (protobuf implementations that move
elements versus copy them) is written once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.internal import api_implementation

from onnxlite import _proto

__all__ = ["reorder", "keep_only"]

# upb and the pure-Python protobuf move elements when a repeated field is sorted, so references
# to them stay valid and nothing is copied; other implementations get copies.
_SORT_MOVES = api_implementation.Type() in ("upb", "python")


def reorder(repeated: Any, order: list[int]) -> None:
    """Rearrange a repeated message field so that position k holds the old element order[k]."""
    items = list(repeated)
    if _SORT_MOVES:
        rank = {id(items[j]): k for k, j in enumerate(order)}
        repeated.sort(key=lambda m: rank[id(m)])
        if all(a is items[j] for a, j in zip(repeated, order, strict=True)):
            return
        raise AssertionError("protobuf did not move the elements of a repeated field as expected")
    clones = [_proto.copy(items[j]) for j in order]
    del repeated[:]
    repeated.extend(clones)


def keep_only(repeated: Any, keep: Sequence[bool]) -> None:
    """Delete the elements of a repeated field whose ``keep`` flag is False, in one pass."""
    if all(keep):
        return
    kept = [i for i, k in enumerate(keep) if k]
    if kept and kept[-1] >= len(kept):  # something is deleted before a kept element: move first
        reorder(repeated, kept + [i for i, k in enumerate(keep) if not k])
    del repeated[len(kept):]
