"""Argument types shared by the subcommands (argparse `type=` callables)."""

from __future__ import annotations

import argparse


def non_negative(text: str) -> int:
    """A whole number >= 0 (depths, counts, byte thresholds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value
