"""Diagnostics that point into the file, in the spirit of HCL's own.

    Error: Unsupported argument

      on template.pkr.hcl:12:3, in source "qemu" "debian":
      12:   disk_sise = "10G"
            ^^^^^^^^^

    An argument named "disk_sise" is not expected here. Did you mean "disk_size"?

`Sources` remembers the text (and, once parsed, the body) of every file read, so that a
diagnostic raised anywhere can show its line and the block it is in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from kiln.errors import KilnError
from kiln.template.hcl2.ast import Block, Body, Range


class Diagnostic(NamedTuple):
    summary: str
    detail: str
    subject: Range | None = None
    warning: bool = False


class Sources:
    """The text and parsed body of each file, by the name used in ranges."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.bodies: dict[str, Body] = {}

    def add(self, filename: str, text: str) -> None:
        self.texts[filename] = text

    def line(self, filename: str, line: int) -> str | None:
        text = self.texts.get(filename)
        if text is None:
            return None
        lines = text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None

    def context(self, rng: Range) -> str:
        """`source "qemu" "x"`: the innermost block holding `rng`, as HCL names it."""
        body = self.bodies.get(rng.filename)
        if body is None:
            return _context_from_text(self.texts.get(rng.filename, ""), rng.start.line)
        found: Block | None = None
        while body is not None:
            inner = next((b for b in body.blocks if _contains(b, rng)), None)
            if inner is None:
                break
            found, body = inner, inner.body
        if found is None:
            return ""
        return " ".join([found.type, *(f'"{label}"' for label in found.labels)])


_HEADER = re.compile(r'\s*([^\W\d][\w-]*)((?:\s+(?:"[^"]*"|[^\W\d][\w-]*))*)\s*\{\s*(?:#.*|//.*)?$')


def _context_from_text(text: str, line: int) -> str:
    """The block around `line` of a file that did not parse: block headers and closing
    braces on lines of their own, as nearly every template writes them."""
    stack: list[str] = []
    for src in text.splitlines()[: max(line - 1, 0)]:
        m = _HEADER.match(src)
        if m:
            labels = re.findall(r'"[^"]*"|[^\W\d][\w-]*', m.group(2))
            labels = [lb if lb.startswith('"') else f'"{lb}"' for lb in labels]
            stack.append(" ".join([m.group(1), *labels]))
        elif src.strip() == "}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _contains(block: Block, rng: Range) -> bool:
    """Is `rng` inside the block (its own header counts as its parent's)?"""
    start, end = block.range.start, block.body.range.end
    return start < rng.start <= end


def def_range(block: Block) -> Range:
    """The block's type and labels (HCL's `DefRange`): where a diagnostic about the whole
    block points, without its `{`."""
    last = block.label_ranges[-1] if block.label_ranges else block.type_range
    if not block.type_range.filename:
        return block.range
    return Range(block.type_range.filename, block.type_range.start, last.end)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`' Did you mean "x"?'` as HCL words it: Packer's rule (an edit distance below 3)
    first, then kiln's closer look (a case or `-`/`_` difference), or an empty string."""
    from kiln.suggest import closest, name_suggestion

    pool = list(candidates)
    best = name_suggestion(name, pool) or closest(name, pool)
    return f' Did you mean "{best}"?' if best else ""


def format_diagnostic(diag: Diagnostic, sources: Sources | None) -> str:
    head = f"{'Warning' if diag.warning else 'Error'}: {diag.summary}"
    out = [head]
    rng = diag.subject
    if rng is not None and rng.filename:
        ctx = sources.context(rng) if sources else ""
        out.append("")
        out.append(f"  on {rng}" + (f", in {ctx}:" if ctx else ":"))
        src = sources.line(rng.filename, rng.start.line) if sources else None
        if src is not None:
            prefix = f"  {rng.start.line:>3}: "
            out.append(prefix + src.replace("\t", " "))
            if rng.end.line == rng.start.line:
                width = max(rng.end.column - rng.start.column, 1)
            else:
                width = max(len(src) - rng.start.column + 1, 1)
            out.append(" " * (len(prefix) + rng.start.column - 1) + "^" * width)
    if diag.detail:
        out.append("")
        out.append(diag.detail)
    return "\n".join(out)


class HCLError(KilnError):
    """One or more error diagnostics; `str()` shows them all, with the source lines."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: Sources | None = None):
        self.diagnostics = [d for d in diagnostics if not d.warning]
        self.sources = sources
        super().__init__(self.format())

    def format(self) -> str:
        return "\n\n".join(format_diagnostic(d, self.sources) for d in self.diagnostics)

    def with_sources(self, sources: Sources) -> HCLError:
        return HCLError(self.diagnostics, sources)
