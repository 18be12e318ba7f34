"""The download bar: Packer's binary units, speed and time left."""

from __future__ import annotations

import io

from kiln.ui.output import Ui
from kiln.ui.progress import DownloadProgress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_on_a_terminal_has_binary_units_and_an_eta() -> None:
    out = Tty()
    bar = DownloadProgress(Ui(out=out, color=True), "qemu")
    bar.start("debian.iso", 64 * 2**20)
    bar.advance(16 * 2**20)
    bar._bar.refresh()
    drawn = out.getvalue()
    bar.finish()
    assert "16.0/64.0 MiB" in drawn
    assert "25%" in drawn
    assert "MiB/s" in drawn or "?" in drawn  # the speed (unknown for an instant)
    assert "-:--:--" in drawn or "0:00:" in drawn  # the time left
    # When the bar goes, the line that stays says where the download ended.
    assert "    qemu: debian.iso: 16.0 MiB of 64.0 MiB (25%), " in out.getvalue()


def test_plain_lines_without_a_terminal_say_speed_and_time_left() -> None:
    out = io.StringIO()
    bar = DownloadProgress(Ui(out=out, color=False), "qemu")
    bar.start("debian.iso", 4 * 2**20)
    bar._started -= 2.0  # two seconds in
    bar._done = 2**20
    assert bar._line() == "debian.iso: 1.0 MiB of 4.0 MiB (25%), 0.5 MiB/s, 0:00:06 left"
    bar._done = 4 * 2**20
    assert bar._line(final=True).startswith("debian.iso: 4.0 MiB of 4.0 MiB (100%), ")
    assert "left" not in bar._line(final=True)
