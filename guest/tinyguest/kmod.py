"""Kernel modules: find them, decompress them, order them after their dependencies."""

from __future__ import annotations

import gzip
import lzma
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .elf import modinfo
from .host import BuildError


def module_index(moddir: Path) -> dict[str, str]:
    """Module name (dashes as underscores) -> path relative to `moddir`."""
    index = {}
    for ko in sorted((moddir / "kernel").rglob("*.ko*")):
        name = ko.name.split(".ko")[0].replace("-", "_")
        index[name] = str(ko.relative_to(moddir))
    return index


def read_module(path: Path) -> bytes:
    """Module bytes, decompressed when the kernel ships .ko.xz / .ko.gz / .ko.zst."""
    raw = path.read_bytes()
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(raw)
    if path.name.endswith(".ko.gz"):
        return gzip.decompress(raw)
    if path.name.endswith(".ko.zst"):
        proc = subprocess.run(["zstd", "-dc"], input=raw, capture_output=True, check=False)
        if proc.returncode != 0:
            raise BuildError(f"cannot decompress {path.name}: install the zstd tool")
        return proc.stdout
    return raw


def module_closure(
    moddir: Path, wanted: Sequence[str], already: Sequence[str] = ()
) -> tuple[list[str], dict[str, bytes], dict[str, list[str]]]:
    """Dependency-ordered module paths for `wanted` (minus `already` loaded ones).

    Returns (ordered .ko paths as stored in the initramfs, path -> bytes, path -> dep paths).
    """
    index = module_index(moddir)
    builtin = set()
    bfile = moddir / "modules.builtin"
    if bfile.is_file():
        for line in bfile.read_text().splitlines():
            builtin.add(Path(line).name.split(".ko")[0].replace("-", "_"))
    order: list[str] = []
    blobs: dict[str, bytes] = {}
    deps: dict[str, list[str]] = {}
    skip = set(already)

    def visit(name: str, chain: tuple[str, ...]) -> str | None:
        name = name.replace("-", "_")
        if name in builtin:
            return None
        if name not in index:
            raise BuildError(f"kernel module {name} not found (needed by {' -> '.join(chain)})")
        rel = index[name]
        stored = rel.split(".ko")[0] + ".ko"
        if stored in deps:
            return stored
        data = read_module(moddir / rel)
        mine: list[str] = []
        for dep_list in modinfo(data).get("depends", []):
            for dep in filter(None, dep_list.split(",")):
                got = visit(dep, (*chain, dep))
                if got:
                    mine.append(got)
        deps[stored] = mine
        blobs[stored] = data
        if name not in skip:
            order.append(stored)
            skip.add(name)
        return stored

    for name in wanted:
        visit(name, (name,))
    return order, blobs, deps
