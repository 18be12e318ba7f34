"""Running a build's post-processor chains with Packer's keep/destroy rules.

Each chain starts from the builder's artifact; each post-processor returns a new artifact
and whether its input should be kept by default. The user's `keep_input_artifact` overrides
that default, except for post-processors that force keeping (manifest). The builder's
artifact is deleted after the chains unless some chain's first post-processor kept it.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Awaitable, Callable
from typing import Any

from kiln.build.runner import BuildResult
from kiln.build.state import Artifact, RunOptions
from kiln.errors import KilnError
from kiln.plan import BuildPlan, StepPlan
from kiln.ui import Ui


@dataclasses.dataclass
class PostResult:
    artifact: Artifact
    keep_input: bool
    force_keep: bool = False


PostProcessor = Callable[[Any, Artifact, "PostContext"], Awaitable[PostResult]]


@dataclasses.dataclass
class PostContext:
    plan: BuildPlan
    ui: Ui
    step: StepPlan

    def say(self, message: str) -> None:
        self.ui.say(message, f"{self.plan.name} ({self.step.type})")

    def message(self, message: str) -> None:
        self.ui.message(message, f"{self.plan.name} ({self.step.type})")


def destroy(artifact: Artifact) -> None:
    """Delete an artifact's files (the builder's: its whole output directory)."""
    if artifact.builder_id == "transcend.qemu":
        shutil.rmtree(artifact.output_dir, ignore_errors=True)
        return
    for path in artifact.files:
        path.unlink(missing_ok=True)


async def run_post_processors(
    plan: BuildPlan, result: BuildResult, ui: Ui, options: RunOptions
) -> BuildResult:
    from kiln.postprocessors.registry import POST_PROCESSORS

    builder_artifact = result.artifact
    if builder_artifact is None or not plan.post_processors:
        result.artifacts = [builder_artifact] if builder_artifact else []
        return result
    keep_original = False
    artifacts: list[Artifact] = []
    errors: list[str] = []
    for chain in plan.post_processors:
        prior = builder_artifact
        for i, step in enumerate(chain):
            ui.say(f"Running post-processor: {step.type}", plan.name)
            ctx = PostContext(plan, ui, step)
            try:
                out = await POST_PROCESSORS[step.type](step.config, prior, ctx)
            except KilnError as err:
                errors.append(f"Post-processor failed: {err}")
                break
            keep = out.keep_input
            if step.keep_input_artifact is not None and not (
                out.keep_input and out.force_keep and not step.keep_input_artifact
            ):
                keep = step.keep_input_artifact
            if i == 0:
                keep_original = keep_original or keep
            elif keep:
                artifacts.append(prior)
            else:
                destroy(prior)
            prior = out.artifact
        else:
            artifacts.append(prior)
            continue
    if keep_original:
        artifacts.insert(0, builder_artifact)
    else:
        destroy(builder_artifact)
    result.artifacts = [a for a in artifacts if a is not builder_artifact or keep_original]
    if errors:
        result.error = "\n".join(errors)
    return result
