"""The `shell-local` post-processor: run commands on the host after the build.

Packer's post-processor/shell-local: the provisioner's code, with the build's values;
a one-element `execute_command` (the old string form) is run through `sh -c`. The input
artifact is always kept and passed on.
"""

from __future__ import annotations

import dataclasses

from kiln.engine.artifact import Artifact
from kiln.postprocessors.context import PostContext, PostResult
from kiln.provisioners.config import ShellLocalConfig
from kiln.provisioners.context import ProvisionContext
from kiln.provisioners.shell_local import run_shell_local


async def run_shell_local_pp(
    config: ShellLocalConfig, artifact: Artifact, ctx: PostContext
) -> PostResult:
    if len(config.execute_command) == 1:
        config = dataclasses.replace(config, execute_command=["sh", "-c",
                                                              *config.execute_command])  # fmt: skip
    pctx = ProvisionContext(
        plan=ctx.plan,
        say=ctx.say,
        message=ctx.message,
        comm=None,
        build_values=dict(ctx.build_values),
        error=ctx.error,
        cwd=ctx.cwd,
        explicit=frozenset(ctx.step.raw),
    )
    await run_shell_local(config, pctx)
    return PostResult(artifact, keep_input=True, force_keep=True)
