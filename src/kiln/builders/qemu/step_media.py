"""Steps 3 and 4: the floppy (floppy_files/dirs/content) and CD (cd_files/content) images.

Both live in the build's private work directory, which the runner removes at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.state import QemuState


@asynccontextmanager
async def step_floppy(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if not (c.floppy_files or c.floppy_dirs or c.floppy_content):
        yield
        return
    state.ui.progress("Creating floppy disk...")
    dest = state.work_dir / "floppy.img"
    await state.driver.make_floppy(
        c.floppy_files, c.floppy_dirs, c.floppy_content, dest, label=c.floppy_label
    )
    state.floppy_path = str(dest)
    try:
        yield
    finally:
        state.driver.remove_file(dest)


@asynccontextmanager
async def step_cd(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if not (c.cd_files or c.cd_content):
        yield
        return
    state.ui.progress("Creating CD disk...")
    dest = state.work_dir / "cd.iso"
    await state.driver.make_cd(c.cd_files, c.cd_content, dest, label=c.cd_label)
    state.cd_path = str(dest)
    try:
        yield
    finally:
        state.driver.remove_file(dest)
