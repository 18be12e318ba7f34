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
    if c.efi_boot:
        await state.driver.copy_file(c.efi_firmware_vars, efivars_path(state))
    yield
