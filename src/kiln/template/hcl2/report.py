"""Validation errors of an HCL2 template, pointed into its files.

Option decoding and Packer's Prepare checks are shared with JSON templates and report plain
messages naming the option; for an HCL template each message is shown as a diagnostic at
the attribute it names (or at its block), with the source line and a caret. Decoding
problems take the words Packer 1.6.6 uses for HCL (hcldec's `Unsupported argument`,
`Unsupported block type`, `Incorrect attribute value type`) instead of the JSON wording
(mapstructure's `unknown configuration key`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from kiln.template.hcl2.ast import Range
from kiln.template.hcl2.diagnostics import Diagnostic, Sources, format_diagnostic
from kiln.template.hcl2.model import Hcl2Info, Scope

_STEP = re.compile(r"^(provisioner \d+|error-cleanup-provisioner|post-processor \d+(?:\.\d+)?)"
                   r"(?: \([^)]*\))?: ")  # fmt: skip
_BUILD_HEADER = re.compile(r'^Error: Failed to prepare build: "(.*)"$')

# kiln.options.decode's unknown key (JSON's wording), and kiln.options.hcltypes's type
# mismatch (already Packer's HCL wording).
_UNKNOWN_KEY = re.compile(r"""^unknown configuration key: '"(?P<key>.*)"'"""
                          r"""(?: — did you mean "(?P<best>[^"]*)"\?)?$""")  # fmt: skip
_MISMATCH = re.compile(r'^Inappropriate value for attribute "(?P<key>[^"]*)": ')
_UNKNOWN_TYPE = re.compile(r"^(?P<kind>provisioner|post-processor) type '(?P<type>[^']*)' is "
                           r"not supported by kiln")  # fmt: skip
# A Prepare check about an option that is not set: its place is the block, not an attribute.
_MISSING = re.compile(r"must be (?:specified|set)\b|\bis required\b|\bare required\b")


class _Worded(NamedTuple):
    summary: str
    detail: str
    subject: Range


def _hcl_wording(message: str, scope: Scope) -> _Worded | None:
    """Packer's HCL summary and detail for a decoding problem of `scope`'s block."""
    m = _UNKNOWN_KEY.match(message)
    if m:
        key, best = m.group("key"), m.group("best")
        hint = f' Did you mean "{best}"?' if best else ""
        where = scope.names.get(key, scope.header)
        if key in scope.blocks:
            detail = f'Blocks of type "{key}" are not expected here.{hint}'
            return _Worded("Unsupported block type", detail, where)
        detail = f'An argument named "{key}" is not expected here.{hint}'
        return _Worded("Unsupported argument", detail, where)
    m = _MISMATCH.match(message)
    if m:
        key = m.group("key")
        where = scope.values.get(key, scope.names.get(key, scope.header))
        return _Worded("Incorrect attribute value type", message, where)
    m = _UNKNOWN_TYPE.match(message)
    if m:
        return _Worded(f'Unknown {m.group("kind")} type "{m.group("type")}"', message,
                       scope.type_label or scope.header)  # fmt: skip
    return None


def _locate(message: str, scope: Scope, sources: Sources) -> Range:
    """The attribute a message is about: the option it names first, else the option whose
    value holds a word of the message (`sha257`), else the block. A message about an
    option that is not set (`An ssh_username must be specified`) names no attribute of
    the block: it is about the block, whatever words its note shares with a value."""
    best: tuple[int, str] | None = None
    for name in scope.names:
        m = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message)
        if m and (best is None or (m.start(), -len(name)) < (best[0], -len(best[1]))):
            best = (m.start(), name)
    if best is not None:
        name = best[1]
        unknown = re.search(r"unknown|unsupported|not expected", message, re.I)
        return scope.names[name] if unknown else scope.values.get(name, scope.names[name])
    if _MISSING.search(message):
        return scope.header
    words = set(re.findall(r"[\w./:-]{3,}", message))
    for rng in scope.values.values():
        text = _text(sources, rng)
        if any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text) for w in words):
            return rng
    return scope.header


def _text(sources: Sources, rng: Range) -> str:
    lines = sources.texts.get(rng.filename, "").splitlines()[rng.start.line - 1 : rng.end.line]
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0][rng.start.column - 1 : rng.end.column - 1]
    return "\n".join([lines[0][rng.start.column - 1 :], *lines[1:-1],
                      lines[-1][: rng.end.column - 1]])  # fmt: skip


def diagnostics_for(
    info: Hcl2Info, groups: Sequence[tuple[str, Sequence[str]]]
) -> list[Diagnostic]:
    out = []
    for header, errors in groups:
        m = _BUILD_HEADER.match(header)
        build = m.group(1) if m else ""
        for error in errors:
            step = _STEP.match(error)
            scope: Scope | None
            if step:
                scope = info.steps.get(step.group(1))
                message = error[step.end() :]
            else:
                scope = info.builders.get(build)
                message = error
            summary = f'Failed to prepare build "{build}"' if build else "Invalid template"
            if scope is None:
                out.append(Diagnostic(summary, error, None))
                continue
            worded = _hcl_wording(message, scope)
            if worded is not None:
                out.append(Diagnostic(*worded))
                continue
            out.append(Diagnostic(summary, message, _locate(message, scope, info.sources)))
    return out


def format_failure(info: Hcl2Info, groups: Sequence[tuple[str, Sequence[str]]]) -> str:
    diags = diagnostics_for(info, groups)
    return "\n\n".join(format_diagnostic(d, info.sources) for d in diags)
