#!/usr/bin/env python3
"""Build kiln's test guest: a tiny OS installer ISO made only from Debian packages.

Runs with the standard library alone (before kiln is installed)::

    python3 guest/build.py [--out DIR] [--cache DIR] [--force]

Packages are fetched with ``apt-get download`` and unpacked with ``dpkg -x`` into a cache
(``$KILN_GUEST_CACHE`` or ``~/.cache/kiln/guest``). The finished ISO is cached under a key made
of every resolved package version and a hash of the ``guest/`` sources, so a second run only
copies it (well under a second) and a rebuild happens only when a version or a script changes.

The ISO holds isolinux, a Debian kernel and one initramfs (busybox, dropbear, scp, sftp-server,
e2fsprogs, sfdisk, extlinux, kernel modules, the scripts in ``guest/rootfs``). The same
initramfs is the installer (``kiln.mode=install``), the rescue shell (``kiln.mode=rescue``) and
the early userspace of the installed system (``kiln.mode=system root=LABEL=kiln-root``).
See ``guest/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

GUEST_DIR = Path(__file__).resolve().parent
REPO_ROOT = GUEST_DIR.parent
ROOTFS_DIR = GUEST_DIR / "rootfs"
ISO_NAME = "tiny-installer.iso"
SUMS_NAME = "SHA256SUMS"
VOLUME_ID = "KILN_TINY"
KERNEL_META = "linux-image-amd64"
# Bump when the layout of the cache or of the build changes in a way the key cannot see.
BUILD_FORMAT = 1
# 2024-01-01T00:00:00Z: file times inside the ISO and the initramfs (SOURCE_DATE_EPOCH wins).
DEFAULT_EPOCH = 1704067200
KEEP_RESULTS = 3

# Debian package -> the files we take from it (paths inside the package).
PACKAGE_FILES: dict[str, tuple[str, ...]] = {
    "busybox-static": ("bin/busybox",),
    "dropbear-bin": ("usr/sbin/dropbear", "usr/bin/dropbearkey"),
    "openssh-client": ("usr/bin/scp",),
    "openssh-sftp-server": ("usr/lib/openssh/sftp-server",),
    "e2fsprogs": ("sbin/mke2fs", "etc/mke2fs.conf"),
    "fdisk": ("sbin/sfdisk",),
    "extlinux": ("usr/bin/extlinux",),
    "syslinux-common": ("usr/lib/syslinux/mbr/mbr.bin",),
}
# Files that go on the ISO itself, next to the kernel.
ISOLINUX_BIN = ("isolinux", "usr/lib/ISOLINUX/isolinux.bin")
LDLINUX_C32 = ("syslinux-common", "usr/lib/syslinux/modules/bios/ldlinux.c32")

# Kernel modules, loaded at boot in this order (after their dependencies).
BOOT_MODULES: tuple[str, ...] = (
    # disks and CD-ROMs for every disk_interface / cdrom_interface QEMU offers on `pc`
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "ata_piix",
    "ata_generic",
    "sym53c8xx",
    "sd_mod",
    "sr_mod",
    # file systems (crc32c first: ext4 asks the crypto API for it by name)
    "crc32c_generic",
    "ext4",
    "isofs",
    "vfat",
    "nls_cp437",
    "nls_iso8859_1",
    "nls_utf8",
    # NICs
    "virtio_net",
    "e1000",
    "8139cp",
    "8139too",
    # ACPI power button -> evdev -> busybox acpid
    "button",
    "evdev",
)
# Loaded only when the installer reads answers from a floppy (probing the FDC costs time).
FLOPPY_MODULES: tuple[str, ...] = ("floppy",)

# Overlay files whose mode is not the default 0644/0755.
SECRET_FILES = {"etc/shadow": 0o600}

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


class BuildError(Exception):
    """A build failure with a message for the user."""


def log(msg: str) -> None:
    print(f"guest/build.py: {msg}", file=sys.stderr, flush=True)


def run(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a host command; on failure raise BuildError with its stderr."""
    try:
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise BuildError(
            f"command not found: {argv[0]} (needed by the guest build; install it with apt-get)"
        ) from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise BuildError(f"command failed (exit {proc.returncode}): {' '.join(argv)}\n{tail}")
    return proc.stdout


# --------------------------------------------------------------------------------------------
# apt: resolving versions, downloading, unpacking


@dataclasses.dataclass(frozen=True)
class Package:
    name: str
    version: str
    arch: str
    filename: str  # pool path, e.g. pool/main/b/busybox/busybox-static_1.35.0-4_amd64.deb
    sha256: str
    depends: tuple[str, ...]  # first alternative of Depends and Pre-Depends

    @property
    def deb_name(self) -> str:
        return Path(self.filename).name

    @property
    def ident(self) -> str:
        return f"{self.name}={self.version}"


def parse_depends(value: str) -> list[str]:
    names = []
    for clause in value.split(","):
        first = clause.split("|")[0].strip()
        if not first:
            continue
        name = first.split()[0].split(":")[0]
        names.append(name)
    return names


def parse_apt_records(text: str) -> dict[str, Package]:
    out: dict[str, Package] = {}
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, val = line.partition(":")
                fields[key] = val.strip()
        if "Package" not in fields or "Version" not in fields:
            continue
        deps = parse_depends(fields.get("Pre-Depends", "")) + parse_depends(
            fields.get("Depends", "")
        )
        pkg = Package(
            name=fields["Package"],
            version=fields["Version"],
            arch=fields.get("Architecture", ""),
            filename=fields.get("Filename", ""),
            sha256=fields.get("SHA256", ""),
            depends=tuple(deps),
        )
        out.setdefault(pkg.name, pkg)
    return out


def apt_show(names: Iterable[str]) -> dict[str, Package]:
    """Candidate records of `names` (`apt-cache show --no-all-versions`); unknown names skipped."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    proc = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", *wanted],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit 100 with "No packages found" for purely virtual names; the records we got still count.
    return parse_apt_records(proc.stdout)


def is_library_package(name: str) -> bool:
    return name.startswith(("lib", "zlib")) and not name.startswith(("libc-bin", "libc-dev"))


def resolve_packages() -> tuple[dict[str, Package], Package]:
    """Resolve the root packages, the kernel and the library closure to candidate versions."""
    roots = set(PACKAGE_FILES) | {ISOLINUX_BIN[0], LDLINUX_C32[0], KERNEL_META}
    records = apt_show(roots)
    if KERNEL_META not in records:
        log("apt has no record of the packages; running apt-get update")
        apt_update()
        records = apt_show(roots)
    missing = sorted(roots - set(records))
    if missing:
        raise BuildError(
            f"apt-cache knows no candidate for {', '.join(missing)}; check /etc/apt/sources.list "
            "(Debian 12 'bookworm' main is expected) and run apt-get update"
        )
    meta = records.pop(KERNEL_META)
    kernels = [d for d in meta.depends if d.startswith("linux-image-") and d != KERNEL_META]
    if not kernels:
        raise BuildError(f"{KERNEL_META} {meta.version} depends on no linux-image-* package")
    records.update(apt_show([kernels[0]]))
    if kernels[0] not in records:
        raise BuildError(f"apt-cache has no candidate for the kernel package {kernels[0]}")
    kernel = records[kernels[0]]
    # Library closure: every lib* package reachable through Depends/Pre-Depends of what we use.
    frontier = [d for p in records.values() if p is not kernel for d in p.depends]
    while frontier:
        new = {d for d in frontier if is_library_package(d) and d not in records}
        if not new:
            break
        found = apt_show(new)
        records.update(found)
        frontier = [d for p in found.values() for d in p.depends]
    return records, kernel


def apt_update() -> None:
    if os.geteuid() != 0:
        raise BuildError(
            "the apt package index is missing or stale; run 'sudo apt-get update' and retry"
        )
    run(["apt-get", "update", "-q"])


def apt_download(pkgs: Sequence[Package], debdir: Path) -> None:
    """Download `pkgs` into `debdir` (apt verifies them; we check the SHA256 again)."""
    todo = [p for p in pkgs if not (debdir / p.deb_name).is_file()]
    if not todo:
        return
    debdir.mkdir(parents=True, exist_ok=True)
    log(f"downloading {len(todo)} package(s): {' '.join(p.ident for p in todo)}")
    with tempfile.TemporaryDirectory(dir=debdir, prefix=".dl-") as tmp:
        argv = ["apt-get", "download", "-q"]
        if os.geteuid() == 0:
            # _apt cannot write into root's cache directory
            argv += ["-o", "APT::Sandbox::User=root"]
        argv += [p.ident for p in todo]
        try:
            run(argv, cwd=Path(tmp))
        except BuildError:
            log("apt-get download failed; running apt-get update and retrying once")
            apt_update()
            run(argv, cwd=Path(tmp))
        got = {f.name: f for f in Path(tmp).glob("*.deb")}
        for p in todo:
            # apt names the file <name>_<version with ':' as %3a>_<arch>.deb
            cands = [f for n, f in got.items() if n.startswith(p.name + "_")]
            if not cands:
                raise BuildError(f"apt-get download did not produce a .deb for {p.ident}")
            digest = sha256_file(cands[0])
            if p.sha256 and digest != p.sha256:
                raise BuildError(
                    f"{cands[0].name}: SHA256 {digest} does not match the index ({p.sha256})"
                )
            os.replace(cands[0], debdir / p.deb_name)


def unpack(pkg: Package, debdir: Path, unpackdir: Path) -> Path:
    """`dpkg -x` the package once into `unpackdir/<name>_<version>`; prune older versions."""
    dest = unpackdir / f"{pkg.name}_{safe_version(pkg.version)}"
    stamp = dest / ".kiln-unpacked"
    if stamp.is_file():
        return dest
    for old in unpackdir.glob(f"{pkg.name}_*"):
        if old != dest and old.name.count("_") == 1:
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(dest, ignore_errors=True)
    tmp = unpackdir / f".{dest.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    run(["dpkg", "-x", str(debdir / pkg.deb_name), str(tmp)])
    (tmp / ".kiln-unpacked").write_text(pkg.ident + "\n")
    os.replace(tmp, dest)
    return dest


def safe_version(version: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+~-]", "-", version)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# ELF: shared-library dependencies and kernel-module info (ELF64 little-endian only)


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    type: int
    offset: int
    size: int
    link: int


def elf_sections(data: bytes) -> list[Section] | None:
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    raw = []
    for i in range(shnum):
        name, typ, _flags, _addr, off, size, link = struct.unpack_from(
            "<IIQQQQI", data, shoff + i * shentsize
        )
        raw.append((name, typ, off, size, link))
    if not raw:
        return []
    stroff = raw[shstrndx][2]
    out = []
    for name, typ, off, size, link in raw:
        end = data.index(b"\0", stroff + name)
        out.append(Section(data[stroff + name : end].decode(), typ, off, size, link))
    return out


def elf_needed(data: bytes) -> list[str]:
    """DT_NEEDED entries of an ELF file (empty for static binaries and non-ELF files)."""
    sections = elf_sections(data)
    if not sections:
        return []
    out = []
    for sec in sections:
        if sec.type != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[sec.link]
        for off in range(sec.offset, sec.offset + sec.size, 16):
            tag, val = struct.unpack_from("<qQ", data, off)
            if tag == 0:
                break
            if tag == 1:  # DT_NEEDED
                start = strtab.offset + val
                out.append(data[start : data.index(b"\0", start)].decode())
    return out


def elf_interp(data: bytes) -> str | None:
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _flags, off, _va, _pa, filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize
        )
        if ptype == 3:  # PT_INTERP
            return data[off : off + filesz].rstrip(b"\0").decode()
    return None


def modinfo(data: bytes) -> dict[str, list[str]]:
    """The `.modinfo` key=value pairs of a kernel module."""
    sections = elf_sections(data) or []
    info: dict[str, list[str]] = {}
    for sec in sections:
        if sec.name == ".modinfo":
            for item in data[sec.offset : sec.offset + sec.size].split(b"\0"):
                key, sep, val = item.decode(errors="replace").partition("=")
                if sep:
                    info.setdefault(key, []).append(val)
    return info


# --------------------------------------------------------------------------------------------
# The initramfs tree


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
                "in guest/build.py"
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


# --------------------------------------------------------------------------------------------
# Kernel modules


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


# --------------------------------------------------------------------------------------------
# Archive writers


def write_cpio(tree: Tree, epoch: int) -> bytes:
    """A cpio 'newc' archive of the tree: sorted, owned by root, every mtime = `epoch`."""
    out = io.BytesIO()

    def entry(name: str, mode: int, data: bytes, nlink: int, ino: int, rdev: tuple[int, int]) -> None:
        namez = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, nlink, epoch, len(data), 0, 0, rdev[0], rdev[1], len(namez), 0)
        out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
        out.write(namez)
        out.write(b"\0" * (-(110 + len(namez)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    kinds = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "symlink": stat.S_IFLNK, "chr": stat.S_IFCHR}
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


# --------------------------------------------------------------------------------------------
# Assembling the guest


def source_files() -> list[Path]:
    files = [Path(__file__).resolve()]
    files += sorted(p for p in ROOTFS_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    files += sorted((GUEST_DIR / "iso").glob("*"))
    return files


def cache_key(records: dict[str, Package], kernel: Package) -> tuple[str, dict[str, object]]:
    h = hashlib.sha256()
    for f in source_files():
        h.update(str(f.relative_to(GUEST_DIR)).encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    manifest: dict[str, object] = {
        "format": BUILD_FORMAT,
        "kernel": kernel.ident,
        "packages": sorted(p.ident for p in records.values()),
        "sources": h.hexdigest(),
        "epoch": source_epoch(),
    }
    key = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:24]
    return key, manifest


def source_epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else DEFAULT_EPOCH


def add_rootfs_overlay(tree: Tree) -> None:
    """guest/rootfs/* as is; files that start with '#!' become executable."""
    for path in sorted(ROOTFS_DIR.rglob("*")):
        rel = str(path.relative_to(ROOTFS_DIR))
        if path.is_dir():
            tree.dir(rel)
        elif path.is_file():
            data = path.read_bytes()
            mode = 0o755 if data.startswith(b"#!") else 0o644
            tree.file(rel, data, SECRET_FILES.get(rel, mode))


def build_initramfs(
    records: dict[str, Package],
    kernel: Package,
    kroot: Path,
    kver: str,
    resolver: LibResolver,
    manifest: dict[str, object],
) -> bytes:
    tree = Tree()
    for d in ("proc", "sys", "dev", "run", "tmp", "mnt", "root", "var/log", "etc/dropbear"):
        tree.dir(d, 0o1777 if d == "tmp" else (0o700 if d == "root" else 0o755))
    tree.chardev("dev/console", 5, 1)
    tree.chardev("dev/null", 1, 3, 0o666)

    used = resolver.add_with_libs(
        tree, [(name, rel) for name, files in PACKAGE_FILES.items() for rel in files]
    )
    # busybox applets are linked at boot (`busybox --install -s`); /bin/sh must exist before.
    tree.symlink("bin/sh", "busybox")
    tree.symlink("sbin/mkfs.ext4", "mke2fs")
    # dropbear runs the SFTP subsystem from a path compiled into it.
    dropbear = (resolver.package_root("dropbear-bin") / "usr/sbin/dropbear").read_bytes()
    sftp_paths = re.findall(rb"(/[\w/.-]*sftp-server)\0", dropbear)
    sftp_path = sftp_paths[0].decode().lstrip("/") if sftp_paths else "usr/lib/sftp-server"
    if sftp_path != "usr/lib/openssh/sftp-server":
        tree.symlink(sftp_path, os.path.relpath("usr/lib/openssh/sftp-server", Path(sftp_path).parent))

    moddir = kroot / "lib/modules" / kver
    boot_order, blobs, deps = module_closure(moddir, BOOT_MODULES)
    boot_names = [Path(p).name.removesuffix(".ko").replace("-", "_") for p in boot_order]
    floppy_order, fblobs, fdeps = module_closure(moddir, FLOPPY_MODULES, boot_names)
    blobs.update(fblobs)
    deps.update(fdeps)
    mroot = f"lib/modules/{kver}"
    for path, data in sorted(blobs.items()):
        tree.file(f"{mroot}/{path}", data)
    tree.file(
        f"{mroot}/modules.dep",
        "".join(f"{p}: {' '.join(deps[p])}\n" for p in sorted(deps)).encode(),
    )
    for extra in ("modules.builtin", "modules.order"):
        if (moddir / extra).is_file():
            tree.file(f"{mroot}/{extra}", (moddir / extra).read_bytes())
    tree.file("etc/kiln/modules.boot", "".join(p + "\n" for p in boot_order).encode())
    tree.file("etc/kiln/modules.floppy", "".join(p + "\n" for p in floppy_order).encode())

    add_rootfs_overlay(tree)
    tree.file("etc/kiln/build.json", (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    idents = [kernel.ident, *sorted(records[n].ident for n in used)]
    tree.file("etc/kiln/packages", "".join(i + "\n" for i in idents).encode())
    return gzip.compress(write_cpio(tree, source_epoch()), compresslevel=9, mtime=0)


def build_iso(
    records: dict[str, Package], kernel: Package, resolver: LibResolver, work: Path, key: str,
    manifest: dict[str, object],
) -> Path:
    resolver.ensure([kernel.name, *PACKAGE_FILES, ISOLINUX_BIN[0], LDLINUX_C32[0]])
    kroot = resolver.package_root(kernel.name)
    kvers = sorted(p.name for p in (kroot / "lib/modules").iterdir())
    if len(kvers) != 1:
        raise BuildError(f"{kernel.name}: expected one lib/modules/<version>, found {kvers}")
    kver = kvers[0]
    vmlinuz = kroot / "boot" / f"vmlinuz-{kver}"
    if not vmlinuz.is_file():
        raise BuildError(f"{kernel.name}: boot/vmlinuz-{kver} is missing")
    manifest = {**manifest, "kernel_release": kver, "key": key}
    initrd = build_initramfs(records, kernel, kroot, kver, resolver, manifest)

    iso = Tree()
    iso.file("kiln/vmlinuz", vmlinuz.read_bytes())
    iso.file("kiln/initrd.gz", initrd)
    iso.file("kiln/build.json", (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    for pkg_name, rel in (ISOLINUX_BIN, LDLINUX_C32):
        iso.file(f"isolinux/{Path(rel).name}", (resolver.package_root(pkg_name) / rel).read_bytes())
    for f in sorted((GUEST_DIR / "iso").glob("*")):
        iso.file(f"isolinux/{f.name}", f.read_bytes())

    stage = work / "iso-root"
    write_tree(iso, stage, source_epoch())
    out = work / ISO_NAME
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(source_epoch())}
    run(
        [
            "xorriso", "-as", "mkisofs", "-quiet", "-o", str(out), "-V", VOLUME_ID,
            "-R", "-J", "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
            "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", str(stage),
        ],
        env=env,
    )  # fmt: skip
    return out


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def publish(result: Path, out_dir: Path) -> Path:
    """Copy the cached ISO to `out_dir` with a GNU-style SHA256SUMS next to it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / ISO_NAME
    digest = (result.parent / SUMS_NAME).read_text().split()[0]
    if not (dest.is_file() and dest.stat().st_size == result.stat().st_size
            and sha256_file(dest) == digest):  # fmt: skip
        tmp = out_dir / f".{ISO_NAME}.tmp"
        shutil.copyfile(result, tmp)
        os.replace(tmp, dest)
    (out_dir / SUMS_NAME).write_text(f"{digest}  {ISO_NAME}\n")
    return dest


def prune_results(results: Path, keep: str) -> None:
    dirs = sorted(
        (d for d in results.iterdir() if d.is_dir() and d.name != keep),
        key=lambda d: d.stat().st_mtime,
        reverse=True,
    )
    for old in dirs[KEEP_RESULTS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def build(out_dir: Path, cache: Path, force: bool) -> Path:
    start = time.monotonic()
    with locked(cache / "lock"):
        records, kernel = resolve_packages()
        key, manifest = cache_key(records, kernel)
        results = cache / "results"
        result = results / key / ISO_NAME
        if result.is_file() and (result.parent / SUMS_NAME).is_file() and not force:
            log(f"up to date (key {key}); reusing {result}")
            return publish(result, out_dir)
        log(f"building guest (key {key}, kernel {kernel.ident})")
        resolver = LibResolver(records, cache / "debs", cache / "unpacked")
        results.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=results, prefix=".build-") as tmp:
            iso = build_iso(records, kernel, resolver, Path(tmp), key, manifest)
            digest = sha256_file(iso)
            (Path(tmp) / SUMS_NAME).write_text(f"{digest}  {ISO_NAME}\n")
            final = results / key
            shutil.rmtree(final, ignore_errors=True)
            final.mkdir()
            os.replace(iso, final / ISO_NAME)
            os.replace(Path(tmp) / SUMS_NAME, final / SUMS_NAME)
        prune_results(results, key)
        size = result.stat().st_size
        log(f"built {ISO_NAME}: {size / 1e6:.1f} MB in {time.monotonic() - start:.1f} s")
        return publish(result, out_dir)


def default_cache() -> Path:
    env = os.environ.get("KILN_GUEST_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "kiln" / "guest"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "build" / "guest",
        help="output directory for tiny-installer.iso and SHA256SUMS (default: build/guest)",
    )  # fmt: skip
    parser.add_argument(
        "--cache", type=Path, default=None,
        help="package/result cache (default: $KILN_GUEST_CACHE or ~/.cache/kiln/guest)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="rebuild even if the cache is fresh")
    args = parser.parse_args(argv)
    cache = (args.cache or default_cache()).resolve()
    try:
        iso = build(args.out.resolve(), cache, args.force)
    except BuildError as exc:
        print(f"guest/build.py: error: {exc}", file=sys.stderr)
        return 1
    print(iso)
    return 0


if __name__ == "__main__":
    sys.exit(main())
