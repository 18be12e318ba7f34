"""Step 20: compact (and optionally compress) the qcow2 image, and check it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu import qemu_img
from kiln.builders.qemu.qemu_img import QemuImgError
from kiln.builders.qemu.state import QemuState
from kiln.errors import KilnError

LOCK_RETRIES = 10


def convert_command(state: QemuState) -> list[str] | None:
    c = state.plan.config
    if c.skip_compaction and not c.disk_compression:
        return None
    main = state.disk_paths[0]
    return qemu_img.convert_argv(
        main,
        f"{main}.convert",
        out_fmt=c.format,
        extra=(
            *(qemu_img.COMPRESS_OPTIONS if c.disk_compression else ()),
            *c.qemu_img_args.convert,
        ),
        compress=c.disk_compression,
    )


@asynccontextmanager
async def step_compact(state: QemuState) -> AsyncIterator[None]:
    argv = convert_command(state)
    main = state.disk_paths[0]
    if argv is not None:
        state.ui.progress("Converting hard drive...")
        for attempt in range(1, LOCK_RETRIES + 1):
            try:
                await state.driver.qemu_img(argv)
                break
            except QemuImgError as err:
                if not err.locked or attempt == LOCK_RETRIES:
                    state.driver.remove_file(Path(f"{main}.convert"))
                    raise KilnError(f"Error converting hard drive: {err}") from None
                state.ui.message("Error getting file lock for conversion; retrying...")
                await asyncio.sleep(attempt)
        state.driver.replace_file(f"{main}.convert", main)
    if state.plan.config.format == "qcow2":
        await state.driver.check_image(main)
    yield
