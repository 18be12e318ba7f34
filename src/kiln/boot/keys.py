"""Key tables: boot-command key names → X11 keysyms, characters → keysyms, keysyms → QKeyCodes.

Keysyms are what Packer sends over VNC (packer-plugin-sdk/bootcommand/vnc_driver.go and driver.go,
Packer v1.6.6):
a special key's value from `SPECIAL_KEYS`, a literal character's Unicode code point, and Left
Shift (0xFFE1) around characters that need it. The QMP driver sends QEMU key codes instead; the
keysym → QKeyCode table is the US layout, the same mapping QEMU's own VNC server applies with
its default `en-us` keymap (`/usr/share/qemu/keymaps/en-us`), so both drivers press the same
keys. Shift is never folded into the QKeyCode: like the VNC driver, the typist sends Shift as
a key of its own.
"""

from __future__ import annotations

import unicodedata

KEYSYM_LEFT_SHIFT = 0xFFE1

#: Characters that Packer wraps in Shift besides uppercase letters
#: (packer-plugin-sdk/bootcommand/driver.go).
SHIFTED_CHARS = '~!@#$%^&*()_+{}|:"<>?'

#: Special key names (lower case) in the grammar's ordered-choice order: `f10`..`f12` before
#: `f1`, and `left`/`right`/`menu` last so `leftAlt` etc. win
#: (packer-plugin-sdk/bootcommand/boot_command.pigeon).
SPECIAL_KEY_ORDER: tuple[str, ...] = (
    "bs",
    "del",
    "enter",
    "esc",
    "f10",
    "f11",
    "f12",
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "f6",
    "f7",
    "f8",
    "f9",
    "return",
    "tab",
    "up",
    "down",
    "spacebar",
    "insert",
    "home",
    "end",
    "pageup",
    "pagedown",
    "leftalt",
    "leftctrl",
    "leftshift",
    "rightalt",
    "rightctrl",
    "rightshift",
    "leftsuper",
    "rightsuper",
    "leftcommand",
    "rightcommand",
    "leftoption",
    "rightoption",
    "left",
    "right",
    "menu",
)

#: Special key name (lower case) → X11 keysym (packer-plugin-sdk/bootcommand/vnc_driver.go
#: `NewVNCDriver`).
SPECIAL_KEYS: dict[str, int] = {
    "bs": 0xFF08,
    "del": 0xFFFF,
    "down": 0xFF54,
    "end": 0xFF57,
    "enter": 0xFF0D,
    "esc": 0xFF1B,
    "f1": 0xFFBE,
    "f2": 0xFFBF,
    "f3": 0xFFC0,
    "f4": 0xFFC1,
    "f5": 0xFFC2,
    "f6": 0xFFC3,
    "f7": 0xFFC4,
    "f8": 0xFFC5,
    "f9": 0xFFC6,
    "f10": 0xFFC7,
    "f11": 0xFFC8,
    "f12": 0xFFC9,
    "home": 0xFF50,
    "insert": 0xFF63,
    "left": 0xFF51,
    "leftalt": 0xFFE9,
    "leftctrl": 0xFFE3,
    "leftshift": 0xFFE1,
    "leftsuper": 0xFFEB,
    "menu": 0xFF67,
    "pagedown": 0xFF56,
    "pageup": 0xFF55,
    "return": 0xFF0D,
    "right": 0xFF53,
    "rightalt": 0xFFEA,
    "rightctrl": 0xFFE4,
    "rightshift": 0xFFE2,
    "rightsuper": 0xFFEC,
    "spacebar": 0x0020,
    "tab": 0xFF09,
    "up": 0xFF52,
    "leftcommand": 0xFFE9,
    "rightcommand": 0xFFEA,
    "leftoption": 0xFFE7,
    "rightoption": 0xFFE8,
}


def needs_shift(ch: str) -> bool:
    """Packer's rule: Go's `unicode.IsUpper` (category Lu) or one of `SHIFTED_CHARS`."""
    return unicodedata.category(ch) == "Lu" or ch in SHIFTED_CHARS


def literal_keysym(ch: str) -> tuple[int, bool]:
    """The keysym Packer sends for a literal character (its code point), and whether to shift."""
    return ord(ch), needs_shift(ch)


# US layout: (unshifted, shifted, QKeyCode) for every printable key.
_US_PRINTABLE: tuple[tuple[str, str, str], ...] = (
    *((c, c.upper(), c) for c in "abcdefghijklmnopqrstuvwxyz"),
    ("1", "!", "1"),
    ("2", "@", "2"),
    ("3", "#", "3"),
    ("4", "$", "4"),
    ("5", "%", "5"),
    ("6", "^", "6"),
    ("7", "&", "7"),
    ("8", "*", "8"),
    ("9", "(", "9"),
    ("0", ")", "0"),
    ("`", "~", "grave_accent"),
    ("-", "_", "minus"),
    ("=", "+", "equal"),
    ("[", "{", "bracket_left"),
    ("]", "}", "bracket_right"),
    ("\\", "|", "backslash"),
    (";", ":", "semicolon"),
    ("'", '"', "apostrophe"),
    (",", "<", "comma"),
    (".", ">", "dot"),
    ("/", "?", "slash"),
)

# Non-character keysyms → QKeyCode, as QEMU's en-us keymap maps them (Meta_L/R share the Alt
# keys there; Menu is the "compose" key, scancode 0xdd; Super_L/R are "meta_l"/"meta_r").
_US_FUNCTION_KEYS: dict[int, str] = {
    0x0020: "spc",
    0xFF08: "backspace",
    0xFF09: "tab",
    0xFF0D: "ret",
    0xFF1B: "esc",
    0xFFFF: "delete",
    0xFF50: "home",
    0xFF51: "left",
    0xFF52: "up",
    0xFF53: "right",
    0xFF54: "down",
    0xFF55: "pgup",
    0xFF56: "pgdn",
    0xFF57: "end",
    0xFF63: "insert",
    0xFF67: "compose",
    **{0xFFBE + i: f"f{i + 1}" for i in range(12)},
    0xFFE1: "shift",
    0xFFE2: "shift_r",
    0xFFE3: "ctrl",
    0xFFE4: "ctrl_r",
    0xFFE7: "alt",
    0xFFE8: "alt_r",
    0xFFE9: "alt",
    0xFFEA: "alt_r",
    0xFFEB: "meta_l",
    0xFFEC: "meta_r",
}


def _build_qcodes() -> dict[int, str]:
    table = dict(_US_FUNCTION_KEYS)
    for plain, shifted, qcode in _US_PRINTABLE:
        table[ord(plain)] = qcode
        table[ord(shifted)] = qcode
    return table


#: Keysym → QEMU QKeyCode on a US keyboard (Shift is sent separately, see module docstring).
KEYSYM_TO_QCODE: dict[int, str] = _build_qcodes()


def qcode_for_keysym(keysym: int) -> str | None:
    """The QKeyCode that types `keysym` on a US keyboard, or None if no key produces it."""
    return KEYSYM_TO_QCODE.get(keysym)


def describe_keysym(keysym: int) -> str:
    """A human name for a keysym in messages: the boot-command name or the character."""
    names = [name for name, value in SPECIAL_KEYS.items() if value == keysym]
    if names:
        return f"<{names[0]}>"
    if 0x20 < keysym < 0x110000 and chr(keysym).isprintable():
        return repr(chr(keysym))
    return f"keysym 0x{keysym:X}"


#: The names as the documentation writes them (camel case), for messages and the docs table.
KEY_NAMES: tuple[str, ...] = (
    "bs", "del", "enter", "return", "esc", "tab", "spacebar", "insert", "home", "end",
    "pageUp", "pageDown", "up", "down", "left", "right", "menu",
    *(f"f{n}" for n in range(1, 13)),
    "leftAlt", "rightAlt", "leftCtrl", "rightCtrl", "leftShift", "rightShift",
    "leftSuper", "rightSuper", "leftCommand", "rightCommand", "leftOption", "rightOption",
)  # fmt: skip
