"""Shared libraries: which Debian package ships a soname, and the closure of a program's."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .apt import Package, apt_download, is_library_package, unpack
from .elf import elf_interp, elf_needed
from .host import BuildError
from .tree import Tree, add_from_package, chroot_resolve

LIB_DIRS = ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib64", "lib", "usr/lib")
# sonames whose package name does not follow Debian policy's naming rule
SONAME_PACKAGES = {
    "libc.so.6": "libc6",
    "ld-linux-x86-64.so.2": "libc6",
    "libm.so.6": "libc6",
    "libresolv.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "libdl.so.2": "libc6",
    "librt.so.1": "libc6",
    "libutil.so.1": "libc6",
    "libz.so.1": "zlib1g",
    "libcrypto.so.3": "libssl3",
    "libssl.so.3": "libssl3",
}


def soname_package_guess(soname: str) -> str:
    """Debian policy 8.1: libfoo.so.N -> libfooN; libfoo2.so.N -> libfoo2-N; '_' -> '-'."""
    if soname in SONAME_PACKAGES:
        return SONAME_PACKAGES[soname]
    base, _, ver = soname.partition(".so.")
    base = base.lower().replace("_", "-")
    return f"{base}-{ver}" if base[-1:].isdigit() else f"{base}{ver}"


class LibResolver:
    """Unpacked Debian packages on demand, and the shared libraries their programs need.

    A soname is looked up first in the package Debian's naming policy predicts, then in every
    package already unpacked, then in the library dependencies of the package that needs it.
    Downloads are batched: one `apt-get download` per round.
    """

    def __init__(self, records: dict[str, Package], debdir: Path, unpackdir: Path) -> None:
        self.records = records
        self.debdir = debdir
        self.unpackdir = unpackdir
        self.roots: dict[str, Path] = {}
        self.located: dict[str, tuple[str, str]] = {}  # soname -> (package, path)

    def ensure(self, names: Iterable[str]) -> None:
        """Download (one apt call) and unpack every package of `names` not unpacked yet."""
        todo = sorted({n for n in names if n not in self.roots and n in self.records})
        apt_download([self.records[n] for n in todo], self.debdir)
        for n in todo:
            self.roots[n] = unpack(self.records[n], self.debdir, self.unpackdir)

    def package_root(self, name: str) -> Path:
        self.ensure([name])
        if name not in self.roots:
            raise BuildError(f"package {name} has no apt candidate")
        return self.roots[name]

    def _lookup(self, soname: str, names: Iterable[str]) -> tuple[str, str] | None:
        for name in names:
            root = self.roots.get(name)
            if root is None:
                continue
            for d in LIB_DIRS:
                if (root / d / soname).exists():
                    return name, f"{d}/{soname}"
        return None

    def find(self, soname: str, owner: str, wanted_by: str) -> tuple[str, str]:
        guess = soname_package_guess(soname)
        self.ensure([guess])
        found = self._lookup(soname, [guess, *sorted(self.roots)])
        if found is None:
            deps = [d for d in self.records[owner].depends if is_library_package(d)]
            self.ensure(deps)
            found = self._lookup(soname, deps)
        if found is None:
            raise BuildError(
                f"{wanted_by} (package {owner}) needs {soname}, but neither {guess} nor any "
                f"library package {owner} depends on provides it; map it in SONAME_PACKAGES "
                "in guest/tinyguest/libs.py"
            )
        return found

    def add_with_libs(self, tree: Tree, files: Iterable[tuple[str, str]]) -> set[str]:
        """Add (package, path) ELF files and every shared library they need, transitively.

        Returns the names of the packages used.
        """
        level = list(files)
        used: set[str] = set()
        self.ensure(name for name, _ in level)
        while level:
            needs: dict[str, tuple[str, str]] = {}  # soname -> (owner package, path)
            for name, rel in level:
                used.add(name)
                root = self.package_root(name)
                real = add_from_package(tree, root, rel)
                data = (root / real).read_bytes()
                sonames = elf_needed(data)
                interp = elf_interp(data)
                if interp:
                    libc = self.package_root(SONAME_PACKAGES["libc.so.6"])
                    chain = chroot_resolve(libc, interp.lstrip("/"))
                    for link in chain[:-1]:
                        tree.symlink(link, os.readlink(libc / link))
                    sonames.append(Path(interp).name)
                for soname in sonames:
                    if soname not in self.located:
                        needs.setdefault(soname, (name, rel))
            self.ensure(soname_package_guess(s) for s in needs)
            level = []
            for soname, (owner, rel) in sorted(needs.items()):
                self.located[soname] = self.find(soname, owner, rel)
                level.append(self.located[soname])
        return used
