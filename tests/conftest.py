"""pytest hooks shared by every test file: the report header names the protobuf and onnx the run
uses (CI runs the suite on the newest protobuf with the pinned onnx oracle, and on protobuf 4.25
with the newest onnx that accepts it)."""

from __future__ import annotations

import importlib.metadata

import pytest


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def pytest_report_header(config: pytest.Config) -> list[str]:
    from google.protobuf.internal import api_implementation

    return [f"protobuf {_version('protobuf')} ({api_implementation.Type()}), onnx {_version('onnx')}, "
            f"onnx-ir {_version('onnx-ir')}, numpy {_version('numpy')}, ml_dtypes {_version('ml_dtypes')}"]
