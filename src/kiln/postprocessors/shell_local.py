"""The `shell-local` post-processor: run commands on the host after the build."""

from __future__ import annotations

from kiln.build.state import Artifact
from kiln.postprocessors.runner import PostContext, PostResult
from kiln.provisioners.base import ProvisionContext
from kiln.provisioners.config import ShellLocalConfig
from kiln.provisioners.shell_local import run_shell_local


async def run_shell_local_pp(
    config: ShellLocalConfig, artifact: Artifact, ctx: PostContext
) -> PostResult:
    pctx = ProvisionContext(plan=ctx.plan, say=ctx.say, message=ctx.message, comm=None)
    await run_shell_local(config, pctx, {"PACKER_BUILD_NAME": ctx.plan.name})
    return PostResult(artifact, keep_input=True)
