"""The `breakpoint` provisioner: pause the build until the user presses Enter.

Messages are Packer's (provisioner/breakpoint/provisioner.go). Packer asks on its UI even
without a terminal; kiln fails with a clear message instead of waiting for input that
cannot come (CI, `-machine-readable` pipelines, stdin from /dev/null).
"""

from __future__ import annotations

import sys
from typing import TextIO

from kiln.provisioners.config import BreakpointConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError


async def run_breakpoint(
    config: BreakpointConfig, ctx: ProvisionContext, stdin: TextIO | None = None
) -> None:
    from kiln.ui.terminal import read_line  # for a build only: `kiln validate` loads this

    stream = stdin if stdin is not None else sys.stdin
    note = f' with note "{config.note}"' if config.note else ""
    if config.disable:
        ctx.say(f"Breakpoint provisioner{note} disabled; continuing...")
        return
    if stream is None or stream.closed or not stream.isatty():
        raise ProvisionerError(
            f"breakpoint{note}: standard input is not a terminal, so nobody can press Enter "
            'to continue; run kiln from a terminal, or set "disable": true on the breakpoint'
        )
    ctx.say(f"Pausing at breakpoint provisioner{note}.")
    ctx.say("Press enter to continue.")
    line = await read_line(stream)
    if line == "":
        raise ProvisionerError("breakpoint: standard input was closed before Enter was pressed")
