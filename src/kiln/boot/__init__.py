"""The boot command: parse Packer's `boot_command` language and type it over VNC or QMP."""

from kiln.boot.drivers import KeyboardDriver, QmpKeyboard, QmpKeyboardError, VncKeyboard
from kiln.boot.duration import (
    DurationError,
    format_go_duration,
    parse_go_duration,
    parse_go_duration_ns,
)
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
