"""Comparing kiln's output with Packer 1.6.6's, captured in tests/data/packer166.

Both streams are normalised (timestamps, ports, paths, durations, the ISO's digest, the
name of Packer's inline-script file, the VNC hint whose text differs on purpose) and then
every Packer line must appear in kiln's, in the same order; kiln may add only the lines
`KILN_ADDITIONS` describes, which docs/compatibility.md lists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

CAPTURES = Path(__file__).resolve().parent / "data" / "packer166"
CAPTURE_REPO = "/work/wt/firsthour"  # where the repository was when the captures were made

_DURATION = re.compile(
    r"\d+ (year|week|day|hour|minute|second|millisecond|microsecond)s?"
    r"( \d+ (year|week|day|hour|minute|second|millisecond|microsecond)s?)?"
)
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d): ")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Lines kiln adds to Packer's (after normalisation); docs/compatibility.md lists them.
_PREFIX = r"^(?:,ui,message,|<T>: )?"  # a machine-readable ui line, or a timestamped one
KILN_ADDITIONS = (
    re.compile(_PREFIX + r"    \w+: HTTP (GET|HEAD) /\S* -> \d+$"),  # the guest's requests
    re.compile(_PREFIX + r"    \w+: VM shut down\.$"),
    re.compile(_PREFIX + r"    \w+: Step timings:"),  # then one line per step (human output)
    re.compile(r"^    \w+: [a-z][a-z ]+ +\d+\.\d\ds$"),
    re.compile(r"^\w+,(step-timing|build-time),"),
)


def normalise(line: str, *, out_dirs: Sequence[str] = (), repo: str = "") -> str:
    line = _ANSI.sub("", line)
    line = _RFC3339.sub("<T>: ", line)
    for out in out_dirs:
        line = line.replace(out, "<out>")
    for root in (repo, CAPTURE_REPO):
        if root:
            line = line.replace(root, "<repo>")
    line = _DURATION.sub("<duration>", line)
    line = re.sub(r"port \d+", "port <port>", line)
    line = re.sub(r"etc(\)|%!\(PACKER_COMMA\)\)|\)): \d+\.", r"etc\1: <port>.", line)
    line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", line)
    line = re.sub(r"vnc://\S*.*$", "vnc://<vnc>", line)  # 1.6.6 prints the display number
    line = re.sub(r"(sha256(%3A|:))[0-9a-f]{64}", r"\1<hex>", line)
    line = re.sub(r"/tmp/packer-shell\d+", "<inline script>", line)
    return line


def machine_rows(text: str, **kw: object) -> list[str]:
    """`target,type,data…` of each machine-readable line (timestamp dropped), normalised."""
    rows = []
    for line in text.splitlines():
        stamp, _, rest = line.partition(",")
        assert stamp.isdigit(), f"not a machine-readable line: {line!r}"
        rows.append(normalise(rest, **kw))  # type: ignore[arg-type]
    return rows


def human_lines(text: str, **kw: object) -> list[str]:
    """The human output's lines, normalised; Packer's colour announcement (written even
    into a pipe) and the blank line after it are left out, as kiln colours only terminals."""
    lines = [normalise(line, **kw) for line in text.splitlines()]  # type: ignore[arg-type]
    if lines and lines[0].endswith(": output will be in this color."):
        lines = lines[2:]
    return lines


def compare(packer: Sequence[str], kiln: Sequence[str]) -> list[str]:
    """Problems: Packer lines missing from kiln's (in order), kiln lines that are no listed
    addition. Empty when kiln's stream is Packer's plus documented additions."""
    problems: list[str] = []
    i = 0
    for want in packer:
        j = i
        while j < len(kiln) and kiln[j] != want:
            j += 1
        if j == len(kiln):
            problems.append(f"Packer's line not found (in order) in kiln's: {want!r}")
            continue
        problems.extend(_extras(kiln[i:j]))
        i = j + 1
    problems.extend(_extras(kiln[i:]))
    return problems


def _extras(lines: Sequence[str]) -> list[str]:
    return [
        f"kiln line that Packer does not write (and is no listed addition): {line!r}"
        for line in lines
        if not any(p.search(line) for p in KILN_ADDITIONS)
    ]
