"""`kiln build -dry-run`: the qemu-img and QEMU command lines a build would run.

Nothing is downloaded, created or started. Ports are the lowest of each range, the ISO is
where the cache would put it, temporary files are shown under `$KILN_WORK`; the
accelerator is the template's, or what the (cached) KVM probe chooses. With `net_bridge`,
`{{ .HTTPIP }}` is the bridge's address when the bridge exists here, else `$KILN_BRIDGE_IP`.

The commands come in the order the build runs them: disks (create, copy or convert the
source image, resize), the EFI variables copy, QEMU, then the final compaction. Copies
that kiln does in Python are shown as the `cp` they amount to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiln.builders.qemu import qemu_img
from kiln.builders.qemu.cmdline import disk_paths
from kiln.builders.qemu.config import SLIRP_HOST_IP
from kiln.builders.qemu.state import QemuState
from kiln.builders.qemu.step_compact import convert_command
from kiln.builders.qemu.step_disk import disk_commands
from kiln.builders.qemu.step_iso import iso_urls
from kiln.builders.qemu.step_qemu import display_available, qemu_argv, resolve_accelerator
from kiln.engine.options import RunOptions
from kiln.engine.plan import BuildPlan
from kiln.errors import KilnError
from kiln.media.cache import cache_dir, cache_target
from kiln.media.checksum import parse_checksum
from kiln.net.interfaces import interface_address
from kiln.net.ports import ReservedPort
from kiln.ui.build import BuildUi
from kiln.ui.output import Ui

WORK = Path("$KILN_WORK")
BRIDGE_IP = "$KILN_BRIDGE_IP"


def _iso_path(state: QemuState) -> str:
    c = state.plan.config
    urls = iso_urls(state)
    first = urls[0]
    if c.iso_skip_cache:
        return first  # QEMU reads the URL itself
    if "://" not in first or first.startswith("file://"):
        return str(Path(first.removeprefix("file://")).absolute())
    if c.iso_checksum.startswith("file:"):
        return f"<cache>/{Path(first).name}"
    target = cache_target(
        parse_checksum(c.iso_checksum),
        urls,
        target_path=c.iso_target_path or None,
        target_extension=c.iso_target_extension,
        cache_root=cache_dir(state.options.env),
    )
    return str(target)


def _http_ip(state: QemuState) -> str:
    """What `{{ .HTTPIP }}` will be; a placeholder when the bridge is not on this host."""
    bridge = state.plan.config.net_bridge
    if not bridge:
        return SLIRP_HOST_IP
    try:
        return interface_address(bridge)
    except KilnError as err:
        state.ui.warn(
            f"net_bridge {bridge!r}: {err}. A real build needs the bridge on this host, with "
            f"an IPv4 address; {{{{ .HTTPIP }}}} is shown as {BRIDGE_IP}"
        )
        return BRIDGE_IP


def _placeholder_port(port: int, host: str) -> ReservedPort:
    return ReservedPort(port=port, host=host, listener=None)


def source_image_commands(state: QemuState) -> list[list[str]]:
    """With `disk_image`: copy or convert the source image, then resize it (steps 6-7).

    A real build skips the resize when the image already has `disk_size` and refuses to
    shrink it; the plan cannot know the source's size, so it shows the resize, except
    over a backing file (the overlay is created with `disk_size`).
    """
    c = state.plan.config
    if not c.disk_image or c.use_backing_file:
        return []
    src, main = state.iso_path or "", state.disk_paths[0]
    cmds: list[list[str]] = []
    if Path(src).suffix[1:].lower() == c.format:
        cmds.append(["cp", src, main])
    else:
        cmds.append(qemu_img.convert_argv(src, main, out_fmt=c.format))
    if not c.skip_resize_disk:
        cmds.append(
            qemu_img.resize_argv(main, c.disk_size, fmt=c.format, extra=c.qemu_img_args.resize)
        )
    return cmds


def _notes(state: QemuState, notes: list[str]) -> None:
    """What the real QEMU step would say about this command line."""
    c = state.plan.config
    if not c.headless and not display_available(state.options.env):
        state.ui.warn(
            "headless is false, but there is no display to open a window on ($DISPLAY is "
            "not set): the build would run headless; the console is on VNC."
        )
    if state.accelerator == "none":
        state.ui.message(
            "WARNING: The VM will be started with no hardware acceleration.\n"
            "The installation may take considerably longer to finish."
        )
    for note in notes:
        state.ui.say(note)


async def dry_run_commands(plan: BuildPlan[Any], ui: Ui, options: RunOptions) -> list[list[str]]:
    """Every command the build would run, in order; notes go to `ui` as the build's would."""
    c, comm = plan.config, plan.comm
    state = QemuState(
        plan=plan,
        ui=BuildUi(ui, plan.name),
        options=options,
        work_dir=WORK,
        output_dir=Path(c.output_directory),
    )
    state.iso_path = _iso_path(state)
    state.disk_paths = [str(state.output_dir / Path(p).name) for p in disk_paths(c)]
    if c.floppy_files or c.floppy_dirs or c.floppy_content:
        state.floppy_path = str(WORK / "floppy.img")
    if c.cd_files or c.cd_content:
        state.cd_path = str(WORK / "cd.iso")
    state.http_ip = _http_ip(state)
    if c.http_directory or c.http_content:
        state.http_port = c.http_port_min
    if comm.communicator != "none" and not c.net_bridge and not comm.skip_nat_mapping:
        state.comm_port = _placeholder_port(comm.host_port_min, c.vnc_bind_address)
    if not c.disable_vnc:
        state.vnc_port = _placeholder_port(c.vnc_port_min, c.vnc_bind_address)
    state.serial_log = WORK / "serial.log"
    state.accelerator = await resolve_accelerator(state)
    commands = disk_commands(state) + source_image_commands(state)
    if c.efi_boot:
        commands.append(["cp", c.efi_firmware_vars, str(state.output_dir / "efivars.fd")])
    argv, notes = qemu_argv(state, control_fd=3)
    _notes(state, notes)
    commands.append(argv)
    convert = convert_command(state)
    if convert is not None:
        commands.append(convert)
    return commands
