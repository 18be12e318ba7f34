"""Naming a JSON value's type in messages ("got a list", "got an object")."""

from __future__ import annotations


def json_kind(value: object) -> str:
    """`a string`, `a number`, `a boolean`, `a list`, `an object` or `null`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
