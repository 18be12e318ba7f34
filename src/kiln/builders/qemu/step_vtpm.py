"""Step 2a: a software TPM (swtpm) for `vtpm`, stopped when the build ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.state import QemuState


@asynccontextmanager
async def step_vtpm(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if not c.vtpm:
        yield
        return
    state_dir = state.work_dir / "vtpm"
    state_dir.mkdir()
    argv = [
        "swtpm",
        "socket",
        "--tpmstate",
        f"dir={state_dir}",
        "--ctrl",
        f"type=unixio,path={state_dir / 'vtpm.sock'}",
    ]
    if not c.use_tpm1:
        argv.append("--tpm2")
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, start_new_session=True
    )
    try:
        for _ in range(100):
            if (state_dir / "vtpm.sock").exists():
                break
            await asyncio.sleep(0.05)
        yield
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
