"""Step 20: compact (and optionally compress) the qcow2 image, check it, make the artifact."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.build.state import Artifact, BuildState
from kiln.build.steps.communicate import build_values
from kiln.builders.qemu import qemu_img
from kiln.errors import KilnError

LOCK_RETRIES = 10


def convert_command(state: BuildState) -> list[str] | None:
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
async def step_compact(state: BuildState) -> AsyncIterator[None]:
    argv = convert_command(state)
    main = state.disk_paths[0]
    if argv is not None:
        state.ui.say("Converting hard drive...")
        for attempt in range(1, LOCK_RETRIES + 1):
            try:
                await qemu_img.run_qemu_img(argv)
                break
            except KilnError as err:
                if 'Failed to get shared "write" lock' not in str(err) or attempt == LOCK_RETRIES:
                    Path(f"{main}.convert").unlink(missing_ok=True)
                    raise KilnError(f"Error converting hard drive: {err}") from None
                state.ui.message("Error getting file lock for conversion; retrying...")
                await asyncio.sleep(attempt)
        os.replace(f"{main}.convert", main)
    if state.plan.config.format == "qcow2":
        await qemu_img.check(main)
    yield


def make_artifact(state: BuildState) -> Artifact:
    c = state.plan.config
    files = sorted(p for p in state.output_dir.rglob("*") if p.is_file())
    if c.efi_drop_efivars:
        files = [p for p in files if p.name != "efivars.fd"]
    return Artifact(
        build_name=state.name,
        builder_type="qemu",
        output_dir=Path(c.output_directory),
        files=files,
        state={
            "generated_data": build_values(state),
            "diskName": c.vm_name,
            "diskPaths": list(state.disk_paths),
            "diskType": c.format,
            "diskSize": c.disk_size,
            "domainType": state.accelerator,
        },
    )
