"""The `shell` provisioner: upload scripts (or `inline` commands) and run them over SSH.

Follows Packer's shell provisioner: each script is uploaded to `remote_path`, run with
`execute_command` (`chmod +x {{.Path}}; {{.Vars}} {{.Path}}`), its output streamed with
the build name, and removed afterwards unless `skip_clean`. Starting a script is retried
until `start_retry_timeout` while the guest is unreachable; with `expect_disconnect`, a
script that reboots the guest (dropping the connection) counts as success.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

from kiln.communicator import CommandDisconnected, SshCommunicator
from kiln.errors import KilnError
from kiln.provisioners.base import ProvisionContext, ProvisionerError, flatten_env
from kiln.provisioners.config import ShellConfig
from kiln.template import render


def _scripts(config: ShellConfig) -> list[tuple[str, bytes]]:
    """(name for messages, content) of every script to run, in order."""
    if config.inline:
        body = f"#!{config.inline_shebang}\n" + "\n".join(config.inline) + "\n"
        return [("<inline script>", body.encode())]
    names = [config.script] if config.script else list(config.scripts)
    out = []
    for name in names:
        try:
            data = Path(name).expanduser().read_bytes()
        except OSError as err:
            raise ProvisionerError(f"Error opening shell script {name}: {err}") from None
        if not config.binary:
            data = data.replace(b"\r\n", b"\n")
        out.append((name, data))
    return out


def _env(config: ShellConfig, ctx: ProvisionContext) -> dict[str, str]:
    env = ctx.env_defaults()
    env.update(config.env)
    for pair in config.environment_vars:
        key, _, value = pair.partition("=")
        env[key] = value
    return env


async def run_shell(config: ShellConfig, ctx: ProvisionContext) -> None:
    env = _env(config, ctx)
    fmt = config.env_var_format or "%s='%s' "
    for name, content in _scripts(config):
        remote_file = config.remote_file or f"script_{random.randint(0, 9999)}.sh"
        remote_path = config.remote_path or f"{config.remote_folder.rstrip('/')}/{remote_file}"
        ctx.say(f"Provisioning with shell script: {name}")
        data = {"Path": remote_path, "Vars": flatten_env(env, fmt)}
        env_file = ""
        if config.use_env_var_file:
            env_file = f"{config.remote_folder.rstrip('/')}/varfile_{random.randint(0, 9999)}.sh"
            data["EnvVarFile"] = env_file
            data["Vars"] = ""
        execute = config.execute_command
        if config.use_env_var_file and execute == ShellConfig.execute_command:
            execute = "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}"
        command = render(execute, data, ctx.functions(), where="execute_command")
        deadline = time.monotonic() + config.start_retry_timeout.seconds
        status = await _start_with_retries(
            ctx, deadline, config, remote_path, content, env_file, env, command
        )
        if status is not None and status not in config.valid_exit_codes:
            raise ProvisionerError(
                f"Script exited with non-zero exit status: {status}. Allowed exit codes are: "
                f"{config.valid_exit_codes} (script: {name})"
            )
        if not config.skip_clean and status is not None:
            await _cleanup(ctx, [remote_path, env_file] if env_file else [remote_path])
        if config.pause_after.seconds > 0:
            await asyncio.sleep(config.pause_after.seconds)


async def _comm(ctx: ProvisionContext) -> SshCommunicator:
    if ctx.comm is None:
        raise ProvisionerError("the shell provisioner needs a communicator (communicator is none)")
    return ctx.comm


async def _start_with_retries(
    ctx: ProvisionContext,
    deadline: float,
    config: ShellConfig,
    remote_path: str,
    content: bytes,
    env_file: str,
    env: dict[str, str],
    command: str,
) -> int | None:
    """Upload and run; return the exit status (None: disconnected, as expected)."""
    delay = 0.5
    while True:
        comm = await _comm(ctx)
        started = False
        try:
            await comm.upload(content, remote_path, mode=0o755)
            if env_file:
                lines = "".join(f"export {k}={_quote(v)}\n" for k, v in sorted(env.items()))
                await comm.upload(lines.encode(), env_file, mode=0o644)
            started = True
            return await comm.run(command, stdout=ctx.message, stderr=ctx.message)
        except CommandDisconnected:
            if config.expect_disconnect:
                ctx.say("Remote end disconnected (expect_disconnect is set): continuing")
                return None
            raise ProvisionerError(
                "Script disconnected unexpectedly. If you expected your script to disconnect, "
                'i.e. from a restart, you can try adding `"expect_disconnect": true` or '
                '`"valid_exit_codes": [0, 2300218]` to the shell provisioner parameters.'
            ) from None
        except KilnError as err:
            if started or time.monotonic() >= deadline:
                raise ProvisionerError(f"Error running script: {err}") from None
            ctx.message(f"Retrying to start the script: {err}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _cleanup(ctx: ProvisionContext, paths: list[str]) -> None:
    comm = await _comm(ctx)
    quoted = " ".join(_quote(p) for p in paths)
    status = await comm.run(f"rm -f {quoted}", stdout=ctx.message, stderr=ctx.message)
    if status != 0:
        raise ProvisionerError(f"Error removing temporary script at {paths[0]}: exit {status}")


def _quote(value: str) -> str:
    """Single-quote for a POSIX shell."""
    return "'" + value.replace("'", "'\"'\"'") + "'"
