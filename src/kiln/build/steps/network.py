"""Steps 8-11: the HTTP server for answer files and the host ports (SSH forward, VNC).

Ports are reserved with a lock file per port (shared by every kiln process on the host) and
held until the build ends, so parallel builds and parallel kiln processes never collide.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.build.state import BuildState
from kiln.errors import KilnError
from kiln.net import HttpRequestLog, HttpServer, reserve_port

USER_NET_HOST_IP = "10.0.2.2"  # QEMU user networking's address for the host


def _lock_dir(state: BuildState) -> Path:
    return state.options.cache_dir / "port"


def interface_address(name: str) -> str:
    """The first IPv4 address of a host interface (for http_interface / net_bridge)."""
    import fcntl
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
        except OSError as err:
            raise KilnError(
                f"Error getting the IPv4 address of interface {name!r}: {err}"
            ) from None
    return socket.inet_ntoa(packed[20:24])


@asynccontextmanager
async def step_http(state: BuildState) -> AsyncIterator[None]:
    c = state.plan.config
    state.http_ip = interface_address(c.net_bridge) if c.net_bridge else USER_NET_HOST_IP
    if not (c.http_directory or c.http_content):
        state.http_port = 0
        yield
        return
    bind = c.http_bind_address
    if c.http_interface:
        bind = interface_address(c.http_interface)
    port = reserve_port(
        c.http_port_min,
        c.http_port_max,
        host=bind,
        lock_dir=_lock_dir(state),
        keep_listening=True,
        purpose="the HTTP server",
    )
    access_log = state.work_dir / "http-access.log"

    def log_request(entry: HttpRequestLog) -> None:
        line = f"{entry.client} {entry.method} {entry.path} {entry.status} {entry.size}"
        state.ui.message(f"HTTP {entry.method} {entry.path} -> {entry.status}")
        with access_log.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    try:
        server = HttpServer(
            directory=Path(c.http_directory) if c.http_directory else None,
            content=c.http_content or None,
            port=port,
            log=log_request,
        )
        async with server:
            state.http_server = server
            state.http_port = server.port
            state.ui.say(f"Starting HTTP server on port {server.port}")
            yield
    finally:
        state.http_server = None
        port.release()


@asynccontextmanager
async def step_ports(state: BuildState) -> AsyncIterator[None]:
    c, comm = state.plan.config, state.plan.comm
    try:
        if comm.communicator == "none":
            state.ui.say("No communicator is set; skipping port forwarding setup.")
        elif c.net_bridge:
            state.ui.say("Using a bridge; skipping port forwarding setup.")
        elif comm.skip_nat_mapping:
            state.ui.say(f"Skipping NAT mapping: using port {comm.ssh_port} on the host")
        else:
            state.comm_port = reserve_port(
                comm.host_port_min,
                comm.host_port_max,
                host=c.vnc_bind_address,
                lock_dir=_lock_dir(state),
                purpose="the SSH port forward",
            )
            state.ui.say(f"Found port for communicator (SSH, WinRM, etc): {state.comm_port.port}.")
        if not c.disable_vnc:
            state.ui.say(
                f"Looking for available port between {c.vnc_port_min} and {c.vnc_port_max} "
                f"on {c.vnc_bind_address}"
            )
            state.vnc_port = reserve_port(
                c.vnc_port_min,
                c.vnc_port_max,
                host=c.vnc_bind_address,
                lock_dir=_lock_dir(state),
                purpose="VNC",
            )
        yield
    finally:
        for reserved in (state.comm_port, state.vnc_port):
            if reserved is not None:
                reserved.release()


def comm_host_port(state: BuildState) -> int | None:
    comm = state.plan.comm
    if comm.communicator == "none" or state.plan.config.net_bridge:
        return None
    if comm.skip_nat_mapping:
        return comm.ssh_port
    return state.comm_port.port if state.comm_port else None
