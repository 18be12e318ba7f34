"""Steps 8-9: the HTTP server for answer files (`http_directory`, `http_content`).

`{{ .HTTPIP }}` is QEMU user networking's host address, or the bridge's with `net_bridge`.
The port is reserved like every host port (kiln.builders.qemu.step_ports) and held, with
its listening socket, until the build ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.config import SLIRP_HOST_IP
from kiln.builders.qemu.state import QemuState
from kiln.builders.qemu.step_ports import port_lock_dir
from kiln.net.http_server import HttpRequestLog


@asynccontextmanager
async def step_http(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    state.http_ip = state.driver.bridge_address(c.net_bridge) if c.net_bridge else SLIRP_HOST_IP
    if not (c.http_directory or c.http_content):
        state.http_port = 0
        yield
        return
    access_log = state.work_dir / "http-access.log"

    def log_request(entry: HttpRequestLog) -> None:
        path = state.ui.ui.redact.data(entry.path)  # a boot command may put a secret in a URL
        method = state.ui.ui.redact.data(entry.method)
        line = f"{entry.client} {method} {path} {entry.status} {entry.size}"
        state.ui.message(f"HTTP {method} {path} -> {entry.status}")
        with access_log.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    async with state.driver.http_server(
        directory=c.http_directory,
        content=c.http_content,
        bind=c.http_bind_address,
        interface=c.http_interface,
        ports=(c.http_port_min, c.http_port_max),
        lock_dir=port_lock_dir(state),
        log=log_request,
        warn=state.ui.warn,
    ) as port:
        state.http_port = port
        state.ui.progress(f"Starting HTTP server on port {port}")
        yield
