"""Generate the option reference (docs/options/*.md) from every option table.

`python -m kiln.cli.docs docs/options` (`./dev docs`) rewrites the pages; a test fails when
the committed pages differ from what this module generates. The provisioner and
post-processor pages list every row of their tables (kiln.provisioners.table,
kiln.postprocessors.table), in table order.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from kiln.builders.qemu.config import QemuConfig
from kiln.communicator.config import CommConfig
from kiln.options.docs import render_page
from kiln.postprocessors.config import CommonPostProcessorConfig
from kiln.postprocessors.table import POST_PROCESSORS
from kiln.provisioners.config import CommonProvisionerConfig
from kiln.provisioners.table import PROVISIONERS


def option_sets() -> dict[str, list[type]]:
    """Every option table, by the page that documents it (file name → classes)."""
    provisioners = [p.config for p in PROVISIONERS.values()]
    # A table both kinds share (shell-local's) is documented once, with the provisioners.
    post_processors = [p.config for p in POST_PROCESSORS.values() if p.config not in provisioners]
    return {
        "qemu.md": [QemuConfig, CommConfig],
        "provisioners.md": [CommonProvisionerConfig, *provisioners],
        "post-processors.md": [CommonPostProcessorConfig, *post_processors],
    }


_PAGES = {
    "qemu.md": (
        "The `qemu` builder: every option",
        'Every key a `"type": "qemu"` builder accepts, with its default. `since` says where it '
        "comes from: `1.6.6` (Packer 1.6.6 has it), `before 1.6` (Packer's QEMU page "
        "documented it; Packer 1.6 removed it), "
        "`plugin vX` (the modern packer-plugin-qemu) or `kiln` (kiln's own). Durations are Go "
        'durations (`5s`, `1m30s`); integers and booleans may be strings (`"1024"`, `"true"`), '
        "as in Packer. "
        "An explicit zero or empty value means the default, as in Packer.",
    ),
    "provisioners.md": (
        "Provisioners",
        "The provisioners kiln runs and their options. Every provisioner also takes `only`, "
        "`except` and `override` (per build name). The `shell-local` table also applies to "
        "the `shell-local` post-processor.",
    ),
    "post-processors.md": (
        "Post-processors",
        "The post-processors kiln runs and their options. Every post-processor also takes "
        "`only`, `except` and `name`; `shell-local` takes the options listed in "
        "provisioners.md.",
    ),
}


def pages() -> dict[str, str]:
    """File name → content of every generated page."""
    return {name: render_page(*_PAGES[name], classes) for name, classes in option_sets().items()}


def main(argv: Sequence[str]) -> int:
    target = Path(argv[0] if argv else "docs/options")
    target.mkdir(parents=True, exist_ok=True)
    for name, content in pages().items():
        (target / name).write_text(content, encoding="utf-8")
        print(f"wrote {target / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
