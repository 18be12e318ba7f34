"""Path rules shared by the SCP and SFTP transfers, and the local-tree helpers they use.

The rules, identical for both transfer methods:

* A remote path starting with ``~/`` is relative to the login directory (both SCP and
  SFTP resolve relative paths there); other paths are used verbatim, never globbed.
* ``upload`` writes exactly the remote path given; its parent must exist; a remote
  directory at that path is an error (like Packer).
* ``upload_dir`` follows Packer's rsync-like rule on the *string* the user wrote:
  ``src/`` (trailing slash) puts the contents of ``src`` into the remote directory,
  ``src`` puts them into ``remote/src``. The receiving directory is created when missing;
  its parent must exist. Existing remote directories are merged into, files replaced.
* ``download_dir`` applies the same rule to the remote string: ``dir/`` puts the contents
  into the local directory, ``dir`` puts them into ``local/dir``.
* Local symbolic links are followed; a link back to one of its own ancestors is an error.
"""

from __future__ import annotations

import os
import posixpath
import shlex
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


class TransferError(Exception):
    """A transfer failed for a reason stated in plain words (wrapped with context later)."""


_NOT_NAMES = ("", ".", "..")


def remote_path(path: str) -> str:
    """`path` as the remote side should see it: ``~`` and ``~/x`` become home-relative."""
    if not path:
        raise TransferError("the remote path is empty")
    if path == "~":
        return "."
    if path.startswith("~/"):
        return path[2:] or "."
    return path


def shell_quote(path: str) -> str:
    """Quote a remote path for the remote shell; a leading ``-`` cannot become an option."""
    if path.startswith("-"):
        path = "./" + path
    return shlex.quote(path)


def check_record_name(name: str) -> str:
    """A file name as it may appear in an SCP record: no newline, no slash."""
    if name in _NOT_NAMES or "/" in name or "\n" in name:
        raise TransferError(f"{name!r} cannot be transferred: not a usable file name")
    return name


def split_remote_file(remote: str) -> tuple[str, str]:
    """``(directory, name)`` of the remote file path `remote`."""
    path = remote_path(remote)
    parent, name = posixpath.split(path)
    if name in _NOT_NAMES:
        raise TransferError(
            f"'{remote}' names a directory, not a file: give the full remote file path"
        )
    return parent or ".", name


def split_remote_dir(target: str) -> tuple[str, str | None]:
    """``(parent, name)`` of a remote directory; name is None for ``/``, ``.`` and ``..``.

    With a name, the directory is sent as one entry of its parent (so it is created if
    missing); without one, its contents are sent straight into it.
    """
    stripped = target.rstrip("/") or "/"
    parent, name = posixpath.split(stripped)
    if name in _NOT_NAMES:
        return stripped, None
    return parent or ".", name


def upload_dir_target(local_dir: str | os.PathLike[str], remote: str) -> str:
    """The remote directory that receives the *contents* of `local_dir` (rsync rule)."""
    remote = remote_path(remote)
    local = os.fspath(local_dir)
    contents_only = isinstance(local_dir, str) and local.endswith("/")
    name = os.path.basename(os.path.normpath(local))
    if contents_only or name in _NOT_NAMES:
        return remote
    return posixpath.join(remote, name)


def download_dir_target(remote: str, local: Path) -> Path:
    """The local directory that receives the *contents* of remote `remote` (rsync rule)."""
    path = remote_path(remote)
    if path.endswith("/"):
        return local
    name = posixpath.basename(path)
    if name in _NOT_NAMES:
        return local
    return local / name


@dataclass(frozen=True, slots=True)
class LocalEntry:
    """A local file or directory, symbolic links resolved."""

    name: str
    path: Path
    is_dir: bool
    mode: int
    size: int


def local_entry(path: Path) -> LocalEntry:
    """Stat `path` (following links); only regular files and directories are accepted."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        what = "is a broken symbolic link" if path.is_symlink() else "does not exist"
        raise TransferError(f"{path} {what}") from exc
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        raise TransferError(f"{path} is not a regular file or a directory")
    return LocalEntry(
        name=path.name,
        path=path,
        is_dir=stat.S_ISDIR(st.st_mode),
        mode=stat.S_IMODE(st.st_mode),
        size=st.st_size,
    )


@dataclass(frozen=True, slots=True)
class TreeItem:
    """One step of a depth-first walk: entering a directory, a file, leaving a directory."""

    kind: Literal["enter", "file", "leave"]
    rel: tuple[str, ...]
    entry: LocalEntry


def walk_local(root: Path) -> Iterator[TreeItem]:
    """Walk the tree under `root` (not `root` itself), in name order, following links."""
    root_stat = root.stat()
    yield from _walk(root, (), {(root_stat.st_dev, root_stat.st_ino)})


def _walk(
    directory: Path, rel: tuple[str, ...], ancestors: set[tuple[int, int]]
) -> Iterator[TreeItem]:
    for name in sorted(os.listdir(directory)):
        entry = local_entry(directory / name)
        item_rel = (*rel, name)
        if not entry.is_dir:
            yield TreeItem("file", item_rel, entry)
            continue
        st = entry.path.stat()
        key = (st.st_dev, st.st_ino)
        if key in ancestors:
            raise TransferError(
                f"{entry.path} leads back to its own parent directory (a symbolic link loop)"
            )
        yield TreeItem("enter", item_rel, entry)
        yield from _walk(entry.path, item_rel, ancestors | {key})
        yield TreeItem("leave", item_rel, entry)


def merge_tree(src: Path, dst: Path) -> None:
    """Move the contents of `src` into the existing directory `dst`.

    Directories present on both sides are merged; files (and links) in `dst` are replaced.
    A directory never replaces a file or the other way round.
    """
    for child in sorted(src.iterdir()):
        target = dst / child.name
        child_is_dir = child.is_dir() and not child.is_symlink()
        target_is_dir = target.is_dir() and not target.is_symlink()
        if child_is_dir and target_is_dir:
            merge_tree(child, target)
            continue
        if child_is_dir and (target.exists() or target.is_symlink()):
            raise TransferError(f"{target} exists and is not a directory")
        if target_is_dir:
            raise TransferError(f"{target} is a directory; it cannot be replaced by a file")
        os.replace(child, target)
