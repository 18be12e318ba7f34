"""Running one provisioner the way Packer's core wraps it, and late option rendering.

`run_provisioner` applies the common keys the way Packer's core wraps a provisioner
(packer/core.go, packer/provisioner.go, packer/provisioner_timeout.go at v1.6.6): each
attempt pauses `pause_before`, then runs under `timeout`; `max_retries` repeats failed
attempts. Packer 1.6.6 ignores `timeout` when `pause_before` is set (an `else if`); kiln
applies both, as the documentation promises.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from kiln.engine.plan import StepPlan
from kiln.errors import KilnError
from kiln.golang.strconv import quote
from kiln.options.decode import decode_sections
from kiln.options.spec import option_specs
from kiln.provisioners.context import ProvisionContext, ProvisionerError, go_duration
from kiln.provisioners.table import PROVISIONERS
from kiln.template.tree import render_tree


def late_keys(cls: type) -> set[str]:
    return {row.name for row in option_specs(cls) if row.spec.late}


def render_step_config(
    step: StepPlan,
    functions: Mapping[str, Any],
    cls: type,
    data: Mapping[str, object] | None = None,
) -> Any:
    """The step's options (table `cls`) rendered with the real build values, decoded again.

    Late options (`execute_command`, `output`, ...) stay raw: their runner renders them
    with its own data (`{{.Path}}`, `{{.ChecksumType}}`, ...).
    """
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
    kind = PROVISIONERS[step.type]
    if step.pause_before.seconds > 0:
        ctx.say(f"Pausing {go_duration(step.pause_before)} before the next provisioner...")
        await asyncio.sleep(step.pause_before.seconds)
    config = render_step_config(step, ctx.functions(), kind.config, ctx.build_values)
    run_ctx = dataclasses.replace(ctx, explicit=frozenset(step.raw))
    if step.timeout.seconds <= 0:
        await kind.run(config, run_ctx)
        return
    ctx.say(f"Setting a {go_duration(step.timeout)} timeout for the next provisioner...")
    try:
        async with asyncio.timeout(step.timeout.seconds):
            await kind.run(config, run_ctx)
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
