"""Step 1: the installer ISO (or source disk image): resolve the checksum, fetch, cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu.state import QemuState
from kiln.media.cache import cache_dir, cache_target
from kiln.ui.progress import DownloadProgress


def iso_urls(state: QemuState) -> list[str]:
    c = state.plan.config
    return [c.iso_url] if c.iso_url else list(c.iso_urls)


@asynccontextmanager
async def step_iso(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    urls = iso_urls(state)
    driver = state.driver
    if c.iso_skip_cache:
        state.ui.progress("Skipping the download: QEMU reads the ISO from its URL (iso_skip_cache)")
        state.iso_path = await driver.iso_in_place(urls, log=state.ui.message)
        yield
        return
    state.ui.progress("Retrieving ISO")
    template_dir = Path(state.plan.func_context.template_dir) if state.plan.func_context else Path()
    checksum = await driver.resolve_checksum(c.iso_checksum, urls[0], template_dir=template_dir)
    state.iso_checksum = checksum.normalized() if checksum is not None else None
    target = None
    if checksum is not None:
        target = cache_target(
            checksum,
            urls,
            target_path=c.iso_target_path or None,
            target_extension=c.iso_target_extension,
            cache_root=cache_dir(state.options.env),
        )
    path, from_cache = await driver.fetch_iso(
        urls,
        checksum,
        target,
        progress=DownloadProgress(state.ui.ui, state.name),
        log=state.ui.progress,  # Packer says "Trying <url>", "<url> => <path>"
    )
    if from_cache:
        state.ui.message(f"Using the cached ISO {path}")
    state.iso_path = path
    yield
