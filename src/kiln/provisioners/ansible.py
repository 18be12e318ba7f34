"""The `ansible` provisioner: run `ansible-playbook` on the kiln host against the guest.

Packer's provisioner/ansible/provisioner.go at v1.6.6 (Provision, executeAnsible,
executeGalaxy): a generated inventory (`default ansible_host=… ansible_user=…
ansible_port=…`), `-e packer_build_name=… packer_builder_type=… packer_http_addr=…`,
Ansible's output streamed as it comes. Two ways to reach the guest:

* the proxy (`use_proxy` unset or true, Packer 1.6.6's default): kiln serves SSH on
  127.0.0.1 (`kiln.communicator.adapter`) for the user running kiln, with a one-time key
  pair whose private half goes to Ansible as `ansible_ssh_private_key_file`; every session
  is relayed over the build's own SSH connection;
* direct (`use_proxy: false`): Ansible logs in to the guest's forwarded SSH port as the
  communicator's user, with `ssh_private_key_file`, or the key kiln made for the build
  (written to a 0600 temporary file for the run and removed afterwards).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.errors import KilnError
from kiln.provisioners.ansible_args import (
    command_args,
    galaxy_commands,
    inventory_data,
    inventory_template,
    inventory_text,
    major_version,
    parse_version,
    prepared_env_vars,
    sanitized,
)
from kiln.provisioners.ansible_tools import (
    INSTALL_HINT,
    current_user,
    find_command,
    go_temp_file,
    known_version,
)
from kiln.provisioners.config import AnsibleConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError
from kiln.provisioners.shell import require_comm
from kiln.template.engine import render
from kiln.ui.redact import redact_data

if TYPE_CHECKING:
    import asyncssh

    from kiln.communicator.ssh import SshCommunicator

NO_ADDRESS_WARNING = (
    "Warning: use_proxy is false, but instance does not have an IP address to give to "
    "Ansible. Falling back to use localhost proxy."
)
NOT_SSH_WARNING = (
    "Warning: use_proxy is false, but communicator is neither ssh nor winrm, so without the "
    "proxy ansible will not function. Falling back to localhost proxy."
)
# Lines of Ansible's output that say what failed; kiln repeats them in the error.
_FAILURE_PREFIXES = ("fatal: ", "failed: ", "ERROR! ", "[ERROR]: ")
_MAX_FAILURE_LINES = 10


async def run_ansible(config: AnsibleConfig, ctx: ProvisionContext) -> None:
    comm = require_comm(ctx, "ansible")
    ctx.say("Provisioning with Ansible...")
    values = ctx.build_values
    major = 0 if config.skip_version_check else await _major_version(config.command, ctx.cwd)
    use_proxy = config.use_proxy is not False
    if not use_proxy:
        if not values.get("Host"):
            ctx.error(NO_ADDRESS_WARNING)
            use_proxy = True
        if values.get("ConnType") not in ("ssh", "winrm"):
            ctx.error(NOT_SSH_WARNING)
            use_proxy = True
    user = config.user or current_user()
    if not user:
        raise ProvisionerError("user: could not determine current user from environment.")
    async with contextlib.AsyncExitStack() as stack:
        key_file = ""
        proxy_port = 0
        if use_proxy:
            ctx.message("Setting up proxy adapter for Ansible....")
            key_file, proxy_port = await _start_proxy(config, ctx, comm, user, stack)
        elif values.get("ConnType") == "ssh":
            ctx.message(
                "Not using Proxy adapter for Ansible run:\n"
                "\tUsing ssh keys from Packer communicator..."
            )
            key_file = _communicator_key(ctx, stack.callback)
            if not config.user:
                user = values.get("User", "")
        inventory = config.inventory_file
        if not inventory:
            inventory = _write_inventory(config, ctx, major, user, use_proxy, proxy_port)
            if not config.keep_inventory_file:
                stack.callback(_unlink, ctx.resolve(inventory))
        await _execute(config, ctx, inventory, key_file, use_proxy)


async def _major_version(command: str, cwd: Path) -> int:
    """The major version found at validate time, or asked for now."""
    from kiln import proc

    version = known_version(command, cwd)
    if version is None:
        path = find_command(command, cwd)
        if path is None:
            raise ProvisionerError(
                f'Error running "{command} --version": exec: "{command}": executable file '
                f"not found in $PATH: {INSTALL_HINT}"
            )
        try:
            result = await proc.run([path, "--version"], check=False, cwd=cwd)
        except KilnError as err:
            raise ProvisionerError(f'Error running "{command} --version": {err}') from None
        if result.returncode != 0:
            raise ProvisionerError(
                f'Error running "{command} --version": exit status {result.returncode}: '
                f"{INSTALL_HINT}"
            )
        version = parse_version(result.stdout)
        if version is None:
            raise ProvisionerError(f"Could not find {command} version in output:\n{result.stdout}")
    try:
        return major_version(version)
    except ValueError:
        raise ProvisionerError(f'Could not parse major version from "{version}".') from None


async def _start_proxy(
    config: AnsibleConfig,
    ctx: ProvisionContext,
    comm: SshCommunicator,
    user: str,
    stack: contextlib.AsyncExitStack,
) -> tuple[str, int]:
    """Start the SSH proxy; return (the private key file for Ansible or "", its port)."""
    from kiln.communicator.adapter import SshAdapter

    authorized, key_file = await _user_key(config, ctx)
    if key_file:
        stack.callback(_unlink, Path(key_file))
    host_key = await _host_key(config, ctx)
    adapter = SshAdapter(
        comm,
        user=user,
        authorized_key=authorized,
        host_key=host_key,
        sftp_command=config.sftp_command,
        first_port=config.local_port,
        report=ctx.error,
    )
    try:
        await stack.enter_async_context(adapter)
    except KilnError as err:
        raise ProvisionerError(str(err)) from None
    return key_file, adapter.port


async def _user_key(config: AnsibleConfig, ctx: ProvisionContext) -> tuple[asyncssh.SSHKey, str]:
    """newUserKey: the key Ansible logs in to the proxy with, and its private key file
    ("" when the template gave `ssh_authorized_key_file`)."""
    import asyncio

    import asyncssh

    if config.ssh_authorized_key_file:
        try:
            data = ctx.resolve(config.ssh_authorized_key_file).read_bytes()
        except OSError:
            raise ProvisionerError(
                f"Failed to read public key {config.ssh_authorized_key_file} "
                "(ssh_authorized_key_file)"
            ) from None
        try:
            return asyncssh.import_public_key(data), ""
        except (asyncssh.KeyImportError, ValueError):
            raise ProvisionerError(
                f"Failed to parse authorized key {config.ssh_authorized_key_file} "
                "(ssh_authorized_key_file): give an OpenSSH public key line"
            ) from None
    key = await asyncio.to_thread(asyncssh.generate_private_key, "ssh-rsa", key_size=2048)
    path = go_temp_file("", "ansible-key")
    path.write_bytes(key.export_private_key("pkcs1-pem"))
    return key, str(path)


async def _host_key(config: AnsibleConfig, ctx: ProvisionContext) -> asyncssh.SSHKey:
    """newSigner: the proxy's host key, from `ssh_host_key_file` or made for this run."""
    import asyncio

    import asyncssh

    if not config.ssh_host_key_file:
        return await asyncio.to_thread(asyncssh.generate_private_key, "ssh-rsa", key_size=2048)
    try:
        data = ctx.resolve(config.ssh_host_key_file).read_bytes()
    except OSError:
        raise ProvisionerError(
            "error creating host signer: Failed to load private host key "
            f"{config.ssh_host_key_file} (ssh_host_key_file)"
        ) from None
    try:
        return asyncssh.import_private_key(data)
    except (asyncssh.KeyImportError, ValueError):
        raise ProvisionerError(
            "error creating host signer: Failed to parse private host key "
            f"{config.ssh_host_key_file} (ssh_host_key_file): give an unencrypted private key"
        ) from None


def _communicator_key(ctx: ProvisionContext, cleanup: Callable[..., object]) -> str:
    """The key Ansible logs in to the guest with: `ssh_private_key_file`, else the build's
    own key written to a temporary 0600 file (removed after the run)."""
    if ctx.ssh_private_key_file:
        return str(Path(ctx.ssh_private_key_file).expanduser())
    private_key = ctx.build_values.get("SSHPrivateKey", "")
    if not private_key:
        return ""
    path = go_temp_file("", "ansible-key")
    cleanup(_unlink, path)
    path.write_text(private_key)
    return str(path)


def _write_inventory(
    config: AnsibleConfig,
    ctx: ProvisionContext,
    major: int,
    user: str,
    use_proxy: bool,
    proxy_port: int,
) -> str:
    """createInventoryFile: the generated inventory; its name as Ansible is given it."""
    template = inventory_template(
        config, major, use_proxy=use_proxy, conn_type=ctx.build_values.get("ConnType", "")
    )
    data = inventory_data(
        ctx.build_values,
        host_alias=config.host_alias,
        user=user,
        use_proxy=use_proxy,
        proxy_port=proxy_port,
    )
    try:
        host = render(template, data, ctx.functions(), where="inventory_file_template")
    except KilnError as err:
        raise ProvisionerError(f"Error generating inventory file from template: {err}") from None
    directory = config.inventory_directory
    try:
        path = go_temp_file(
            ctx.resolve(directory) if directory else "", "packer-provisioner-ansible"
        )
        path.write_text(inventory_text(host, config.groups, config.empty_groups))
    except OSError as err:
        raise ProvisionerError(f"Error preparing inventory file: {err}") from None
    return os.path.join(directory, path.name) if directory else str(path)


async def _execute(
    config: AnsibleConfig,
    ctx: ProvisionContext,
    inventory: str,
    key_file: str,
    use_proxy: bool,
) -> None:
    """executeAnsible: ansible-galaxy first if asked, then the playbook."""
    from kiln import proc

    playbook = os.path.normpath(ctx.resolve(config.playbook_file))
    if config.galaxy_file:
        await _galaxy(config, ctx)
    args, env_vars = command_args(
        config,
        build_name=ctx.plan.name,
        builder_type=ctx.plan.type,
        build_values=ctx.build_values,
        inventory=inventory,
        playbook=playbook,
        private_key_file=key_file,
        use_proxy=use_proxy,
        env_vars=prepared_env_vars(config),
    )
    argv = [config.command, *args]
    ctx.say("Executing Ansible: " + sanitized(argv, [ctx.build_values.get("Password", "")]))
    path = find_command(config.command, ctx.cwd)
    if path is None:
        raise ProvisionerError(
            f'Error executing Ansible: exec: "{config.command}": executable file not found in '
            f"$PATH: {INSTALL_HINT}"
        )
    # Packer: the command gets kiln's environment plus `env_vars` (and kiln's UTF-8 locale
    # when none is set, which Ansible requires).
    env = proc.inherited_env(dict(pair.split("=", 1) for pair in env_vars if "=" in pair))
    failures: list[str] = []

    def show(line: str) -> None:
        ctx.output(line)  # Ansible's output is data: redacted as such
        text = redact_data(line).strip()
        if text.startswith(_FAILURE_PREFIXES) and len(failures) < _MAX_FAILURE_LINES:
            failures.append(text)

    try:
        result = await proc.run(
            [path, *args], check=False, env=env, cwd=ctx.cwd, on_stdout=show, on_stderr=show
        )
    except KilnError as err:
        raise ProvisionerError(f"Error executing Ansible: {err}") from None
    if result.returncode != 0:
        detail = "".join(f"\n  {line}" for line in failures)
        raise ProvisionerError(
            f"Error executing Ansible: Non-zero exit status: {_exit_text(result.returncode)}"
            + detail
        )


async def _galaxy(config: AnsibleConfig, ctx: ProvisionContext) -> None:
    from kiln import proc

    try:
        requirements = ctx.resolve(config.galaxy_file).read_text(errors="replace")
    except OSError as err:
        raise ProvisionerError(
            f"Error executing Ansible: Error executing Ansible Galaxy: {err}"
        ) from None
    for command in galaxy_commands(config, requirements):
        ctx.message("Executing Ansible Galaxy")
        path = find_command(command[0], ctx.cwd)
        if path is None:
            raise ProvisionerError(
                "Error executing Ansible: Error executing Ansible Galaxy: exec: "
                f'"{command[0]}": executable file not found in $PATH (galaxy_command)'
            )
        try:
            result = await proc.run(
                [path, *command[1:]],
                check=False,
                cwd=ctx.cwd,
                on_stdout=ctx.output,
                on_stderr=ctx.output,
            )
        except KilnError as err:
            raise ProvisionerError(
                f"Error executing Ansible: Error executing Ansible Galaxy: {err}"
            ) from None
        if result.returncode != 0:
            raise ProvisionerError(
                "Error executing Ansible: Error executing Ansible Galaxy: Non-zero exit "
                f"status: {_exit_text(result.returncode)}"
            )


def _exit_text(returncode: int) -> str:
    """Go's ExitError text: `exit status 2`, `signal: killed`."""
    if returncode >= 0:
        return f"exit status {returncode}"
    import signal

    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        return f"signal: {-returncode}"
    return "signal: " + _GO_SIGNAL_NAMES.get(name, name)


_GO_SIGNAL_NAMES = {"SIGKILL": "killed", "SIGTERM": "terminated", "SIGINT": "interrupt"}


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
