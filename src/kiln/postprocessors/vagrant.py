"""The `vagrant` post-processor: the qemu image as a Vagrant box for the libvirt provider.

Packer's post-processor/vagrant (v1.6.6), `PostProcess` and `LibVirtProvider.Process`:
the provider comes from the input's builder id (`transcend.qemu` → `libvirt`) or
`provider_override`; `override[provider]` is applied over the other options; `output`
and the Vagrantfile template are rendered with the build's values plus `ArtifactId`,
`BuildName` and `Provider`. The box holds the `include` files, `box.img` (the disk named
`vm_name`), `metadata.json` (`provider`, `format`, `virtual_size` in GiB rounded up;
an included `metadata.json` wins) and a `Vagrantfile` (the libvirt driver for the
build's accelerator, then the rendered `vagrantfile_template`). The input is deleted
unless `keep_input_artifact` (Packer returns keep=false, forceOverride=true).

The packing itself is `kiln.postprocessors.vagrant_box`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from kiln.engine.artifact import Artifact
from kiln.options.decode import decode_sections
from kiln.postprocessors.config import VagrantConfig
from kiln.postprocessors.context import PostContext, PostResult
from kiln.postprocessors.vagrant_box import (
    LIBVIRT_VAGRANTFILE,
    BoxEntry,
    BoxError,
    Cancelled,
    box_entries,
    box_vagrantfile,
    check_level,
    libvirt_driver,
    libvirt_virtual_size,
    metadata_json,
    write_box,
)
from kiln.postprocessors.vagrant_prepare import BUILTINS
from kiln.template.engine import render
from kiln.template.tree import render_tree
from kiln.ui.progress import DownloadProgress

BUILDER_ID = "mitchellh.post-processor.vagrant"
PROGRESS_INTERVAL = 0.5


def provider_for(config: VagrantConfig, artifact: Artifact) -> str:
    """Packer's choice: provider_override, else the provider of the input's builder."""
    if config.provider_override:
        return config.provider_override
    name = BUILTINS.get(artifact.builder_id)
    if name is None:
        raise BoxError(
            f"Unknown artifact type, can't build box: {artifact.builder_id} (the vagrant "
            "post-processor needs the qemu builder's artifact: put it first in its chain)"
        )
    return name


def specific_config(config: VagrantConfig, provider: str, ctx: PostContext) -> VagrantConfig:
    """The options with `override[provider]` applied (Packer's specificConfig)."""
    options = config.override.get(provider)
    if not options:
        return config
    errors: list[str] = []
    funcs = ctx.functions()
    base = render_tree(ctx.step.raw, ctx.build_values, funcs, late={"output", "override"},
                       errors=errors)  # fmt: skip
    rendered = render_tree(options, ctx.build_values, funcs, late={"output"}, errors=errors)
    decoded = decode_sections({**base, **rendered}, [VagrantConfig])
    errors += decoded.errors
    if errors:
        raise BoxError(f"Error overriding config for {provider}: " + "; ".join(errors))
    return decoded.get(VagrantConfig)


def libvirt_parts(artifact: Artifact) -> tuple[Path, str, dict[str, object]]:
    """(disk to pack as box.img, provider Vagrantfile, metadata): LibVirtProvider.Process."""
    state = artifact.state
    needed = ("diskName", "diskType", "diskSize", "domainType")
    if any(not isinstance(state.get(key), str) for key in needed):
        raise BoxError(
            "the libvirt provider needs the qemu builder's artifact (its disk name, format and "
            f"size); the input comes from {artifact.builder_id}: put the vagrant "
            "post-processor directly after the build, or in a chain of its own"
        )
    disk_name = str(state["diskName"])
    disks = [f for f in artifact.files if f.name == disk_name]
    if not disks:
        listed = ", ".join(str(f) for f in artifact.files) or "none"
        raise BoxError(
            f"the artifact has no disk named {disk_name!r} (vm_name) to pack as box.img; "
            f"its files: {listed}"
        )
    driver = libvirt_driver(str(state["domainType"]))
    metadata: dict[str, object] = {
        "provider": "libvirt",
        "format": str(state["diskType"]),
        "virtual_size": libvirt_virtual_size(str(state["diskSize"])),
    }
    return disks[-1], LIBVIRT_VAGRANTFILE.format(driver=driver), metadata


def include_entries(config: VagrantConfig, ctx: PostContext) -> list[BoxEntry]:
    entries = []
    for name in config.include:
        ctx.message(f"Copying from include: {name}")
        path = ctx.resolve(name)
        if not path.is_file():
            why = "it is a directory: list its files" if path.is_dir() else "no such file"
            raise BoxError(f"Error copying include file: {name}\n\n{why}")
        entries.append(BoxEntry(path.name, source=path))
    return entries


def custom_vagrantfile(config: VagrantConfig, data: dict[str, object], ctx: PostContext) -> str:
    if not config.vagrantfile_template:
        return ""
    ctx.message(f"Using custom Vagrantfile: {config.vagrantfile_template}")
    path = ctx.resolve(config.vagrantfile_template)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BoxError(
            f"vagrantfile_template {config.vagrantfile_template!r}: cannot read it: {err.strerror}"
        ) from None
    return render(text, data, ctx.functions(), where="vagrantfile_template")


async def run_vagrant(config: VagrantConfig, artifact: Artifact, ctx: PostContext) -> PostResult:
    provider = provider_for(config, artifact)
    config = specific_config(config, provider, ctx)
    check_level(config.compression_level)
    ctx.say(f"Creating Vagrant box for '{provider}' provider")
    data: dict[str, object] = dict(ctx.build_values)
    data.update(ArtifactId=artifact.id, BuildName=ctx.plan.name, Provider=provider)
    name = render(config.output, data, ctx.functions(), where="output")
    entries = include_entries(config, ctx)
    disk, provider_vagrantfile, metadata = libvirt_parts(artifact)
    ctx.message(f"Copying from artifact: {disk}")
    entries.append(BoxEntry("box.img", source=disk))
    if not any(e.name == "metadata.json" for e in entries):
        entries.append(BoxEntry("metadata.json", data=metadata_json(metadata)))
    custom = custom_vagrantfile(config, data, ctx)
    entries.append(BoxEntry("Vagrantfile", data=box_vagrantfile(provider_vagrantfile, custom)))
    target = ctx.resolve(name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BoxError(f"Unable to create the directory of {name}: {err.strerror}") from None
    await pack(target, name, entries, config.compression_level, ctx)
    produced = Artifact(
        build_name=artifact.build_name,
        builder_type=artifact.builder_type,
        output_dir=Path(name).parent,
        files=[Path(name)],
        builder_id=BUILDER_ID,
        id=provider,
        description=f"'{provider}' provider box: {name}",
    )
    return PostResult(produced, keep_input=False, force_keep=True)


async def pack(
    target: Path, name: str, entries: list[BoxEntry], level: int, ctx: PostContext
) -> None:
    """Write the box in a thread, reporting progress from the event loop."""
    import asyncio  # for a build only: `kiln validate` loads this module

    total = sum(e.size() for e in entries)
    packed = [0]

    def advance(nbytes: int) -> None:
        packed[0] += nbytes  # one writer thread; the loop only reads

    progress = DownloadProgress(ctx.ui, ctx.target)
    how = "uncompressed" if level == 0 else f"gzip level {6 if level == -1 else level}"
    for entry in box_entries(entries):
        ctx.message(f"Compressing: {entry.name}")
    ctx.message(f"Packing into {name} ({how}, streamed)")
    progress.start(f"Packing {Path(name).name}", total)
    stop = threading.Event()
    started = time.monotonic()
    task = asyncio.ensure_future(
        asyncio.to_thread(write_box, target, entries, level, progress=advance, stop=stop)
    )
    reported = 0
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=PROGRESS_INTERVAL)
            progress.advance(packed[0] - reported)
            reported = packed[0]
        task.result()
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        raise BoxError(f"Unable to create box {name}: {where}{err.strerror}") from None
    except Cancelled:
        raise asyncio.CancelledError from None
    except BaseException:
        stop.set()
        with contextlib.suppress(BaseException):
            await asyncio.wait({task})  # the writer removes its partial file
        raise
    finally:
        progress.finish()
    seconds = time.monotonic() - started
    size = target.stat().st_size
    ctx.message(
        f"Box {name}: {size / 2**20:.1f} MiB from {total / 2**20:.1f} MiB in {seconds:.1f}s "
        f"({total / 2**20 / max(seconds, 1e-3):.0f} MiB/s)"
    )
