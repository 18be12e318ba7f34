"""The `shell-local` provisioner (and post-processor): run commands on the kiln host."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from kiln import proc
from kiln.provisioners.base import ProvisionContext, ProvisionerError, flatten_env
from kiln.provisioners.config import ShellLocalConfig
from kiln.template import render


async def run_shell_local(config: ShellLocalConfig, ctx: ProvisionContext,
                          extra_env: dict[str, str] | None = None) -> None:  # fmt: skip
    if (
        config.only_on
        and sys.platform not in config.only_on
        and not (sys.platform.startswith("linux") and "linux" in config.only_on)
    ):
        ctx.say(f"Skipping shell-local: only_on is {config.only_on}")
        return
    env = ctx.env_defaults()
    env.update(extra_env or {})
    env.update(config.env)
    for pair in config.environment_vars:
        key, _, value = pair.partition("=")
        env[key] = value
    scripts: list[Path] = []
    temp: Path | None = None
    if config.inline or config.command:
        lines = config.inline or [config.command]
        fd, name = tempfile.mkstemp(prefix="kiln-shell-local-", suffix=".sh")
        with os.fdopen(fd, "w") as f:
            f.write(f"#!{config.inline_shebang}\n" + "\n".join(lines) + "\n")
        temp = Path(name)
        temp.chmod(0o700)
        scripts.append(temp)
    else:
        scripts = [Path(s) for s in ([config.script] if config.script else config.scripts)]
    try:
        for script in scripts:
            ctx.say(f"Running local shell script: {script if script != temp else '<inline>'}")
            data = {"Vars": flatten_env(env, config.env_var_format or "%s='%s' "),
                    "Script": str(script), "Command": config.command}  # fmt: skip
            argv = [render(a, data, ctx.functions(), where="execute_command")
                    for a in config.execute_command]  # fmt: skip
            result = await proc.run(argv, check=False, env=env, on_stdout=ctx.message,
                                    on_stderr=ctx.message)  # fmt: skip
            if result.returncode not in config.valid_exit_codes:
                raise ProvisionerError(
                    f"Erroneous exit code {result.returncode} while executing script: {script}\n"
                    "Please see output above for more information."
                )
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
