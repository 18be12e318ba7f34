"""The state a build's steps share: one typed object, not a dict (Packer's state bag)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.plan import BuildPlan
from kiln.ui import Ui
from kiln.record import Record, field

if TYPE_CHECKING:
    from kiln.builders.qemu.process import QemuProcess
    from kiln.communicator import SshCommunicator
    from kiln.net import HttpServer, ReservedPort


class RunOptions(Record, frozen=True):
    """How the command line wants builds run."""

    on_error: str = "cleanup"  # cleanup | abort | ask | run-cleanup-provisioner
    force: bool = False
    debug: bool = False
    dry_run: bool = False
    cache_dir: Path = Path(".")
    failure_root: Path = Path(".")
    env: dict[str, str] = field(default_factory=dict)
    ask: Callable[[str, str], str] | None = None  # (build, error) → "c" | "a" | "r"


class BuildUi:
    """The Ui bound to one build's name (every line is prefixed with it)."""

    def __init__(self, ui: Ui, name: str) -> None:
        self.ui = ui
        self.name = name

    def say(self, message: str) -> None:
        self.ui.say(message, self.name)

    def message(self, message: str) -> None:
        self.ui.message(message, self.name)

    def error(self, message: str) -> None:
        self.ui.error(message, self.name)

    def warn(self, message: str) -> None:
        self.ui.warn(message, self.name)

    def machine(self, kind: str, *data: str) -> None:
        self.ui.machine(self.name, kind, *data)


class StepTiming(Record):
    name: str
    seconds: float


class Artifact(Record):
    """What a build leaves: Packer's qemu artifact (builder id `transcend.qemu`)."""

    build_name: str
    builder_type: str
    output_dir: Path
    files: list[Path]
    state: dict[str, Any] = field(default_factory=dict)
    builder_id: str = "transcend.qemu"
    id: str = "VM"
    description: str = ""  # how post-processors' artifacts describe themselves

    def __str__(self) -> str:
        return self.description or f"VM files in directory: {self.output_dir}"


class BuildState(Record):
    plan: BuildPlan
    ui: BuildUi
    options: RunOptions
    work_dir: Path  # this build's private temp dir (floppy, CD, sockets, logs)
    output_dir: Path
    iso_path: str | None = None
    disk_paths: list[str] = field(default_factory=list)
    floppy_path: str | None = None
    cd_path: str | None = None
    http_ip: str = "10.0.2.2"
    http_port: int = 0
    http_server: HttpServer | None = None
    comm_port: ReservedPort | None = None
    vnc_port: ReservedPort | None = None
    accelerator: str = ""
    qemu: QemuProcess | None = None
    comm: SshCommunicator | None = None
    ssh_public_key: str = ""
    ssh_private_key: str = ""
    rendered_boot_command: list[str] = field(default_factory=list)
    serial_log: Path | None = None
    artifact: Artifact | None = None
    timings: list[StepTiming] = field(default_factory=list)
    failed: bool = False
    keep_output: bool = False  # -on-error=abort: leave what was made for inspection
    started: float = field(default_factory=time.monotonic)

    @property
    def name(self) -> str:
        return self.plan.name
