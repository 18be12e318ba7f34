"""Step 2: the output directory: must not exist (or be empty) unless -force; on failure,
what kiln made of it is removed (kiln.engine.output_dir)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.state import QemuState


@asynccontextmanager
async def step_output_dir(state: QemuState) -> AsyncIterator[None]:
    path = state.output_dir
    made = state.driver.prepare_output_dir(path, force=state.options.force, say=state.ui.say)
    try:
        yield
    except BaseException:
        if not state.keep_output and made is not None:
            state.ui.progress("Deleting output directory...")
            state.driver.remove_output_dir(made)
        raise
