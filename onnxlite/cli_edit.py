"""The editing subcommands (registered by onnxlite.cli)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the editing subcommands to ``commands`` (an argparse subparsers object)."""
