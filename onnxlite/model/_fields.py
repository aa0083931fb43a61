"""Small property factories shared by the view classes: one line per plain protobuf field."""

from __future__ import annotations

from typing import Any


def scalar(name: str, doc: str = "") -> Any:
    """A read/write property over the scalar protobuf field ``name`` of ``self.proto``."""

    def get(self: Any) -> Any:
        return getattr(self.proto, name)

    def set_(self: Any, value: Any) -> None:
        setattr(self.proto, name, value)

    return property(get, set_, doc=doc or f"The `{name}` field.")


def string_map(name: str, doc: str = "") -> Any:
    """A property exposing a repeated StringStringEntryProto field as a dict (a copy); assigning
    a dict replaces the entries, keeping insertion order."""

    def get(self: Any) -> dict[str, str]:
        return {e.key: e.value for e in getattr(self.proto, name)}

    def set_(self: Any, value: dict[str, str]) -> None:
        field = getattr(self.proto, name)
        del field[:]
        for key, val in value.items():
            entry = field.add()
            entry.key = key
            entry.value = val

    return property(get, set_, doc=doc or f"`{name}` as a dict.")


def string_list(name: str, doc: str = "") -> Any:
    """A read-only property exposing a repeated string field as a tuple."""

    def get(self: Any) -> tuple[str, ...]:
        return tuple(getattr(self.proto, name))

    return property(get, doc=doc or f"`{name}` as a tuple.")


def value_name(name: str, doc: str = "") -> Any:
    """A property over a field holding a value name: readable, but assigning raises EditError naming
    `onnxlite.edit.rename`, which renames every reference in every scope at once (setting the field
    alone would break the graph silently)."""
    from onnxlite.errors import EditError

    def get(self: Any) -> Any:
        return getattr(self.proto, name)

    def set_(self: Any, value: Any) -> None:
        raise EditError(f"cannot set the name of {type(self).__name__} {getattr(self.proto, name)!r} here: "
                        "a value name is read by nodes and graphs; use onnxlite.edit.rename(model, old, new)")

    return property(get, set_, doc=doc or f"The `{name}` field (rename with onnxlite.edit.rename).")
