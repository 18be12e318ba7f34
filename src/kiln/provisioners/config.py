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
        False,
        section="shell-local",
        inert=True,
        help="Windows only: Linux-style paths for the script.",
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


@dataclass
class AnsibleConfig:
    """`"type": "ansible"`: run `ansible-playbook` on the kiln host against the guest."""

    playbook_file: str = option(
        "", section="ansible", since="1.6.6", required=True, help="The playbook to run."
    )
    command: str = option(
        "ansible-playbook",
        section="ansible",
        since="1.6.6",
        help="The program that runs the playbook (an executable, not a shell line); kiln "
        "also finds `ansible-playbook` next to its own Python (a virtualenv).",
    )
    extra_arguments: list[str] = option(
        section="ansible",
        factory=list,
        since="1.6.6",
        help="More arguments for the command, passed as they are (no shell, no quoting).",
    )
    ansible_env_vars: list[str] = option(
        section="ansible",
        factory=list,
        since="1.6.6",
        help="`NAME=value` pairs added to the command's environment.",
    )
    ansible_ssh_extra_args: list[str] = option(
        section="ansible",
        factory=list,
        since="1.6.6",
        default_doc="`-o IdentitiesOnly=yes`",
        help="`--ssh-extra-args` for Ansible when it logs in with a key (joined with spaces).",
    )
    groups: list[str] = option(
        section="ansible",
        factory=list,
        since="1.6.6",
        help="Inventory groups the host is put in.",
    )
    empty_groups: list[str] = option(
        section="ansible",
        factory=list,
        since="1.6.6",
        help="Inventory groups that are listed but left empty.",
    )
    host_alias: str = option(
        "default", section="ansible", since="1.6.6", help="The host's name in the inventory."
    )
    user: str = option(
        "",
        section="ansible",
        since="1.6.6",
        default_doc="the user running kiln (with the proxy); the communicator's user (without)",
        help="`ansible_user` in the inventory.",
    )
    local_port: int = option(
        0,
        section="ansible",
        since="1.6.6",
        default_doc="a free port",
        help="First of ten ports tried for the SSH proxy.",
    )
    ssh_host_key_file: str = option(
        "",
        section="ansible",
        since="1.6.6",
        default_doc="a one-time key",
        help="Private host key of the SSH proxy; without it host key checking is turned off "
        "(`ANSIBLE_HOST_KEY_CHECKING=False`).",
    )
    ssh_authorized_key_file: str = option(
        "",
        section="ansible",
        since="1.6.6",
        default_doc="a one-time key",
        help="Public key Ansible logs in to the SSH proxy with; without it kiln makes a key "
        "pair and passes `-e ansible_ssh_private_key_file=...`.",
    )
    sftp_command: str = option(
        "/usr/lib/sftp-server -e",
        section="ansible",
        since="1.6.6",
        help="Command run on the guest for SFTP sessions through the proxy.",
    )
    skip_version_check: bool = option(
        False,
        section="ansible",
        since="1.6.6",
        help="Do not run `<command> --version` at validate time (Ansible installed later).",
    )
    use_sftp: bool = option(
        False,
        section="ansible",
        since="1.6.6",
        help="Let Ansible use SFTP (else `ANSIBLE_SCP_IF_SSH=True` is set).",
    )
    inventory_directory: str = option(
        "",
        section="ansible",
        since="1.6.6",
        default_doc="the temporary directory",
        help="Where the generated inventory file is written (a directory with "
        "`group_vars`/`host_vars` of your own).",
    )
    inventory_file_template: str = option(
        "",
        section="ansible",
        since="1.6.6",
        late=True,
        default_doc="`{{ .HostAlias }} ansible_host={{ .Host }} ansible_user={{ .User }} "
        "ansible_port={{ .Port }}\\n`",
        help="The host line of the generated inventory; `{{ .HostAlias }}`, `{{ .Host }}`, "
        "`{{ .User }}`, `{{ .Port }}` and the build's values are filled in.",
    )
    inventory_file: str = option(
        "",
        section="ansible",
        since="1.6.6",
        help="Use this inventory instead of generating one.",
    )
    keep_inventory_file: bool = option(
        False, section="ansible", since="1.6.6", help="Keep the generated inventory file."
    )
    galaxy_file: str = option(
        "",
        section="ansible",
        since="1.6.6",
        help="Requirements file: `ansible-galaxy` installs its roles and collections first.",
    )
    galaxy_command: str = option(
        "ansible-galaxy", section="ansible", since="1.6.6", help="The `ansible-galaxy` program."
    )
    galaxy_force_install: bool = option(
        False, section="ansible", since="1.6.6", help="Pass `--force` to `ansible-galaxy`."
    )
    roles_path: str = option(
        "",
        section="ansible",
        since="1.6.6",
        help="`--roles-path` for `ansible-galaxy install`.",
    )
    collections_path: str = option(
        "",
        section="ansible",
        since="1.6.6",
        help="`--collections-path` for `ansible-galaxy collection install`.",
    )
    use_proxy: bool | None = option(
        None,
        section="ansible",
        since="1.6.6",
        default_doc="`true`",
        help="Connect Ansible through kiln's local SSH proxy, which relays to the build's "
        "SSH connection; `false`: straight to the guest's forwarded SSH port with the "
        "build's key.",
    )


DEFAULT_ANSIBLE_LOCAL_COMMAND = "ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook"


@dataclass
class AnsibleLocalConfig:
    """`"type": "ansible-local"`: upload playbooks and run Ansible inside the guest."""

    playbook_file: str = option(
        "",
        section="ansible-local",
        since="1.6.6",
        help="The playbook to upload and run (or `playbook_files`).",
    )
    playbook_files: list[str] = option(
        section="ansible-local",
        since="1.6.6",
        factory=list,
        help="Playbooks to run in order (uploaded unless inside `playbook_dir`).",
    )
    playbook_dir: str = option(
        "",
        section="ansible-local",
        since="1.6.6",
        help="A directory uploaded as the staging directory first.",
    )
    playbook_paths: list[str] = option(
        section="ansible-local",
        since="1.6.6",
        factory=list,
        help="Directories uploaded to `<staging_directory>/playbooks`.",
    )
    command: str = option(
        DEFAULT_ANSIBLE_LOCAL_COMMAND,
        section="ansible-local",
        since="1.6.6",
        help="The guest's command line that runs a playbook (run by the guest's shell).",
    )
    extra_arguments: list[str] = option(
        section="ansible-local",
        since="1.6.6",
        factory=list,
        help="More arguments, joined with spaces into the guest's shell line (quote them).",
    )
    group_vars: str = option(
        "", section="ansible-local", since="1.6.6", help="A `group_vars` directory to upload."
    )
    host_vars: str = option(
        "", section="ansible-local", since="1.6.6", help="A `host_vars` directory to upload."
    )
    role_paths: list[str] = option(
        section="ansible-local",
        since="1.6.6",
        factory=list,
        help="Role directories uploaded to `<staging_directory>/roles`.",
    )
    staging_directory: str = option(
        "",
        section="ansible-local",
        since="1.6.6",
        default_doc="`/tmp/packer-provisioner-ansible-local/<uuid>`",
        help="Where everything is uploaded in the guest.",
    )
    clean_staging_directory: bool = option(
        False,
        section="ansible-local",
        since="1.6.6",
        help="Remove the staging directory afterwards.",
    )
    inventory_file: str = option(
        "",
        section="ansible-local",
        since="1.6.6",
        help="An inventory to upload instead of the generated one.",
    )
    inventory_groups: list[str] = option(
        section="ansible-local",
        since="1.6.6",
        factory=list,
        help="Groups `127.0.0.1` is put in (a list, or one comma-separated string).",
    )
    galaxy_file: str = option(
        "",
        section="ansible-local",
        since="1.6.6",
        help="Requirements file uploaded and installed with `ansible-galaxy` in the guest.",
    )
    galaxy_command: str = option(
        "ansible-galaxy",
        section="ansible-local",
        since="1.6.6",
        help="The guest's `ansible-galaxy` command.",
    )
