"""Step 12a: the EFI variables store, copied from `efi_firmware_vars` into the output.

Also settles what QEMU needs to know about the firmware prepare chose (image formats, SMM)
from the descriptor that names its images, and says which one it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.firmware import descriptor_dirs, settled
from kiln.builders.qemu.state import QemuState
from kiln.ui.log import LOG


def efivars_path(state: QemuState) -> str:
    return str(state.output_dir / "efivars.fd")


@asynccontextmanager
async def step_efivars(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if c.efi_boot:
        dirs = descriptor_dirs(state.options.env)
        state.firmware = settled(c.efi_firmware_code, c.efi_firmware_vars, dirs)
        d = state.firmware.descriptor
        if d is not None:
            LOG.debug("UEFI firmware descriptor %s: %s", d.path, d.description)
            state.ui.progress(f"Using UEFI firmware {c.efi_firmware_code} (descriptor {d.path})")
        else:
            state.ui.progress(f"Using UEFI firmware {c.efi_firmware_code}")
    restore = state.checkpoint.restore if state.checkpoint is not None else None
    if c.efi_boot and restore is not None and restore.manifest.efivars:
        # The variables as the install left them (the checkpoint's copy is never written).
        await state.driver.copy_file(str(restore.file(restore.manifest.efivars)),
                                     efivars_path(state))  # fmt: skip
    elif c.efi_boot:
        await state.driver.copy_file(c.efi_firmware_vars, efivars_path(state))
    yield
