"""The floppy disk: a 1.44 MB FAT12 image from `floppy_files`, `floppy_dirs`, `floppy_content`.

Packer's rules (packer-plugin-sdk/multistep/commonsteps/step_create_floppy.go, Packer v1.6.6):
`floppy_files` are copied
flat into the root (a directory's files too, found recursively); `floppy_dirs` keep
their hierarchy under the directory's own name; `floppy_content` (path → text) wins
over a file at the same path. The label is the FAT volume label and the OEM name.

The boot sector and FATs are written here (the standard 3.5" 1.44 MB layout, which
pyfatfs's `mkfs` does not produce: it leaves the geometry at zero); files are added
with pyfatfs, which writes VFAT long names.
"""

from __future__ import annotations

import math
import os
import struct
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from kiln.media.sources import (
    Entry,
    MediaError,
    content_path,
    expand_glob,
    fold,
    glob_problem_or_no_match,
    has_glob,
    stat_problem,
    walk_files,
)

__all__ = [
    "FLOPPY_BYTES",
    "MediaError",
    "collect_floppy_files",
    "file_errors_floppy",
    "make_floppy",
]

SECTOR = 512
TOTAL_SECTORS = 2880
FLOPPY_BYTES = TOTAL_SECTORS * SECTOR  # 1,474,560
SECTORS_PER_FAT = 9
FAT_COUNT = 2
ROOT_ENTRIES = 224
ROOT_SECTORS = ROOT_ENTRIES * 32 // SECTOR
FIRST_DATA_SECTOR = 1 + FAT_COUNT * SECTORS_PER_FAT + ROOT_SECTORS
DATA_CLUSTERS = TOTAL_SECTORS - FIRST_DATA_SECTOR  # 2847 one-sector clusters
DATA_BYTES = DATA_CLUSTERS * SECTOR
MEDIA_BYTE = 0xF0

_LABEL_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$%&'()-@^_`{}~")
_BAD_NAME_CHARS = set('"*/:<>?\\|')
_SHORT_NAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'()-@^_`{}~")


# --- collecting ---------------------------------------------------------------------


def _expand(entry: str, base: Path, what: str) -> list[str]:
    """One `floppy_files`/`floppy_dirs` entry as existing paths, or MediaError."""
    if has_glob(entry):
        problem = glob_problem_or_no_match(entry, base)
        if problem:
            raise MediaError(f"Bad Floppy disk {what} '{entry}': {problem}")
        return expand_glob(entry, base)
    problem = stat_problem(entry, base)
    if problem:
        raise MediaError(f"Bad Floppy disk {what} '{entry}': {problem}")
    return [entry]


def _add(entries: list[Entry], seen: dict[str, str], image_path: str, source: Path) -> None:
    key = fold(image_path)
    if key in seen and Path(seen[key]).resolve() == source.resolve():
        return  # the same file listed twice
    if key in seen:
        raise MediaError(
            f"Two files would have the same name {image_path!r} on the floppy "
            f"(FAT names ignore case): {seen[key]} and {source}. Rename one, or put one "
            "in a directory with floppy_dirs."
        )
    seen[key] = str(source)
    entries.append((image_path, source))


def collect_floppy_files(
    files: Sequence[str], dirs: Sequence[str], content: Mapping[str, str], *, base: Path
) -> list[Entry]:
    """What goes onto the floppy, as ``[(path inside the image, source)]``.

    `floppy_files`: globs (``* ? [``) expanded, each file put in the root under its base
    name, a directory's files (recursively) likewise flattened. `floppy_dirs`: each
    directory (or glob match) copied with its hierarchy under its own name (a
    directory source in the result means "create this directory"). `floppy_content`:
    UTF-8 text at its path, replacing a file of the same path. Two files landing on one
    name (ignoring case, as FAT does) is an error. Missing paths: ``Bad Floppy disk file
    '<p>': <err>`` / ``Bad Floppy disk directory '<p>': <err>``.
    """
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for entry in files:
        for match in _expand(entry, base, "file"):
            host = base / match
            if host.is_dir():
                for rel, path in walk_files(host):
                    if not path.is_dir():
                        _add(entries, seen, rel.rsplit("/", 1)[-1], path)
            else:
                _add(entries, seen, host.name, host)
    for entry in dirs:
        for match in _expand(entry, base, "directory"):
            host = base / match
            top = Path(os.path.abspath(host)).name
            if not host.is_dir():
                _add(entries, seen, host.name, host)
                continue
            _add(entries, seen, top, host)
            for rel, path in walk_files(host):
                _add(entries, seen, f"{top}/{rel}", path)
    by_key = {fold(path): i for i, (path, _) in enumerate(entries)}
    for key, text in content.items():
        image_path = content_path(key, "floppy_content")
        data = text.encode("utf-8")
        index = by_key.get(fold(image_path))
        if index is not None:
            entries[index] = (image_path, data)
        else:
            by_key[fold(image_path)] = len(entries)
            entries.append((image_path, data))
    return entries


def file_errors_floppy(files: Sequence[str], dirs: Sequence[str], *, base: Path) -> list[str]:
    """Validate-time checks of `floppy_files`/`floppy_dirs` (Packer's `FloppyConfig.Prepare`).

    One error per bad entry: a path that cannot be stat'ed, a malformed glob, or a glob
    matching nothing (which Packer accepts, leaving the floppy without those files).
    """
    errors: list[str] = []
    for what, entries in (("file", files), ("directory", dirs)):
        for entry in entries:
            problem = (
                glob_problem_or_no_match(entry, base)
                if has_glob(entry)
                else stat_problem(entry, base)
            )
            if problem:
                errors.append(f"Bad Floppy disk {what} '{entry}': {problem}")
    return errors


# --- checking -----------------------------------------------------------------------


def floppy_label_problem(label: str) -> str | None:
    """Why `floppy_label` cannot be a FAT volume label, or None (checked at validate time)."""
    upper = label.upper()
    if not upper or len(upper) > 11 or not set(upper) <= _LABEL_CHARS:
        return (
            f"floppy_label {label!r} cannot be a FAT volume label: use 1 to 11 characters "
            "from A-Z, 0-9, space and !#$%&'()-@^_`{}~ (lower case is upper-cased)"
        )
    return None


def _fat_label(label: str) -> bytes:
    """`floppy_label` as the 11-byte FAT volume label (upper-cased, space padded)."""
    problem = floppy_label_problem(label)
    if problem:
        raise MediaError(problem)
    return label.upper().ljust(11).encode("ascii")


def _check_name(image_path: str) -> None:
    for part in image_path.split("/"):
        bad = sorted(set(part) & _BAD_NAME_CHARS) + [c for c in part if ord(c) < 0x20]
        # pyfatfs caps long names at 255 bytes of UTF-16 (FAT itself allows 255 characters).
        too_long = len(part.encode("utf-16-le")) > 255
        if bad or part in ("", ".", "..") or part.endswith((" ", ".")) or too_long:
            raise MediaError(
                f"{image_path!r} cannot be a file name on a FAT floppy: names may not be "
                "empty, end in a dot or space, be longer than 127 characters or contain "
                '" * / : < > ? \\ | or control characters. Rename the file.'
            )


def _dir_slots(name: str) -> int:
    """Directory entries a name takes: 1, plus VFAT long-name entries unless it is a
    plain upper-case 8.3 name."""
    stem, dot, ext = name.partition(".")
    plain = (
        0 < len(stem) <= 8
        and len(ext) <= 3
        and "." not in ext
        and set(stem + ext) <= _SHORT_NAME_CHARS
        and (ext or not dot)
    )
    if plain:
        return 1
    return 1 + math.ceil(len(name.encode("utf-16-le")) / 2 / 13)


def _space_needed(entries: Sequence[Entry]) -> tuple[int, int]:
    """(data clusters, root directory entries) the entries need, counted generously."""
    clusters = 0
    children: dict[str, int] = {}  # directory path → directory entries it holds
    for image_path, source in entries:
        parent, _, name = image_path.rpartition("/")
        children[parent] = children.get(parent, 0) + _dir_slots(name)
        if isinstance(source, bytes):
            size = len(source)
        elif source.is_dir():
            children.setdefault(image_path, 0)
            continue
        else:
            size = source.stat().st_size
        clusters += math.ceil(size / SECTOR)
    for path, count in children.items():
        if path:
            clusters += math.ceil((count + 2) * 32 / SECTOR)  # "." and ".." too
    return clusters, children.get("", 0) + 1  # + the volume label entry


def _total_bytes(entries: Iterable[Entry]) -> int:
    total = 0
    for _, source in entries:
        if isinstance(source, bytes):
            total += len(source)
        elif not source.is_dir():
            total += source.stat().st_size
    return total


def _check_fits(entries: Sequence[Entry]) -> None:
    clusters, root_slots = _space_needed(entries)
    if clusters > DATA_CLUSTERS:
        total = _total_bytes(entries)
        raise MediaError(
            f"The floppy files take {total:,} bytes ({clusters * SECTOR:,} bytes on disk "
            f"with directories), but a 1.44 MB floppy holds {DATA_BYTES:,} bytes of "
            "files. Serve large files from http_directory (the installer fetches them "
            "from {{ .HTTPIP }}:{{ .HTTPPort }}) or put them on a CD with cd_files."
        )
    if root_slots > ROOT_ENTRIES:
        raise MediaError(
            f"Too many files in the floppy's root directory: they need {root_slots} "
            f"directory entries and FAT12 floppies have {ROOT_ENTRIES} (long names take "
            "several). Move files into a directory with floppy_dirs, or use cd_files."
        )


# --- writing ------------------------------------------------------------------------


def _boot_sector(label: bytes, oem: bytes) -> bytes:
    """A standard 3.5" 1.44 MB FAT12 boot sector; booting it hands over to the next
    boot device (INT 18h) instead of waiting for a key press."""
    serial = int(time.time()) & 0xFFFFFFFF
    sector = bytearray(SECTOR)
    sector[0:3] = b"\xeb\x3c\x90"
    sector[3:11] = oem
    struct.pack_into(
        "<HBHBHHBHHHII",
        sector,
        11,
        SECTOR,
        1,  # sectors per cluster
        1,  # reserved sectors (this one)
        FAT_COUNT,
        ROOT_ENTRIES,
        TOTAL_SECTORS,
        MEDIA_BYTE,
        SECTORS_PER_FAT,
        18,  # sectors per track
        2,  # heads
        0,  # hidden sectors
        0,  # large sector count
    )
    struct.pack_into("<BBBI11s8s", sector, 36, 0, 0, 0x29, serial, label, b"FAT12   ")
    sector[62:67] = b"\xcd\x18\xf4\xeb\xfd"  # int 18h; hlt; jmp $-1
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def _format(dest: Path, label: bytes, oem: bytes) -> None:
    volume_entry = bytearray(32)
    volume_entry[0:11] = label
    volume_entry[11] = 0x08  # ATTR_VOLUME_ID
    fat = bytes([MEDIA_BYTE, 0xFF, 0xFF]).ljust(SECTORS_PER_FAT * SECTOR, b"\0")
    with dest.open("wb") as out:
        out.truncate(FLOPPY_BYTES)
        out.write(_boot_sector(label, oem))
        for _ in range(FAT_COUNT):
            out.write(fat)
        out.write(volume_entry)


def _populate(dest: Path, entries: Sequence[Entry]) -> None:
    from pyfatfs.PyFatFS import PyFatFS  # slow to import; only needed when building

    fs = PyFatFS(str(dest), encoding="ibm437")
    try:
        for image_path, source in entries:
            target = "/" + image_path
            parent = target.rsplit("/", 1)[0] or "/"
            fs.makedirs(parent, recreate=True)
            if isinstance(source, bytes):
                fs.writebytes(target, source)
            elif source.is_dir():
                fs.makedirs(target, recreate=True)
            else:
                with source.open("rb") as handle:
                    fs.upload(target, handle)
    finally:
        fs.close()


def make_floppy(entries: Sequence[Entry], dest: Path, *, label: str = "packer") -> None:
    """Write a 1,474,560-byte FAT12 floppy image holding `entries` to `dest`.

    Raises `MediaError` (and leaves no `dest`) when the label or a name cannot be
    stored on FAT, or when the files do not fit (naming the total size, the 1.44 MB
    limit, and `http_directory`/`cd_files` as the way out).
    """
    fat_label = _fat_label(label or "packer")
    oem = (label or "packer").encode("ascii", "replace")[:8].ljust(8)
    for image_path, _ in entries:
        _check_name(image_path)
    try:
        _check_fits(entries)
    except OSError as err:
        raise MediaError(f"Cannot read a floppy file: {err}") from err
    try:
        _format(dest, fat_label, oem)
        _populate(dest, entries)
    except MediaError:
        dest.unlink(missing_ok=True)
        raise
    except Exception as err:
        dest.unlink(missing_ok=True)
        raise MediaError(f"Error creating floppy: {err}") from err
