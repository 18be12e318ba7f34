"""Archive formats of the `compress` post-processor (Packer's post-processor/compress).

The format comes from the output name the way Packer reads it: the extensions are the
matches of `\\.([a-z0-9]+)` in `output` (or in `output.format` when `format` is given);
the last is `zip` or `tar` → that archive, uncompressed; otherwise `gz` (pgzip), `lz4`,
`bgzf` or `xz` → that compression, inside a tar when the one before is `tar`, of the
single input file otherwise; anything else (or no extension) → a gzipped tar, the file
name unchanged. Zip entries are the files' paths as given, tar entries their base names.
"""

from __future__ import annotations

import re
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kiln.errors import KilnError

FILENAME_PATTERN = re.compile(r"\.([a-z0-9]+)")
ALGORITHMS = {"gz": "pgzip", "lz4": "lz4", "bgzf": "bgzf", "xz": "xz"}
DEFAULT_LEVEL = 6
CHUNK = 1 << 20
BGZF_BLOCK = 0xFF00  # uncompressed bytes per BGZF block (biogo/hts)
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


class ArchiveError(KilnError):
    """The archive could not be written."""


class Cancelled(Exception):
    """The writer was told to stop (the build was cancelled)."""


@dataclass(frozen=True, slots=True)
class ArchiveFormat:
    archive: str  # "tar", "zip" or "" (compress one file)
    algorithm: str  # "pgzip", "lz4", "bgzf", "xz" or "" (none)

    @property
    def compression(self) -> str:
        return self.algorithm or "no compression"


def detect_format(output: str, forced: str = "") -> ArchiveFormat:
    """Packer's detectFromFilename, on the output as written in the template."""
    name = f"{output}.{forced}" if forced else output
    found = FILENAME_PATTERN.findall(name)
    if not found:
        return ArchiveFormat("tar", "pgzip")
    last = found[-1]
    before = found[-2] if len(found) > 1 else ""
    if last in ("zip", "tar"):
        return ArchiveFormat(last, "")
    if last in ALGORITHMS:
        return ArchiveFormat("tar" if before == "tar" else "", ALGORITHMS[last])
    return ArchiveFormat("tar", "pgzip")


def effective_level(level: int) -> int:
    """Packer's clamping: above 9 → 9, 0 and -1 → the default; below -1 is an error."""
    if level > 9:
        return 9
    if level in (0, -1):
        return DEFAULT_LEVEL
    if level < -1:
        raise ArchiveError(
            f"Invalid compression level. Expected an integer from -1 to 9 (got {level})."
        )
    return level


class BgzfWriter:
    """Blocked gzip (BGZF, as samtools reads it): gzip members of at most 64 KiB each."""

    def __init__(self, raw: IO[bytes], level: int) -> None:
        self.raw = raw
        self.level = level
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) >= BGZF_BLOCK:
            self._block(bytes(self.buffer[:BGZF_BLOCK]))
            del self.buffer[:BGZF_BLOCK]
        return len(data)

    def _block(self, data: bytes) -> None:
        deflate = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        body = deflate.compress(data) + deflate.flush()
        size = 18 + len(body) + 8
        header = struct.pack("<BBBBIBBH", 31, 139, 8, 4, 0, 0, 255, 6)
        self.raw.write(header + b"BC" + struct.pack("<HH", 2, size - 1) + body)
        self.raw.write(struct.pack("<II", zlib.crc32(data), len(data)))

    def flush(self) -> None:
        return None

    def close(self) -> None:
        if self.buffer:
            self._block(bytes(self.buffer))
            self.buffer.clear()
        self.raw.write(BGZF_EOF)


def _compressor(raw: IO[bytes], algorithm: str, level: int) -> Any:
    # The codecs load here, not at import: `kiln validate` needs none of them.
    import gzip
    import lzma

    import lz4.frame  # type: ignore[import-untyped]

    if algorithm == "pgzip":
        return gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=0)
    if algorithm == "lz4":
        return lz4.frame.LZ4FrameFile(raw, mode="wb", compression_level=level)
    if algorithm == "bgzf":
        return BgzfWriter(raw, level)
    if algorithm == "xz":
        return lzma.LZMAFile(raw, mode="wb")
    return None


def _copy(src: IO[bytes], dst: Any, stop: threading.Event) -> None:
    while chunk := src.read(CHUNK):
        if stop.is_set():
            raise Cancelled
        dst.write(chunk)


def write_archive(
    files: list[Path], target: Path, fmt: ArchiveFormat, level: int, stop: threading.Event
) -> None:
    """Write `target`; on any failure (or `stop`) remove what was written."""
    if fmt.archive == "" and len(files) != 1:
        shown = "[" + " ".join(str(f) for f in files) + "]"
        raise ArchiveError(
            f"Can only have 1 input file when not using tar/zip. Found {len(files)} files: "
            f"{shown} (end the output with .tar.gz, .tar.lz4, .tar.xz or .zip to pack several)"
        )
    try:
        with target.open("wb") as raw:
            compressor = _compressor(raw, fmt.algorithm, level)
            out: Any = compressor if compressor is not None else raw
            try:
                _write_into(out, files, fmt, stop)
            finally:
                if compressor is not None:
                    compressor.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _write_into(out: Any, files: list[Path], fmt: ArchiveFormat, stop: threading.Event) -> None:
    import tarfile
    import zipfile

    if fmt.archive == "tar":
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for path in files:
                info = tar.gettarinfo(str(path), arcname=path.name)
                with path.open("rb") as src:
                    tar.addfile(info, _StopReader(src, stop))
        return
    if fmt.archive == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                with path.open("rb") as src, archive.open(path.as_posix(), "w") as entry:
                    _copy(src, entry, stop)
        return
    with files[0].open("rb") as src:
        _copy(src, out, stop)


class _StopReader:
    """A file reader that raises `Cancelled` once `stop` is set (tarfile reads through it)."""

    def __init__(self, src: IO[bytes], stop: threading.Event) -> None:
        self.src = src
        self.stop = stop

    def read(self, size: int = -1) -> bytes:
        if self.stop.is_set():
            raise Cancelled
        return self.src.read(size)
