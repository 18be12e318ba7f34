"""`kiln build -dry-run`: the build's own steps, run with the recording driver.

Nothing is downloaded, created or started: `QemuRecorder` notes the qemu-img calls, the
copies (as `cp`) and the QEMU command line instead, in the order the build makes them
(disks, the EFI variables copy, QEMU, the final compaction). Ports are the lowest of each
range, temporary files are under `$KILN_WORK`, the ISO is where the cache would put it;
the accelerator is the template's, or what the (cached) KVM probe chooses. With
`net_bridge`, `{{ .HTTPIP }}` is the bridge's address when the bridge exists here, else
`$KILN_BRIDGE_IP`. The steps that talk to the guest (boot command, SSH, provisioners,
shutdown) are skipped, and the steps' progress lines are not shown.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from kiln.builders.qemu.builder import GUEST_STEPS, qemu_steps
from kiln.builders.qemu.driver import QemuRecorder
from kiln.builders.qemu.state import QemuState
from kiln.engine.driver import WORK_PLACEHOLDER
from kiln.engine.options import CheckpointMode, RunOptions
from kiln.engine.plan import BuildPlan
from kiln.ui.build import BuildUi
from kiln.ui.output import Ui


async def dry_run_commands(plan: BuildPlan[Any], ui: Ui, options: RunOptions) -> list[list[str]]:
    """Every command the build would run, in order; notes go to `ui` as the build's would."""
    bui = BuildUi(ui, plan.name, progress=False)
    driver = QemuRecorder(bui.warn)
    state = QemuState(plan, bui, options, WORK_PLACEHOLDER, Path(plan.config.output_directory),
                      driver=driver)  # fmt: skip
    async with AsyncExitStack() as stack:
        for name, step in qemu_steps(checkpoint=options.checkpoint != CheckpointMode.OFF):
            if name not in GUEST_STEPS:
                await stack.enter_async_context(step(state))
    return driver.commands
