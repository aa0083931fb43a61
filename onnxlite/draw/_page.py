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
.onnxlite-draw .expanded > rect.frame { fill: #fffaf0; fill-opacity: 0.6; stroke: #c58a21; stroke-width: 1.5;
  stroke-dasharray: 5 2; }
.onnxlite-draw .expanded > text.title { font-size: 10px; fill: #8a5a00; }
"""

PAGE_JS = r"""
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('draw-data').textContent);
  var canvas = document.getElementById('canvas');
  var rootSvg = canvas.querySelector('svg');
  var NS = 'http://www.w3.org/2000/svg';
  var current = 0, tx = 0, ty = 0, scale = 1;
  var stack = [];  // clusters expanded in place in the current view: [name, viewport before, width, height]
  var lower = DATA.index.map(function (e) { return [e[0].toLowerCase(), e[1].toLowerCase()]; });

  function viewport() { return canvas.querySelector('svg > g.viewport'); }
  function apply() {
    viewport().setAttribute('transform', 'translate(' + tx + ',' + ty + ') scale(' + scale + ')');
  }
  function el(tag, text) {
    var e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e;
  }

  function showView(id) {
    while (stack.length) restore();
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
    stack.forEach(function (s) { box.appendChild(document.createTextNode(' + ' + s[0])); });
    document.getElementById('collapse').disabled = DATA.views[current].parent === null && !stack.length;
  }
  function restore() {
    var s = stack.pop(), svg = canvas.querySelector('svg');
    svg.replaceChild(s[1], viewport()); size(svg, s[2], s[3]);
  }
  function collapse() {
    if (stack.length) { restore(); apply(); crumbs(); return; }
    var p = DATA.views[current].parent; if (p !== null) showView(p);
  }

  // Expanding a cluster in place: the drawing of its inside (the cluster's own view, laid out by
  // onnxlite) takes the cluster box's place, framed; what lies below it moves down and what lies to
  // its right in its layer moves right by the growth, edges bend with them, enclosing frames grow,
  // and so on up through every frame holding it. Collapse restores the drawing as it was.
  function num(e, a) { return +e.getAttribute(a); }
  function fmt(v) { return (Math.round(v * 10) / 10).toString(); }
  function shiftOf(g) { return [+(g.dataset.dx || 0), +(g.dataset.dy || 0)]; }
  function moveGroup(g, dx, dy) {
    if (!dx && !dy) return;
    var s = shiftOf(g); g.dataset.dx = s[0] + dx; g.dataset.dy = s[1] + dy;
    g.setAttribute('transform', 'translate(' + fmt(s[0] + dx) + ',' + fmt(s[1] + dy) + ')');
  }
  function size(svg, w, h) {
    svg.setAttribute('width', w); svg.setAttribute('height', h);
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
  }
  // R: the box that grows, in its container's coordinates; R.b: the bottom of its layer (boxes of
  // a layer share their top). Below the layer moves down, right of R within its layer moves right,
  // and the ends of edges leaving R move down with its bottom.
  function delta(x, y, R, dw, dh) {
    if (y > R.b + 0.5) return [0, dh];
    if (y >= R.y + R.h - 0.5 && x >= R.x - 0.5 && x <= R.x + R.w + 0.5) return [0, dh];
    if (x >= R.x + R.w - 0.5 && y >= R.y - 0.5) return [dw, 0];
    return [0, 0];
  }
  function stretch(r, R, dw, dh) {  // a scope frame: moves with what it holds, grows when it holds R
    var x0 = num(r, 'x'), y0 = num(r, 'y'), x1 = x0 + num(r, 'width'), y1 = y0 + num(r, 'height');
    var ay = y0 > R.b + 0.5 ? dh : 0;
    var ax = !ay && x0 >= R.x + R.w - 0.5 && y0 >= R.y - 30 ? dw : 0;
    var bx = !ay && x1 >= R.x + R.w - 0.5 && y1 >= R.y - 0.5 ? dw : 0;
    var by = ay || y1 > R.b + 23 ? dh : 0;
    r.setAttribute('x', fmt(x0 + ax)); r.setAttribute('y', fmt(y0 + ay));
    r.setAttribute('width', fmt(x1 + bx - x0 - ax)); r.setAttribute('height', fmt(y1 + by - y0 - ay));
    return [ax, ay];
  }
  function place(c) {  // a box-like group's rect in its container's coordinates
    var r = c.querySelector(':scope > rect'); if (!r) return null;
    var s = shiftOf(c);
    return { x: num(r, 'x') + s[0], y: num(r, 'y') + s[1], w: num(r, 'width'), h: num(r, 'height') };
  }
  function layerBottom(container, R, skip) {
    var b = R.y + R.h;
    Array.prototype.forEach.call(container.children, function (c) {
      if (c.tagName.toLowerCase() !== 'g' || c.classList.contains('scope') || skip.indexOf(c) >= 0) return;
      var p = place(c);
      if (p && Math.abs(p.y - R.y) < 0.5) b = Math.max(b, p.y + p.h);
    });
    return b;
  }
  function shift(c, R, dw, dh) {
    var tag = c.tagName.toLowerCase(), d;
    if (tag === 'path') {
      c.setAttribute('d', c.getAttribute('d').replace(/(-?[0-9.]+),(-?[0-9.]+)/g, function (m, x, y) {
        var k = delta(+x, +y, R, dw, dh); return fmt(+x + k[0]) + ',' + fmt(+y + k[1]);
      }));
    } else if (tag === 'text') {
      d = delta(num(c, 'x'), num(c, 'y'), R, dw, dh);
      c.setAttribute('x', fmt(num(c, 'x') + d[0])); c.setAttribute('y', fmt(num(c, 'y') + d[1]));
    } else if (tag === 'g' && c.classList.contains('scope')) {
      d = stretch(c.querySelector('rect'), R, dw, dh);
      var t = c.querySelector('text');
      if (t) { t.setAttribute('x', fmt(num(t, 'x') + d[0])); t.setAttribute('y', fmt(num(t, 'y') + d[1])); }
    } else if (tag === 'g') {
      var p = place(c); if (!p) return;
      d = delta(p.x, p.y, R, dw, dh);
      moveGroup(c, d[0], d[1]);
    }
  }
  function grow(container, R, dw, dh, skip) {
    R.b = layerBottom(container, R, skip);
    Array.prototype.slice.call(container.children).forEach(function (c) {
      if (skip.indexOf(c) >= 0 || c.classList.contains('frame') || c.classList.contains('background')) return;
      shift(c, R, dw, dh);
    });
    if (container.classList.contains('viewport')) {
      var svg = container.ownerSVGElement;
      size(svg, fmt(num(svg, 'width') + Math.max(0, dw)), fmt(num(svg, 'height') + Math.max(0, dh)));
      return;
    }
    var frame = container.querySelector(':scope > rect.frame');
    if (!frame) return;
    var s = shiftOf(container);
    var P = { x: num(frame, 'x') + s[0], y: num(frame, 'y') + s[1],
              w: num(frame, 'width'), h: num(frame, 'height') };
    frame.setAttribute('width', fmt(P.w + dw)); frame.setAttribute('height', fmt(P.h + dh));
    grow(container.parentNode, P, dw, dh, [container]);
  }
  function expandInPlace(g) {
    var info = DATA.details['cluster\u0000' + (g.dataset.graph || '') + '\u0000' + g.dataset.name];
    var t = info && info.view !== undefined && document.getElementById('view-' + info.view);
    if (!t) return false;
    var inner = t.content.querySelector('svg'), W = num(inner, 'width'), H = num(inner, 'height');
    var svg = canvas.querySelector('svg');
    stack.push([g.dataset.name, viewport().cloneNode(true), svg.getAttribute('width'),
                svg.getAttribute('height')]);
    var r = g.querySelector(':scope > rect'), s = shiftOf(g);
    var R = { x: num(r, 'x') + s[0], y: num(r, 'y') + s[1], w: num(r, 'width'), h: num(r, 'height') };
    var box = document.createElementNS(NS, 'g');
    box.setAttribute('class', 'expanded'); box.dataset.name = g.dataset.name; box.dataset.view = info.view;
    if (g.dataset.graph) box.dataset.graph = g.dataset.graph;
    box.dataset.dx = R.x; box.dataset.dy = R.y;
    box.setAttribute('transform', 'translate(' + fmt(R.x) + ',' + fmt(R.y) + ')');
    var frame = document.createElementNS(NS, 'rect');
    frame.setAttribute('class', 'frame'); frame.setAttribute('x', 0); frame.setAttribute('y', 0);
    frame.setAttribute('width', fmt(W)); frame.setAttribute('height', fmt(H)); frame.setAttribute('rx', 6);
    var title = document.createElementNS(NS, 'text');
    title.setAttribute('class', 'title'); title.setAttribute('x', 6); title.setAttribute('y', 12);
    title.textContent = g.dataset.name;
    box.appendChild(frame); box.appendChild(title);
    var vp = document.importNode(inner.querySelector('g.viewport'), true);
    while (vp.firstChild) box.appendChild(vp.firstChild);
    g.parentNode.insertBefore(box, g);
    g.style.display = 'none'; g.classList.add('expanded-away');
    grow(box.parentNode, R, W - R.w, H - R.h, [g, box]);
    apply(); crumbs();
    return true;
  }

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
      if (g.style.display !== 'none') {
        var b = el('button', 'Expand here'); b.id = 'expand'; b.onclick = function () { expandInPlace(g); };
        d.appendChild(b);
      }
      var o = el('button', 'Open alone'); o.id = 'open'; o.onclick = function () { showView(info.view); };
      d.appendChild(o);
    }
  }
  function focusBox(id) {
    var g = document.getElementById(id); if (!g) return;
    var r = g.querySelector('rect');
    var x = +r.getAttribute('x') + (+r.getAttribute('width')) / 2;
    var y = +r.getAttribute('y') + (+r.getAttribute('height')) / 2;
    for (var p = g; p && !p.classList.contains('viewport'); p = p.parentNode) {
      var s = shiftOf(p); x += s[0]; y += s[1];
    }
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
    var g = ev.target.closest('g.cluster'); if (g) expandInPlace(g);
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
    showView: showView, search: search, focusBox: focusBox, current: function () { return current; },
    expand: function (name) {
      var g = canvas.querySelector('g.cluster[data-name="' + CSS.escape(name) + '"]');
      return g ? expandInPlace(g) : false;
    },
    collapse: collapse, expanded: function () { return stack.map(function (s) { return s[0]; }); }
  };
  crumbs();
})();
"""
