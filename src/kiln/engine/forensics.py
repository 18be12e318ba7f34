"""Failure forensics: what explains a failed build is kept before its work dir goes.

The report is private: its directory is created 0700 and its files 0600, and every text
file in it (the serial log, QEMU's argv and stderr, the boot command, the HTTP access log)
is copied through the build's redactor as data, so no secret the guest, QEMU or a request
echoed is kept in the clear. Screenshots are copied as they are.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from kiln.engine.state import BuildState
from kiln.ui.redact import Redactor

BINARY_SUFFIXES = (".png", ".ppm")
_CHUNK = 1 << 16


def keep_forensics(state: BuildState[Any], names: Sequence[str]) -> Path | None:
    """Copy the files `names` of the work dir out before it is removed; where they went.

    With -on-error=abort they go into the output directory (`kiln-failure/`), else to
    `<failure_root>/<build>-<time>`.
    """
    present = [state.work_dir / f for f in names if (state.work_dir / f).exists()]
    if not present:
        return None
    if state.keep_output and state.output_dir.is_dir():
        dest = state.output_dir / "kiln-failure"
    else:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        dest = state.options.failure_root / f"{state.name}-{stamp}"
    try:
        private_dir(dest)
        for path in present:
            copy_redacted(path, dest / path.name, state.ui.ui.redact)
    except OSError as err:
        state.ui.error(f"Could not keep the failure report in {dest}: {err}")
        return None
    return dest


def private_dir(path: Path) -> None:
    """`path` and the parents it needs, created 0700; an existing `path` is made 0700."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def copy_redacted(src: Path, dest: Path, redactor: Redactor) -> None:
    """Copy `src` to a new 0600 file `dest`, redacting it unless it is an image."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    if src.suffix in BINARY_SUFFIXES:
        with src.open("rb") as inp, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(inp, out)
        return
    # surrogateescape: bytes that are not UTF-8 (a guest's serial noise) survive unchanged
    with (
        src.open(encoding="utf-8", errors="surrogateescape", newline="") as inp,
        os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as out,
    ):
        for piece in redactor.data_stream(_chunks(inp)):
            out.write(piece)


def _chunks(stream: IO[str]) -> Iterator[str]:
    while chunk := stream.read(_CHUNK):
        yield chunk
