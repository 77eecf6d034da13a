"""JSON values on the wire: Python objects to and from `google.protobuf.Value`.

Every JSON value of the API (inputs, outputs, signal payloads, query results, heartbeat details)
is a `google.protobuf.Value`, whose numbers are IEEE doubles. So that integers survive the round
trip, the rule is:

* Python → Value: `None`, `bool`, `int`, `float`, `str`, mappings with `str` keys and lists or
  tuples (nested freely). An `int` must lie within ±2**53 (the integers a double holds exactly);
  a larger one raises `ValueError` (send it as a string). NaN and infinities raise `ValueError`.
* Value → Python: a number that is whole and within ±2**53 comes back as `int`, any other number
  as `float`. So `{"i": 7}` comes back as `{"i": 7}`, `2.5` as `2.5` — and `7.0` as `7` (JSON does
  not tell `7.0` from `7`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Union

from google.protobuf import struct_pb2

#: The largest integer magnitude that round-trips exactly: 2**53.
MAX_SAFE_INTEGER = 2**53

JSON = Union[None, bool, int, float, str, list, dict]


def to_value(obj: Any) -> struct_pb2.Value:
    """Converts a JSON-compatible Python object to a `google.protobuf.Value`."""
    value = struct_pb2.Value()
    _fill(value, obj, "value")
    return value


def to_struct(obj: Mapping[str, Any]) -> struct_pb2.Struct:
    """Converts a mapping with string keys to a `google.protobuf.Struct`."""
    if not isinstance(obj, Mapping):
        raise TypeError(f"expected a mapping, got {type(obj).__name__}")
    struct = struct_pb2.Struct()
    for key, item in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"object keys must be str, got {key!r}")
        _fill(struct.fields[key], item, key)
    return struct


def from_value(value: struct_pb2.Value | None) -> JSON:
    """Converts a `google.protobuf.Value` back to Python (whole numbers within ±2**53 as `int`)."""
    if value is None:
        return None
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        if number.is_integer() and abs(number) <= MAX_SAFE_INTEGER:
            return int(number)
        return number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return {key: from_value(item) for key, item in value.struct_value.fields.items()}
    if kind == "list_value":
        return [from_value(item) for item in value.list_value.values]
    return None  # null_value, or unset


def optional_value(message: Any, field: str) -> JSON:
    """`from_value(message.field)` when the field is set, else None."""
    return from_value(getattr(message, field)) if message.HasField(field) else None


def _fill(target: struct_pb2.Value, obj: Any, path: str) -> None:
    if obj is None:
        target.null_value = struct_pb2.NULL_VALUE
    elif isinstance(obj, bool):
        target.bool_value = obj
    elif isinstance(obj, int):
        if abs(obj) > MAX_SAFE_INTEGER:
            raise ValueError(f"{path}: the integer {obj} is beyond ±2**53 and would lose precision "
                             f"as a JSON number; send it as a string")
        target.number_value = float(obj)
    elif isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"{path}: {obj} is not a JSON number")
        target.number_value = obj
    elif isinstance(obj, str):
        target.string_value = obj
    elif isinstance(obj, Mapping):
        struct = target.struct_value
        struct.SetInParent()
        for key, item in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object keys must be str, got {key!r}")
            _fill(struct.fields[key], item, f"{path}.{key}")
    elif isinstance(obj, (list, tuple)):
        items = target.list_value
        items.SetInParent()
        for index, item in enumerate(obj):
            _fill(items.values.add(), item, f"{path}[{index}]")
    else:
        raise TypeError(f"{path}: {type(obj).__name__} is not a JSON value "
                        f"(use None, bool, int, float, str, dict or list)")
