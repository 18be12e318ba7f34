"""What the qemu builder's steps share: the engine's `BuildState` plus QEMU's facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.builders.qemu.config import SLIRP_HOST_IP, QemuConfig
from kiln.engine.state import BuildState

if TYPE_CHECKING:
    from kiln.builders.qemu.checkpoint_store import Checkpoint, CheckpointStore
    from kiln.builders.qemu.driver import QemuDriver
    from kiln.builders.qemu.firmware import Firmware
    from kiln.builders.qemu.process import QemuProcess
    from kiln.communicator.ssh import SshCommunicator
    from kiln.net.ports import ReservedPort


@dataclass(slots=True)
class CheckpointRun:
    """A build with -checkpoint: its install's key, and whether it resumes or saves."""

    key: str
    inputs: dict[str, str]
    store: CheckpointStore
    restore: Checkpoint | None = None  # resume from it (read under its shared lock)
    replace: bool = False  # the save replaces a checkpoint of this key (refresh, corrupt, old)
    resumed: bool = False  # the saved machine runs: no boot command, set the clock


@dataclass(slots=True)
class QemuState(BuildState[QemuConfig]):
    iso_path: str | None = None
    iso_checksum: str | None = None  # as resolved (`sha256:…`, `none`); None: not known
    disk_paths: list[str] = field(default_factory=list)
    floppy_path: str | None = None
    cd_path: str | None = None
    http_ip: str = SLIRP_HOST_IP
    http_port: int = 0
    comm_port: ReservedPort | None = None
    vnc_port: ReservedPort | None = None
    accelerator: str = ""
    qemu: QemuProcess | None = None
    comm: SshCommunicator | None = None
    ssh_public_key: str = ""
    ssh_private_key: str = ""
    rendered_boot_command: list[str] = field(default_factory=list)
    serial_log: Path | None = None
    checkpoint: CheckpointRun | None = None  # -checkpoint, when this build can use one
    # The UEFI firmware (efi_boot): images, formats, what the machine must provide.
    firmware: Firmware | None = None
    # Every side effect goes through it: QemuDriver for a build, QemuRecorder for -dry-run.
    driver: QemuDriver = field(kw_only=True)

    def comm_host_port(self) -> int | None:
        """The host port the communicator connects to (None: no port forward)."""
        comm = self.plan.comm
        if comm.communicator == "none" or self.plan.config.net_bridge:
            return None
        if comm.skip_nat_mapping:
            return comm.ssh_port
        return self.comm_port.port if self.comm_port else None
