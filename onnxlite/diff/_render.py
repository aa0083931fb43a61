"""The diff report for a terminal (rich). rich is imported by the caller's console only."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from onnxlite.diff._model import ModelDiff


def _v(x: Any) -> str:
    return json.dumps(x, ensure_ascii=False) if not isinstance(x, str) else x


def _in(graph: str) -> str:
    return f" in {graph}" if graph else ""


def render_diff(diff: ModelDiff, console: Console, *, renames: bool = False) -> None:
    """Print ``diff`` section by section: header, signature, nodes, initializers, summary (and
    the renames with ``renames=True``). Sections without differences are left out."""
    from rich.markup import escape

    out = console.print
    data = diff.to_json()
    if diff.equal:
        out("[bold green]equal[/]: same structure and weights" + (
            f" ({len(diff.renames)} renames)" if diff.renames else ""))
    if data["header"]:
        out("[bold]Header[/]")
        for h in data["header"]:
            out(f"  {escape(h['field'])}: [red]{escape(_v(h['a']))}[/] -> [green]{escape(_v(h['b']))}[/]")
    if data["signature"]:
        out("[bold]Signature[/]")
        for h in data["signature"]:
            out(f"  {escape(h['field'])}: [red]{escape(_v(h['a']))}[/] -> [green]{escape(_v(h['b']))}[/]")
    n = data["nodes"]
    if n["changed"] or n["added"] or n["removed"]:
        out(f"[bold]Nodes[/]: {n['matched']} same, {len(n['changed'])} changed, {len(n['added'])} added, "
            f"{len(n['removed'])} removed")
        for c in n["changed"]:
            names = c["a"] if c["a"] == c["b"] else f"{c['a']} / {c['b']}"
            out(f"  [yellow]~[/] {escape(c['op_type'])} {escape(names)}{escape(_in(c['graph']))}: "
                f"{escape(', '.join(c['what']))}")
            for line in _details(c):
                out(f"      {escape(line)}")
        for r in n["removed"]:
            out(f"  [red]-[/] {escape(r['op_type'])} {escape(r['name'])}{escape(_in(r['graph']))}")
        for r in n["added"]:
            out(f"  [green]+[/] {escape(r['op_type'])} {escape(r['name'])}{escape(_in(r['graph']))}")
    _constants(n["constants"], console)
    t = data["initializers"]
    if t["changed"] or t["added"] or t["removed"]:
        out(f"[bold]Initializers[/]: {t['matched']} same, {len(t['changed'])} changed, {len(t['added'])} "
            f"added, {len(t['removed'])} removed")
        for c in t["changed"]:
            names = c["a"] if c["a"] == c["b"] else f"{c['a']} / {c['b']}"
            kind = f"{c['dtype']}{c['shape']}"
            if "dtype_b" in c or "shape_b" in c:
                kind += f" -> {c.get('dtype_b', c['dtype'])}{c.get('shape_b', c['shape'])}"
            stats = ""
            if "differing" in c:
                stats = f": {c['differing']} differ, max abs {c['max_abs']:.6g}, max rel {c['max_rel']:.6g}" \
                    if c.get("max_abs") is not None else f": {c['differing']} differ"
            out(f"  [yellow]~[/] {escape(names)} {escape(kind)}{escape(_in(c['graph']))}{escape(stats)}")
        for r in t["removed"]:
            out(f"  [red]-[/] {escape(r['name'])} {escape(r['dtype'])}{r['shape']}{escape(_in(r['graph']))}")
        for r in t["added"]:
            out(f"  [green]+[/] {escape(r['name'])} {escape(r['dtype'])}{r['shape']}"
                f"{escape(_in(r['graph']))}")
    if not diff.equal:
        _summary(data["summary"], console)
    if renames and diff.renames:
        out(f"[bold]Renames[/]: {len(diff.renames)}")
        for r in diff.renames:
            out(f"  {r['kind']} {escape(r['a'])} -> {escape(r['b'])}{escape(_in(r['graph']))}")


def _constants(records: list[dict[str, Any]], console: Console) -> None:
    """Constant nodes that became initializers (or back): one line per direction and graph,
    naming them; a changed value also shows under Initializers."""
    from rich.markup import escape

    groups: dict[tuple[str, str], list[str]] = {}
    for r in records:
        side = "a" if r["kind"].startswith("Constant") else "b"
        groups.setdefault((r["kind"], r["graph"]), []).append(r[side])
    for (kind, graph), labels in groups.items():
        what = "Constant nodes of A are initializers in B" if kind.startswith("Constant") else \
            "initializers of A are Constant nodes in B"
        console.print(f"[bold]Constants[/]: {len(labels)} {what}{escape(_in(graph))}: "
                      f"{escape(', '.join(labels))}")


def _details(c: dict[str, Any]) -> list[str]:
    lines = []
    for name, (x, y) in c.get("attributes", {}).items():
        lines.append(f"{name}: {_v(x)} -> {_v(y)}")
    if "domain" in c:
        lines.append(f"domain: {c['domain'][0] or 'ai.onnx'} -> {c['domain'][1] or 'ai.onnx'}")
    if "op_version" in c:
        lines.append(f"op version: {c['op_version'][0]} -> {c['op_version'][1]}")
    inputs = c.get("inputs", {})
    if inputs.get("swapped"):
        lines.append("inputs swapped")
    for r in inputs.get("rewired", []):
        lines.append(f"input {r['slot']}: {r['a'] or '(none)'} -> {r['b'] or '(none)'}")
    if "outer" in inputs:
        lines.append(f"outer inputs: {inputs['outer'][0]} -> {inputs['outer'][1]}")
    for slot, pair in c.get("output_types", {}).items():
        note = " (inferred)" if len(pair) > 2 else ""
        lines.append(f"output {slot} type: {pair[0]} -> {pair[1]}{note}")
    for path in c.get("body", []):
        lines.append(f"body {path} differs (see its entries)")
    return lines


def _summary(s: dict[str, Any], console: Console) -> None:
    from rich.markup import escape

    out = console.print
    n = s["nodes"]
    out(f"[bold]Summary[/]: nodes {n['a']} -> {n['b']}, parameters {s['parameters']['a']:,} -> "
        f"{s['parameters']['b']:,} ({s['parameters']['delta']:+,}), bytes {s['bytes']['a']:,} -> "
        f"{s['bytes']['b']:,} ({s['bytes']['delta']:+,})")
    if s["ops"]:
        out("  ops: " + escape(", ".join(f"{op} {x} -> {y}" for op, (x, y) in s["ops"].items())))
    scopes = [(k, v) for k, v in s.get("scopes", {}).items() if v["added"] or v["removed"] or v["changed"]]
    if scopes:
        out("  scopes: " + escape(", ".join(
            f"{k or '(root)'} {v['a']} -> {v['b']} (+{v['added']} -{v['removed']} ~{v['changed']})"
            for k, v in scopes)))
