"""Key tables: special keys vs Packer's vnc_driver.go, the shift rule, keysym → QKeyCode.

The QKeyCode table is checked against QEMU's own US keymap (`/usr/share/qemu/keymaps/en-us`,
package qemu-system-data), which is what QEMU's VNC server uses to turn the same keysyms into
key presses: both drivers must press the same keys.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiln.boot.keys import (
    KEYSYM_LEFT_SHIFT,
    KEYSYM_TO_QCODE,
    SHIFTED_CHARS,
    SPECIAL_KEY_ORDER,
    SPECIAL_KEYS,
    describe_keysym,
    literal_keysym,
    needs_shift,
    qcode_for_keysym,
)

# packer-plugin-sdk/bootcommand/vnc_driver.go at v1.6.6 (names as written in templates).
REFERENCE_SPECIALS = {
    "bs": 0xFF08,
    "del": 0xFFFF,
    "enter": 0xFF0D,
    "return": 0xFF0D,
    "esc": 0xFF1B,
    "tab": 0xFF09,
    "spacebar": 0x0020,
    "up": 0xFF52,
    "down": 0xFF54,
    "left": 0xFF51,
    "right": 0xFF53,
    "home": 0xFF50,
    "end": 0xFF57,
    "pageUp": 0xFF55,
    "pageDown": 0xFF56,
    "insert": 0xFF63,
    "menu": 0xFF67,
    "leftShift": 0xFFE1,
    "rightShift": 0xFFE2,
    "leftCtrl": 0xFFE3,
    "rightCtrl": 0xFFE4,
    "leftAlt": 0xFFE9,
    "rightAlt": 0xFFEA,
    "leftSuper": 0xFFEB,
    "rightSuper": 0xFFEC,
    "leftCommand": 0xFFE9,
    "rightCommand": 0xFFEA,
    "leftOption": 0xFFE7,
    "rightOption": 0xFFE8,
    **{f"f{n}": 0xFFBE + n - 1 for n in range(1, 13)},
}


def test_special_keys_match_reference() -> None:
    assert {k.lower(): v for k, v in REFERENCE_SPECIALS.items()} == SPECIAL_KEYS
    assert SPECIAL_KEYS["f1"] == 0xFFBE
    assert SPECIAL_KEYS["f12"] == 0xFFC9


def test_grammar_order_lists_every_key_once() -> None:
    assert sorted(SPECIAL_KEY_ORDER) == sorted(SPECIAL_KEYS)
    assert len(set(SPECIAL_KEY_ORDER)) == len(SPECIAL_KEY_ORDER)


def test_grammar_order_puts_longer_names_before_their_prefixes() -> None:
    pos = {k: i for i, k in enumerate(SPECIAL_KEY_ORDER)}
    for short in SPECIAL_KEY_ORDER:
        for long in SPECIAL_KEY_ORDER:
            if long != short and long.startswith(short):
                assert pos[long] < pos[short], (long, short)
    assert SPECIAL_KEY_ORDER[-3:] == ("left", "right", "menu")


def test_shifted_chars_are_packers() -> None:
    assert SHIFTED_CHARS == '~!@#$%^&*()_+{}|:"<>?'
    assert KEYSYM_LEFT_SHIFT == 0xFFE1


@pytest.mark.parametrize(
    ("ch", "keysym", "shift"),
    [
        ("a", 0x61, False),
        ("A", 0x41, True),
        ("Z", 0x5A, True),
        ("0", 0x30, False),
        (":", 0x3A, True),
        (";", 0x3B, False),
        ("<", 0x3C, True),
        (">", 0x3E, True),
        ('"', 0x22, True),
        ("'", 0x27, False),
        (" ", 0x20, False),
        ("\n", 0x0A, False),
        ("é", 0xE9, False),
        ("É", 0xC9, True),  # Go's unicode.IsUpper: category Lu
        ("Σ", 0x3A3, True),
        ("ǅ", 0x1C5, False),  # titlecase (Lt) is not upper in Go
        ("Ⓐ", 0x24B6, False),  # So with Other_Uppercase: not Lu
        ("日", 0x65E5, False),
    ],
)
def test_literal_keysym_and_shift(ch: str, keysym: int, shift: bool) -> None:
    assert literal_keysym(ch) == (keysym, shift)
    assert needs_shift(ch) is shift


def test_every_shifted_char_and_uppercase_letter_needs_shift() -> None:
    for ch in SHIFTED_CHARS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        assert needs_shift(ch), ch
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789`-=[]\\;',./ ":
        assert not needs_shift(ch), ch


# X11 keysym names for everything in KEYSYM_TO_QCODE (from X11 keysymdef.h).
_ASCII_NAMES = {
    " ": "space",
    "!": "exclam",
    '"': "quotedbl",
    "#": "numbersign",
    "$": "dollar",
    "%": "percent",
    "&": "ampersand",
    "'": "apostrophe",
    "(": "parenleft",
    ")": "parenright",
    "*": "asterisk",
    "+": "plus",
    ",": "comma",
    "-": "minus",
    ".": "period",
    "/": "slash",
    ":": "colon",
    ";": "semicolon",
    "<": "less",
    "=": "equal",
    ">": "greater",
    "?": "question",
    "@": "at",
    "[": "bracketleft",
    "\\": "backslash",
    "]": "bracketright",
    "^": "asciicircum",
    "_": "underscore",
    "`": "grave",
    "{": "braceleft",
    "|": "bar",
    "}": "braceright",
    "~": "asciitilde",
}
_FUNCTION_NAMES = {
    0xFF08: "BackSpace",
    0xFF09: "Tab",
    0xFF0D: "Return",
    0xFF1B: "Escape",
    0xFFFF: "Delete",
    0xFF50: "Home",
    0xFF51: "Left",
    0xFF52: "Up",
    0xFF53: "Right",
    0xFF54: "Down",
    0xFF55: "Prior",
    0xFF56: "Next",
    0xFF57: "End",
    0xFF63: "Insert",
    0xFF67: "Menu",
    **{0xFFBE + i: f"F{i + 1}" for i in range(12)},
    0xFFE1: "Shift_L",
    0xFFE2: "Shift_R",
    0xFFE3: "Control_L",
    0xFFE4: "Control_R",
    0xFFE7: "Meta_L",
    0xFFE8: "Meta_R",
    0xFFE9: "Alt_L",
    0xFFEA: "Alt_R",
    0xFFEB: "Super_L",
    0xFFEC: "Super_R",
}


def _x11_name(keysym: int) -> str:
    if keysym in _FUNCTION_NAMES:
        return _FUNCTION_NAMES[keysym]
    ch = chr(keysym)
    return _ASCII_NAMES.get(ch, ch)


def _qemu_en_us() -> dict[str, tuple[str, set[str]]]:
    """keysym name → (QKeyCode, modifiers) from QEMU's generated en-us keymap."""
    path = Path("/usr/share/qemu/keymaps/en-us")
    assert path.is_file(), "QEMU's keymaps are missing: apt-get install qemu-system-data"
    by_number: dict[int, str] = {}
    table: dict[str, tuple[str, set[str]]] = {}
    for line in path.read_text().splitlines():
        m = re.match(r'# evdev \d+ \(0x[0-9a-f]+\), QKeyCode "([^"]+)", number 0x([0-9a-f]+)', line)
        if m:
            by_number[int(m[2], 16)] = m[1]
            continue
        if not line or line.startswith(("#", "map ", "include ")):
            continue
        name, number, *mods = line.split()
        if name not in table and int(number, 16) in by_number:
            table[name] = (by_number[int(number, 16)], set(mods))
    return table


def test_qcodes_agree_with_qemus_us_keymap() -> None:
    qemu = _qemu_en_us()
    for keysym, qcode in KEYSYM_TO_QCODE.items():
        name = _x11_name(keysym)
        assert name in qemu, name
        assert qemu[name][0] == qcode, (name, qemu[name][0], qcode)
        if keysym < 0x7F:
            # QEMU needs Shift for exactly the characters Packer wraps in Shift.
            assert ("shift" in qemu[name][1]) == needs_shift(chr(keysym)), name


def test_all_printable_ascii_and_special_keys_have_qcodes() -> None:
    for code in range(0x20, 0x7F):
        assert qcode_for_keysym(code) is not None, chr(code)
    for name, keysym in SPECIAL_KEYS.items():
        assert qcode_for_keysym(keysym) is not None, name
    assert qcode_for_keysym(0x41) == qcode_for_keysym(0x61) == "a"
    assert qcode_for_keysym(ord(":")) == "semicolon"


@pytest.mark.parametrize("keysym", [0x0A, 0x09, 0xE9, 0x65E5, 0xFFFFFF])
def test_keys_without_a_us_key_have_no_qcode(keysym: int) -> None:
    assert qcode_for_keysym(keysym) is None


@pytest.mark.parametrize(
    ("keysym", "text"),
    [(0xFF0D, "<enter>"), (0x20, "<spacebar>"), (0x61, "'a'"), (0x0A, "keysym 0xA")],
)
def test_describe_keysym(keysym: int, text: str) -> None:
    assert describe_keysym(keysym) == text
