"""Host network interfaces: the IPv4 address of one (for http_interface / net_bridge)."""

from __future__ import annotations

import socket

from kiln.errors import KilnError

SIOCGIFADDR = 0x8915


def interface_address(name: str) -> str:
    """The first IPv4 address of a host interface (for http_interface / net_bridge)."""
    import fcntl
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            packed = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
        except OSError as err:
            raise KilnError(
                f"Error getting the IPv4 address of interface {name!r}: {err}"
            ) from None
    return socket.inet_ntoa(packed[20:24])
