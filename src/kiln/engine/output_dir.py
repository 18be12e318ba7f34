"""The output directory: what `-force` may delete, and what a failed build removes.

Packer's `StepOutputDir` (packer-plugin-sdk multistep/commonsteps/step_output_dir.go at
v1.6.6) runs `os.RemoveAll(output_directory)` for `-force` and again when a build fails.
Go's `RemoveAll` refuses `.` by accident (a path ending in a dot) but deletes `./`, the
absolute working directory or `$HOME` without a word. kiln refuses, before anything runs,
a `-force` whose output directory is `/`, `$HOME`, the working directory, the template's
directory, one of their ancestors, or holds one of the build's own input files
(`force_hazard`).

When a build fails, kiln removes only what it made (`OutputDir.remove`): the directory if
it created it (and the empty parents it created), or, for an empty directory that was
already there (kiln accepts one without `-force`), the entries it wrote into it — through a
symbolic link too, whose target stays where it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


def _real(path: str | Path) -> str:
    return os.path.realpath(os.path.abspath(path))


def _within(inner: str, outer: str) -> bool:
    """`inner` is `outer` or below it (both real, absolute paths)."""
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def force_hazard(
    path: str | Path,
    *,
    shown: str = "",
    protected: Mapping[str, str | Path],
    inputs: Iterable[tuple[str, str | Path]] = (),
) -> str | None:
    """Why `-force` must not delete `path` (written `shown`), or None when it may.

    `protected` names directories that must survive (`"the working directory": cwd`): the
    output directory may be none of them nor an ancestor of one. `inputs` are the build's
    own files as (label, path), e.g. ("http_directory 'http'", cwd / "http"): none may be
    the output directory or lie inside it. A symbolic link as the output directory is
    refused too: `-force` would have to delete either the link (Packer's choice, which
    quietly moves the output) or another directory's contents.
    """
    key = "output_directory"
    shown = shown or str(path)
    if os.path.islink(path):
        return (
            f"{key} '{shown}' is a symbolic link (to '{os.readlink(path)}'): -force deletes "
            "neither a link nor what it points to; set output_directory to the real "
            "directory, or remove the link"
        )
    target = _real(path)
    for what, place in protected.items():
        real = _real(place)
        if _within(real, target):
            relation = "is" if real == target else "contains"
            return (
                f"{key} '{shown}' is {target}, which {relation} {what} ({real}): -force "
                "would delete it and everything in it. Set output_directory to a directory "
                "of its own (e.g. 'output-<build name>')"
            )
    for label, name in inputs:
        real = _real(name)
        if _within(real, target):
            return (
                f"{key} '{shown}' is or contains {label}, an input of this build: -force "
                "would delete it before the build reads it. Set output_directory to a "
                "directory of its own"
            )
    return None


@dataclass(slots=True)
class OutputDir:
    """What kiln made of the output directory, so that a failure removes exactly that."""

    path: Path
    existed: bool  # an empty directory (or a link to one) was already there
    created_parents: list[Path] = field(default_factory=list)  # deepest first

    @classmethod
    def make(cls, path: Path) -> OutputDir:
        """Create `path` (and missing parents), noting what was there before."""
        existed = path.is_dir()
        created: list[Path] = []
        parent = path.absolute().parent
        while not parent.exists() and parent != parent.parent:
            created.append(parent)
            parent = parent.parent
        path.mkdir(parents=True, exist_ok=True, mode=0o755)
        return cls(path, existed, created)

    def remove(self) -> None:
        """Remove what kiln made: the entries it wrote into a directory that was there, or
        the directory it created and the parents it created that are still empty."""
        if self.existed:  # it was empty: everything in it is kiln's
            names: list[str] = []
            with contextlib.suppress(OSError), os.scandir(self.path) as entries:
                names = [e.name for e in entries]
            for name in names:
                _remove_entry(self.path / name)
            return
        if self.path.is_symlink():
            return  # someone replaced the directory with a link: not ours
        shutil.rmtree(self.path, ignore_errors=True)
        for parent in self.created_parents:
            try:
                parent.rmdir()
            except OSError:
                break  # another build's files are in it, or it is gone


def _remove_entry(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
