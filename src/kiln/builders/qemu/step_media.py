"""Steps 3 and 4: the floppy (floppy_files/dirs/content) and CD (cd_files/content) images.

Both live in the build's private work directory, which the runner removes at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu.state import QemuState
from kiln.media.cdrom import collect_cd_files, make_cd
from kiln.media.floppy import collect_floppy_files, make_floppy


@asynccontextmanager
async def step_floppy(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if not (c.floppy_files or c.floppy_dirs or c.floppy_content):
        yield
        return
    state.ui.say("Creating floppy disk...")
    entries = collect_floppy_files(c.floppy_files, c.floppy_dirs, c.floppy_content, base=Path.cwd())
    dest = state.work_dir / "floppy.img"
    await asyncio.to_thread(make_floppy, entries, dest, label=c.floppy_label)
    state.floppy_path = str(dest)
    try:
        yield
    finally:
        dest.unlink(missing_ok=True)


@asynccontextmanager
async def step_cd(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if not (c.cd_files or c.cd_content):
        yield
        return
    state.ui.say("Creating CD disk...")
    entries = collect_cd_files(c.cd_files, c.cd_content, base=Path.cwd())
    dest = state.work_dir / "cd.iso"
    await asyncio.to_thread(make_cd, entries, dest, label=c.cd_label)
    state.cd_path = str(dest)
    try:
        yield
    finally:
        dest.unlink(missing_ok=True)
