"""Step 2: the output directory: must not exist (or be empty) unless -force; removed on failure."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.state import QemuState
from kiln.errors import KilnError


@asynccontextmanager
async def step_output_dir(state: QemuState) -> AsyncIterator[None]:
    path = state.output_dir
    if path.exists():
        if state.options.force:
            state.ui.say("Deleting previous output directory...")
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        elif not path.is_dir() or any(path.iterdir()):
            raise KilnError(
                f"Output directory '{path}' already exists. It must not exist (or be empty): "
                "remove it or run with -force."
            )
    existed = path.exists()
    path.mkdir(parents=True, exist_ok=True, mode=0o755)
    try:
        yield
    except BaseException:
        if not state.keep_output:
            state.ui.say("Deleting output directory...")
            shutil.rmtree(path, ignore_errors=True)
            if existed:
                path.mkdir(exist_ok=True)  # it was an empty directory the user made
        raise
