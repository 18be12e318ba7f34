"""`qemu-img` argv builders (pure, for the dry-run plan and golden tests) and runners."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from kiln import proc
from kiln.builders.qemu.qemu_names import plain_file
from kiln.errors import KilnError

# Extra options kiln gives `qemu-img convert -c` (disk_compression): out-of-order writes
# let qemu-img compress clusters on all its coroutines at once — 18.2 s → 12.1 s for a
# 2 GiB image on 2 cores (bench/README.md). Without -c they only slowed the copy down.
COMPRESS_OPTIONS: tuple[str, ...] = ("-W",)

_SIZE = re.compile(r"^(\d+)([bkmgt]?)$")
_UNITS = {"": 1024**2, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def size_to_bytes(size: str) -> int:
    """A normalised `disk_size` (`40960M`, `10G`, `100b`) in bytes, as qemu-img reads it."""
    m = _SIZE.match(size.strip().lower())
    if not m:
        raise KilnError(f"invalid disk size {size!r}")
    return int(m.group(1)) * _UNITS[m.group(2)]


def human_size(nbytes: int) -> str:
    for unit in ("T", "G", "M", "K"):
        factor = _UNITS[unit.lower()]
        if nbytes >= factor and nbytes % factor == 0:
            return f"{nbytes // factor}{unit}"
    return f"{nbytes}b"


def create_argv(
    path: str,
    size: str,
    *,
    fmt: str,
    extra: Sequence[str] = (),
    backing_file: str | None = None,
    backing_format: str = "qcow2",
) -> list[str]:
    argv = ["qemu-img", "create", "-f", fmt]
    if backing_file is not None:
        # `-F` is required by qemu-img >= 6.1 (Packer 1.6.6 omits it: plugin issue #47).
        argv += ["-b", backing_file, "-F", backing_format]
    return [*argv, *extra, plain_file(path), size]


def convert_argv(
    src: str,
    dst: str,
    *,
    out_fmt: str,
    extra: Sequence[str] = (),
    compress: bool = False,
) -> list[str]:
    argv = ["qemu-img", "convert"]
    if compress:
        argv.append("-c")
    return [*argv, *extra, "-O", out_fmt, plain_file(src), plain_file(dst)]


def resize_argv(path: str, size: str, *, fmt: str, extra: Sequence[str] = ()) -> list[str]:
    return ["qemu-img", "resize", "-f", fmt, *extra, plain_file(path), size]


class QemuImgError(KilnError):
    """A qemu-img command failed; `stderr` is what it said."""

    def __init__(self, message: str, *, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr

    @property
    def locked(self) -> bool:
        """The image is open elsewhere (QEMU not quite gone): worth a retry."""
        return 'Failed to get shared "write" lock' in self.stderr


async def run_qemu_img(argv: Sequence[str]) -> str:
    """Run a qemu-img command; failures say `QemuImg error: <stderr>` like Packer, and more."""
    try:
        result = await proc.run(argv, what="qemu-img")
    except proc.CommandError as err:
        raise QemuImgError(f"QemuImg error: {err}", stderr=err.stderr) from None
    return result.stdout


async def info(path: str) -> dict[str, object]:
    """`qemu-img info --output=json` (format, virtual-size, actual-size, ...)."""
    out = await run_qemu_img(["qemu-img", "info", "--output=json", plain_file(path)])
    data = json.loads(out)
    if not isinstance(data, dict):
        raise KilnError(f"qemu-img info {path}: unexpected output")
    return data


async def check(path: str) -> None:
    """`qemu-img check`: a corrupt image fails the build instead of becoming an artifact."""
    try:
        await proc.run(["qemu-img", "check", plain_file(path)], what="qemu-img check")
    except proc.CommandError as err:
        raise KilnError(f"The image {path} failed `qemu-img check`: {err}") from None
