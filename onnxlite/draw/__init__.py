"""Draw a model: a layered top-to-bottom picture as SVG, a self-contained HTML page, or DOT.

Everything is computed here in Python (no graphviz, no browser, no network). Scopes from node
names (``/model/layers.3/self_attn/q_proj/MatMul``) or torch's name-scope metadata become nested
frames; repeated blocks are folded ("x 32") on graphs over 1,000 nodes; If/Loop/Scan bodies are
drawn beside their node, model-local functions once each beside the main graph. Weights are never
read: initializers are drawn as boxes (small graphs) or summarized in their readers, by type.

Example::

    from onnxlite import draw
    draw.draw("model.onnx", "model.html")                 # or .svg / .dot
    svg = draw.to_svg(model, depth=2, expand=["/model/layers.3"])
"""

from onnxlite.draw._api import DrawError, draw, to_dot, to_html, to_svg

__all__ = ["DrawError", "draw", "to_dot", "to_html", "to_svg"]
