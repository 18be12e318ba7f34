"""The `ansible-local` provisioner: upload playbooks and run Ansible inside the guest.

Packer's provisioner/ansible-local/provisioner.go at v1.6.6, step for step and message for
message: everything goes to the staging directory (`staging_directory`, default
`/tmp/packer-provisioner-ansible-local/<time-ordered uuid>`): `playbook_dir` first (as the
staging directory itself), the playbook(s), the galaxy file, an inventory (`127.0.0.1`, or
`[group]` / `127.0.0.1` per `inventory_groups`), `group_vars`, `host_vars`,
`roles/<name>` per `role_paths`, `playbooks/<name>` per `playbook_paths`; then
`cd STAGING && <galaxy_command> install …` and, per playbook, `cd STAGING && <command>
PLAYBOOK --extra-vars "…" <extra_arguments> -c local -i INVENTORY` in the guest's shell.
The command lines are built as Packer builds them (no quoting beyond Packer's).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import struct
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.errors import KilnError
from kiln.provisioners.ansible_tools import go_temp_file
from kiln.provisioners.config import AnsibleLocalConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError
from kiln.provisioners.shell import require_comm

if TYPE_CHECKING:
    from kiln.communicator.ssh import SshCommunicator

DEFAULT_STAGING = "/tmp/packer-provisioner-ansible-local"
NOT_FOUND_STATUS = 127


def time_ordered_uuid(now: float | None = None) -> str:
    """Packer's uuid.TimeOrderedUUID: 32 bits of Unix time, then 96 random bits."""
    unix = int(time.time() if now is None else now) & 0xFFFFFFFF
    b = os.urandom(12)
    tail = struct.unpack(">I", b[8:])[0]
    return f"{unix:08x}-{b[0:2].hex()}-{b[2:4].hex()}-{b[4:6].hex()}-{b[6:8].hex()}{tail:08x}"


def go_base(path: str) -> str:
    """Go's filepath.Base: the last element, trailing slashes ignored."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    return posixpath.basename(stripped)


def go_join(*parts: str) -> str:
    """Go's filepath.Join (with ToSlash): joined and cleaned, empty parts skipped."""
    joined = "/".join(p for p in parts if p)
    if not joined:
        return ""
    cleaned = posixpath.normpath(joined)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def inventory_groups(config: AnsibleLocalConfig) -> list[str]:
    """`inventory_groups`; a comma-separated string is split, as Packer's decoder does."""
    return [g for item in config.inventory_groups for g in item.split(",")]


def inventory_content(groups: list[str]) -> str:
    if not groups:
        return "127.0.0.1"
    return "".join(f"[{g}]\n127.0.0.1\n" for g in groups)


def extra_vars(build_name: str, builder_type: str, http_addr: str, extra: list[str]) -> str:
    """executeAnsible's extraArgs, kept exactly (its stray `-o IdentitiesOnly=yes` too)."""
    text = (
        f' --extra-vars "packer_build_name={build_name} packer_builder_type={builder_type} '
        f'packer_http_addr={http_addr} -o IdentitiesOnly=yes" '
    )
    return text + " ".join(extra)


def playbook_command(staging: str, command: str, playbook: str, extra: str, inventory: str) -> str:
    return f"cd {staging} && {command} {playbook}{extra} -c local -i {inventory}"


def galaxy_command(staging: str, galaxy: str, galaxy_file: str) -> str:
    roles = go_join(staging, "roles")
    remote_file = go_join(staging, go_base(galaxy_file))
    return f"cd {staging} && {galaxy} install -r {remote_file} -p {roles}"


async def _step(failure: str, action: Awaitable[None]) -> None:
    """Await `action`; a failure becomes Packer's `<failure>: <why>`."""
    try:
        await action
    except ProvisionerError:
        raise
    except KilnError as err:
        raise ProvisionerError(f"{failure}: {err}") from None


class _Guest:
    """The guest-side operations of the provisioner, with Packer's messages."""

    def __init__(self, ctx: ProvisionContext, comm: SshCommunicator) -> None:
        self.ctx = ctx
        self.comm = comm

    async def run(self, command: str) -> int:
        return await self.comm.run(command, stdout=self.ctx.output, stderr=self.ctx.output)

    async def create_dir(self, directory: str) -> None:
        self.ctx.message(f"Creating directory: {directory}")
        if await self.run(f"mkdir -p '{directory}'") != 0:
            raise KilnError("Non-zero exit status. See output above for more information.")

    async def remove_dir(self, directory: str) -> None:
        self.ctx.message(f"Removing directory: {directory}")
        if await self.run(f"rm -rf '{directory}'") != 0:
            raise KilnError("Non-zero exit status. See output above for more information.")

    async def upload_file(self, dst: str, src: str) -> None:
        path = self.ctx.resolve(src)
        if not path.is_file():
            raise KilnError(f"Error opening: open {src}: no such file or directory")
        try:
            await self.comm.upload(path, dst)
        except KilnError as err:
            raise KilnError(f"Error uploading {src}: {err}") from None

    async def upload_dir(self, dst: str, src: str) -> None:
        await self.create_dir(dst)
        local = str(self.ctx.resolve(src))
        await self.comm.upload_dir(local if local.endswith("/") else local + "/", dst)


async def run_ansible_local(config: AnsibleLocalConfig, ctx: ProvisionContext) -> None:
    comm = require_comm(ctx, "ansible-local")
    guest = _Guest(ctx, comm)
    staging = config.staging_directory or go_join(DEFAULT_STAGING, time_ordered_uuid())
    ctx.say("Provisioning with Ansible...")

    if config.playbook_dir:
        ctx.message("Uploading Playbook directory to Ansible staging directory...")
        await _step("Error uploading playbook_dir directory",
                   guest.upload_dir(staging, config.playbook_dir))  # fmt: skip
    else:
        ctx.message("Creating Ansible staging directory...")
        await _step("Error creating staging directory", guest.create_dir(staging))

    playbooks: list[str] = []  # remote paths, in order
    if config.playbook_file:
        ctx.message("Uploading main Playbook file...")
        remote = go_join(staging, go_base(config.playbook_file))
        await _step(
            "Error uploading main playbook", guest.upload_file(remote, config.playbook_file)
        )
        playbooks.append(remote)
    else:
        playbooks = await _playbook_files(config, ctx, guest, staging)

    inventory = config.inventory_file
    generated: Path | None = None
    if not inventory:
        try:
            generated = go_temp_file("", "packer-provisioner-ansible-local")
            generated.write_text(inventory_content(inventory_groups(config)))
        except OSError as err:
            raise ProvisionerError(f"Error preparing inventory file: {err}") from None
        inventory = str(generated)
    try:
        await _upload_rest(config, ctx, guest, staging, inventory)
        await _execute(config, ctx, guest, staging, inventory, playbooks)
    finally:
        if generated is not None:
            with contextlib.suppress(OSError):
                generated.unlink()
    if config.clean_staging_directory:
        ctx.message("Removing staging directory...")
        await _step("Error removing staging directory", guest.remove_dir(staging))


async def _playbook_files(
    config: AnsibleLocalConfig, ctx: ProvisionContext, guest: _Guest, staging: str
) -> list[str]:
    """provisionPlaybookFiles: each file not inside `playbook_dir` is uploaded under the
    staging directory at its own absolute path."""
    playbook_dir = os.path.abspath(ctx.resolve(config.playbook_dir)) if config.playbook_dir else ""
    remote: list[str] = []
    for name in config.playbook_files:
        absolute = os.path.abspath(ctx.resolve(name))
        if playbook_dir and absolute.startswith(playbook_dir):
            remote.append(go_join(staging, absolute.removeprefix(playbook_dir)))
            continue
        ctx.message(f"Uploading playbook file: {absolute}")
        remote_dir = go_join(staging, posixpath.dirname(absolute))
        remote_file = go_join(staging, absolute)
        try:
            await guest.create_dir(remote_dir)
        except KilnError as err:
            raise ProvisionerError(f"Error uploading playbook file: {absolute} [{err}]") from None
        try:
            await guest.upload_file(remote_file, absolute)
        except KilnError as err:
            raise ProvisionerError(f"Error uploading playbook: {absolute} [{err}]") from None
        remote.append(remote_file)
    return remote


async def _upload_rest(
    config: AnsibleLocalConfig, ctx: ProvisionContext, guest: _Guest, staging: str, inventory: str
) -> None:
    """The galaxy file, the inventory, group_vars, host_vars, roles and extra playbooks."""

    if config.galaxy_file:
        ctx.message("Uploading galaxy file...")
        remote = go_join(staging, go_base(config.galaxy_file))
        await _step("Error uploading galaxy file", guest.upload_file(remote, config.galaxy_file))
    ctx.message("Uploading inventory file...")
    await _step("Error uploading inventory file",
                  guest.upload_file(go_join(staging, go_base(inventory)), inventory))  # fmt: skip
    if config.group_vars:
        ctx.message("Uploading group_vars directory...")
        dst = go_join(staging, "group_vars")
        await _step(
            "Error uploading group_vars directory", guest.upload_dir(dst, config.group_vars)
        )
    if config.host_vars:
        ctx.message("Uploading host_vars directory...")
        dst = go_join(staging, "host_vars")
        await _step("Error uploading host_vars directory", guest.upload_dir(dst, config.host_vars))
    if config.role_paths:
        ctx.message("Uploading role directories...")
        for src in config.role_paths:
            dst = go_join(staging, "roles", go_base(src))
            await _step("Error uploading roles", guest.upload_dir(dst, src))
    if config.playbook_paths:
        ctx.message("Uploading additional Playbooks...")
        playbook_dir = go_join(staging, "playbooks")
        await _step("Error creating playbooks directory", guest.create_dir(playbook_dir))
        for src in config.playbook_paths:
            dst = go_join(playbook_dir, go_base(src))
            await _step("Error uploading playbooks", guest.upload_dir(dst, src))


async def _execute(
    config: AnsibleLocalConfig,
    ctx: ProvisionContext,
    guest: _Guest,
    staging: str,
    inventory: str,
    playbooks: list[str],
) -> None:
    """executeAnsible: galaxy, then each playbook, in the guest."""
    remote_inventory = go_join(staging, go_base(inventory))
    http_addr = ctx.build_values.get("PackerHTTPAddr", "")
    extra = extra_vars(ctx.plan.name, ctx.plan.type, http_addr, config.extra_arguments)
    if config.galaxy_file:
        command = galaxy_command(staging, config.galaxy_command, config.galaxy_file)
        ctx.message(f"Executing Ansible Galaxy: {command}")
        status = await guest.run(command)
        if status != 0:
            raise ProvisionerError(
                "Error executing Ansible: Error executing Ansible Galaxy: Non-zero exit "
                f"status: {status}"
            )
    for playbook in playbooks:
        command = playbook_command(staging, config.command, playbook, extra, remote_inventory)
        ctx.message(f"Executing Ansible: {command}")
        status = await guest.run(command)
        if status == NOT_FOUND_STATUS:
            raise ProvisionerError(
                f"Error executing Ansible: {config.command} could not be found. Verify that it "
                "is available on the\nPATH after connecting to the machine."
            )
        if status != 0:
            raise ProvisionerError(f"Error executing Ansible: Non-zero exit status: {status}")
