"""The house (DESIGN.md): imports point down the layers, features depend on each other only where the
dependency is real and never in a cycle, the package root stays small, modules stay readable."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "onnxlite"

#: Lowest first. A module may import its own layer's shared modules and anything below.
LAYERS = {
    "errors": 0, "_version": 0, "dtypes": 0,
    "_proto": 1,
    "_storage": 2,
    "model": 3,
    # features
    "versions": 4, "text": 4, "parser": 4, "summary": 4, "check": 4, "infer": 4, "profile": 4, "diff": 4,
    "draw": 4, "weights": 4, "edit": 4, "transform": 4, "builder": 4,
    "cli": 5, "__main__": 6, "__init__": 6,
}
#: Features that build on other features, because the dependency is real (DESIGN.md). Anything else
#: sideways is a layering error.
FEATURE_DEPS = {
    "edit": {"builder", "transform", "infer", "versions"},
    "transform": {"infer", "versions"},
    "builder": {"versions"},
    "check": {"versions", "infer"},
    "infer": {"versions"},
    "profile": {"infer", "versions"},
    "diff": {"infer", "versions"},
    "draw": {"infer", "versions"},
    "text": {"infer", "versions"},
    "summary": {"infer", "versions"},
    "parser": {"versions"},
    "weights": set(),
    "versions": set(),
}
GENERATED = {"_proto/schema.py", "_proto/opschemas.py"}


def _unit(module: str) -> str:
    """The layer unit of a dotted module name inside onnxlite ('onnxlite.model._walk' -> 'model')."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names if a.name.startswith("onnxlite"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "onnxlite":
                out.extend((node.lineno, f"onnxlite.{a.name}") for a in node.names)
            elif node.module.startswith("onnxlite."):
                out.append((node.lineno, node.module))
    return out


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_unit_has_a_layer() -> None:
    units = {p.relative_to(PKG).parts[0].removesuffix(".py") for p in _modules()}
    assert units - set(LAYERS) == set(), "add new packages to LAYERS (and FEATURE_DEPS for features)"


def test_imports_point_down() -> None:
    problems = []
    for path in _modules():
        rel = path.relative_to(PKG)
        here = rel.parts[0].removesuffix(".py")
        for line, target in _imports(path):
            there = _unit(target)
            if there == here or there not in LAYERS:
                continue
            if LAYERS[there] > LAYERS[here]:
                problems.append(f"{rel}:{line} imports {target} (layer {there} is above {here})")
            elif LAYERS[there] == LAYERS[here] == 4 and there not in FEATURE_DEPS.get(here, set()):
                problems.append(f"{rel}:{line} imports {target}: feature {here} may not depend on {there}")
    assert problems == []


def test_feature_dependencies_have_no_cycle() -> None:
    seen: dict[str, int] = {}

    def visit(unit: str, stack: tuple[str, ...]) -> None:
        assert unit not in stack, " -> ".join((*stack, unit))
        if seen.get(unit):
            return
        for dep in FEATURE_DEPS.get(unit, ()):
            visit(dep, (*stack, unit))
        seen[unit] = 1

    for unit in FEATURE_DEPS:
        visit(unit, ())


def test_the_root_stays_small_and_modules_readable() -> None:
    root = [p.name for p in PKG.glob("*.py")]
    assert len(root) <= 14, root
    long = [f"{p.relative_to(PKG)}: {n} lines" for p in _modules()
            if str(p.relative_to(PKG)) not in GENERATED and (n := len(p.read_text().splitlines())) > 800]
    assert long == []


def test_private_modules_are_imported_only_inside_their_package() -> None:
    """A feature's ``_private`` modules are its own; other units import the feature's __init__."""
    problems = []
    for path in _modules():
        rel = path.relative_to(PKG)
        here = rel.parts[0].removesuffix(".py")
        for line, target in _imports(path):
            parts = target.split(".")
            if len(parts) >= 3 and parts[2].startswith("_") and parts[1] != here \
                    and not parts[1].startswith("_") and LAYERS.get(parts[1]) == 4:
                problems.append(f"{rel}:{line} imports {target}")
    assert problems == []
