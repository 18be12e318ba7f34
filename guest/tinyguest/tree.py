"""An in-memory file tree and its two serialisations: cpio `newc` and a directory on disk."""

from __future__ import annotations

import dataclasses
import io
import os
import stat
from pathlib import Path

from .host import BuildError


@dataclasses.dataclass
class Node:
    kind: str  # "dir", "file", "symlink", "chr"
    mode: int
    data: bytes = b""
    target: str = ""
    rdev: tuple[int, int] = (0, 0)


class Tree:
    """An in-memory file tree: path (no leading slash) -> Node; parents are implied."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def _parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            node = self.nodes.get(p)
            if node is None:
                self.nodes[p] = Node("dir", 0o755)
            elif node.kind != "dir":
                raise BuildError(f"initramfs: {p} is a {node.kind}, cannot hold {path}")

    def dir(self, path: str, mode: int = 0o755) -> None:
        self._parents(path)
        self.nodes[path] = Node("dir", mode)

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self._parents(path)
        self.nodes[path] = Node("file", mode, data=data)

    def symlink(self, path: str, target: str) -> None:
        self._parents(path)
        self.nodes[path] = Node("symlink", 0o777, target=target)

    def chardev(self, path: str, major: int, minor: int, mode: int = 0o600) -> None:
        self._parents(path)
        self.nodes[path] = Node("chr", mode, rdev=(major, minor))

    def sorted_paths(self) -> list[str]:
        return sorted(self.nodes, key=lambda p: p.split("/"))


def chroot_resolve(root: Path, rel: str) -> list[str]:
    """Follow symlinks of `rel` inside `root` (absolute targets are relative to `root`).

    Returns every path visited, the last one being the real file.
    """
    seen = [rel]
    cur = rel
    for _ in range(40):
        full = root / cur
        if not full.is_symlink():
            if not full.exists():
                raise BuildError(f"{root.name}: {cur} does not exist")
            return seen
        target = os.readlink(full)
        if target.startswith("/"):
            cur = os.path.normpath(target.lstrip("/"))
        else:
            cur = os.path.normpath(os.path.join(os.path.dirname(cur), target))
        seen.append(cur)
    raise BuildError(f"{root.name}: symlink loop at {rel}")


def add_from_package(tree: Tree, root: Path, rel: str) -> str:
    """Copy `rel` from an unpacked package into the tree (symlinks kept); return the real path."""
    chain = chroot_resolve(root, rel)
    for link in chain[:-1]:
        tree.symlink(link, os.readlink(root / link))
    real = chain[-1]
    full = root / real
    tree.file(real, full.read_bytes(), stat.S_IMODE(full.stat().st_mode))
    return real


def write_cpio(tree: Tree, epoch: int) -> bytes:
    """A cpio 'newc' archive of the tree: sorted, owned by root, every mtime = `epoch`."""
    out = io.BytesIO()

    def entry(
        name: str, mode: int, data: bytes, nlink: int, ino: int, rdev: tuple[int, int]
    ) -> None:
        namez = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, nlink, epoch, len(data), 0, 0, rdev[0], rdev[1], len(namez), 0)
        out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
        out.write(namez)
        out.write(b"\0" * (-(110 + len(namez)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    kinds = {
        "dir": stat.S_IFDIR,
        "file": stat.S_IFREG,
        "symlink": stat.S_IFLNK,
        "chr": stat.S_IFCHR,
    }
    for ino, path in enumerate(tree.sorted_paths(), start=1):
        node = tree.nodes[path]
        data = node.target.encode() if node.kind == "symlink" else node.data
        nlink = 2 if node.kind == "dir" else 1
        entry(path, kinds[node.kind] | node.mode, data, nlink, ino, node.rdev)
    entry("TRAILER!!!", 0, b"", 1, 0, (0, 0))
    return out.getvalue()


def write_tree(tree: Tree, dest: Path, epoch: int) -> None:
    """Materialise a tree of files/dirs/symlinks on disk (for xorriso)."""
    for path in tree.sorted_paths():
        node = tree.nodes[path]
        full = dest / path
        if node.kind == "dir":
            full.mkdir(parents=True, exist_ok=True)
        elif node.kind == "file":
            full.write_bytes(node.data)
            full.chmod(node.mode)
        elif node.kind == "symlink":
            full.symlink_to(node.target)
        else:
            raise BuildError(f"ISO tree cannot hold a {node.kind} ({path})")
    for path in [*tree.sorted_paths(), ""]:
        os.utime(dest / path, (epoch, epoch), follow_symlinks=False)
