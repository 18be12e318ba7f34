"""Reading a line from the terminal: cancellable, so that Ctrl-C never waits for Enter."""

from __future__ import annotations

import asyncio
import os
import threading

from kiln.ui.terminal import read_line


async def test_read_line_returns_what_was_typed() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "r") as tty:
        os.write(master, b"r\n")
        assert await asyncio.wait_for(read_line(tty), 10) == "r\n"
        os.write(master, b"\x04")  # Ctrl-D: end of input
        assert await asyncio.wait_for(read_line(tty), 10) == ""
    os.close(master)


async def test_a_waiting_read_is_cancelled_without_a_thread_left_behind() -> None:
    master, slave = os.openpty()
    threads = threading.active_count()
    with os.fdopen(slave, "r") as tty:
        waiting = asyncio.ensure_future(read_line(tty))
        await asyncio.sleep(0.1)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        assert waiting.cancelled()
        assert threading.active_count() == threads
        os.write(master, b"later\n")  # the next read still gets its line
        assert await asyncio.wait_for(read_line(tty), 10) == "later\n"
    os.close(master)
