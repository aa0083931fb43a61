"""The `onnxlite` command: parse arguments, call the library, render. Exit 0 ok, 1 error, 2 usage."""

from onnxlite.cli._main import (
    DUMP_STYLES,
    HIGHLIGHT_MAX_CHARS,
    INFO_STYLES,
    build_parser,
    info_text,
    main,
    onnx_highlighter,
    render_info,
)

__all__ = [
    'build_parser',
    'main',
    'INFO_STYLES',
    'info_text',
    'render_info',
    'DUMP_STYLES',
    'HIGHLIGHT_MAX_CHARS',
    'onnx_highlighter',
]
