"""Choosing the accelerator when the template does not: KVM only if a guest really runs.

Packer picks KVM whenever `/dev/kvm` can be opened. On some hosts (nested virtualisation
gone wrong) KVM opens fine but guests hang, so kiln boots the firmware alone under KVM (no
disk, no display) and waits for SeaBIOS to print "No bootable device" on its debug port.
A working KVM gets there in well under a second; a broken one takes seconds or never does.
The verdict is cached per host boot, QEMU binary and version, so only the first build pays.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from kiln import proc
from kiln.ui.log import LOG
from kiln.ui.redact import quote_argv

# SeaBIOS reaches the end of its boot attempts in ~0.1 s under TCG and well under a
# second under a working KVM; on the broken KVM hosts seen here it takes 3 s and Linux
# guests hang.
PROBE_TIMEOUT = 1.5
_DONE_MARKERS = (b"No bootable device", b"Booting from", b"Boot failed")


@dataclass(frozen=True, slots=True)
class AccelChoice:
    accelerator: str
    reason: str  # why, for the build output
    probe_seconds: float = 0.0
    cached: bool = False


def packer_default_accelerator() -> str:
    """Packer's default (builder/qemu/config.go at v1.6.6): `kvm` when /dev/kvm opens."""
    try:
        os.close(os.open("/dev/kvm", os.O_RDONLY))
    except OSError:
        return "tcg"
    return "kvm"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def _cache_file(cache_dir: Path, qemu: str) -> Path:
    path = shutil.which(qemu) or qemu
    try:
        st = os.stat(path)
        ident = f"{path}:{st.st_mtime_ns}:{st.st_size}"
    except OSError:
        ident = path
    key = hashlib.sha1(f"{_boot_id()}|{ident}".encode()).hexdigest()[:16]
    return cache_dir / f"kvm-probe-{key}.json"


async def choose_accelerator(qemu_binary: str, *, cache_dir: Path) -> AccelChoice:
    """`kvm` if it can run a guest here, else `tcg` (with the reason)."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return AccelChoice("tcg", "/dev/kvm is not available: using tcg (software emulation)")
    cache = _cache_file(cache_dir, qemu_binary)
    with contextlib.suppress(OSError, ValueError, KeyError):
        data = json.loads(cache.read_text())
        return AccelChoice(data["accelerator"], data["reason"], cached=True)
    started = time.monotonic()
    works, detail = await probe_kvm(qemu_binary)
    elapsed = time.monotonic() - started
    if works:
        choice = AccelChoice("kvm", "KVM runs guests here: using kvm", elapsed)
    else:
        choice = AccelChoice(
            "tcg",
            f"WARNING: /dev/kvm exists but a test guest did not run under KVM ({detail}); "
            'using tcg (software emulation, much slower). Set "accelerator": "kvm" to '
            "force KVM.",
            elapsed,
        )
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"accelerator": choice.accelerator, "reason": choice.reason}))
    return choice


async def probe_kvm(qemu_binary: str, timeout: float = PROBE_TIMEOUT) -> tuple[bool, str]:
    """Boot SeaBIOS under KVM; True when it reaches the end of its boot attempts."""
    argv = [qemu_binary, "-machine", "pc,accel=kvm", "-display", "none", "-nodefaults",
            "-no-user-config", "-m", "16", "-debugcon", "stdio",
            "-global", "isa-debugcon.iobase=0x402"]  # fmt: skip
    LOG.debug("KVM probe: %s", quote_argv(argv))
    seen = bytearray()
    finished = asyncio.Event()

    def watch(chunk: bytes) -> None:
        seen.extend(chunk)
        if any(m in seen for m in _DONE_MARKERS):
            finished.set()

    async def firmware_done(_: proc.Process) -> None:
        await finished.wait()

    try:
        async with proc.spawn(argv, env=dict(os.environ), what=qemu_binary, raw_stdout=watch,
                              ready=firmware_done, ready_timeout=timeout):  # fmt: skip
            return True, "firmware finished booting"
    except proc.NotReady:
        return False, f"the firmware did not finish booting within {timeout}s"
    except proc.CommandError as err:
        if err.returncode is None or err.returncode == 127:
            return False, f"cannot start {qemu_binary}: {err.__cause__ or err}"
        return False, "QEMU exited: " + err.stderr.strip()[-200:]
