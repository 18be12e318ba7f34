"""Guest variants: the default guest plus whole Debian packages, for tests that need them.

`guest/build.py --variant ansible` adds Python 3 and Ansible (Debian 12's `ansible-core`),
so the installed system can run Ansible's modules (`ansible` provisioner) and
`ansible-playbook` itself (`ansible-local`). The default guest is built exactly as
without this module. A variant is part of the cache key (its name is in the manifest),
so each variant is cached on its own.

The packages go into `/kiln/extra.tar` on the ISO, not into the initramfs: the installer
unpacks it onto the target disk, so neither the installer's boot nor the installed
system's (both load the initramfs through the BIOS, slowly under TCG) gets heavier.
Packages are taken whole (docs, man pages, lintian and binfmt data aside), their ELF files
with the shared libraries they need that the initramfs lacks; Python's modules are
compiled to `.pyc` files when the build runs on the same Python minor version as the
guest's (unchecked hashes: reproducible, never stale), which spares the TCG guest
compiling them on first use.
"""

from __future__ import annotations

import io
import os
import py_compile
import stat
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .apt import Package
from .host import BuildError, log
from .libs import LibResolver
from .tree import Tree

# Parts of a package a guest never needs.
SKIPPED_DIRS = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/lintian",
    "usr/share/binfmts",
    "usr/lib/binfmt.d",
    "usr/share/bash-completion",
)


@dataclass(frozen=True)
class Variant:
    packages: tuple[str, ...]  # taken whole
    parts: tuple[tuple[str, str], ...] = ()  # (package, directory): only that directory
    skipped: tuple[str, ...] = ()  # path fragments left out (e.g. a test framework)
    python: str = ""  # "3.11": compile .pyc files with a build Python of that version


VARIANTS: dict[str, Variant] = {
    "ansible": Variant(
        packages=(
            "python3.11-minimal",
            "libpython3.11-minimal",
            "libpython3.11-stdlib",
            "python3-minimal",
            "ansible-core",
            "python3-yaml",
            "python3-jinja2",
            "python3-markupsafe",
            "python3-packaging",
            "python3-resolvelib",
        ),
        # Ansible wants a UTF-8 locale; Python falls back to C.UTF-8 when it exists.
        parts=(("libc-bin", "usr/lib/locale/C.utf8"),),
        skipped=("/ansible_test/", "/lib2to3/", "/pydoc_data/", "/usr/bin/ansible-test"),
        python="3.11",
    ),
}


def variant_packages(name: str | None) -> list[str]:
    """The packages variant `name` adds (none for the default guest)."""
    if not name:
        return []
    variant = VARIANTS[name]
    return [*variant.packages, *(pkg for pkg, _ in variant.parts)]


def _wanted(rel: str, variant: Variant) -> bool:
    if any(rel == d or rel.startswith(d + "/") for d in SKIPPED_DIRS):
        return False
    return not any(fragment in "/" + rel for fragment in variant.skipped)


def extra_tar(resolver: LibResolver, records: dict[str, Package], name: str, epoch: int) -> bytes:
    """`/kiln/extra.tar` of variant `name` (call after the initramfs is built: libraries
    it already has are not repeated)."""
    tree = Tree()
    add_variant(tree, resolver, records, name)
    return write_tar(tree, epoch)


def write_tar(tree: Tree, epoch: int) -> bytes:
    """An uncompressed tar of the tree: sorted, root-owned, every mtime = `epoch`."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in tree.sorted_paths():
            node = tree.nodes[path]
            info = tarfile.TarInfo(path)
            info.mode, info.mtime, info.uid, info.gid = node.mode, epoch, 0, 0
            if node.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif node.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, node.target
                tar.addfile(info)
            elif node.kind == "file":
                info.size = len(node.data)
                tar.addfile(info, io.BytesIO(node.data))
            else:
                raise BuildError(f"extra.tar cannot hold a {node.kind} ({path})")
    return out.getvalue()


def add_variant(tree: Tree, resolver: LibResolver, records: dict[str, Package], name: str) -> None:
    """Add the packages of variant `name` to `tree`, with the libraries they need."""
    variant = VARIANTS[name]
    missing = [p for p in variant_packages(name) if p not in records]
    if missing:
        raise BuildError(f"variant {name}: apt knows no candidate for {', '.join(missing)}")
    resolver.ensure(variant_packages(name))
    elves: list[tuple[str, str]] = []
    sources: list[str] = []
    for pkg, top in [*((p, "") for p in variant.packages), *variant.parts]:
        root = resolver.package_root(pkg)
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames.sort()
            for entry in sorted([*dirnames, *filenames]):
                full = Path(dirpath) / entry
                rel = str(full.relative_to(root))
                if rel.startswith(".kiln") or not _wanted(rel, variant):
                    continue
                if full.is_symlink():
                    tree.symlink(rel, os.readlink(full))
                elif full.is_dir():
                    tree.dir(rel, stat.S_IMODE(full.stat().st_mode))
                elif full.is_file():
                    data = full.read_bytes()
                    if data[:4] == b"\x7fELF":
                        elves.append((pkg, rel))  # added below, with its libraries
                    else:
                        tree.file(rel, data, stat.S_IMODE(full.stat().st_mode))
                        if rel.endswith(".py"):
                            sources.append(rel)
    resolver.add_with_libs(tree, elves)
    if variant.python and f"{sys.version_info[0]}.{sys.version_info[1]}" == variant.python:
        _compile(tree, sources)
    elif variant.python:
        here = f"{sys.version_info[0]}.{sys.version_info[1]}"
        log(f"variant {name}: no .pyc files (built with Python {here}, guest {variant.python})")


def _compile(tree: Tree, sources: list[str]) -> None:
    """Add `__pycache__/<name>.cpython-XY.pyc` next to every module that compiles."""
    tag = sys.implementation.cache_tag
    with tempfile.TemporaryDirectory(prefix="tinyguest-pyc-") as tmp:
        src, out = Path(tmp) / "m.py", Path(tmp) / "m.pyc"
        for rel in sources:
            src.write_bytes(tree.nodes[rel].data)
            try:
                py_compile.compile(
                    str(src),
                    cfile=str(out),
                    dfile="/" + rel,
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError:
                continue  # e.g. Python 2 only files in a package: Python skips them too
            directory, name = os.path.split(rel)
            tree.file(f"{directory}/__pycache__/{name[:-3]}.{tag}.pyc", out.read_bytes())
