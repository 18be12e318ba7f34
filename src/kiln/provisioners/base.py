"""What a provisioner gets to work with, and the loop that runs one provisioner.

`run_provisioner` applies the common keys the way Packer's core wraps a provisioner
(packer/core.go, packer/provisioner.go, packer/provisioner_timeout.go at v1.6.6): each
attempt pauses `pause_before`, then runs under `timeout`; `max_retries` repeats failed
attempts. Packer 1.6.6 ignores `timeout` when `pause_before` is set (an `else if`); kiln
applies both, as the documentation promises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kiln.boot.duration import format_go_duration
from kiln.communicator.ssh import SshCommunicator
from kiln.engine.plan import BuildPlan, StepPlan
from kiln.errors import KilnError
from kiln.options import Duration, decode_sections, option_specs
from kiln.provisioners.config import PROVISIONER_TYPES
from kiln.record import Record, field, replace
from kiln.template.gostrconv import quote
from kiln.template.tree import render_tree

# Packer's ProvisionHook.Run, word for word.
NO_COMMUNICATOR = (
    "No communicator found for provisioners! This is usually because the\n"
    '`communicator` config was set to "none". If you have any provisioners\n'
    "then a communicator is required. Please fix this to continue."
)


class ProvisionerError(KilnError):
    """A provisioner failed; the message names it and says why."""


def _ignore(_message: str) -> None:
    return None


class ProvisionContext(Record):
    """One build's view for provisioners: where to run, what to print, template data.

    `build_values` are Packer's generated data (`{{ build `Host` }}`, ...: ID, Host, Port,
    User, Password, SSHPublicKey, SSHPrivateKey, ConnType, PackerRunUUID, PackerHTTPAddr,
    PackerHTTPIP, PackerHTTPPort). `explicit` names the options the template set for the
    provisioner being run (some defaults depend on it, as in Packer's Prepare).
    """

    plan: BuildPlan[Any]
    say: Callable[[str], None]
    message: Callable[[str], None]
    comm: SshCommunicator | None
    build_values: dict[str, str] = field(default_factory=dict)
    error: Callable[[str], None] = _ignore
    cwd: Path = field(default_factory=Path.cwd)
    explicit: frozenset[str] = frozenset()

    def functions(self) -> dict[str, Any]:
        return self.plan.functions(self.build_values)

    def resolve(self, name: str) -> Path:
        """A local path from the template, relative to the directory kiln runs in."""
        path = Path(name).expanduser()
        return path if path.is_absolute() else self.cwd / path


def go_duration(value: Duration | float) -> str:
    """A duration as Go prints it (`5m0s`, `1.5s`), like Packer's messages."""
    seconds = value.seconds if isinstance(value, Duration) else value
    return format_go_duration(round(seconds * 1e9))


def late_keys(cls: type) -> set[str]:
    return {row.name for row in option_specs(cls) if row.spec.late}


def render_step_config(
    step: StepPlan,
    functions: Mapping[str, Any],
    types: Mapping[str, type],
    data: Mapping[str, object] | None = None,
) -> Any:
    """The step's options rendered with the real build values, decoded again.

    Late options (`execute_command`, `output`, ...) stay raw: their runner renders them
    with its own data (`{{.Path}}`, `{{.ChecksumType}}`, ...).
    """
    cls = types[step.type]
    errors: list[str] = []
    late = late_keys(cls)
    rendered = render_tree(step.raw, data or {}, functions, late=late, errors=errors)
    decoded = decode_sections(rendered, [cls])
    errors += decoded.errors
    if errors:
        raise ProvisionerError(f"{step.where} ({step.type}): " + "; ".join(errors))
    return decoded.get(cls)


def _located(step: StepPlan, err: KilnError) -> ProvisionerError:
    text = str(err)
    prefix = f"{step.where} ({step.type}): "
    return ProvisionerError(text if text.startswith(prefix) else prefix + text)


async def _attempt(step: StepPlan, ctx: ProvisionContext) -> None:
    from kiln.provisioners.registry import RUNNERS

    if step.pause_before.seconds > 0:
        ctx.say(f"Pausing {go_duration(step.pause_before)} before the next provisioner...")
        await asyncio.sleep(step.pause_before.seconds)
    config = render_step_config(step, ctx.functions(), PROVISIONER_TYPES, ctx.build_values)
    runner = RUNNERS[step.type]
    run_ctx = replace(ctx, explicit=frozenset(step.raw))
    if step.timeout.seconds <= 0:
        await runner(config, run_ctx)
        return
    ctx.say(f"Setting a {go_duration(step.timeout)} timeout for the next provisioner...")
    try:
        async with asyncio.timeout(step.timeout.seconds):
            await runner(config, run_ctx)
    except TimeoutError:
        ctx.error("Cancelling provisioner after a timeout...")
        raise ProvisionerError(
            f"the provisioner did not finish within its timeout ({go_duration(step.timeout)}); "
            "raise `timeout` or make the provisioner faster"
        ) from None


async def run_provisioner(step: StepPlan, ctx: ProvisionContext) -> None:
    """Run one provisioner with its pause_before, timeout and max_retries (Packer's order)."""
    try:
        await _attempt(step, ctx)
        return
    except KilnError as err:
        error = _located(step, err)
    for left in range(max(step.max_retries, 0), 0, -1):
        ctx.say(f"Provisioner failed with {quote(str(error))}, retrying with {left} trie(s) left")
        try:
            await _attempt(step, ctx)
            return
        except KilnError as err:
            error = _located(step, err)
    if step.max_retries > 0:
        ctx.say("retry limit reached.")
    raise error
