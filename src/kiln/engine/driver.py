"""The driver: the narrow door through which a builder's steps touch the host.

Steps decide; drivers act. A build runs its steps with the real driver; `-dry-run` runs
the same steps with a recording driver, which does nothing and notes the commands the
build would run (Packer's `Driver` interface and its `DriverMock`). So every decision —
paths, ports, which qemu-img calls, the QEMU command line — has one implementation, and
the golden dry-run files test the code that really runs.

This module holds what any builder's driver does (files, ports, the bridge address); a
builder's driver adds its own (kiln.builders.qemu.driver: qemu-img, QEMU, swtpm).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from kiln import proc
from kiln.engine.output_dir import OutputDir
from kiln.errors import KilnError, describe_os_error
from kiln.net.interfaces import interface_address
from kiln.net.ports import ReservedPort, reserve_port

Say = Callable[[str], None]

# How a dry run shows what it cannot know without acting.
WORK_PLACEHOLDER = Path("$KILN_WORK")  # the build's private temp dir
BRIDGE_PLACEHOLDER = "$KILN_BRIDGE_IP"  # the bridge's address, when the bridge is not here


def copy_sparse_argv(src: str, dst: str) -> list[str]:
    return ["cp", "--sparse=always", "--reflink=auto", src, dst]


class HostDriver:
    """The real thing, for what any build does on the host."""

    def __init__(self, warn: Say) -> None:
        self.warn = warn

    async def copy_file(self, src: str, dst: str) -> None:
        try:
            await asyncio.to_thread(shutil.copyfile, src, dst)
        except OSError as err:
            raise KilnError(f"Copying {src} to {dst} failed: {describe_os_error(err)}") from None

    async def copy_sparse(self, src: str, dst: str) -> None:
        """Copy a disk image keeping its holes (and sharing its blocks where the file
        system can: `--reflink=auto`)."""
        await proc.run(copy_sparse_argv(src, dst), what="cp")

    def replace_file(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def remove_file(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def write_work_file(self, path: Path, data: str | bytes, *, mode: int = 0o644) -> None:
        """A file in the build's work dir (argv, boot command, keys: forensics and inputs)."""
        path.touch(mode=mode)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)

    def prepare_output_dir(self, path: Path, *, force: bool, say: Say) -> OutputDir | None:
        """Make the output directory (replacing it with -force); what was made, for a
        failure to remove (kiln.engine.output_dir). The plan has already refused a -force
        that would delete the working directory, a symbolic link or the like."""
        if force and path.is_symlink():
            raise KilnError(f"output_directory '{path}' is a symbolic link: -force refuses it")
        if path.exists() or path.is_symlink():
            if force:
                say("Deleting previous output directory...")
                try:
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
                except OSError as err:
                    raise KilnError(
                        f"Could not delete the previous output directory '{path}': "
                        f"{describe_os_error(err)}"
                    ) from None
            elif not path.is_dir() or any(path.iterdir()):
                raise KilnError(
                    f"Output directory '{path}' already exists. It must not exist (or be empty): "
                    "remove it or run with -force."
                )
        try:
            made = OutputDir.make(path)
            probe = path / "_packer_perm_check"  # Packer's name for the same check
            probe.touch()
            probe.unlink()
        except OSError as err:
            raise KilnError(
                f"Couldn't write to output directory '{path}': {describe_os_error(err)}"
            ) from None
        return made

    def remove_output_dir(self, made: OutputDir) -> None:
        made.remove()

    def reserve_port(
        self,
        lo: int,
        hi: int,
        *,
        host: str,
        lock_dir: Path,
        keep_listening: bool = False,
        purpose: str = "",
    ) -> ReservedPort:
        return reserve_port(
            lo, hi, host=host, lock_dir=lock_dir, keep_listening=keep_listening, purpose=purpose
        )

    def bridge_address(self, bridge: str) -> str:
        """The host's IPv4 address on `net_bridge` (the guest's `{{ .HTTPIP }}`)."""
        return interface_address(bridge)


class HostRecorder(HostDriver):
    """The dry run's driver: acts on nothing, notes the commands the build would run.

    Copies show as the `cp` they amount to; ports are the lowest of each range; the work
    dir is `$KILN_WORK`; a bridge that is not on this host gets a warning and a placeholder.
    """

    def __init__(self, warn: Say) -> None:
        super().__init__(warn)
        self.commands: list[list[str]] = []

    def record(self, argv: list[str]) -> None:
        self.commands.append(list(argv))

    async def copy_file(self, src: str, dst: str) -> None:
        self.record(["cp", src, dst])

    async def copy_sparse(self, src: str, dst: str) -> None:
        self.record(copy_sparse_argv(src, dst))

    def replace_file(self, src: str, dst: str) -> None:
        return None

    def remove_file(self, path: Path) -> None:
        return None

    def write_work_file(self, path: Path, data: str | bytes, *, mode: int = 0o644) -> None:
        return None

    def prepare_output_dir(self, path: Path, *, force: bool, say: Say) -> OutputDir | None:
        return None

    def remove_output_dir(self, made: OutputDir) -> None:
        return None

    def reserve_port(
        self,
        lo: int,
        hi: int,
        *,
        host: str,
        lock_dir: Path,
        keep_listening: bool = False,
        purpose: str = "",
    ) -> ReservedPort:
        return ReservedPort(port=lo, host=host, listener=None)

    def bridge_address(self, bridge: str) -> str:
        try:
            return interface_address(bridge)
        except KilnError as err:
            self.warn(
                f"net_bridge {bridge!r}: {err}. A real build needs the bridge on this host, with "
                f"an IPv4 address; {{{{ .HTTPIP }}}} is shown as {BRIDGE_PLACEHOLDER}"
            )
            return BRIDGE_PLACEHOLDER
