"""kiln.ui.output: Packer's line shapes, colours, timestamps and machine-readable events."""

from __future__ import annotations

import io
import re

import pytest

from kiln.ui.output import Ui, colors_wanted, prefix_lines, rfc3339_now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_every_line_of_a_build_message_carries_the_prefix() -> None:
    out = io.StringIO()
    ui = Ui(out=out, color=False)
    ui.say("one\ntwo", "qemu")
    ui.message("a\nb", "qemu")
    ui.error("bad", "qemu")
    assert out.getvalue() == (
        "==> qemu: one\n==> qemu: two\n    qemu: a\n    qemu: b\n==> qemu: bad\n"
    )


def test_lines_of_no_build_have_no_prefix() -> None:
    out = io.StringIO()
    ui = Ui(out=out, color=False)
    ui.say("Debug mode enabled.")
    ui.error("Error: Failed to prepare build")
    ui.artifact("VM files in directory: out", "qemu")
    assert out.getvalue() == (
        "Debug mode enabled.\nError: Failed to prepare build\n"
        "--> qemu: VM files in directory: out\n"
    )


def test_build_colours_follow_packer() -> None:
    out = Tty()
    ui = Ui(out=out, color=True)
    ui.assign_colors(["a", "b", "c", "d", "e", "f"])
    ui.say("step", "a")
    ui.message("detail", "b")
    ui.say("step", "c")
    ui.error("broke", "d")
    ui.say("Build 'e' finished after 1 second.", build="e")
    ui.say("step", "f")
    ui.raw("\n==> Wait completed after 1 second")
    assert out.getvalue().splitlines() == [
        "\033[1;32m==> a: step\033[0m",  # green, bold for steps
        "\033[0;36m    b: detail\033[0m",  # cyan, plain for details
        "\033[1;35m==> c: step\033[0m",  # magenta
        "\033[1;31m==> d: broke\033[0m",  # errors bold red
        "\033[1;34mBuild 'e' finished after 1 second.\033[0m",  # blue, no prefix
        "\033[1;32m==> f: step\033[0m",  # the five colours wrap around
        "",
        "==> Wait completed after 1 second",  # the main Ui's lines are not coloured
    ]


@pytest.mark.parametrize(
    ("flag", "tty", "env", "wanted"),
    [
        (True, True, {}, True),
        (True, False, {}, False),
        (False, True, {}, False),
        (True, True, {"PACKER_NO_COLOR": "1"}, False),
        (True, True, {"NO_COLOR": "1"}, False),
        (True, True, {"NO_COLOR": ""}, True),
    ],
)
def test_colours_wanted(flag: bool, tty: bool, env: dict[str, str], wanted: bool) -> None:
    assert colors_wanted(flag, Tty() if tty else io.StringIO(), env) is wanted


def test_timestamps_are_packers_rfc3339_prefix_on_build_lines_only() -> None:
    out = io.StringIO()
    ui = Ui(out=out, color=False, timestamps=True)
    ui.say("Retrieving ISO", "qemu")
    ui.message("one\ntwo", "qemu")
    ui.raw("\n==> Wait completed after 1 second")
    lines = out.getvalue().splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d): "
    assert re.fullmatch(stamp + "==> qemu: Retrieving ISO", lines[0])
    assert re.fullmatch(stamp + "    qemu: one", lines[1])
    assert lines[2:] == ["    qemu: two", "", "==> Wait completed after 1 second"]


def test_rfc3339_in_utc_ends_in_z(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert rfc3339_now().endswith("Z")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_machine_readable_ui_events_carry_the_human_text() -> None:
    out = io.StringIO()
    ui = Ui(out=out, machine_readable=True)
    ui.say("Starting VM, booting from CD-ROM", "qemu")
    ui.message("The VM will be run headless\nsecond", "qemu")
    ui.error("Build 'qemu' errored after 1 second: boom", build="qemu")
    ui.machine("qemu", "artifact-count", "1")
    rows = [line.split(",", 1)[1] for line in out.getvalue().splitlines()]
    assert rows == [
        ",ui,say,==> qemu: Starting VM%!(PACKER_COMMA) booting from CD-ROM",
        ",ui,message,    qemu: The VM will be run headless\\n    qemu: second",
        ",ui,error,Build 'qemu' errored after 1 second: boom",
        "qemu,artifact-count,1",
    ]


def test_prefix_lines_trims_trailing_space_like_packer() -> None:
    assert prefix_lines(True, "q", "a\n") == "==> q: a\n==> q:"
