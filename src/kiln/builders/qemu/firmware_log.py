"""OVMF's boot failures, read from the serial log, so a UEFI build that cannot boot says why.

When no boot option starts, OVMF (edk2's BdsDxe) prints one line per option it tried and
then gives up, on the serial console:

    BdsDxe: failed to load Boot0001 "UEFI QEMU DVD-ROM QM00001 " from PciRoot(…): Access Denied
    BdsDxe: failed to start Boot0004 "EFI Internal Shell" from Fv(…): Security Violation
    BdsDxe: No bootable option or device was found.

Without this, kiln would type the boot command into OVMF's boot menu and wait out
`ssh_timeout`. `Access Denied` / `Security Violation` is Secure Boot refusing an image that
no key in the firmware's `db` signed: the build stops at the first such line (after it,
OVMF tries PXE and HTTP boot on each NIC, which takes minutes under TCG). `Not Found` is a
device with no UEFI boot loader: the build stops when OVMF gives up. Falling back to the
UEFI shell is not a failure (some templates type their boot command into it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FAILED = re.compile(
    r'BdsDxe: failed to (?:load|start) Boot[0-9A-Fa-f]{4} "(?P<name>[^"]*)" from .*?: '
    r"(?P<status>[A-Za-z][A-Za-z ]*?)\s*$"
)
GAVE_UP = "BdsDxe: No bootable option or device was found."
REFUSED = ("Access Denied", "Security Violation")


@dataclass(frozen=True, slots=True)
class BootFailure:
    option: str  # the boot option's description, e.g. "UEFI QEMU DVD-ROM QM00001"
    status: str  # EFI status text: "Access Denied", "Not Found", ...


class FirmwareLog:
    """What OVMF said so far; `feed` it text as the serial log grows."""

    def __init__(self) -> None:
        self.failures: list[BootFailure] = []
        self.gave_up = False
        self._partial = ""

    def feed(self, text: str) -> None:
        *lines, self._partial = (self._partial + text).split("\n")
        for raw in lines:
            line = re.sub(r"\x1b\[[0-9;=?]*[A-Za-z]", "", raw).strip("\r ")
            found = _FAILED.search(line)
            if found:
                self.failures.append(BootFailure(found["name"].strip(), found["status"]))
            elif GAVE_UP in line:
                self.gave_up = True

    def problem(self, *, secure_boot: bool) -> str | None:
        """Why the VM cannot boot: at once when Secure Boot refuses a loader (OVMF would try
        network boot next, for minutes), else once the firmware gives up; None meanwhile."""
        refused = next((f for f in self.failures if f.status in REFUSED), None)
        if refused is not None:
            on = "efi_secure_boot is on" if secure_boot else "the firmware has Secure Boot on"
            return (
                f'Secure Boot refused to start "{refused.option}" ({refused.status}): {on}, '
                "and its boot loader is not signed by a key in the firmware's database. Boot "
                "an installer with a signed loader (shim signed by Microsoft's UEFI CA, as "
                "distribution ISOs have), or use a firmware without Secure Boot "
                "(efi_secure_boot: false)"
            )
        if not self.gave_up:
            return None
        tried = "; ".join(f'"{f.option}": {f.status}' for f in self.failures) or "none"
        return (
            "the UEFI firmware found nothing to boot (boot options tried: "
            f"{tried}): does the ISO have a UEFI boot loader (an El Torito EFI image)? An "
            "installer that boots only under BIOS needs efi_boot: false"
        )


class SerialWatch:
    """Reads a serial log as it grows and keeps a FirmwareLog of it."""

    def __init__(self, path: Path, *, secure_boot: bool) -> None:
        self.path = path
        self.secure_boot = secure_boot
        self.offset = 0
        self.log = FirmwareLog()

    def problem(self) -> str | None:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return None
        self.offset += len(data)
        self.log.feed(data.decode("utf-8", "replace"))
        return self.log.problem(secure_boot=self.secure_boot)
