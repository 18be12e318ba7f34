"""What the `ansible` provisioner runs: inventory, argv, environment (pure functions).

Each function is one piece of Packer's provisioner/ansible/provisioner.go at v1.6.6
(named after it), so the golden tests can hold kiln to what Packer generates for the
same template (tests/unit/test_ansible_golden.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from kiln.golang.strconv import quote
from kiln.provisioners.config import AnsibleConfig

# provisioner.go's DefaultSSHInventoryFilev2, ...v1 and DefaultWinRMInventoryFilev2.
INVENTORY_V2 = (
    "{{ .HostAlias }} ansible_host={{ .Host }} ansible_user={{ .User }} ansible_port={{ .Port }}\n"
)
INVENTORY_V1 = (
    "{{ .HostAlias }} ansible_ssh_host={{ .Host }} ansible_ssh_user={{ .User }} "
    "ansible_ssh_port={{ .Port }}\n"
)
INVENTORY_WINRM_V2 = (
    "{{ .HostAlias}} ansible_host={{ .Host }} ansible_connection=winrm "
    "ansible_winrm_transport=basic ansible_shell_type=powershell ansible_user={{ .User}} "
    "ansible_port={{ .Port }}\n"
)
# commonsteps.HttpAddrNotImplemented: builders without an HTTP server.
HTTP_ADDR_NOT_IMPLEMENTED = "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER"
DEFAULT_SSH_EXTRA_ARGS = "-o IdentitiesOnly=yes"
_VERSION = re.compile(r"\w (\d+\.\d+[.\d+]*)")


def parse_version(output: str) -> str | None:
    """getVersion's regexp: `ansible-playbook [core 2.17.5]` → `2.17.5`."""
    match = _VERSION.search(output)
    return match[1] if match else None


def major_version(version: str) -> int:
    return int(version.split(".", maxsplit=1)[0])


def prepared_env_vars(config: AnsibleConfig) -> list[str]:
    """`ansible_env_vars` plus what Prepare appends: no host key checking without a host
    key of our own, and `ANSIBLE_SCP_IF_SSH=True` unless `use_sftp`."""
    env = list(config.ansible_env_vars)
    if not config.ssh_host_key_file:
        env.append("ANSIBLE_HOST_KEY_CHECKING=False")
    if not config.use_sftp:
        env.append("ANSIBLE_SCP_IF_SSH=True")
    return env


def inventory_template(
    config: AnsibleConfig, major: int, *, use_proxy: bool, conn_type: str
) -> str:
    """createInventoryFile's choice of host line template."""
    if config.inventory_file_template:
        return config.inventory_file_template
    if not use_proxy and conn_type == "winrm":
        return INVENTORY_WINRM_V2
    return INVENTORY_V2 if major >= 2 else INVENTORY_V1


def inventory_data(
    build_values: Mapping[str, str],
    *,
    host_alias: str,
    user: str,
    use_proxy: bool,
    proxy_port: int,
) -> dict[str, object]:
    """The data the host line is rendered with: the build's values, HostAlias and User;
    with the proxy, Host and Port are the proxy's."""
    data: dict[str, object] = dict(build_values)
    data.update(HostAlias=host_alias, User=user)
    if use_proxy:
        data.update(Host="127.0.0.1", Port=proxy_port)
    return data


def inventory_text(host: str, groups: Sequence[str], empty_groups: Sequence[str]) -> str:
    """The host line, then each group with the host, then each empty group."""
    return (
        host + "".join(f"[{g}]\n{host}" for g in groups) + "".join(f"[{g}]\n" for g in empty_groups)
    )


def check_arg(name: str, args: Sequence[str]) -> bool:
    """checkArg: `name` is one of the `=`-separated parts of some argument."""
    return any(name in arg.split("=") for arg in args)


def command_args(
    config: AnsibleConfig,
    *,
    build_name: str,
    builder_type: str,
    build_values: Mapping[str, str],
    inventory: str,
    playbook: str,
    private_key_file: str,
    use_proxy: bool,
    env_vars: Sequence[str],
) -> tuple[list[str], list[str]]:
    """createCmdArgs: the arguments after the command, and the environment to add."""
    conn_type = build_values.get("ConnType", "")
    http_addr = build_values.get("PackerHTTPAddr", HTTP_ADDR_NOT_IMPLEMENTED)
    envs = list(env_vars)
    args: list[str] = []
    if build_name:
        args += ["-e", f"packer_build_name={quote(build_name)}"]
    args += ["-e", f"packer_builder_type={builder_type}"]
    if http_addr != HTTP_ADDR_NOT_IMPLEMENTED:
        args += ["-e", f"packer_http_addr={http_addr}"]
    if conn_type == "ssh" and private_key_file:
        # Packer 1.6.6 concatenates the items with no separator; kiln joins them with
        # spaces (docs/compatibility.md).
        extra = " ".join(config.ansible_ssh_extra_args) or DEFAULT_SSH_EXTRA_ARGS
        args += ["--ssh-extra-args", f"'{extra}'"]
    args += config.extra_arguments
    if not check_arg("ansible_password", args) and not use_proxy and conn_type == "winrm":
        args += ["-e", f"ansible_password={build_values.get('Password', '')}"]
    if not check_arg("ansible_password", args) and private_key_file:
        args += ["-e", f"ansible_ssh_private_key_file={private_key_file}"]
    if (
        check_arg("ansible_password", args)
        and conn_type == "ssh"
        and not check_arg("ansible_host_key_checking", args)
        and not check_arg("ANSIBLE_HOST_KEY_CHECKING", envs)
    ):
        args += ["-e", "ansible_host_key_checking=False"]
    args += ["-i", inventory, playbook]
    return args, envs


def galaxy_commands(config: AnsibleConfig, requirements: str) -> list[list[str]]:
    """executeGalaxy: `ansible-galaxy install` for roles, `... collection install` for
    collections, decided by the file's top-level `roles:`/`collections:` keys.

    The options are spelled as Packer's documentation says (`--force`, `--roles-path`,
    `--collections-path`); Packer 1.6.6's code passes their short forms `-f` and `-p`.
    """
    galaxy_file = config.galaxy_file
    roles = ["install", "-r", galaxy_file]
    collections = ["collection", "install", "-r", galaxy_file]
    if config.galaxy_force_install:
        roles.append("--force")
        collections.append("--force")
    if config.roles_path:
        roles += ["--roles-path", config.roles_path]
    if config.collections_path:
        collections += ["--collections-path", config.collections_path]
    has_roles = re.search(r"(?m)^roles:", requirements) is not None
    has_collections = re.search(r"(?m)^collections:", requirements) is not None
    commands = []
    if has_roles or not has_collections:
        commands.append([config.galaxy_command, *roles])
    if has_collections:
        commands.append([config.galaxy_command, *collections])
    return commands


def sanitized(argv: Sequence[str], secrets: Sequence[str]) -> str:
    """The command line as printed: `ansible_password`'s value (the build's password, as
    Packer replaces it) shown as `*****`."""
    line = " ".join(argv)
    if check_arg("ansible_password", argv):
        for secret in secrets:
            if secret:
                line = line.replace(secret, "*****")
    return line
