"""The `shell` provisioner: upload scripts (or `inline` commands) and run them over SSH.

Follows Packer's provisioner/shell/provisioner.go: one remote path per provisioner
(`remote_path`, else `<remote_folder>/<remote_file>`, `remote_file` defaulting to
`script_NNNN.sh`); each script is uploaded there (CRLF → LF unless `binary`), made
executable and run with `execute_command`, whose data are `{{.Vars}}` (the environment,
see `kiln.provisioners.envvars`), `{{.Path}}`, `{{.EnvVarFile}}` and the build's values.
Upload and start are retried for `start_retry_timeout` while the guest is unreachable;
a command cut off by a lost connection (a reboot) counts as success with
`expect_disconnect`. The script is removed afterwards (retried the same way) unless
`skip_clean`.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from kiln.communicator.ssh_errors import CommandDisconnected
from kiln.envname import bad_name_message, bad_names
from kiln.provisioners.config import ShellConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError, go_duration
from kiln.provisioners.envvars import flatten_env, packer_env
from kiln.provisioners.retry import retry_until
from kiln.template.engine import render

if TYPE_CHECKING:  # the SSH library loads when a build connects, not for `kiln validate`
    from kiln.communicator.ssh import SshCommunicator

INLINE_NAME = "<inline script>"
DISCONNECT_STATUS = 2300218  # Packer's packersdk.CmdDisconnect
ENV_FILE_EXECUTE = "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}"
ENV_FILE_FORMAT = "export %s='%s'\n"
DEFAULT_FORMAT = "%s='%s' "
DISCONNECTED_MESSAGE = (
    "Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from "
    'a restart, you can try adding `"expect_disconnect": true` or `"valid_exit_codes": '
    "[0, 2300218]` to the shell provisioner parameters."
)


def unix_line_endings(data: bytes) -> bytes:
    """Packer's UnixReader: each line ends in LF (a CR before it dropped), last one too."""
    if not data:
        return b""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return b"".join(line.removesuffix(b"\r") + b"\n" for line in lines)


def go_int_list(values: list[int]) -> str:
    """A list of ints as Go's %v prints it: `[0 2300218]`."""
    return "[" + " ".join(str(v) for v in values) + "]"


def scripts_of(config: ShellConfig, ctx: ProvisionContext) -> list[tuple[str, bytes]]:
    """(name shown in messages, content to upload) of every script, in order."""
    if config.inline:
        body = f"#!{config.inline_shebang}\n" + "".join(f"{line}\n" for line in config.inline)
        return [(INLINE_NAME, body.encode())]
    out = []
    for name in [config.script] if config.script else config.scripts:
        try:
            data = ctx.resolve(name).read_bytes()
        except OSError as err:
            raise ProvisionerError(
                f"Error opening shell script: {name}: {err.strerror or err}"
            ) from None
        out.append((name, data if config.binary else unix_line_endings(data)))
    return out


def require_comm(ctx: ProvisionContext, kind: str) -> SshCommunicator:
    if ctx.comm is None:
        raise ProvisionerError(
            f'the {kind} provisioner needs a communicator, but this build has "communicator": '
            '"none"; use shell-local instead, or configure SSH'
        )
    return ctx.comm


def exit_status_error(name: str, status: int, allowed: list[int]) -> ProvisionerError:
    return ProvisionerError(
        f"Script exited with non-zero exit status: {status}. Allowed exit codes are: "
        f"{go_int_list(allowed)} (script: {name})"
    )


async def run_shell(config: ShellConfig, ctx: ProvisionContext) -> None:
    import asyncio  # for a build only: `kiln validate` loads this module
    import random

    comm = require_comm(ctx, "shell")
    scripts = scripts_of(config, ctx)
    env = packer_env(ctx.plan.name, ctx.plan.type, ctx.build_values,
                     config.environment_vars, config.env)  # fmt: skip
    if bad := bad_names(env):
        raise ProvisionerError(bad_name_message(bad[0]))
    env_format = config.env_var_format or (
        ENV_FILE_FORMAT if config.use_env_var_file else DEFAULT_FORMAT
    )
    execute = config.execute_command
    if config.use_env_var_file and "execute_command" not in ctx.explicit:
        execute = ENV_FILE_EXECUTE
    folder = config.remote_folder or "/tmp"
    remote_file = config.remote_file or f"script_{random.randrange(9999)}.sh"
    remote_path = config.remote_path or f"{folder}/{remote_file}"
    wait = config.start_retry_timeout.seconds or 300.0
    flattened = flatten_env(env, env_format)

    env_file = ""
    if config.use_env_var_file:
        env_file = f"{folder}/varfile_{random.randrange(9999)}.sh"
        content = flattened.encode()
        if not config.binary:
            content = unix_line_endings(content)
        await retry_until(wait, lambda: comm.upload(content, env_file, mode=0o600),
                          notice=ctx.message)  # fmt: skip

    for name, content in scripts:
        ctx.say(f"Provisioning with shell script: {name}")
        data: dict[str, object] = dict(ctx.build_values)
        data.update(Vars=flattened, EnvVarFile=env_file, Path=remote_path)
        command = render(execute, data, ctx.functions(), where="execute_command")

        async def upload_and_run(content: bytes = content, command: str = command) -> int:
            await comm.upload(content, remote_path, mode=0o755)
            try:
                return await comm.run(command, stdout=ctx.output, stderr=ctx.output)
            except CommandDisconnected:
                return DISCONNECT_STATUS

        status = await retry_until(wait, upload_and_run, notice=ctx.message)
        if status == DISCONNECT_STATUS:
            if not (config.expect_disconnect or DISCONNECT_STATUS in config.valid_exit_codes):
                raise ProvisionerError(DISCONNECTED_MESSAGE + f" (script: {name})")
            ctx.message("The connection was lost while the script ran (expect_disconnect)")
        elif status not in (config.valid_exit_codes or [0]):
            raise exit_status_error(name, status, config.valid_exit_codes or [0])
        if not config.skip_clean:
            await remove_remote(comm, remote_path, wait, ctx)

    if env_file and not config.skip_clean:
        await remove_remote(comm, env_file, wait, ctx)
    if config.pause_after.seconds > 0:
        ctx.say(f"Pausing {go_duration(config.pause_after)} after this provisioner...")
        await asyncio.sleep(config.pause_after.seconds)


async def remove_remote(comm: SshCommunicator, path: str, wait: float,
                        ctx: ProvisionContext) -> None:  # fmt: skip
    """`rm -f` the uploaded file, retried while the guest reboots (Packer's cleanup)."""

    async def remove() -> int:
        return await comm.run(f"rm -f {shlex.quote(path)}", stdout=ctx.output,
                              stderr=ctx.output)  # fmt: skip

    status = await retry_until(wait, remove, notice=ctx.message)
    if status != 0:
        raise ProvisionerError(
            f"Error removing temporary script at {path}! (rm -f exited with {status}; set "
            '"skip_clean": true to leave it)'
        )
