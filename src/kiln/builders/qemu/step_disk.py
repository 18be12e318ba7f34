"""Steps 5-7: create the disks, or copy/convert the source image, then resize it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu import qemu_img
from kiln.builders.qemu.cmdline import disk_paths
from kiln.builders.qemu.state import QemuState
from kiln.errors import KilnError


def disk_commands(state: QemuState) -> list[list[str]]:
    """The qemu-img calls this build makes before booting (also printed by -dry-run)."""
    c = state.plan.config
    paths = [str(state.output_dir / Path(p).name) for p in disk_paths(c)]
    main, extra = paths[0], paths[1:]
    cmds: list[list[str]] = []
    if not c.disk_image:
        cmds.append(
            qemu_img.create_argv(main, c.disk_size, fmt=c.format, extra=c.qemu_img_args.create)
        )
    elif c.use_backing_file:
        cmds.append(
            qemu_img.create_argv(
                main,
                c.disk_size,
                fmt="qcow2",
                extra=c.qemu_img_args.create,
                backing_file=str(Path(state.iso_path or "").resolve()),
            )
        )
    for path, size in zip(extra, c.disk_additional_size, strict=True):
        cmds.append(qemu_img.create_argv(path, size, fmt=c.format, extra=c.qemu_img_args.create))
    return cmds


@asynccontextmanager
async def step_disks(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    paths = [str(state.output_dir / Path(p).name) for p in disk_paths(c)]
    state.disk_paths = paths
    if c.disk_additional_size or c.use_backing_file:
        state.ui.say("Creating required virtual machine disks")
    elif not c.disk_image:
        state.ui.say("Creating hard drive...")
    for argv in disk_commands(state):
        await qemu_img.run_qemu_img(argv)
    if c.disk_image and not c.use_backing_file:
        await _copy_source(state, paths[0])
    if c.disk_image and not c.skip_resize_disk:
        await _resize(state, paths[0])
    yield


async def _copy_source(state: QemuState, dest: str) -> None:
    c = state.plan.config
    src = state.iso_path or ""
    if Path(src).suffix[1:].lower() == c.format:
        state.ui.say(
            "File extension already matches desired output format. Skipping qemu-img convert step"
        )
        await asyncio.to_thread(shutil.copyfile, src, dest)
        return
    state.ui.say("Copying hard drive...")
    await qemu_img.run_qemu_img(qemu_img.convert_argv(src, dest, out_fmt=c.format))


async def _resize(state: QemuState, path: str) -> None:
    c = state.plan.config
    wanted = qemu_img.size_to_bytes(c.disk_size)
    info = await qemu_img.info(path)
    current = int(str(info.get("virtual-size", 0)))
    if wanted < current:
        raise KilnError(
            f"disk_size {c.disk_size} is smaller than the source image "
            f"({qemu_img.human_size(current)}): kiln does not shrink disks. Set disk_size to "
            f"at least {qemu_img.human_size(current)}, or set skip_resize_disk to keep its size."
        )
    if wanted == current:
        return
    state.ui.say("Resizing hard drive...")
    await qemu_img.run_qemu_img(
        qemu_img.resize_argv(path, c.disk_size, fmt=c.format, extra=c.qemu_img_args.resize)
    )
