"""What a provisioner gets to work with, and the loop that runs a build's provisioners."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.communicator import SshCommunicator
from kiln.errors import KilnError
from kiln.options import decode_sections
from kiln.plan import BuildPlan, StepPlan, _render_tree
from kiln.provisioners.config import PROVISIONER_TYPES


class ProvisionerError(KilnError):
    """A provisioner failed; the message names it and says why."""


@dataclass
class ProvisionContext:
    """One build's view for provisioners: where to run, what to print, template data."""

    plan: BuildPlan
    say: Callable[[str], None]
    message: Callable[[str], None]
    comm: SshCommunicator | None
    build_values: dict[str, str] = field(default_factory=dict)
    http_addr: str = ""
    cwd: Path = field(default_factory=Path.cwd)
    reconnect: Callable[[], Any] | None = None  # async () -> SshCommunicator

    def functions(self) -> dict[str, Any]:
        return self.plan.functions(self.build_values)

    def env_defaults(self) -> dict[str, str]:
        """The variables Packer sets for every script."""
        env = {"PACKER_BUILD_NAME": self.plan.name, "PACKER_BUILDER_TYPE": self.plan.type}
        if self.http_addr:
            env["PACKER_HTTP_ADDR"] = self.http_addr
        return env


def render_step_config(step: StepPlan, ctx: ProvisionContext) -> Any:
    """The provisioner's options rendered with the real build values, decoded again."""
    cls = PROVISIONER_TYPES[step.type]
    late = {name for name in ("execute_command",)}
    errors: list[str] = []
    rendered = _render_tree(step.raw, ctx.functions(), late, "", errors)
    decoded = decode_sections(rendered, [cls])
    errors += decoded.errors
    if errors:
        raise ProvisionerError(f"{step.where} ({step.type}): " + "; ".join(errors))
    return decoded.get(cls)


async def run_provisioner(step: StepPlan, ctx: ProvisionContext) -> None:
    """Run one provisioner with its pause_before, timeout and max_retries."""
    from kiln.provisioners.registry import RUNNERS

    runner = RUNNERS[step.type]
    if step.pause_before.seconds > 0:
        ctx.say(f"Pausing {step.pause_before} before the next provisioner...")
        await asyncio.sleep(step.pause_before.seconds)
    attempts = max(step.max_retries, 0) + 1
    for attempt in range(1, attempts + 1):
        config = render_step_config(step, ctx)
        try:
            async with asyncio.timeout(step.timeout.seconds or None):
                await runner(config, ctx)
            return
        except TimeoutError:
            error: KilnError = ProvisionerError(
                f"{step.where} ({step.type}) did not finish within its timeout ({step.timeout})"
            )
        except KilnError as err:
            error = err
        if attempt == attempts:
            raise error
        ctx.say(f"Provisioner failed ({error}); retrying ({attempt}/{step.max_retries})...")


def flatten_env(env: Mapping[str, str], fmt: str = "%s='%s' ") -> str:
    """Packer's `{{.Vars}}`: sorted, single quotes escaped for the shell."""
    parts = []
    for key in sorted(env):
        value = env[key].replace("'", "'\"'\"'")
        parts.append(fmt.replace("%s", key, 1).replace("%s", value, 1))
    return "".join(parts)
