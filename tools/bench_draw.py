"""Benchmark `onnxlite draw`: the 10,022-node transformer to .svg and .html (folded, the default,
and --no-fold), a 100,000-node chain, optionally the 64 GiB sparse external-data model of
tools/bench_huge.py, and headless Chromium opening the 10k page and answering a search.

    python tools/bench_draw.py [--huge] [--no-browser] [--grandalf]

Each case runs in a fresh process (load + draw + write, imports excluded): wall and CPU seconds, the
peak RSS of that process (VmHWM: getrusage's ru_maxrss would carry the parent's peak across exec),
and the 1-minute load average when it ended (the machine may be shared: wall time under load is
CPU time stretched; CPU time is the load-independent number).
Anchors measured in the same run: `onnxlite.load` of the same file, and `onnxlite.infer.infer_types`
(the edge types draw asks for). --grandalf lays out the first N nodes of the transformer with
grandalf's SugiyamaLayout next to our layout of the same nodes (grandalf: pip install grandalf).
Targets from issue 14: 10k model < 5 s each format, 100k chain < 30 s, search in the browser < 2 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

_CHILD = r"""
import json, os, sys, time
sys.path.insert(0, {root!r})
import onnxlite
from onnxlite import draw, infer
t0 = time.perf_counter()
c0 = time.process_time()
model = onnxlite.load({src!r})
t1 = time.perf_counter()
if {what!r} == "load":
    pass
elif {what!r} == "infer":
    infer.infer_types(model)
else:
    draw.draw(model, {out!r}, no_fold={no_fold!r})
t2 = time.perf_counter()
cpu = time.process_time() - c0
with open("/proc/self/status") as fh:
    rss = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
print(json.dumps({{"load": t1 - t0, "work": t2 - t1, "cpu": cpu, "rss": rss, "loadavg": os.getloadavg()[0]}}))
"""


def run_case(src: Path, what: str, out: Path | None = None, no_fold: bool = False) -> dict[str, float]:
    code = _CHILD.format(root=str(ROOT), src=str(src), what=what, out=str(out), no_fold=no_fold)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def make_chain(path: Path, n: int) -> None:
    import onnx
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Relu" if i % 2 else "Neg", [f"v{i}"], [f"v{i + 1}"], name=f"n{i}") for i in range(n)
    ]
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("v0", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info(f"v{n}", TensorProto.FLOAT, ["N", 8])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


def browser_search(page: Path) -> float | None:
    """Seconds from opening the page to the answer of a search, in headless Chromium."""
    try:
        sys.path.insert(0, str(ROOT / "tests"))
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from test_draw_browser import start_browser
    except Exception as e:  # noqa: BLE001 - optional part of the benchmark: say why and go on
        print(f"browser: skipped ({e})")
        return None
    with tempfile.TemporaryDirectory() as profile:
        driver = start_browser(profile)
        try:
            driver.get("about:blank")
            t = time.perf_counter()
            driver.get(page.as_uri())  # type: ignore[attr-defined]
            driver.find_element(By.ID, "search").send_keys("down_proj", Keys.ENTER)  # type: ignore[attr-defined]
            driver.find_element(By.ID, "count")  # type: ignore[attr-defined]
            return time.perf_counter() - t
        finally:
            driver.quit()  # type: ignore[attr-defined]


def grandalf_compare(src: Path, sizes: list[int]) -> list[tuple[int, float, float]]:
    import onnxlite
    from onnxlite.draw import _scene
    from onnxlite.draw._layout import layout

    try:
        from grandalf.graphs import Edge, Graph, Vertex
        from grandalf.layouts import SugiyamaLayout
    except ImportError:
        print("grandalf: not installed (pip install grandalf)")
        return []
    model = onnxlite.load(src)
    nodes = list(model.graph.proto.node)
    rows = []
    for n in sizes:
        part = nodes[:n]
        producer: dict[str, int] = {}
        pairs: list[tuple[int, int]] = []
        for i, node in enumerate(part):
            pairs.extend((producer[v], i) for v in node.input if v in producer)
            producer.update((o, i) for o in node.output)
        pairs = list(dict.fromkeys(pairs))

        class View:
            w, h = 80, 30

        vs = [Vertex(i) for i in range(n)]
        for v in vs:
            v.view = View()
        t = time.perf_counter()
        g = Graph(vs, [Edge(vs[a], vs[b]) for a, b in pairs])
        for comp in g.C:
            sug = SugiyamaLayout(comp)
            sug.init_all()
            sug.draw(2)
        ga = time.perf_counter() - t
        boxes = [_scene.Box("node", str(i), "Op", "Op", [], ()) for i in range(n)]
        t = time.perf_counter()
        layout(boxes, pairs)  # type: ignore[arg-type]
        ours = time.perf_counter() - t
        rows.append((n, ga, ours))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--huge", action="store_true", help="also the 64 GiB sparse model of tools/bench_huge.py")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--grandalf", action="store_true")
    ap.add_argument(
        "--model", metavar="PATH", help="a transformer already made by tools/make_big_transformer.py"
    )
    args = ap.parse_args(argv)
    from make_big_transformer import build

    import onnxlite

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        big = Path(args.model) if args.model else work / "transformer.onnx"
        if not args.model:
            onnxlite.save(build(), big)
        chain = work / "chain.onnx"
        make_chain(chain, 100_000)
        sources = {"transformer 10,022 nodes": big, "chain 100,000 nodes": chain}
        if args.huge:
            import bench_huge

            sources["64 GiB sparse external data"] = bench_huge.build(64).path
        rows: list[tuple[str, str, float, dict[str, float], int | None]] = []
        for label, src in sources.items():
            load = run_case(src, "load")
            rows.append((label, "anchor: onnxlite.load", load["load"], load, None))
            inf = run_case(src, "infer")
            rows.append((label, "anchor: infer_types", inf["work"], inf, None))
            for suffix in (".svg", ".html"):
                for no_fold in (False, True):
                    if label.startswith("chain") and no_fold:
                        continue  # a chain has no scopes: the same drawing
                    out = work / f"out{suffix}"
                    r = run_case(src, "draw", out, no_fold)
                    name = f"draw {suffix}" + (" --no-fold" if no_fold else "")
                    rows.append((label, name, r["load"] + r["work"], r, out.stat().st_size))
        print(f"{'model':30} {'case':26} {'seconds':>8} {'cpu s':>6} {'x load':>7} {'peak RSS MB':>12} "
              f"{'file MB':>8} {'loadavg':>8}")
        anchor: dict[str, float] = {}
        for label, name, secs, r, size in rows:
            if name == "anchor: onnxlite.load":
                anchor[label] = secs
            ratio = secs / anchor[label] if anchor.get(label) else float("nan")
            mb = f"{size / 2**20:8.2f}" if size is not None else f"{'':8}"
            rss = r["rss"] / 1024
            print(f"{label:30} {name:26} {secs:8.2f} {r['cpu']:6.2f} {ratio:7.1f} {rss:12.0f} {mb} "
                  f"{r['loadavg']:8.1f}")
        if not args.no_browser:
            page = work / "page.html"
            import onnxlite.draw as d

            d.draw(onnxlite.load(big), page)
            found = browser_search(page)
            if found is not None:
                print(
                    f"headless Chromium: open the 10k page and answer a search: {found:.2f} s (target < 2 s)"
                )
        if args.grandalf:
            print(f"{'nodes':>6} {'grandalf s':>11} {'onnxlite s':>11} {'ratio':>7}")
            for n, ga, ours in grandalf_compare(big, [250, 500, 1000, 2000]):
                print(f"{n:6} {ga:11.2f} {ours:11.3f} {ga / ours:7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
