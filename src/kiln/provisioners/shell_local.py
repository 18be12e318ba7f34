"""The `shell-local` provisioner (and post-processor): run commands on the kiln host.

Packer's SDK shell-local/run.go: `command` is one inline line; inline lines become a
temporary script (0700, `inline_shebang`); each script runs as `execute_command` (an argv,
default `/bin/sh -c "{{.Vars}} {{.Script}}"`) with `{{.Script}}` (and `{{.Command}}`) the
script's absolute path and `{{.Vars}}` the environment (`kiln.provisioners.envvars`). The
child inherits kiln's environment; Packer's variables reach it through `{{.Vars}}` only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kiln.errors import KilnError
from kiln.provisioners.config import ShellLocalConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError
from kiln.provisioners.envvars import flatten_env, packer_env
from kiln.provisioners.shell import exit_status_error
from kiln.template.engine import render


def go_os(platform: str = sys.platform) -> str:
    """Python's platform name as Go's runtime.GOOS (what `only_on` lists)."""
    for prefix, name in (
        ("linux", "linux"),
        ("darwin", "darwin"),
        ("freebsd", "freebsd"),
        ("openbsd", "openbsd"),
        ("sunos", "solaris"),
        ("win32", "windows"),
    ):
        if platform.startswith(prefix):
            return name
    return platform


def _inline_script(config: ShellLocalConfig) -> Path:
    import tempfile  # for a build only: `kiln validate` loads this module

    lines = config.inline or [config.command]
    fd, name = tempfile.mkstemp(prefix="packer-shell")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        if config.inline_shebang:
            f.write(f"#!{config.inline_shebang}\n")
        f.writelines(f"{line}\n" for line in lines)
    path = Path(name)
    path.chmod(0o700)
    return path


async def run_shell_local(config: ShellLocalConfig, ctx: ProvisionContext) -> None:
    from kiln import proc  # for a build only: `kiln validate` loads this module

    if config.only_on and go_os() not in config.only_on:
        ctx.say("Skipping shell-local due to runtime OS")
        return
    env = packer_env(ctx.plan.name, ctx.plan.type, ctx.build_values,
                     config.environment_vars, config.env)  # fmt: skip
    flattened = flatten_env(env, config.env_var_format or "%s='%s' ")
    temp = _inline_script(config) if (config.inline or config.command) else None
    scripts = (
        [temp]
        if temp is not None
        else [ctx.resolve(s) for s in ([config.script] if config.script else config.scripts)]
    )
    try:
        for script in scripts:
            absolute = str(script.absolute())
            data: dict[str, object] = dict(ctx.build_values)
            data.update(Vars=flattened, Script=absolute, Command=absolute)
            argv = [render(arg, data, ctx.functions(), where="execute_command")
                    for arg in config.execute_command]  # fmt: skip
            if not argv:
                raise ProvisionerError(
                    "Error launching command via shell-local communicator: No ExecuteCommand "
                    "provided"
                )
            ctx.say(f"Running local shell script: {script}")
            try:
                result = await proc.run(argv, check=False, on_stdout=ctx.output,
                                        on_stderr=ctx.output, cwd=ctx.cwd)  # fmt: skip
            except KilnError as err:
                raise ProvisionerError(
                    f"Error executing script: {absolute}\n\n{err}\n"
                    "Please see output above for more information."
                ) from None
            status = result.returncode
            if status not in (config.valid_exit_codes or [0]):
                raise exit_status_error(absolute, status, config.valid_exit_codes or [0])
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
