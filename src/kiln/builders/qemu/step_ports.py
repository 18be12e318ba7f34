"""Steps 10-11: the host ports: the SSH port forward and the VNC display.

Ports are reserved with a lock file per port and held until the build ends, so parallel
builds and parallel kiln processes never collide. The lock files are Packer's:
`<cache>/port/<n>` in the cache directory Packer uses (`$PACKER_CACHE_DIR`; see
kiln.media.cache.cache_dir), flock(2)ed as Packer's `filelock` does, so kiln and Packer
sharing a `PACKER_CACHE_DIR` keep out of each other's ports too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu.state import QemuState
from kiln.media.cache import cache_dir


def port_lock_dir(state: QemuState) -> Path:
    """The directory `reserve_port` puts `port/<n>` in: Packer's cache directory."""
    return cache_dir(state.options.env)


@asynccontextmanager
async def step_ports(state: QemuState) -> AsyncIterator[None]:
    c, comm = state.plan.config, state.plan.comm
    try:
        if comm.communicator == "none":
            state.ui.progress("No communicator is set; skipping port forwarding setup.")
        elif c.net_bridge:
            state.ui.progress("Using a bridge; skipping port forwarding setup.")
        elif comm.skip_nat_mapping:
            state.ui.progress(f"Skipping NAT mapping: using port {comm.ssh_port} on the host")
        else:
            state.comm_port = state.driver.reserve_port(
                comm.host_port_min,
                comm.host_port_max,
                host=c.vnc_bind_address,
                lock_dir=port_lock_dir(state),
                purpose="the SSH port forward",
            )
            state.ui.progress(
                f"Found port for communicator (SSH, WinRM, etc): {state.comm_port.port}."
            )
        if not c.disable_vnc:
            state.ui.progress(
                f"Looking for available port between {c.vnc_port_min} and {c.vnc_port_max} "
                f"on {c.vnc_bind_address}"
            )
            state.vnc_port = state.driver.reserve_port(
                c.vnc_port_min,
                c.vnc_port_max,
                host=c.vnc_bind_address,
                lock_dir=port_lock_dir(state),
                purpose="VNC",
            )
        yield
    finally:
        for reserved in (state.comm_port, state.vnc_port):
            if reserved is not None:
                reserved.release()
