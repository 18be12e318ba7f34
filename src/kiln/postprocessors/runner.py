"""Running a build's post-processor chains with Packer's keep/destroy rules.

From Packer's packer/build.go (v1.6.6): every chain starts from the builder's artifact;
each post-processor returns a new artifact, whether its input should be kept by default,
and whether that default is forced. A user's `keep_input_artifact` overrides the default
unless the post-processor forces keeping (manifest, checksum, shell-local). Inside a
chain, a discarded input is destroyed at once and a kept one joins the results; the
builder's artifact is destroyed at the end unless the first post-processor of some chain
kept it. An artifact is listed once even when a post-processor passes it on unchanged
(Packer lists it twice). A failing post-processor ends its chain (its artifacts so far
are not listed) and fails the build with "Post-processor failed: ...".

One deliberate difference: when the *first* post-processor of a chain fails, the
builder's artifact is kept (Packer destroys it, losing the image because, say, a
manifest could not be written).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from kiln.engine.artifact import Artifact
from kiln.engine.options import RunOptions
from kiln.engine.plan import BuildPlan, StepPlan
from kiln.engine.provision import render_step_config
from kiln.engine.result import BuildResult
from kiln.errors import KilnError, format_errors
from kiln.postprocessors.context import PostContext, PostResult
from kiln.postprocessors.table import POST_PROCESSORS
from kiln.ui.output import Ui


def destroy(artifact: Artifact) -> None:
    """Delete an artifact's files (the builder's: its whole output directory)."""
    if artifact.builder_id == "transcend.qemu":
        shutil.rmtree(artifact.output_dir, ignore_errors=True)
        return
    for path in artifact.files:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def keep_decision(out: PostResult, user_keep: bool | None) -> bool:
    """Packer's rule: the user's keep_input_artifact wins unless keeping is forced."""
    if user_keep is None:
        return out.keep_input
    if out.keep_input and out.force_keep and not user_keep:
        return True
    return user_keep


def step_label(step: StepPlan) -> str:
    name = step.name or step.type
    return step.type if name == step.type else f"{name} (type {step.type})"


def multi_error(errors: list[str]) -> str:
    """Packer's MultiError text (post-processor failures)."""
    return format_errors(errors, style="packer")


async def run_chain(
    chain: list[StepPlan], builder_artifact: Artifact, make_ctx: Callable[[StepPlan], PostContext]
) -> tuple[list[Artifact], bool, str | None]:
    """Run one chain: (artifacts it leaves, keep the builder's artifact?, error)."""
    artifacts: list[Artifact] = []
    keep_original = False
    prior = builder_artifact
    for i, step in enumerate(chain):
        ctx = make_ctx(step)
        ctx.ui.say(f"Running post-processor: {step_label(step)}", ctx.plan.name)
        try:
            kind = POST_PROCESSORS[step.type]
            config = render_step_config(step, ctx.functions(), kind.config, ctx.build_values)
            out = await kind.run(config, prior, ctx)
        except KilnError as err:
            if i == 0:
                keep_original = True
            return artifacts, keep_original, f"Post-processor failed: {err}"
        keep = keep_decision(out, step.keep_input_artifact)
        if i == 0:
            keep_original = keep
        elif keep:
            artifacts.append(prior)
        elif prior is not out.artifact:
            destroy(prior)
        prior = out.artifact
    artifacts.append(prior)
    return artifacts, keep_original, None


async def run_post_processors(
    plan: BuildPlan[Any], result: BuildResult, ui: Ui, options: RunOptions
) -> BuildResult:
    """Run every chain after a successful build; fill `result.artifacts` (and `.error`)."""
    builder_artifact = result.artifact
    if builder_artifact is None or not plan.post_processors:
        result.artifacts = [builder_artifact] if builder_artifact else []
        return result
    values = builder_artifact.state.get("generated_data") or {}
    build_values = {str(k): str(v) for k, v in dict(values).items()}

    def make_ctx(step: StepPlan) -> PostContext:
        return PostContext(
            plan, ui, step, force=options.force, build_values=build_values, env=options.env
        )

    keep_original = False
    artifacts: list[Artifact] = []
    errors: list[str] = []
    for chain in plan.post_processors:
        made, keep, error = await run_chain(chain, builder_artifact, make_ctx)
        keep_original = keep_original or keep
        if error is None:
            artifacts.extend(made)
        else:
            errors.append(error)
    if keep_original:
        artifacts.insert(0, builder_artifact)
    else:
        destroy(builder_artifact)
        artifacts = [a for a in artifacts if a is not builder_artifact]
    # Packer lists an artifact passed through unchanged (manifest, shell-local) twice.
    unique: list[Artifact] = []
    for artifact in artifacts:
        if not any(artifact is seen for seen in unique):
            unique.append(artifact)
    result.artifacts = unique
    if errors:
        result.error = multi_error(errors)
    return result
