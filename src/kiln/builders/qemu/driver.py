"""The qemu builder's driver: qemu-img, QEMU, swtpm, the ISO, media and the HTTP server.

Packer's builder/qemu/driver.go. `QemuDriver` acts (a real build); `QemuRecorder` (the
dry run) acts on nothing and notes what the build would run: the qemu-img calls, the
copies as `cp`, the QEMU command line (with its control channel as fd 3). Every decision
stays in the steps, which run unchanged with either.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

from kiln.builders.qemu import qemu_img
from kiln.builders.qemu.process import QemuProcess, run_qemu
from kiln.builders.qemu.swtpm import run_swtpm
from kiln.engine.driver import HostDriver, HostRecorder
from kiln.media.checksum import Checksum, parse_checksum, resolve_checksum
from kiln.media.fetch import Progress, fetch_iso, find_byte_serving_url
from kiln.media.urls import parse_source
from kiln.net.http_server import HttpRequestLog, HttpServer
from kiln.net.interfaces import interface_address
from kiln.net.ports import reserve_port
from kiln.ui.log import LOG

Say = Callable[[str], None]


class QemuDriver(HostDriver):
    """The real driver of a qemu build."""

    # --- the ISO -------------------------------------------------------------------------
    async def iso_in_place(self, urls: Sequence[str], *, log: Say) -> str:
        """`iso_skip_cache`: the URL QEMU reads the ISO from (needs byte ranges)."""
        return await find_byte_serving_url(urls, log=log)

    async def resolve_checksum(
        self, spec: str, first_url: str, *, template_dir: Path
    ) -> Checksum | None:
        """The checksum (None: not known without a download, in a dry run)."""
        return await resolve_checksum(spec, first_url, template_dir=template_dir)

    async def fetch_iso(
        self,
        urls: Sequence[str],
        checksum: Checksum | None,
        target: Path | None,
        *,
        progress: Progress,
        log: Say,
    ) -> tuple[str, bool]:
        """(where the ISO is, whether it came from the cache)."""
        assert checksum is not None and target is not None
        result = await fetch_iso(urls, checksum, target, progress=progress, log=log)
        return str(result.path), result.from_cache

    # --- media ---------------------------------------------------------------------------
    async def make_floppy(
        self,
        files: Sequence[str],
        dirs: Sequence[str],
        content: Mapping[str, str],
        dest: Path,
        *,
        label: str,
    ) -> None:
        from kiln.media.floppy import collect_floppy_files, make_floppy

        entries = collect_floppy_files(files, dirs, content, base=Path.cwd())
        await asyncio.to_thread(make_floppy, entries, dest, label=label)

    async def make_cd(
        self, files: Sequence[str], content: Mapping[str, str], dest: Path, *, label: str
    ) -> None:
        from kiln.media.cdrom import collect_cd_files, make_cd

        entries = collect_cd_files(files, content, base=Path.cwd())
        await asyncio.to_thread(make_cd, entries, dest, label=label)

    # --- qemu-img ------------------------------------------------------------------------
    async def qemu_img(self, argv: list[str]) -> str:
        return await qemu_img.run_qemu_img(argv)

    async def image_size(self, path: str) -> int | None:
        """The image's virtual size in bytes (None: not known, in a dry run)."""
        info = await qemu_img.info(path)
        return int(str(info.get("virtual-size", 0)))

    async def check_image(self, path: str) -> None:
        await qemu_img.check(path)

    # --- the HTTP server -----------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def http_server(
        self,
        *,
        directory: str,
        content: Mapping[str, str],
        bind: str,
        interface: str,
        ports: tuple[int, int],
        lock_dir: Path,
        log: Callable[[HttpRequestLog], None],
        warn: Callable[[str], None] | None = None,
    ) -> AsyncIterator[int]:
        """Serve `directory`/`content` on a reserved port of `bind` (or `interface`'s address);
        `warn` hears it if the server stops on its own."""
        if interface:
            bind = interface_address(interface)
        port = reserve_port(*ports, host=bind, lock_dir=lock_dir, keep_listening=True,
                            purpose="the HTTP server")  # fmt: skip
        LOG.debug("HTTP server listening on %s port %d", bind, port.port)
        try:
            server = HttpServer(
                directory=Path(directory) if directory else None,
                content=content or None,
                port=port,
                log=log,
                on_stop=warn,
            )
            async with server:
                yield server.port
        finally:
            port.release()

    # --- processes -----------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def swtpm(self, state_dir: Path, *, tpm1: bool) -> AsyncIterator[None]:
        """A software TPM listening on `<state_dir>/vtpm.sock`, stopped at the end."""
        async with run_swtpm(state_dir, tpm1=tpm1):
            yield

    @contextlib.asynccontextmanager
    async def qemu(
        self, make_argv: Callable[[int], list[str]], *, name: str, stderr_log: Path
    ) -> AsyncIterator[QemuProcess | None]:
        """QEMU started with `make_argv(control_fd)`, up until the block ends; None when
        nothing was started (a dry run)."""
        async with run_qemu(make_argv, name=name, stderr_log=stderr_log) as qemu:
            yield qemu


class QemuRecorder(HostRecorder, QemuDriver):
    """The dry run's driver: every method acts on nothing; commands are noted in order."""

    CONTROL_FD = 3  # what the QEMU command line shows for kiln's QMP channel

    def __init__(self, warn: Say) -> None:
        super().__init__(warn)
        self.sizes: dict[str, int] = {}  # images "created" so far: path → bytes

    async def iso_in_place(self, urls: Sequence[str], *, log: Say) -> str:
        return urls[0]

    async def resolve_checksum(
        self, spec: str, first_url: str, *, template_dir: Path
    ) -> Checksum | None:
        return None if spec.startswith("file:") else parse_checksum(spec)

    async def fetch_iso(
        self,
        urls: Sequence[str],
        checksum: Checksum | None,
        target: Path | None,
        *,
        progress: Progress,
        log: Say,
    ) -> tuple[str, bool]:
        """Where the ISO would be: the first local file that exists, used in place, or the
        cache target of the first URL to download (`<cache>/name` while a checksum file is
        not read). A local path that does not exist is skipped, as the download step skips
        it (validate warned about it)."""
        for url in urls:
            source = parse_source(url)
            if source.kind == "local" and source.path is not None:
                if os.path.exists(source.path) or url == urls[-1]:
                    return os.path.abspath(source.path), False
                continue
            if target is None:
                return f"<cache>/{Path(url).name}", False
            return str(target), False
        return os.path.abspath(urls[0]), False  # pragma: no cover - the loop returns

    async def make_floppy(
        self,
        files: Sequence[str],
        dirs: Sequence[str],
        content: Mapping[str, str],
        dest: Path,
        *,
        label: str,
    ) -> None:
        return None

    async def make_cd(
        self, files: Sequence[str], content: Mapping[str, str], dest: Path, *, label: str
    ) -> None:
        return None

    async def qemu_img(self, argv: list[str]) -> str:
        self.record(argv)
        if argv[1] == "create":
            self.sizes[argv[-2]] = qemu_img.size_to_bytes(argv[-1])
        return ""

    async def image_size(self, path: str) -> int | None:
        return self.sizes.get(path)

    async def check_image(self, path: str) -> None:
        return None

    @contextlib.asynccontextmanager
    async def http_server(
        self,
        *,
        directory: str,
        content: Mapping[str, str],
        bind: str,
        interface: str,
        ports: tuple[int, int],
        lock_dir: Path,
        log: Callable[[HttpRequestLog], None],
        warn: Callable[[str], None] | None = None,
    ) -> AsyncIterator[int]:
        yield ports[0]

    @contextlib.asynccontextmanager
    async def swtpm(self, state_dir: Path, *, tpm1: bool) -> AsyncIterator[None]:
        yield

    @contextlib.asynccontextmanager
    async def qemu(
        self, make_argv: Callable[[int], list[str]], *, name: str, stderr_log: Path
    ) -> AsyncIterator[QemuProcess | None]:
        self.record(make_argv(self.CONTROL_FD))
        yield None
