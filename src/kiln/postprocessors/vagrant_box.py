"""Writing a Vagrant box: what goes in it, and the streaming tar + gzip writer.

Pure of kiln's build machinery: it takes paths, bytes and a level, so the `vagrant`
post-processor (and anything else) can pack a box. The format is Packer's
(post-processor/vagrant at v1.6.6): a tar in GNU format (`DirToBox` sets
`tar.FormatGNU`) with the entries in name order (`filepath.Walk`), gzipped unless
`compression_level` is 0, the tar ending with two zero blocks like Go's `tar.Writer`.

Packer first copies the disk into a temporary directory and then tars that copy; here the
disk is read once, straight into the archive, in 1 MiB pieces (never all in memory), and
gzip runs on every CPU (zlib-ng, as pigz does it: blocks primed with the previous 32 KiB).
The box is written under a temporary name next to the target and renamed into place when
complete, so a failure or an interrupt never leaves a half-written box.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kiln.errors import KilnError

CHUNK = 1 << 20
BLOCK = 512
DEFAULT_LEVEL = -1  # gzip's default (6), Go's flate.DefaultCompression
NO_COMPRESSION = 0

# Packer's post-processor/vagrant/post-processor.go: boxVagrantfileContents.
BOX_VAGRANTFILE = """
# The contents below were provided by the Packer Vagrant post-processor
{provider}

# The contents below (if any) are custom contents provided by the
# Packer template during image build.
{custom}
"""

# Packer's post-processor/vagrant/libvirt.go: libvirtVagrantfile.
LIBVIRT_VAGRANTFILE = """
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = "{driver}"
  end
end
"""


class BoxError(KilnError):
    """The box could not be made."""


class Cancelled(Exception):
    """The writer was told to stop (the build was cancelled)."""


@dataclass(frozen=True, slots=True)
class BoxEntry:
    """One file of the box: its name in the archive and a file to read or bytes."""

    name: str
    source: Path | None = None
    data: bytes = b""

    def size(self) -> int:
        return self.source.stat().st_size if self.source is not None else len(self.data)


def check_level(level: int) -> None:
    """Packer's range: -1 (default) to 9; 0 writes an uncompressed tar."""
    if not -1 <= level <= 9:
        raise BoxError(
            "Invalid compression level. Expected an integer from -1 to 9 "
            f"(compression_level = {level}; 0 packs without compression)."
        )


def size_in_megabytes(size: str) -> int:
    """Packer's `sizeInMegabytes` (libvirt.go): a qemu size (`40960M`, `20G`) in MiB."""
    # unit → (multiply, divide) to get MiB; Go's integer division truncates
    units = {"b": (1, 1 << 20), "k": (1, 1 << 10), "m": (1, 1), "g": (1 << 10, 1),
             "t": (1 << 20, 1), "p": (1 << 30, 1), "e": (1 << 40, 1)}  # fmt: skip
    text = size.strip()
    unit = text[-1:].lower()
    if unit.isdigit():
        unit = "m"
    else:
        text = text[:-1]
    if unit not in units or not text.isdigit():
        raise BoxError(
            f"disk size {size!r} is not a number with one of the units B, K, M, G, T, P, E"
        )
    multiply, divide = units[unit]
    return int(text) * multiply // divide


def libvirt_virtual_size(disk_size: str) -> int:
    """`virtual_size` of libvirt metadata: the disk size in GiB, rounded up (Packer's)."""
    megabytes = size_in_megabytes(disk_size)
    return megabytes // 1024 + (1 if megabytes % 1024 else 0)


def libvirt_driver(domain_type: str) -> str:
    """The libvirt driver for the build's accelerator (Packer's libvirt.go)."""
    if domain_type in ("none", "tcg", "hvf"):
        return "qemu"
    if domain_type == "kvm":
        return "kvm"
    raise BoxError(f"Unknown libvirt domain type: {domain_type}")


def metadata_json(metadata: dict[str, object]) -> bytes:
    """`metadata.json` as Go's json.Encoder writes a map: sorted keys, compact, newline."""
    text = json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return (text + "\n").encode()


def box_vagrantfile(provider_part: str, custom: str) -> bytes:
    return BOX_VAGRANTFILE.format(provider=provider_part, custom=custom).encode()


def box_entries(entries: Sequence[BoxEntry]) -> list[BoxEntry]:
    """The box's files in archive order: one per name (a later entry replaces an earlier),
    sorted by name as Go's filepath.Walk visits them."""
    by_name: dict[str, BoxEntry] = {}
    for entry in entries:
        by_name[entry.name] = entry
    return [by_name[name] for name in sorted(by_name, key=lambda n: n.encode())]


def partial_path(target: Path) -> Path:
    """Where the box is written until it is complete."""
    return target.with_name(f".{target.name}.kiln-partial")


def write_box(
    target: Path,
    entries: Sequence[BoxEntry],
    level: int,
    *,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    threads: int | None = None,
) -> int:
    """Write the box at `target` (replacing it); return the uncompressed bytes packed.

    `progress` is called with the number of input bytes after each piece; setting `stop`
    abandons the box (raises `Cancelled`). On any failure nothing is left at `target`'s
    temporary name, and an existing `target` is untouched.
    """
    check_level(level)
    stop = stop or threading.Event()
    tmp = partial_path(target)
    try:
        with tmp.open("wb") as raw:
            out = _gzip_writer(raw, level, threads) if level != NO_COMPRESSION else None
            try:
                total = _write_tar(out if out is not None else raw, entries, progress, stop)
            finally:
                if out is not None:
                    out.close()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return total


def _gzip_writer(raw: IO[bytes], level: int, threads: int | None) -> Any:
    from zlib_ng import gzip_ng_threaded

    count = threads if threads is not None else len(os.sched_getaffinity(0))
    return gzip_ng_threaded.open(  # type: ignore[no-untyped-call]
        raw, "wb", compresslevel=level, threads=max(1, count)
    )


def _header(entry: BoxEntry, size: int, now: int) -> bytes:
    # What Go's tar.FileInfoHeader gives a file Packer just wrote: mode 0644, owner and
    # group of the user running the build, modification time now.
    import tarfile  # for a build only: `kiln validate` loads this module

    info = tarfile.TarInfo(entry.name)
    info.size = size
    info.mode = 0o644
    info.mtime = now
    info.uid, info.gid = os.getuid(), os.getgid()
    info.uname, info.gname = _user_names(info.uid, info.gid)
    info.type = tarfile.REGTYPE
    return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")


def _user_names(uid: int, gid: int) -> tuple[str, str]:
    import grp
    import pwd

    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = ""
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = ""
    return user, group


def _write_tar(
    out: IO[bytes],
    entries: Sequence[BoxEntry],
    progress: Callable[[int], None] | None,
    stop: threading.Event,
) -> int:
    now = int(time.time())
    total = 0
    for entry in box_entries(entries):
        if stop.is_set():
            raise Cancelled
        if entry.source is None:
            out.write(_header(entry, len(entry.data), now))
            out.write(entry.data)
            written = len(entry.data)
            if progress is not None:
                progress(written)
        else:
            with entry.source.open("rb") as src:
                size = os.fstat(src.fileno()).st_size
                out.write(_header(entry, size, now))
                written = _copy(src, out, size, progress, stop)
        out.write(b"\0" * (-written % BLOCK))
        total += written
    out.write(b"\0" * (2 * BLOCK))
    return total


def _copy(
    src: IO[bytes],
    out: IO[bytes],
    size: int,
    progress: Callable[[int], None] | None,
    stop: threading.Event,
) -> int:
    """Copy exactly `size` bytes (the size the header promised)."""
    left = size
    while left > 0:
        if stop.is_set():
            raise Cancelled
        chunk = src.read(min(CHUNK, left))
        if not chunk:
            raise BoxError(f"{src.name} shrank while it was being packed into the box")
        out.write(chunk)
        left -= len(chunk)
        if progress is not None:
            progress(len(chunk))
    return size
