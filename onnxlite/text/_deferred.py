"""The typed dump of a big model in two processes: a forked child prints the text while this
process runs the inference, then the type comments go into the child's text.

Inference is the longer half (on the 100,000-node chain about 0.7 s, printing about 0.3 s), so
it stays here where its result is at hand, and the printing runs beside it. The child prints a
marker (``\\0K\\0``, K numbering the body) where each node's type comment belongs, and sends the
text with the table of body paths. Nodes of one body are printed in order, so the K-th body's
markers take that body's comments in order. Anything unexpected (no fork, the child failing, a
NUL character of the model's own in the text, a body the walk does not know) returns None: the
caller then prints the ordinary way, so the text never depends on this path being taken.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from typing import Any

from onnxlite.model import Model, walk
from onnxlite.text._parallel import _Child
from onnxlite.text._types import TypeNotes

__all__ = ["typed_in_parallel"]


class _Markers(TypeNotes):
    """A type source that writes a numbered marker instead of each node's comment, and counts
    them (the child checks the text holds no other NUL)."""

    def __init__(self) -> None:
        super().__init__(lambda proto, path: None)
        self.paths: list[str] = []
        self.count = 0

    def note_for(self, proto: Any, path: str) -> Callable[[Sequence[str]], str] | None:
        marker = f"\0{len(self.paths)}\0"
        self.paths.append(path)

        def mark(outputs: Sequence[str]) -> str:
            self.count += 1
            return marker

        return mark


def typed_in_parallel(print_text: Callable[[TypeNotes], str], model: Model,
                      source: Callable[[], TypeNotes]) -> str | None:
    """``print_text(types)`` in a forked child with markers, ``source()`` (the inference) here;
    the text with the comments, or None when the parallel way did not work."""
    markers = _Markers()

    def work(part: list[str]) -> None:
        text = print_text(markers)
        if text.count("\0") != 2 * markers.count:
            raise ValueError("the text holds a NUL of its own")
        part += [text, "\0", json.dumps(markers.paths)]

    child = _Child.start(work)
    if child is None:
        return None
    try:
        types = source()
    finally:
        data = child.result()
    if data is None:
        return None
    parts = data.split("\0")
    paths = json.loads(parts.pop())
    if len(set(paths)) != len(paths):
        return None  # two bodies share a path (hostile names): the markers cannot tell them apart
    bodies: dict[str, Any] = {}

    def proto_of(path: str) -> Any:
        if not bodies:
            bodies.update((body.path, body.proto) for body in walk(model))
        return bodies[path]

    comments: dict[str, Iterator[str]] = {}
    try:
        for key in set(parts[1::2]):
            found = types.body_notes(paths[int(key)], proto_of)
            comments[key] = repeat("") if found is None else iter(found)
    except LookupError:
        return None
    try:
        parts[1::2] = [next(comments[key]) for key in parts[1::2]]
    except StopIteration:
        return None
    return "".join(parts)
