"""Editing values and nodes, each in one call that keeps the whole model consistent."""

from onnxlite.edit._edit import (
    add_initializer,
    add_input,
    add_output,
    insert_node,
    remove_initializer,
    remove_input,
    remove_node,
    remove_output,
    rename,
    replace_all_uses,
)

__all__ = [
    'rename',
    'replace_all_uses',
    'remove_node',
    'add_output',
    'remove_output',
    'remove_input',
    'add_initializer',
    'remove_initializer',
    'add_input',
    'insert_node',
]
