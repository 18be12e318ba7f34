"""Collecting the host files that go onto a floppy or CD, with Packer's path rules.

Shared by `floppy` and `cdrom`. Paths in templates are relative to `base` (the
directory Packer would use: the working directory). An image path is a relative
POSIX path inside the image (``dir/file``); a source is a host `Path` (a directory
source means "create this directory") or the file's bytes.
"""

from __future__ import annotations

import errno
import glob
import os
import posixpath
from collections.abc import Iterator
from pathlib import Path

from kiln.errors import KilnError

Entry = tuple[str, Path | bytes]

GLOB_CHARS = "*?["


class MediaError(KilnError):
    """A floppy or CD image cannot be built as configured."""


def has_glob(pattern: str) -> bool:
    """Packer treats an entry as a glob when it contains any of ``*?[``."""
    return any(ch in pattern for ch in GLOB_CHARS)


def glob_problem(pattern: str) -> str | None:
    """Go's ``filepath.Glob`` error for `pattern` (only malformed classes fail)."""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("^", "!") else i + 1)
            if end < 0:
                return "syntax error in pattern"
            i = end
        i += 1
    return None


NO_MATCH = "the pattern matches no file"


def glob_problem_or_no_match(pattern: str, base: Path) -> str | None:
    """`glob_problem`, or `NO_MATCH` for a well-formed pattern that matches nothing.

    Packer accepts a glob that matches nothing and leaves the image without those files
    (a driver floppy without its drivers); kiln refuses it."""
    return glob_problem(pattern) or (None if expand_glob(pattern, base) else NO_MATCH)


def expand_glob(pattern: str, base: Path) -> list[str]:
    """Matches of `pattern`, sorted, as paths written like the pattern (relative stays
    relative). Like Go, ``*`` also matches names starting with a dot."""
    matches = glob.glob(pattern, root_dir=base, include_hidden=True)
    return sorted(matches)


def stat_problem(path: str, base: Path) -> str | None:
    """Go's ``os.Stat`` error text for `path`, e.g. ``stat x: no such file or directory``."""
    if "\0" in path:
        return f"stat {path!r}: invalid argument (the path contains a NUL character)"
    try:
        os.stat(base / path)
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        if err.errno == errno.ENOENT:
            reason = "no such file or directory"
        return f"stat {path}: {reason[:1].lower()}{reason[1:]}"
    return None


def walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Every directory and file under `root` as (relative POSIX path, host path), sorted.

    Directories come before their contents. Symlinks are followed: the link's target is
    copied where the link is (as Packer documents for `cd_files`); a link back to a
    directory being walked is skipped, so loops end.
    """
    seen = {os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        kept = []
        for name in sorted(dirnames):
            real = os.path.realpath(here / name)
            if real in seen:
                continue
            seen.add(real)
            kept.append(name)
            yield prefix + name, here / name
        dirnames[:] = kept
        for name in sorted(filenames):
            yield prefix + name, here / name


def content_path(key: str, option: str) -> str:
    """A `floppy_content`/`cd_content` key as an image path; `..` may not leave the root."""
    parts = [p for p in key.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise MediaError(
            f"{option} key {key!r} is not a file path inside the image: use a relative "
            "path such as 'dir/name.txt' (no '..', not empty)"
        )
    return "/".join(parts)


def fold(path: str) -> str:
    """A path compared case-insensitively (FAT and ISO 9660 names are)."""
    return posixpath.normpath(path).casefold()
