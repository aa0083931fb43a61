"""Weights out and back in: every tensor of a model as .npy / .npz / safetensors files, and back."""

from onnxlite.weights._api import (
    FORMATS,
    Manifest,
    ManifestEntry,
    Weight,
    apply_changes,
    changed_weights,
    export_weights,
    iter_weights,
    read_manifest,
    read_weights,
    replace_weights,
    safe_file_name,
    summarize,
)

__all__ = [
    'FORMATS',
    'Manifest',
    'ManifestEntry',
    'Weight',
    'apply_changes',
    'changed_weights',
    'export_weights',
    'iter_weights',
    'read_manifest',
    'read_weights',
    'replace_weights',
    'safe_file_name',
    'summarize',
]
