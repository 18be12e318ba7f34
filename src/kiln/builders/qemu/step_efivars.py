"""Step 12a: the EFI variables store, copied from `efi_firmware_vars` into the output."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.state import QemuState


def efivars_path(state: QemuState) -> str:
    return str(state.output_dir / "efivars.fd")


@asynccontextmanager
async def step_efivars(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    restore = state.checkpoint.restore if state.checkpoint is not None else None
    if c.efi_boot and restore is not None and restore.manifest.efivars:
        # The variables as the install left them (the checkpoint's copy is never written).
        await state.driver.copy_file(str(restore.file(restore.manifest.efivars)),
                                     efivars_path(state))  # fmt: skip
    elif c.efi_boot:
        await state.driver.copy_file(c.efi_firmware_vars, efivars_path(state))
    yield
