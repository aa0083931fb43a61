"""The public calls: build the scene once, write it in the format asked for."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from onnxlite.draw._scene import Options, Scene
from onnxlite.draw._svg import svg_document
from onnxlite.draw._types import _value_types
from onnxlite.errors import OnnxliteError
from onnxlite.model import Model, load, walk

FORMATS = (".svg", ".html", ".dot")


class DrawError(OnnxliteError, ValueError):
    """A drawing request that cannot be done (unknown output format, bad option)."""


def _scene(model: Model | str | os.PathLike[str], fold: bool | None, depth: int | None,
           expand: Iterable[str], no_fold: bool, clusters: bool, initializers: bool | None) -> Scene:
    if not isinstance(model, Model):
        model = load(model)
    if depth is not None and depth < 0:
        raise DrawError(f"depth must be 0 or more, got {depth}")
    opts = Options(fold=fold, depth=depth, expand=tuple(expand), no_fold=no_fold, clusters=clusters,
                   initializers=initializers)
    bodies = walk(model, training=False)
    return Scene(model, bodies, _value_types(model, bodies), opts)


def to_svg(model: Model | str | os.PathLike[str], *, fold: bool | None = None, depth: int | None = None,
           expand: Iterable[str] = (), no_fold: bool = False, initializers: bool | None = None) -> str:
    """The SVG text of the main graph (bodies beside their nodes). ``fold`` None folds repeated
    blocks on graphs over 1,000 nodes; ``depth`` collapses scopes nested deeper; ``expand`` scope
    prefixes are drawn in full; ``no_fold`` draws every node. ``initializers`` True draws each
    initializer as an io box linked to its readers, False summarizes it inside the boxes that read
    it; None (the default) draws boxes on graphs under 200 nodes. Model-local functions are drawn
    beside the main graph (``fn:DOMAIN:NAME``), linked from the nodes that call them.

    >>> svg = to_svg(model, depth=1)   # doctest: +SKIP
    """
    scene = _scene(model, fold, depth, expand, no_fold, clusters=False, initializers=initializers)
    return svg_document(scene.views, scene.root, functions=scene.functions)


def to_dot(model: Model | str | os.PathLike[str], *, fold: bool | None = None, depth: int | None = None,
           expand: Iterable[str] = (), no_fold: bool = False, initializers: bool | None = None) -> str:
    """Graphviz DOT text of what ``to_svg`` draws (clusters for scopes and bodies)."""
    from onnxlite.draw._dot import dot_document

    scene = _scene(model, fold, depth, expand, no_fold, clusters=False, initializers=initializers)
    return dot_document(scene)


def to_html(model: Model | str | os.PathLike[str], *, fold: bool | None = None, depth: int | None = None,
            expand: Iterable[str] = (), no_fold: bool = False, initializers: bool | None = None) -> str:
    """One self-contained HTML page (no network): pan/zoom, search, details on click, clusters
    that expand in place (the drawing makes room around them) and collapse back, or open alone."""
    from onnxlite.draw._html import html_document

    scene = _scene(model, fold, depth, expand, no_fold, clusters=True, initializers=initializers)
    return html_document(scene)


def draw(model: Model | str | os.PathLike[str], out: str | os.PathLike[str], *, fold: bool | None = None,
         depth: int | None = None, expand: Iterable[str] = (), no_fold: bool = False,
         initializers: bool | None = None) -> Path:
    """Write the drawing to ``out``; its suffix (.svg, .html or .dot) picks the format. The file
    is written to a temporary name beside it and renamed into place. Returns the path."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DrawError(f"output '{path}' must end in .svg, .html or .dot")
    kw = {"fold": fold, "depth": depth, "expand": tuple(expand), "no_fold": no_fold,
          "initializers": initializers}
    text = {".svg": to_svg, ".html": to_html, ".dot": to_dot}[suffix](model, **kw)  # type: ignore[arg-type]
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
