"""The boot command: parse Packer's `boot_command` language and type it over VNC or QMP.

The grammar and durations are imported eagerly (validation needs them, and they are
cheap); the drivers (asyncio, QMP, crypto for VNC auth) load on first use, so that
`kiln validate` starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kiln.boot.grammar import (
    BootAction,
    BootCommandError,
    KeyDown,
    KeyPress,
    KeyUp,
    Wait,
    parse_boot_command,
    validate_boot_command,
)
from kiln.golang.duration import (
    DurationError,
    format_go_duration,
    parse_go_duration,
    parse_go_duration_ns,
)

if TYPE_CHECKING:
    from kiln.boot.drivers import KeyboardDriver, QmpKeyboard, QmpKeyboardError, VncKeyboard
    from kiln.boot.rfb import (
        RfbAuthError,
        RfbClient,
        RfbConnectError,
        RfbDisconnectedError,
        RfbError,
        RfbProtocolError,
        RfbState,
        RfbStateError,
        ServerInit,
    )
    from kiln.boot.typist import key_interval_from, type_actions

_LAZY = {
    **dict.fromkeys(("KeyboardDriver", "QmpKeyboard", "QmpKeyboardError", "VncKeyboard"),
                    "kiln.boot.drivers"),
    **dict.fromkeys(("RfbAuthError", "RfbClient", "RfbConnectError", "RfbDisconnectedError",
                     "RfbError", "RfbProtocolError", "RfbState", "RfbStateError", "ServerInit"),
                    "kiln.boot.rfb"),
    **dict.fromkeys(("key_interval_from", "type_actions"), "kiln.boot.typist"),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln.boot' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "BootAction",
    "BootCommandError",
    "DurationError",
    "KeyDown",
    "KeyPress",
    "KeyUp",
    "KeyboardDriver",
    "QmpKeyboard",
    "QmpKeyboardError",
    "RfbAuthError",
    "RfbClient",
    "RfbConnectError",
    "RfbDisconnectedError",
    "RfbError",
    "RfbProtocolError",
    "RfbState",
    "RfbStateError",
    "ServerInit",
    "VncKeyboard",
    "Wait",
    "format_go_duration",
    "key_interval_from",
    "parse_boot_command",
    "parse_go_duration",
    "parse_go_duration_ns",
    "type_actions",
    "validate_boot_command",
]
