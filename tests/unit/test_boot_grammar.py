"""Boot-command grammar tests.

The expected values in BOOT_CASES were produced by Packer's own parser: the generated pigeon
parser and VNC driver of hashicorp/packer-plugin-sdk (HEAD 24d43aa, bootcommand/*.go) compiled
with Go 1.19 into a throw-away program that printed, for each input, the parse error, the
validation errors and the exact VNC key events (with a recording key-event sink). Waits are
written `W<nanoseconds>`, key events `D<keysym hex>` / `U<keysym hex>`.
"""

from __future__ import annotations

import pytest

from kiln.boot.grammar import (
    BootAction,
    BootCommandError,
    KeyDown,
    KeyPress,
    KeyUp,
    Wait,
    _Parser,
    parse_boot_command,
    validate_boot_command,
)
from kiln.boot.keys import KEYSYM_LEFT_SHIFT, SPECIAL_KEYS

# (input, VNC events, validation errors, parse error)
BOOT_CASES = [
    ("<bs>", "DFF08 UFF08", [], ""),
    ("<del>", "DFFFF UFFFF", [], ""),
    ("<enter>", "DFF0D UFF0D", [], ""),
    ("<esc>", "DFF1B UFF1B", [], ""),
    ("<f10>", "DFFC7 UFFC7", [], ""),
    ("<f11>", "DFFC8 UFFC8", [], ""),
    ("<f12>", "DFFC9 UFFC9", [], ""),
    ("<f1>", "DFFBE UFFBE", [], ""),
    ("<f2>", "DFFBF UFFBF", [], ""),
    ("<f3>", "DFFC0 UFFC0", [], ""),
    ("<f4>", "DFFC1 UFFC1", [], ""),
    ("<f5>", "DFFC2 UFFC2", [], ""),
    ("<f6>", "DFFC3 UFFC3", [], ""),
    ("<f7>", "DFFC4 UFFC4", [], ""),
    ("<f8>", "DFFC5 UFFC5", [], ""),
    ("<f9>", "DFFC6 UFFC6", [], ""),
    ("<return>", "DFF0D UFF0D", [], ""),
    ("<tab>", "DFF09 UFF09", [], ""),
    ("<up>", "DFF52 UFF52", [], ""),
    ("<down>", "DFF54 UFF54", [], ""),
    ("<spacebar>", "D20 U20", [], ""),
    ("<insert>", "DFF63 UFF63", [], ""),
    ("<home>", "DFF50 UFF50", [], ""),
    ("<end>", "DFF57 UFF57", [], ""),
    ("<pageUp>", "DFF55 UFF55", [], ""),
    ("<pageDown>", "DFF56 UFF56", [], ""),
    ("<leftAlt>", "DFFE9 UFFE9", [], ""),
    ("<leftCtrl>", "DFFE3 UFFE3", [], ""),
    ("<leftShift>", "DFFE1 UFFE1", [], ""),
    ("<rightAlt>", "DFFEA UFFEA", [], ""),
    ("<rightCtrl>", "DFFE4 UFFE4", [], ""),
    ("<rightShift>", "DFFE2 UFFE2", [], ""),
    ("<leftSuper>", "DFFEB UFFEB", [], ""),
    ("<rightSuper>", "DFFEC UFFEC", [], ""),
    ("<leftCommand>", "DFFE9 UFFE9", [], ""),
    ("<rightCommand>", "DFFEA UFFEA", [], ""),
    ("<leftOption>", "DFFE7 UFFE7", [], ""),
    ("<rightOption>", "DFFE8 UFFE8", [], ""),
    ("<left>", "DFF51 UFF51", [], ""),
    ("<right>", "DFF53 UFF53", [], ""),
    ("<menu>", "DFF67 UFF67", [], ""),
    ("<ENTER>", "DFF0D UFF0D", [], ""),
    ("<Esc>", "DFF1B UFF1B", [], ""),
    ("<F10>", "DFFC7 UFFC7", [], ""),
    ("<LEFTALT>", "DFFE9 UFFE9", [], ""),
    ("<PageDown>", "DFF56 UFF56", [], ""),
    ("<İnsert>", "DFF63 UFF63", [], ""),
    ("<leftCtrlOn>c<leftCtrlOff>", "DFFE3 D63 U63 UFFE3", [], ""),
    ("<leftAltOn><f2><leftAltOff>", "DFFE9 DFFBF UFFBF UFFE9", [], ""),
    ("<enterON>", "DFF0D", [], ""),
    ("<enteroff>", "UFF0D", [], ""),
    ("<EnterOFF>", "UFF0D", [], ""),
    ("<f10On>", "DFFC7", [], ""),
    ("<f1On>", "DFFBE", [], ""),
    ("<f1Off>", "UFFBE", [], ""),
    ("<lefton>", "DFF51", [], ""),
    ("<leftOn>", "DFF51", [], ""),
    ("<leftAltoN>", "DFFE9", [], ""),
    ("<rightShiftOff>", "UFFE2", [], ""),
    ("<menuOn>", "DFF67", [], ""),
    ("<spacebarOff>", "U20", [], ""),
    ("<aOn>", "D61", [], ""),
    ("<AOff>", "U41 UFFE1", [], ""),
    ("<aOff>", "U61", [], ""),
    ("<:on>", "DFFE1 D3A", [], ""),
    ("<<On>", "DFFE1 D3C", [], ""),
    ("<>Off>", "U3E UFFE1", [], ""),
    ("<éON>", "DE9", [], ""),
    ("< on>", "D20", [], ""),
    ("<1off>", "U31", [], ""),
    ("<wOn>", "D77", [], ""),
    ("<ÉOff>", "UC9 UFFE1", [], ""),
    ("<wait>", "W1000000000", [], ""),
    ("<wait5>", "W5000000000", [], ""),
    ("<wait10>", "W10000000000", [], ""),
    ("<wait0>", "W1000000000", [], ""),
    ("<wait3s>", "W3000000000", [], ""),
    ("<wait1m30s>", "W90000000000", [], ""),
    ("<wait1.5s>", "W1500000000", [], ""),
    ("<wait4m2ns>", "W240000000002", [], ""),
    ("<wait250ms>", "W250000000", [], ""),
    ("<wait10us>", "W10000", [], ""),
    ("<wait10µs>", "W10000", [], ""),
    (
        "<wait10μs>",
        (
            "DFFE1 D3C U3C UFFE1 D77 U77 D61 U61 D69 U69 D74 U74 D31 U31 D30 U30 "
            "D3BC U3BC D73 U73 DFFE1 D3E U3E UFFE1"
        ),
        [],
        "",
    ),
    ("<wait1h>", "W3600000000000", [], ""),
    ("<wait1h1h>", "W7200000000000", [], ""),
    ("<wait0.5m>", "W30000000000", [], ""),
    ("<wait-1m>", "W-60000000000", ["Expecting a positive wait value. Got -1m0s"], ""),
    ("<wait0s>", "W0", ["Expecting a positive wait value. Got 0s"], ""),
    ("<wait-5s>", "W-5000000000", ["Expecting a positive wait value. Got -5s"], ""),
    ("<wait-0s>", "W0", ["Expecting a positive wait value. Got 0s"], ""),
    ("<wait0.0s>", "W0", ["Expecting a positive wait value. Got 0s"], ""),
    (
        "<wait05>",
        ("DFFE1 D3C U3C UFFE1 D77 U77 D61 U61 D69 U69 D74 U74 D30 U30 D35 U35 DFFE1 D3E U3E UFFE1"),
        [],
        "",
    ),
    (
        "<wait1.5>",
        (
            "DFFE1 D3C U3C UFFE1 D77 U77 D61 U61 D69 U69 D74 U74 D31 U31 D2E U2E "
            "D35 U35 DFFE1 D3E U3E UFFE1"
        ),
        [],
        "",
    ),
    (
        "<wait 5>",
        ("DFFE1 D3C U3C UFFE1 D77 U77 D61 U61 D69 U69 D74 U74 D20 U20 D35 U35 DFFE1 D3E U3E UFFE1"),
        [],
        "",
    ),
    (
        "<WAIT5>",
        (
            "DFFE1 D3C U3C UFFE1 DFFE1 D57 U57 UFFE1 DFFE1 D41 U41 UFFE1 DFFE1 "
            "D49 U49 UFFE1 DFFE1 D54 U54 UFFE1 D35 U35 DFFE1 D3E U3E UFFE1"
        ),
        [],
        "",
    ),
    (
        "<Wait>",
        ("DFFE1 D3C U3C UFFE1 DFFE1 D57 U57 UFFE1 D61 U61 D69 U69 D74 U74 DFFE1 D3E U3E UFFE1"),
        [],
        "",
    ),
    (
        "<wait5x>",
        ("DFFE1 D3C U3C UFFE1 D77 U77 D61 U61 D69 U69 D74 U74 D35 U35 D78 U78 DFFE1 D3E U3E UFFE1"),
        [],
        "",
    ),
    (
        "<wait-5>",
        ("DFFE1 D3C U3C UFFE1 D77 U77 D61 U61 D69 U69 D74 U74 D2D U2D D35 U35 DFFE1 D3E U3E UFFE1"),
        [],
        "",
    ),
    (
        "<wait+5s>",
        (
            "DFFE1 D3C U3C UFFE1 D77 U77 D61 U61 D69 U69 D74 U74 DFFE1 D2B U2B "
            "UFFE1 D35 U35 D73 U73 DFFE1 D3E U3E UFFE1"
        ),
        [],
        "",
    ),
    (
        "<wait.5s>",
        (
            "DFFE1 D3C U3C UFFE1 D77 U77 D61 U61 D69 U69 D74 U74 D2E U2E D35 U35 "
            "D73 U73 DFFE1 D3E U3E UFFE1"
        ),
        [],
        "",
    ),
    (
        "<wait5.s>",
        (
            "DFFE1 D3C U3C UFFE1 D77 U77 D61 U61 D69 U69 D74 U74 D35 U35 D2E U2E "
            "D73 U73 DFFE1 D3E U3E UFFE1"
        ),
        [],
        "",
    ),
    (
        "<wait9223372037>",
        "W-9223372036709551616",
        ["Expecting a positive wait value. Got -2562047h47m16.709551616s"],
        "",
    ),
    ("<wait9223372036>", "W9223372036000000000", [], ""),
    (
        "<wait99999999999999999999>",
        "",
        [],
        (
            "1:6 (5): rule Integer: strconv.ParseInt: parsing "
            '"99999999999999999999": value out of range'
        ),
    ),
    (
        "<wait1m-30s>",
        "",
        [],
        '1:6 (5): rule Duration: time: unknown unit "m-" in duration "1m-30s"',
    ),
    ("<wait2562048h>", "", [], '1:6 (5): rule Duration: time: invalid duration "2562048h"'),
    (
        "<wait1s99999999999999999999>",
        "",
        [],
        (
            "1:8 (7): rule Integer: strconv.ParseInt: parsing "
            '"99999999999999999999": value out of range'
        ),
    ),
    (
        "x<wait99999999999999999999",
        "",
        [],
        (
            "1:7 (6): rule Integer: strconv.ParseInt: parsing "
            '"99999999999999999999": value out of range'
        ),
    ),
    (
        "<wait1m-30s><wait2562048h>",
        "",
        [],
        (
            '1:6 (5): rule Duration: time: unknown unit "m-" in duration '
            '"1m-30s"\n1:18 (17): rule Duration: time: invalid duration "2562048h"'
        ),
    ),
    (
        "<wait0s><wait-1m><wait>",
        "W0 W-60000000000 W1000000000",
        ["Expecting a positive wait value. Got 0s", "Expecting a positive wait value. Got -1m0s"],
        "",
    ),
    ("<foo>", "DFFE1 D3C U3C UFFE1 D66 U66 D6F U6F D6F U6F DFFE1 D3E U3E UFFE1", [], ""),
    (
        "<enterx>",
        ("DFFE1 D3C U3C UFFE1 D65 U65 D6E U6E D74 U74 D65 U65 D72 U72 D78 U78 DFFE1 D3E U3E UFFE1"),
        [],
        "",
    ),
    (
        "<leftx>",
        ("DFFE1 D3C U3C UFFE1 D6C U6C D65 U65 D66 U66 D74 U74 D78 U78 DFFE1 D3E U3E UFFE1"),
        [],
        "",
    ),
    ("<f13>", "DFFE1 D3C U3C UFFE1 D66 U66 D31 U31 D33 U33 DFFE1 D3E U3E UFFE1", [], ""),
    ("<f1x>", "DFFE1 D3C U3C UFFE1 D66 U66 D31 U31 D78 U78 DFFE1 D3E U3E UFFE1", [], ""),
    ("<>", "DFFE1 D3C U3C UFFE1 DFFE1 D3E U3E UFFE1", [], ""),
    (
        "<<>>",
        ("DFFE1 D3C U3C UFFE1 DFFE1 D3C U3C UFFE1 DFFE1 D3E U3E UFFE1 DFFE1 D3E U3E UFFE1"),
        [],
        "",
    ),
    ("<", "DFFE1 D3C U3C UFFE1", [], ""),
    (">", "DFFE1 D3E U3E UFFE1", [], ""),
    ("<<enter>>", "DFFE1 D3C U3C UFFE1 DFF0D UFF0D DFFE1 D3E U3E UFFE1", [], ""),
    ("<enter", "DFFE1 D3C U3C UFFE1 D65 U65 D6E U6E D74 U74 D65 U65 D72 U72", [], ""),
    ("enter>", "D65 U65 D6E U6E D74 U74 D65 U65 D72 U72 DFFE1 D3E U3E UFFE1", [], ""),
    (
        "Hello, World!",
        (
            "DFFE1 D48 U48 UFFE1 D65 U65 D6C U6C D6C U6C D6F U6F D2C U2C D20 U20 "
            "DFFE1 D57 U57 UFFE1 D6F U6F D72 U72 D6C U6C D64 U64 DFFE1 D21 U21 "
            "UFFE1"
        ),
        [],
        "",
    ),
    (
        '~!@#$%^&*()_+{}|:"<>?',
        (
            "DFFE1 D7E U7E UFFE1 DFFE1 D21 U21 UFFE1 DFFE1 D40 U40 UFFE1 DFFE1 "
            "D23 U23 UFFE1 DFFE1 D24 U24 UFFE1 DFFE1 D25 U25 UFFE1 DFFE1 D5E U5E "
            "UFFE1 DFFE1 D26 U26 UFFE1 DFFE1 D2A U2A UFFE1 DFFE1 D28 U28 UFFE1 "
            "DFFE1 D29 U29 UFFE1 DFFE1 D5F U5F UFFE1 DFFE1 D2B U2B UFFE1 DFFE1 "
            "D7B U7B UFFE1 DFFE1 D7D U7D UFFE1 DFFE1 D7C U7C UFFE1 DFFE1 D3A U3A "
            "UFFE1 DFFE1 D22 U22 UFFE1 DFFE1 D3C U3C UFFE1 DFFE1 D3E U3E UFFE1 "
            "DFFE1 D3F U3F UFFE1"
        ),
        [],
        "",
    ),
    (
        "`1234567890-=[]\\;',./",
        (
            "D60 U60 D31 U31 D32 U32 D33 U33 D34 U34 D35 U35 D36 U36 D37 U37 D38 "
            "U38 D39 U39 D30 U30 D2D U2D D3D U3D D5B U5B D5D U5D D5C U5C D3B U3B "
            "D27 U27 D2C U2C D2E U2E D2F U2F"
        ),
        [],
        "",
    ),
    (
        "ABCXYZ abcxyz",
        (
            "DFFE1 D41 U41 UFFE1 DFFE1 D42 U42 UFFE1 DFFE1 D43 U43 UFFE1 DFFE1 "
            "D58 U58 UFFE1 DFFE1 D59 U59 UFFE1 DFFE1 D5A U5A UFFE1 D20 U20 D61 "
            "U61 D62 U62 D63 U63 D78 U78 D79 U79 D7A U7A"
        ),
        [],
        "",
    ),
    ("é", "DE9 UE9", [], ""),
    ("É", "DFFE1 DC9 UC9 UFFE1", [], ""),
    ("ß", "DDF UDF", [], ""),
    ("ǅ", "D1C5 U1C5", [], ""),
    ("Ⓐ", "D24B6 U24B6", [], ""),
    ("日本", "D65E5 U65E5 D672C U672C", [], ""),
    ("😀", "D1F600 U1F600", [], ""),
    ("a\nb", "D61 U61 DA UA D62 U62", [], ""),
    ("\t", "D9 U9", [], ""),
    (
        ("<esc><wait>install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"),
        (
            "DFF1B UFF1B W1000000000 D69 U69 D6E U6E D73 U73 D74 U74 D61 U61 D6C "
            "U6C D6C U6C D20 U20 D6B U6B D73 U73 D3D U3D D68 U68 D74 U74 D74 U74 "
            "D70 U70 DFFE1 D3A U3A UFFE1 D2F U2F D2F U2F DFFE1 D7B U7B UFFE1 "
            "DFFE1 D7B U7B UFFE1 D20 U20 D2E U2E DFFE1 D48 U48 UFFE1 DFFE1 D54 "
            "U54 UFFE1 DFFE1 D54 U54 UFFE1 DFFE1 D50 U50 UFFE1 DFFE1 D49 U49 "
            "UFFE1 DFFE1 D50 U50 UFFE1 D20 U20 DFFE1 D7D U7D UFFE1 DFFE1 D7D U7D "
            "UFFE1 DFFE1 D3A U3A UFFE1 DFFE1 D7B U7B UFFE1 DFFE1 D7B U7B UFFE1 "
            "D20 U20 D2E U2E DFFE1 D48 U48 UFFE1 DFFE1 D54 U54 UFFE1 DFFE1 D54 "
            "U54 UFFE1 DFFE1 D50 U50 UFFE1 DFFE1 D50 U50 UFFE1 D6F U6F D72 U72 "
            "D74 U74 D20 U20 DFFE1 D7D U7D UFFE1 DFFE1 D7D U7D UFFE1 D2F U2F D6B "
            "U6B D73 U73 D2E U2E D63 U63 D66 U66 D67 U67 DFF0D UFF0D"
        ),
        [],
        "",
    ),
    (
        "<up><wait><tab> text ks=http://10.0.2.2:8080/ks.cfg<enter><wait5>",
        (
            "DFF52 UFF52 W1000000000 DFF09 UFF09 D20 U20 D74 U74 D65 U65 D78 U78 "
            "D74 U74 D20 U20 D6B U6B D73 U73 D3D U3D D68 U68 D74 U74 D74 U74 D70 "
            "U70 DFFE1 D3A U3A UFFE1 D2F U2F D2F U2F D31 U31 D30 U30 D2E U2E D30 "
            "U30 D2E U2E D32 U32 D2E U2E D32 U32 DFFE1 D3A U3A UFFE1 D38 U38 D30 "
            "U30 D38 U38 D30 U30 D2F U2F D6B U6B D73 U73 D2E U2E D63 U63 D66 U66 "
            "D67 U67 DFF0D UFF0D W5000000000"
        ),
        [],
        "",
    ),
    (
        ("<esc><esc><enter><wait>/install/vmlinuz noapic preseed/url=http://x/preseed.cfg<enter>"),
        (
            "DFF1B UFF1B DFF1B UFF1B DFF0D UFF0D W1000000000 D2F U2F D69 U69 D6E "
            "U6E D73 U73 D74 U74 D61 U61 D6C U6C D6C U6C D2F U2F D76 U76 D6D U6D "
            "D6C U6C D69 U69 D6E U6E D75 U75 D7A U7A D20 U20 D6E U6E D6F U6F D61 "
            "U61 D70 U70 D69 U69 D63 U63 D20 U20 D70 U70 D72 U72 D65 U65 D73 U73 "
            "D65 U65 D65 U65 D64 U64 D2F U2F D75 U75 D72 U72 D6C U6C D3D U3D D68 "
            "U68 D74 U74 D74 U74 D70 U70 DFFE1 D3A U3A UFFE1 D2F U2F D2F U2F D78 "
            "U78 D2F U2F D70 U70 D72 U72 D65 U65 D73 U73 D65 U65 D65 U65 D64 U64 "
            "D2E U2E D63 U63 D66 U66 D67 U67 DFF0D UFF0D"
        ),
        [],
        "",
    ),
    (
        "line1\n<wait2>\nline2<enter>",
        (
            "D6C U6C D69 U69 D6E U6E D65 U65 D31 U31 DA UA W2000000000 DA UA D6C "
            "U6C D69 U69 D6E U6E D65 U65 D32 U32 DFF0D UFF0D"
        ),
        [],
        "",
    ),
]


def _events(actions: list[BootAction]) -> list[str]:
    """The VNC key events Packer's driver would send, in the oracle's notation."""
    out: list[str] = []
    for a in actions:
        if isinstance(a, Wait):
            out.append(f"W{a.seconds!r}")
            continue
        shift = [f"{KEYSYM_LEFT_SHIFT:X}"] if a.shift else []
        key = f"{a.keysym:X}"
        if isinstance(a, KeyPress | KeyDown):
            out += [f"D{k}" for k in [*shift, key]]
        if isinstance(a, KeyPress | KeyUp):
            out += [f"U{k}" for k in [key, *shift]]
    return out


def _expected(events: str) -> list[str]:
    return [f"W{int(e[1:]) / 10**9!r}" if e.startswith("W") else e for e in events.split()]


@pytest.mark.parametrize(("text", "events", "verrs", "perr"), BOOT_CASES)
def test_matches_packer(text: str, events: str, verrs: list[str], perr: str) -> None:
    parser = _Parser(text)
    actions, _ = parser.parse()
    if perr:
        assert validate_boot_command(text) == [perr]
        with pytest.raises(BootCommandError) as info:
            parse_boot_command(text)
        assert info.value.errors == [perr]
        return
    assert parser.errors == []
    assert _events(actions) == _expected(events)
    assert validate_boot_command(text) == verrs
    if verrs:
        with pytest.raises(BootCommandError) as info:
            parse_boot_command(text)
        assert info.value.errors == verrs
        assert str(info.value) == "\n".join(verrs)
    else:
        assert parse_boot_command(text) == actions


def test_every_special_key_is_covered_by_the_packer_cases() -> None:
    lowered = {t.lower() for t, *_ in BOOT_CASES}
    assert all(f"<{name}>" in lowered for name in SPECIAL_KEYS)


def test_empty_command_is_empty() -> None:
    assert parse_boot_command("") == []
    assert validate_boot_command("") == []


def test_special_key_actions_and_labels() -> None:
    assert parse_boot_command("<leftCtrlOn>c<LEFTCTRLoff><F10>") == [
        KeyDown(0xFFE3, False, "<leftctrl>"),
        KeyPress(0x63, False, "c"),
        KeyUp(0xFFE3, False, "<leftctrl>"),
        KeyPress(0xFFC7, False, "<f10>"),
    ]


def test_char_toggle_keeps_shift_and_label() -> None:
    assert parse_boot_command("<AOn><AOff><:on>") == [
        KeyDown(0x41, True, "A"),
        KeyUp(0x41, True, "A"),
        KeyDown(0x3A, True, ":"),
    ]


def test_literal_labels_are_the_characters() -> None:
    assert [a.label for a in parse_boot_command("<foo>") if not isinstance(a, Wait)] == list(
        "<foo>"
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("<wait>", 1.0),
        ("<wait0>", 1.0),
        ("<wait7>", 7.0),
        ("<wait1m30s>", 90.0),
        ("<wait1.5s>", 1.5),
        ("<wait250ms>", 0.25),
        ("<wait4m2ns>", 240.000000002),
    ],
)
def test_wait_seconds(text: str, seconds: float) -> None:
    assert parse_boot_command(text) == [Wait(seconds)]


def test_error_position_counts_lines_runes_and_bytes() -> None:
    # pigeon: line is 1-based, the column counts runes (0 right after a newline), the
    # offset counts UTF-8 bytes.
    text = "é\nab<wait1m-30s>"
    assert validate_boot_command(text) == [
        '2:8 (10): rule Duration: time: unknown unit "m-" in duration "1m-30s"'
    ]


def test_boot_command_error_is_a_kiln_error() -> None:
    from kiln.errors import KilnError

    with pytest.raises(KilnError, match="Got -1m0s"):
        parse_boot_command("<wait-1m>")


def test_actions_are_immutable_values() -> None:
    import copy
    import pickle
    from dataclasses import FrozenInstanceError

    press = KeyPress(0x61, False, "a")
    assert press == KeyPress(0x61, False, "a") and hash(press) == hash(KeyPress(0x61, False, "a"))
    assert press != KeyDown(0x61, False, "a") and press != KeyPress(0x61, True, "a")
    assert repr(press) == "KeyPress(keysym=97, shift=False, label='a')"
    assert repr(Wait(1.5)) == "Wait(seconds=1.5)"
    assert pickle.loads(pickle.dumps(press)) == press and copy.copy(Wait(2.0)) == Wait(2.0)
    with pytest.raises(FrozenInstanceError):
        press.keysym = 0x62  # type: ignore[misc]
    match KeyUp(0x61, True, "A"):
        case KeyUp(keysym, shift, label):
            assert (keysym, shift, label) == (0x61, True, "A")
        case _:
            raise AssertionError
