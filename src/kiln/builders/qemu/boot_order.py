"""UEFI builds boot "the ISO once, then the disk", as `-boot once=d` makes BIOS builds do.

`-boot` is SeaBIOS's: OVMF ignores `once=` and keeps its own boot order, in which the CD
stays ahead of the disk until the installer registers a boot entry (efibootmgr puts it
first). An installer that registers none (it relies on the removable-media path
`\\EFI\\BOOT\\BOOTX64.EFI`, or leaves boot configuration to a later step) gets the ISO's boot
prompt again after its reboot, and the build waits out `ssh_timeout`.

QEMU hands the firmware a boot order (the fw_cfg file `bootorder`, which OVMF follows) built
from the devices' `bootindex` properties, and rebuilds it at every reset. So right after
QEMU starts, kiln sets `bootindex` over QMP — the main disk 0, the installer CD 1: the first
boot is unchanged (the order was built before the change), and from the guest's first
reboot on, the disk comes first and the CD only if the disk does not boot.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Commander(Protocol):
    async def command(self, name: str, **arguments: Any) -> Any: ...


def _same_file(a: str, b: str) -> bool:
    return a == b or os.path.realpath(a) == os.path.realpath(b)


def boot_indexes(blocks: Sequence[Mapping[str, Any]], disk: str, iso: str) -> list[tuple[str, int]]:
    """(QOM path, bootindex) to set, from `query-block`'s answer: the device holding `disk`
    first, then the one holding `iso`. Empty when either is not found."""
    found: dict[str, str] = {}
    for block in blocks:
        inserted = block.get("inserted") or {}
        path = block.get("qdev")
        name = inserted.get("file")
        if not path or not isinstance(name, str):
            continue
        for role, wanted in (("disk", disk), ("iso", iso)):
            if role not in found and _same_file(name, wanted):
                found[role] = path
    if "disk" not in found or "iso" not in found:
        return []
    return [(found["disk"], 0), (found["iso"], 1)]


async def set_disk_then_iso(qemu: Commander, disk: str, iso: str) -> list[tuple[str, int]]:
    """Give the disk bootindex 0 and the ISO 1 (effective from the next reset)."""
    plan = boot_indexes(await qemu.command("query-block"), disk, iso)
    for path, index in plan:
        await qemu.command("qom-set", path=path, property="bootindex", value=index)
    return plan
