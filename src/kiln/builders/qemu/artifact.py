"""The qemu builder's artifact: the output directory's files (builder id `transcend.qemu`)."""

from __future__ import annotations

from pathlib import Path

from kiln.builders.qemu.accel import packer_default_accelerator
from kiln.builders.qemu.generated_data import build_values
from kiln.builders.qemu.state import QemuState
from kiln.engine.artifact import Artifact


def make_artifact(state: QemuState) -> Artifact:
    c = state.plan.config
    files = sorted(p for p in state.output_dir.rglob("*") if p.is_file())
    if c.efi_drop_efivars:
        files = [p for p in files if p.name != "efivars.fd"]
    return Artifact(
        build_name=state.name,
        builder_type="qemu",
        output_dir=Path(c.output_directory),
        files=files,
        state={
            "generated_data": build_values(state),
            "diskName": c.vm_name,
            "diskPaths": list(state.disk_paths),
            "diskType": c.format,
            "diskSize": c.disk_size,
            # What the vagrant post-processor's libvirt Vagrantfile names as the driver: the
            # box runs on other hosts, so an unset accelerator is Packer's default there
            # (kvm when /dev/kvm opens), not the TCG this host may have fallen back to.
            "domainType": c.accelerator or packer_default_accelerator(),
        },
    )
