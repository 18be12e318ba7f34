"""What a provisioner gets to work with (the loop that runs one is kiln.engine.provision).

A provisioner's `run(config, ctx)` sees the build it runs in through `ProvisionContext`:
where to print, the communicator (None with `"communicator": "none"`), Packer's generated
data (`build_values`) and the template functions for late options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiln.errors import KilnError
from kiln.golang.duration import format_go_duration
from kiln.options.spec import Duration
from kiln.ui.redact import redact_data

if TYPE_CHECKING:
    from kiln.communicator.ssh import SshCommunicator

# Packer's ProvisionHook.Run, word for word.
NO_COMMUNICATOR = (
    "No communicator found for provisioners! This is usually because the\n"
    '`communicator` config was set to "none". If you have any provisioners\n'
    "then a communicator is required. Please fix this to continue."
)


class ProvisionerError(KilnError):
    """A provisioner failed; the message names it and says why."""


class BuildInfo(Protocol):
    """What a provisioner knows of its build (kiln.engine.plan.BuildPlan is one)."""

    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...

    def functions(self, build_values: Mapping[str, str] | None = None) -> dict[str, Any]: ...


def _ignore(_message: str) -> None:
    return None


@dataclass(slots=True)
class ProvisionContext:
    """One build's view for provisioners: where to run, what to print, template data.

    `build_values` are Packer's generated data (`{{ build `Host` }}`, ...: ID, Host, Port,
    User, Password, SSHPublicKey, SSHPrivateKey, ConnType, PackerRunUUID, PackerHTTPAddr,
    PackerHTTPIP, PackerHTTPPort). `explicit` names the options the template set for the
    provisioner being run (some defaults depend on it, as in Packer's Prepare).
    `ssh_private_key_file` is the communicator's `ssh_private_key_file` as the template set
    it (Packer's generated `SSHPrivateKeyFile`; empty when kiln made a key).
    """

    plan: BuildInfo
    say: Callable[[str], None]
    message: Callable[[str], None]
    comm: SshCommunicator | None
    build_values: dict[str, str] = field(default_factory=dict)
    error: Callable[[str], None] = _ignore
    cwd: Path = field(default_factory=Path.cwd)
    explicit: frozenset[str] = frozenset()
    ssh_private_key_file: str = ""

    def functions(self) -> dict[str, Any]:
        return self.plan.functions(self.build_values)

    def output(self, line: str) -> None:
        """A line the guest or a local command printed: redacted as data, then shown."""
        self.message(redact_data(line))

    def resolve(self, name: str) -> Path:
        """A local path from the template, relative to the directory kiln runs in."""
        path = Path(name).expanduser()
        return path if path.is_absolute() else self.cwd / path


def go_duration(value: Duration | float) -> str:
    """A duration as Go prints it (`5m0s`, `1.5s`), like Packer's messages."""
    seconds = value.seconds if isinstance(value, Duration) else value
    return format_go_duration(round(seconds * 1e9))
