"""The `sleep` provisioner: wait `duration` (Packer's provisioner/sleep at v1.6.6).

Packer waits silently; kiln says how long it waits, so a pause in the output has a
reason. Cancelling the build (Ctrl-C, a provisioner `timeout`) ends the wait at once.
"""

from __future__ import annotations

from kiln.provisioners.config import SleepConfig
from kiln.provisioners.context import ProvisionContext, go_duration


async def run_sleep(config: SleepConfig, ctx: ProvisionContext) -> None:
    import asyncio  # for a build only: `kiln validate` loads this module

    seconds = max(config.duration.seconds, 0.0)
    if seconds > 0:
        ctx.say(f"Sleeping for {go_duration(seconds)}...")
    await asyncio.sleep(seconds)
