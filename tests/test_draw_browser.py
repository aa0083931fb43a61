"""The .html page in a real browser: headless Chromium from the system packages (CI installs
chromium and chromium-driver with apt-get), driven by selenium. The page opens offline, its SVG as
first drawn passes the same geometry checks as the .svg, and clicking, searching, expanding,
collapsing and a screenshot work. Timing lives in tools/bench_draw.py, not here."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import onnxlite
from onnxlite import draw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_draw import Drawing, build_transformer, expected_edges  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')"
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)",
)

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
)


def start_browser(profile: str) -> object:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with tempfile.TemporaryDirectory() as profile:
        driver = start_browser(profile)
        try:
            yield driver
        finally:
            driver.quit()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, onnxlite.Model]:
    model = build_transformer(layers=4)
    path = tmp_path_factory.mktemp("draw") / "model.html"
    draw.draw(model, path, fold=True)
    return path, model


def _open(browser: object, path: Path) -> None:
    browser.get(path.as_uri())  # type: ignore[attr-defined]


def _svg(browser: object) -> str:
    return browser.execute_script(  # type: ignore[attr-defined, no-any-return]
        "return new XMLSerializer().serializeToString(document.querySelector('#canvas svg'))"
    )


def test_page_opens_offline_with_the_same_drawing(browser: object, page: tuple[Path, onnxlite.Model]) -> None:
    path, model = page
    text = path.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text
    _open(browser, path)
    d = Drawing(_svg(browser))
    d.check_geometry()
    assert d.clusters == {"/model/layers.0..3": (4 * 110, 4)}
    box_of = {
        i: "/model/layers.0..3"
        for i, n in enumerate(model.graph.nodes)
        if n.name.startswith("/model/layers.")
    }
    drawn = [(f, t, v) for fk, f, tk, t, v, g, _ in d.edges if fk != "io" and tk != "io"]
    assert sorted(drawn) == expected_edges(model.graph, box_of)
    assert browser.execute_script("return window.onnxliteDraw.current()") == 0  # type: ignore[attr-defined]


def test_click_shows_details_with_types(browser: object, page: tuple[Path, onnxlite.Model]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, page[0])
    node = browser.find_element(By.CSS_SELECTOR, 'g.node[data-name="/model/embed_tokens/Gather"] rect')  # type: ignore[attr-defined]
    node.click()
    details = browser.find_element(By.ID, "details").text  # type: ignore[attr-defined]
    assert details.startswith("Gather /model/embed_tokens/Gather\n")
    assert "axis 0" in details
    assert "model.embed_tokens.weight float[32,16]" in details
    assert "input_ids int64[batch,sequence]" in details


def test_search_expand_collapse_and_screenshot(
    browser: object, page: tuple[Path, onnxlite.Model], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(browser, page[0])
    box = browser.find_element(By.ID, "search")  # type: ignore[attr-defined]
    box.send_keys("softmax", Keys.ENTER)
    assert browser.find_element(By.ID, "count").text == "4 matches"  # type: ignore[attr-defined]
    hits = browser.find_elements(By.CSS_SELECTOR, "#results div.result")  # type: ignore[attr-defined]
    assert [h.text.split()[1] for h in hits] == [f"/model/layers.{i}/self_attn/Softmax" for i in range(4)]
    hits[2].click()  # layers.2 is folded: its counterpart in the first block is shown
    view = browser.execute_script("return window.onnxliteDraw.current()")  # type: ignore[attr-defined]
    assert view != 0
    hit = browser.find_element(By.CSS_SELECTOR, "g.hit")  # type: ignore[attr-defined]
    assert hit.get_attribute("data-name") == "/model/layers.0/self_attn/Softmax"
    inner = Drawing(_svg(browser), panned=True)
    inner.check_geometry()
    assert inner.kinds["node"] == 110
    browser.find_element(By.ID, "collapse").click()  # type: ignore[attr-defined]
    assert browser.execute_script("return window.onnxliteDraw.current()") == 0  # type: ignore[attr-defined]
    # open the cluster alone (its own view) from its details, then back with Escape
    browser.find_element(By.CSS_SELECTOR, "g.cluster rect").click()  # type: ignore[attr-defined]
    browser.find_element(By.ID, "open").click()  # type: ignore[attr-defined]
    assert browser.execute_script("return window.onnxliteDraw.current()") == view  # type: ignore[attr-defined]
    crumbs = browser.find_element(By.ID, "crumbs").text  # type: ignore[attr-defined]
    assert crumbs.endswith("/model/layers.0..3")
    shot = tmp_path / "shot.png"
    assert browser.save_screenshot(str(shot))  # type: ignore[attr-defined]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)  # type: ignore[attr-defined]
    assert browser.execute_script("return window.onnxliteDraw.current()") == 0  # type: ignore[attr-defined]


_PLACED = """
var vp = document.querySelector('#canvas svg > g.viewport'), base = vp.getBoundingClientRect();
var out = {boxes: [], edges: [], frames: []};
function r(e) { var b = e.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; }
document.querySelectorAll('#canvas g.node, #canvas g.cluster, #canvas g.io').forEach(function (g) {
  if (g.getClientRects().length === 0 || getComputedStyle(g).display === 'none') return;
  out.boxes.push([g.classList[0], g.dataset.graph || '', g.dataset.name, r(g.querySelector('rect')),
                  !!g.closest('g.expanded')]);
});
document.querySelectorAll('#canvas path.edge').forEach(function (p) {
  var n = p.getTotalLength(), a = p.getPointAtLength(0), b = p.getPointAtLength(n), m = p.getScreenCTM();
  out.edges.push([p.dataset.from, p.dataset.to, p.dataset.value, p.dataset.graph || '',
                  [a.x * m.a + a.y * m.c + m.e, a.x * m.b + a.y * m.d + m.f],
                  [b.x * m.a + b.y * m.c + m.e, b.x * m.b + b.y * m.d + m.f], !!p.closest('g.expanded')]);
});
document.querySelectorAll('#canvas g.expanded').forEach(function (g) {
  out.frames.push([g.dataset.name, r(g.querySelector(':scope > rect.frame'))]);
});
return out;
"""


def _placed(browser: object) -> dict[str, list[list[object]]]:
    return browser.execute_script(_PLACED)  # type: ignore[attr-defined, no-any-return]


def _apart(boxes: list[list[object]]) -> None:
    rects = sorted(tuple(b[3]) for b in boxes if b[0] in ("node", "cluster"))  # type: ignore[arg-type]
    for i, (x, y, w, h) in enumerate(rects):
        for x2, y2, w2, h2 in rects[i + 1 :]:
            if x2 >= x + w - 0.2:
                break
            apart = y2 >= y + h - 0.2 or y >= y2 + h2 - 0.2
            assert apart, f"boxes overlap: {(x, y, w, h)} {(x2, y2, w2, h2)}"


def test_expand_and_collapse_in_place(browser: object, page: tuple[Path, onnxlite.Model]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, model = page
    _open(browser, path)
    before = _svg(browser)
    outer = _placed(browser)
    cluster = "/model/layers.0..3"
    browser.find_element(By.CSS_SELECTOR, f'g.cluster[data-name="{cluster}"] rect').click()  # type: ignore[attr-defined]
    browser.find_element(By.ID, "expand").click()  # type: ignore[attr-defined]
    assert browser.execute_script("return window.onnxliteDraw.current()") == 0  # type: ignore[attr-defined]
    assert browser.execute_script("return window.onnxliteDraw.expanded()") == [cluster]  # type: ignore[attr-defined]
    assert browser.find_element(By.ID, "crumbs").text.endswith("+ " + cluster)  # type: ignore[attr-defined]
    placed = _placed(browser)
    _apart(placed["boxes"])  # the block's 110 boxes and everything moved around them: none overlap
    kinds = [b[0] for b in placed["boxes"]]
    assert kinds.count("node") == sum(1 for k in outer["boxes"] if k[0] == "node") + 110
    assert kinds.count("cluster") == 0
    [(name, (fx, fy, fw, fh))] = placed["frames"]
    assert name == cluster
    # every box of the outer view is outside the frame, every box of the block inside it
    inner = {b[2] for b in placed["boxes"] if b[0] == "node" and str(b[2]).startswith("/model/layers.0/")}
    assert len(inner) == 110
    for kind, _, bname, (x, y, w, h), _ in placed["boxes"]:
        holds = fx - 0.5 <= x and x + w <= fx + fw + 0.5 and fy - 0.5 <= y and y + h <= fy + fh + 0.5
        if bname in inner:
            assert holds, bname
        elif kind != "io":
            assert x + w <= fx + 0.5 or x >= fx + fw - 0.5 or y + h <= fy + 0.5 or y >= fy + fh - 0.5, bname
    assert {b[2] for b in placed["boxes"] if b[4] and b[0] == "node"} == inner
    # edges of the outer view still end on their boxes; those into and out of the block on its frame
    where = {(b[0], b[2]): b[3] for b in placed["boxes"] if not b[4] and b[1] == ""}
    outer_edges = [e for e in placed["edges"] if not e[6]]
    assert len(outer_edges) == sum(1 for e in outer["edges"])
    for src, dst, value, _, (x0, y0), (x1, y1), _ in outer_edges:
        for end, (px, py), top in ((src, (x0, y0), False), (dst, (x1, y1), True)):
            if end == cluster:
                assert fx - 0.6 <= px <= fx + fw + 0.6 and abs(py - (fy if top else fy + fh)) < 0.6, value
                continue
            x, y, w, h = where.get(("node", end)) or where[("io", end)]
            assert x - 0.6 <= px <= x + w + 0.6 and abs(py - (y if top else y + h)) < 0.6, (end, value)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)  # type: ignore[attr-defined]
    assert browser.execute_script("return window.onnxliteDraw.expanded()") == []  # type: ignore[attr-defined]
    after = _svg(browser).replace(' class="selected"', "").replace(" selected", "")
    assert after.replace(' transform="translate(0,0) scale(1)"', "", 1) == before  # as first drawn
    # double-click expands too
    cl = browser.find_element(By.CSS_SELECTOR, f'g.cluster[data-name="{cluster}"] rect')  # type: ignore[attr-defined]
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).double_click(cl).perform()
    assert browser.execute_script("return window.onnxliteDraw.expanded()") == [cluster]  # type: ignore[attr-defined]


def test_pan_and_zoom_move_the_root_group_only(browser: object, page: tuple[Path, onnxlite.Model]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    _open(browser, page[0])
    canvas = browser.find_element(By.ID, "canvas")  # type: ignore[attr-defined]
    ActionChains(browser).move_to_element_with_offset(canvas, 10, 10).click_and_hold().move_by_offset(
        60, 40
    ).release().perform()
    transform = browser.find_element(By.CSS_SELECTOR, "#canvas svg > g.viewport").get_attribute("transform")  # type: ignore[attr-defined]
    assert transform == "translate(60,40) scale(1)"
    browser.find_element(By.ID, "fit").click()  # type: ignore[attr-defined]
    transform = browser.find_element(By.CSS_SELECTOR, "#canvas svg > g.viewport").get_attribute("transform")  # type: ignore[attr-defined]
    assert transform.startswith("translate(0,0) scale(0.")


def test_big_transformer_opens_and_answers_a_search(browser: object, tmp_path: Path) -> None:
    model = build_transformer()  # 10,022 nodes: folded by default
    path = tmp_path / "big.html"
    draw.draw(model, path)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(browser, path)
    browser.find_element(By.ID, "search").send_keys("/model/layers.77/mlp/down_proj", Keys.ENTER)  # type: ignore[attr-defined]
    assert browser.find_element(By.ID, "count").text == "1 match"  # type: ignore[attr-defined]
    Drawing(_svg(browser)).check_geometry()


def test_nested_expansions_in_place_keep_boxes_apart(browser: object, tmp_path: Path) -> None:
    model = build_transformer(layers=3)
    path = tmp_path / "depth0.html"
    draw.draw(model, path, depth=0)  # one cluster '/model'; inside it, one per layer, norm, ...
    _open(browser, path)
    before = _svg(browser)
    steps = ["/model", "/model/layers.1", "/model/layers.1/self_attn"]
    for k, name in enumerate(steps):
        assert browser.execute_script("return window.onnxliteDraw.expand(arguments[0])", name)  # type: ignore[attr-defined]
        placed = _placed(browser)
        _apart(placed["boxes"])
        assert [f[0] for f in placed["frames"]] == steps[: k + 1]
        frames = dict(placed["frames"])
        for outer_name, inner_name in zip(steps[:k], steps[1 : k + 1], strict=True):
            ox, oy, ow, oh = frames[outer_name]
            x, y, w, h = frames[inner_name]
            assert ox <= x and x + w <= ox + ow + 0.6 and oy <= y and y + h <= oy + oh + 0.6
    shown = sum(1 for b in _placed(browser)["boxes"] if b[0] == "node")
    assert shown >= sum(1 for n in model.graph.nodes if n.name.startswith("/model/layers.1/self_attn/"))
    for k in range(len(steps)):
        browser.execute_script("window.onnxliteDraw.collapse()")  # type: ignore[attr-defined]
        assert browser.execute_script("return window.onnxliteDraw.expanded()") == steps[: len(steps) - k - 1]  # type: ignore[attr-defined]
    assert _svg(browser).replace(' transform="translate(0,0) scale(1)"', "", 1) == before
