"""Option tables of the provisioners kiln implements (Packer's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiln.options.spec import Duration, option

DEFAULT_SHELL_EXECUTE = "chmod +x {{.Path}}; {{.Vars}} {{.Path}}"
DEFAULT_LOCAL_EXECUTE = ["/bin/sh", "-c", "{{.Vars}} {{.Script}}"]


@dataclass
class CommonProvisionerConfig:
    """Keys every provisioner accepts (decoded by the plan, not by the provisioner)."""

    pause_before: Duration = option(
        Duration(0.0, "0s"),
        section="provisioner",
        since="1.6.6",
        help="Wait this long before running the provisioner.",
    )
    max_retries: int = option(
        0, section="provisioner", since="1.6.6", help="Retry a failed provisioner this often."
    )
    timeout: Duration = option(
        Duration(0.0, "0s"),
        section="provisioner",
        since="1.6.6",
        help="Fail the provisioner when it runs longer than this (0: no limit).",
    )


@dataclass
class ShellConfig:
    """`"type": "shell"`: run scripts on the guest over the communicator."""

    inline: list[str] = option(
        section="shell", factory=list, help="Commands, run as one script with inline_shebang."
    )
    script: str = option("", section="shell", help="A local script to upload and run.")
    scripts: list[str] = option(section="shell", factory=list, help="Local scripts, in order.")
    inline_shebang: str = option(
        "/bin/sh -e", section="shell", help="Shebang line of the script made from `inline`."
    )
    environment_vars: list[str] = option(
        section="shell", factory=list, help="`KEY=value` pairs set for the scripts."
    )
    env: dict[str, str] = option(
        section="shell", factory=dict, since="1.6.6", help="Environment as a map."
    )
    execute_command: str = option(
        DEFAULT_SHELL_EXECUTE,
        section="shell",
        late=True,
        help="How a script is run; `{{.Vars}}` (the environment) and `{{.Path}}` (the "
        "uploaded script) are filled in.",
    )
    env_var_format: str = option(
        "",
        section="shell",
        since="1.6.6",
        default_doc="`%s='%s' `",
        help="printf format of one environment variable in `{{.Vars}}`.",
    )
    remote_folder: str = option("/tmp", section="shell", help="Folder for uploaded scripts.")
    remote_file: str = option(
        "", section="shell", default_doc="`script_NNNN.sh`", help="File name of the script."
    )
    remote_path: str = option(
        "",
        section="shell",
        default_doc="`<remote_folder>/<remote_file>`",
        help="Full remote path of the script.",
    )
    skip_clean: bool = option(False, section="shell", help="Leave the script on the guest.")
    expect_disconnect: bool = option(
        False,
        section="shell",
        help="A script that reboots the guest (losing the connection) does not fail.",
    )
    start_retry_timeout: Duration = option(
        Duration(300.0, "5m"),
        section="shell",
        help="How long to keep retrying to start a script when the guest is unreachable.",
    )
    valid_exit_codes: list[int] = option(
        section="shell", factory=lambda: [0], since="1.6.6", help="Exit codes that mean success."
    )
    binary: bool = option(
        False, section="shell", help="Upload scripts as they are (no CRLF conversion)."
    )
    use_env_var_file: bool = option(
        False,
        section="shell",
        since="1.6.6",
        help="Pass the environment in an uploaded file sourced by the script.",
    )
    pause_after: Duration = option(
        Duration(0.0, "0s"), section="shell", since="1.6.6", help="Wait after each script."
    )


class Direction(StrEnum):
    """The file provisioner's `direction`."""

    UPLOAD = "upload"
    DOWNLOAD = "download"


@dataclass
class FileConfig:
    """`"type": "file"`: copy files to or from the guest."""

    source: str = option("", section="file", help="Local (upload) or remote (download) path.")
    sources: list[str] = option(
        section="file", factory=list, since="1.6.6", help="Several sources (upload only)."
    )
    destination: str = option("", section="file", required=True, help="Where to copy to.")
    direction: Direction = option(
        Direction.UPLOAD,
        section="file",
        choice_message="{name} {value!r} is invalid: use one of {allowed}",
        help="upload or download.",
    )
    content: str = option(
        "", section="file", since="1.6.6", help="Upload this text instead of a file."
    )
    generated: bool = option(
        False,
        section="file",
        since="1.6.6",
        help="The source is made by an earlier step: do not check that it exists now.",
    )


@dataclass
class ShellLocalConfig:
    """`"type": "shell-local"`: run commands on the machine running kiln."""

    inline: list[str] = option(section="shell-local", factory=list, help="Commands to run.")
    command: str = option("", section="shell-local", help="One command (as `inline`).")
    script: str = option("", section="shell-local", help="A script to run.")
    scripts: list[str] = option(section="shell-local", factory=list, help="Scripts to run.")
    inline_shebang: str = option(
        "/bin/sh -e", section="shell-local", help="Shebang of the script made from `inline`."
    )
    environment_vars: list[str] = option(
        section="shell-local", factory=list, help="`KEY=value` pairs."
    )
    env: dict[str, str] = option(
        section="shell-local", factory=dict, since="1.6.6", help="Environment as a map."
    )
    execute_command: list[str] = option(
        section="shell-local",
        factory=lambda: list(DEFAULT_LOCAL_EXECUTE),
        late=True,
        help="argv that runs a script; `{{.Vars}}` and `{{.Script}}` are filled in.",
    )
    env_var_format: str = option(
        "", section="shell-local", since="1.6.6", help="printf format of one variable."
    )
    only_on: list[str] = option(
        section="shell-local", factory=list, help="Run only on these OSes (e.g. linux)."
    )
    use_linux_pathing: bool = option(
        False, section="shell-local", inert=True, help="Windows only; accepted and ignored."
    )
    valid_exit_codes: list[int] = option(
        section="shell-local", factory=lambda: [0], help="Exit codes that mean success."
    )


@dataclass
class BreakpointConfig:
    """`"type": "breakpoint"`: pause the build until Enter is pressed."""

    disable: bool = option(False, section="breakpoint", help="Skip this breakpoint.")
    note: str = option("", section="breakpoint", help="Text shown while paused.")


@dataclass
class SleepConfig:
    """`"type": "sleep"`: wait, e.g. for a service the guest starts in the background."""

    duration: Duration = option(
        Duration(0.0, "0s"), section="sleep", since="1.6.6", help="How long to wait."
    )
