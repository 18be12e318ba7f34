"""Steps 5-7: create the disks, or copy/convert the source image, then resize it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu import qemu_img
from kiln.builders.qemu.checkpoint_store import Checkpoint
from kiln.builders.qemu.cmdline import disk_paths
from kiln.builders.qemu.state import QemuState
from kiln.errors import KilnError


def disk_commands(state: QemuState) -> list[list[str]]:
    """The `qemu-img create` calls: the main disk (unless copied from `disk_image`), its
    overlay over the source with `use_backing_file`, the additional disks."""
    c = state.plan.config
    main, extra = state.disk_paths[0], state.disk_paths[1:]
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
    state.disk_paths = [str(state.output_dir / Path(p).name) for p in disk_paths(c)]
    if state.checkpoint is not None and state.checkpoint.restore is not None:
        await _copy_from_checkpoint(state, state.checkpoint.restore)
        yield
        return
    if c.disk_additional_size or c.use_backing_file:  # Packer says nothing for one disk
        state.ui.progress("Creating required virtual machine disks")
    for argv in disk_commands(state):
        await state.driver.qemu_img(argv)
    if c.disk_image and not c.use_backing_file:
        await _copy_source(state, state.disk_paths[0])
    if c.disk_image and not c.skip_resize_disk:
        await _resize(state, state.disk_paths[0])
    yield


async def _copy_from_checkpoint(state: QemuState, checkpoint: Checkpoint) -> None:
    """The disks as the install left them (copies: the checkpoint's are never written)."""
    state.ui.progress("Copying the installed disks from the checkpoint...")
    names = checkpoint.manifest.disks
    if len(names) != len(state.disk_paths):  # the key holds the disk count: a kiln bug
        raise KilnError(f"checkpoint {checkpoint.key} has {len(names)} disks, the build "
                        f"{len(state.disk_paths)}")  # fmt: skip
    for name, dest in zip(names, state.disk_paths, strict=True):
        await state.driver.copy_sparse(str(checkpoint.file(name)), dest)
    if state.plan.config.use_backing_file:
        # The saved overlay names the source image where it was then; point it at where
        # it is now (the same bytes: the key holds their checksum).
        source = str(Path(state.iso_path or "").resolve())
        await state.driver.qemu_img(["qemu-img", "rebase", "-u", "-F", "qcow2", "-b", source,
                                     state.disk_paths[0]])  # fmt: skip


async def _copy_source(state: QemuState, dest: str) -> None:
    """Packer's stepCopyDisk: a plain copy when the source's extension is already
    `format` and there are no `qemu_img_args.convert`; else `qemu-img convert` with them."""
    c = state.plan.config
    src = state.iso_path or ""
    if Path(src).suffix[1:] == c.format and not c.qemu_img_args.convert:
        state.ui.message(
            "File extension already matches desired output format. Skipping qemu-img convert step"
        )
        await state.driver.copy_file(src, dest)
        return
    state.ui.progress("Copying hard drive...")
    await state.driver.qemu_img(
        qemu_img.convert_argv(src, dest, out_fmt=c.format, extra=c.qemu_img_args.convert)
    )


async def _resize(state: QemuState, path: str) -> None:
    """Grow the disk to `disk_size` (never shrink it); a dry run, which cannot know the
    source's size, shows the resize (over a backing file the overlay has `disk_size`)."""
    c = state.plan.config
    wanted = qemu_img.size_to_bytes(c.disk_size)
    current = await state.driver.image_size(path)
    if current is not None and wanted < current:
        raise KilnError(
            f"disk_size {c.disk_size} is smaller than the source image "
            f"({qemu_img.human_size(current)}): kiln does not shrink disks. Set disk_size to "
            f"at least {qemu_img.human_size(current)}, or set skip_resize_disk to keep its size."
        )
    if wanted == current:
        return
    state.ui.progress("Resizing hard drive...")
    await state.driver.qemu_img(
        qemu_img.resize_argv(path, c.disk_size, fmt=c.format, extra=c.qemu_img_args.resize)
    )
