"""Duplicate keys in a JSON document, with where each one is (Packer refuses them).

Python's `json` keeps the last value of a repeated key and says nothing; Packer's template
parser (`checkForDuplicateFields` in packer-plugin-sdk/template/parse.go) stops with
`template has duplicate field: KEY`, checking every object at every depth. This walks a
document `json.loads` has already accepted and names every repeated key, its place and
the lines of both occurrences.
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

_SPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null")
_NAME = re.compile(r"[A-Za-z_][\w-]*")


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.found: list[str] = []

    def line(self, offset: int) -> int:
        return bisect.bisect_left(self.newlines, offset) + 1

    def skip(self, i: int) -> int:
        m = _SPACE.match(self.text, i)
        return m.end() if m else i

    def value(self, i: int, where: str) -> int:
        """Walk the value at `i`; the offset just past it."""
        i = self.skip(i)
        c = self.text[i]
        if c == "{":
            return self.obj(i + 1, where)
        if c == "[":
            return self.array(i + 1, where)
        if c == '"':
            end: int = scanstring(self.text, i + 1)[1]
            return end
        m = _SCALAR.match(self.text, i)
        assert m is not None, "the document was parsed already"
        return m.end()

    def obj(self, i: int, where: str) -> int:
        seen: dict[str, int] = {}
        i = self.skip(i)
        if self.text[i] == "}":
            return i + 1
        while True:
            i = self.skip(i)
            key, end = scanstring(self.text, i + 1)
            line = self.line(i)
            if key in seen:
                lines = f"both on line {line}" if seen[key] == line else (
                    f"lines {seen[key]} and {line}")  # fmt: skip
                place = f"{where}, {lines}" if where else lines
                self.found.append(f"template has duplicate field: {key} ({place})")
            else:
                seen[key] = line
            child = f"{where}.{key}" if _NAME.fullmatch(key) else f"{where}[{json.dumps(key)}]"
            i = self.value(self.skip(end) + 1, child.lstrip("."))  # past the ':'
            i = self.skip(i)
            if self.text[i] == "}":
                return i + 1
            i += 1  # ','

    def array(self, i: int, where: str) -> int:
        i = self.skip(i)
        if self.text[i] == "]":
            return i + 1
        n = 0
        while True:
            i = self.skip(self.value(i, f"{where}[{n}]"))
            n += 1
            if self.text[i] == "]":
                return i + 1
            i += 1  # ','


def duplicate_fields(text: str) -> list[str]:
    """One message per repeated key of the (valid) JSON `text`, in document order."""
    walker = _Walker(text)
    try:
        walker.value(0, "")
    except RecursionError:
        return ["template has duplicate fields (nested too deeply to say where)"]
    return walker.found
