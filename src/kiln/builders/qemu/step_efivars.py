"""Step 12a: the EFI variables store, copied from `efi_firmware_vars` into the output."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.state import QemuState


@asynccontextmanager
async def step_efivars(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if not c.efi_boot:
        yield
        return
    dest = state.output_dir / "efivars.fd"
    await asyncio.to_thread(shutil.copyfile, c.efi_firmware_vars, dest)
    yield
