"""The CSS and JavaScript inlined into the HTML page (no network, no libraries)."""

PAGE_CSS = """
html, body { margin: 0; height: 100%; font-family: Helvetica, Arial, sans-serif; font-size: 13px; }
#bar { position: fixed; top: 0; left: 0; right: 0; height: 38px; display: flex; gap: 8px; align-items: center;
  padding: 0 10px; background: #24324a; color: #fff; z-index: 3; }
#bar input { width: 260px; padding: 4px 6px; border-radius: 3px; border: 0; }
#bar button { padding: 3px 8px; }
#crumbs { flex: 1; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
#crumbs a { color: #9fd0ff; cursor: pointer; text-decoration: underline; }
#canvas { position: fixed; top: 38px; left: 0; right: 340px; bottom: 0; overflow: hidden; cursor: grab;
  background: #fff; }
#canvas.dragging { cursor: grabbing; }
#side { position: fixed; top: 38px; right: 0; width: 340px; bottom: 0; overflow: auto;
  border-left: 1px solid #ccd;
  background: #fafbfd; padding: 8px; box-sizing: border-box; }
#results div { padding: 2px 4px; cursor: pointer; border-bottom: 1px solid #eef; word-break: break-all; }
#results div:hover { background: #e4ecf8; }
#details table { border-collapse: collapse; width: 100%; }
#details td { border-top: 1px solid #e3e6ee; padding: 2px 4px; vertical-align: top; word-break: break-all; }
#details h3 { margin: 4px 0; font-size: 14px; word-break: break-all; }
.onnxlite-draw .hit rect { stroke: #e0218a !important; stroke-width: 3 !important; }
.onnxlite-draw .selected rect { stroke: #ff8c00 !important; stroke-width: 3 !important; }
.onnxlite-draw .node, .onnxlite-draw .cluster, .onnxlite-draw .io { cursor: pointer; }
"""

PAGE_JS = r"""
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('draw-data').textContent);
  var canvas = document.getElementById('canvas');
  var rootSvg = canvas.querySelector('svg');
  var current = 0, tx = 0, ty = 0, scale = 1;
  var lower = DATA.index.map(function (e) { return [e[0].toLowerCase(), e[1].toLowerCase()]; });

  function viewport() { return canvas.querySelector('svg > g.viewport'); }
  function apply() {
    viewport().setAttribute('transform', 'translate(' + tx + ',' + ty + ') scale(' + scale + ')');
  }
  function el(tag, text) {
    var e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e;
  }

  function showView(id) {
    var svg;
    if (id === 0) { svg = rootSvg; } else {
      var t = document.getElementById('view-' + id);
      svg = document.importNode(t.content.querySelector('svg'), true);
    }
    canvas.replaceChildren(svg);
    current = id; tx = 0; ty = 0; scale = 1;
    var vp = viewport(); vp.removeAttribute('transform');
    crumbs();
  }
  function crumbs() {
    var box = document.getElementById('crumbs'); box.replaceChildren();
    var chain = [], v = current;
    while (v !== null && v !== undefined) { chain.unshift(v); v = DATA.views[v].parent; }
    chain.forEach(function (id, k) {
      if (k) box.appendChild(document.createTextNode(' \u203a '));
      var a = el('a', DATA.views[id].title); a.className = 'crumb'; a.dataset.view = id;
      a.onclick = function () { showView(id); };
      box.appendChild(a);
    });
    document.getElementById('collapse').disabled = DATA.views[current].parent === null;
  }
  function collapse() { var p = DATA.views[current].parent; if (p !== null) showView(p); }

  function row(table, a, b) {
    var tr = el('tr'); tr.appendChild(el('td', a)); tr.appendChild(el('td', b)); table.appendChild(tr);
  }
  function details(g) {
    var d = document.getElementById('details'); d.replaceChildren();
    canvas.querySelectorAll('.selected').forEach(function (e) { e.classList.remove('selected'); });
    g.classList.add('selected');
    var graph = g.dataset.graph || '', name = g.dataset.name;
    var kind = g.classList.contains('node') ? 'node' : g.classList.contains('cluster') ? 'cluster' : 'io';
    var info = DATA.details[kind + '\u0000' + graph + '\u0000' + name] || {};
    d.appendChild(el('h3', (kind === 'node' ? g.dataset.op + ' ' : '') + name));
    var t = el('table'); d.appendChild(t);
    if (graph) row(t, 'graph', graph);
    (info.facts || []).forEach(function (f) { row(t, f[0], f[1]); });
    [['attributes', info.attrs], ['inputs', info.inputs], ['outputs', info.outputs]].forEach(function (sec) {
      if (!sec[1] || !sec[1].length) return;
      var h = el('tr'); var td = el('td', sec[0]); td.colSpan = 2; td.style.fontWeight = 'bold';
      h.appendChild(td); t.appendChild(h);
      sec[1].forEach(function (p) { row(t, p[0], p[1]); });
    });
    if (kind === 'cluster' && info.view !== undefined) {
      var b = el('button', 'Expand'); b.id = 'expand'; b.onclick = function () { showView(info.view); };
      d.appendChild(b);
    }
  }
  function focusBox(id) {
    var g = document.getElementById(id); if (!g) return;
    var r = g.querySelector('rect');
    var x = +r.getAttribute('x') + (+r.getAttribute('width')) / 2;
    var y = +r.getAttribute('y') + (+r.getAttribute('height')) / 2;
    scale = 1; tx = canvas.clientWidth / 2 - x; ty = canvas.clientHeight / 2 - y; apply();
    canvas.querySelectorAll('.hit').forEach(function (e) { e.classList.remove('hit'); });
    g.classList.add('hit'); details(g);
  }
  function search(q) {
    var out = document.getElementById('results'); out.replaceChildren();
    q = q.trim().toLowerCase(); if (!q) return 0;
    var n = 0, total = 0;
    for (var i = 0; i < lower.length; i++) {
      if (lower[i][0].indexOf(q) < 0 && lower[i][1] !== q) continue;
      total++;
      if (n >= 200) continue;
      n++;
      var e = DATA.index[i], div = el('div', e[1] + '  ' + e[0] + (e[5] ? '  (' + e[5] + ')' : ''));
      div.className = 'result'; div.dataset.view = e[3]; div.dataset.box = 'v' + e[4];
      div.onclick = function () { showView(+this.dataset.view); focusBox(this.dataset.box); };
      out.appendChild(div);
    }
    var head = el('div', total + ' match' + (total === 1 ? '' : 'es')); head.id = 'count';
    out.insertBefore(head, out.firstChild);
    return total;
  }

  canvas.addEventListener('click', function (ev) {
    var g = ev.target.closest('g.node, g.cluster, g.io'); if (g) details(g);
  });
  canvas.addEventListener('dblclick', function (ev) {
    var g = ev.target.closest('g.cluster'); if (!g) return;
    var info = DATA.details['cluster\u0000' + (g.dataset.graph || '') + '\u0000' + g.dataset.name];
    if (info && info.view !== undefined) showView(info.view);
  });
  var drag = null;
  canvas.addEventListener('mousedown', function (ev) {
    drag = [ev.clientX - tx, ev.clientY - ty]; canvas.classList.add('dragging');
  });
  window.addEventListener('mouseup', function () { drag = null; canvas.classList.remove('dragging'); });
  window.addEventListener('mousemove', function (ev) {
    if (!drag) return; tx = ev.clientX - drag[0]; ty = ev.clientY - drag[1]; apply();
  });
  canvas.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
    var k = Math.exp(-ev.deltaY * 0.0015), s = Math.min(8, Math.max(0.02, scale * k)); k = s / scale;
    tx = px - (px - tx) * k; ty = py - (py - ty) * k; scale = s; apply();
  }, { passive: false });
  var input = document.getElementById('search');
  input.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') search(input.value); });
  document.getElementById('go').onclick = function () { search(input.value); };
  document.getElementById('fit').onclick = function () {
    var svg = canvas.querySelector('svg'), w = +svg.getAttribute('width'), h = +svg.getAttribute('height');
    scale = Math.min(1, canvas.clientWidth / w, canvas.clientHeight / h); tx = 0; ty = 0; apply();
  };
  document.getElementById('collapse').onclick = collapse;
  window.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') collapse(); });
  window.onnxliteDraw = {
    showView: showView, search: search, focusBox: focusBox, current: function () { return current; }
  };
  crumbs();
})();
"""
