"""The `breakpoint` provisioner: pause the build until the user presses Enter."""

from __future__ import annotations

import asyncio
import sys

from kiln.provisioners.base import ProvisionContext, ProvisionerError
from kiln.provisioners.config import BreakpointConfig


async def run_breakpoint(config: BreakpointConfig, ctx: ProvisionContext) -> None:
    if config.disable:
        ctx.say("Breakpoint is disabled, continuing...")
        return
    if not sys.stdin.isatty():
        raise ProvisionerError(
            "breakpoint: standard input is not a terminal, so nobody can press Enter to "
            'continue; set "disable": true or run kiln from a terminal'
        )
    note = f"\n{config.note}" if config.note else ""
    ctx.say(f"Pausing at breakpoint provisioner with note: {config.note!r}.{note}\n"
            "Press enter to continue.")  # fmt: skip
    await asyncio.to_thread(sys.stdin.readline)
