"""Step 2a: a software TPM (swtpm) for `vtpm`, stopped when the build ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu.state import QemuState


def tpm_socket(state: QemuState) -> Path:
    """Where swtpm listens and QEMU connects (`-chardev socket,path=`)."""
    return state.work_dir / "vtpm" / "vtpm.sock"


@asynccontextmanager
async def step_vtpm(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if not c.vtpm:
        yield
        return
    async with state.driver.swtpm(tpm_socket(state).parent, tpm1=c.use_tpm1):
        yield
