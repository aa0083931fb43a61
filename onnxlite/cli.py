"""The `onnxlite` command: parse arguments, call the library, render. Exit 0 ok, 1 error, 2 usage."""

from __future__ import annotations

import argparse
import sys

from onnxlite._version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onnxlite",
        description="Inspect, convert and edit ONNX files without the onnx package.",
    )
    parser.add_argument("--version", action="version", version=f"onnxlite {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return 0
