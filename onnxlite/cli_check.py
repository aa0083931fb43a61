"""``onnxlite check``: validate a model (registered by onnxlite.cli)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``check`` subcommand to ``commands`` (an argparse subparsers object)."""
