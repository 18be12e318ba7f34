"""Reading what the user types (-debug pauses, -on-error=ask, the breakpoint provisioner).

A line is awaited on the event loop (`add_reader`), not read in a worker thread: a thread
blocked in `readline()` cannot be cancelled, so a Ctrl-C during a pause used to clean up
the build and then hang at exit until Enter was pressed (asyncio waits for its threads).
"""

from __future__ import annotations

import asyncio
import os
from typing import TextIO


async def read_line(stream: TextIO) -> str:
    """The next line typed on the terminal `stream` ("" at end of input); cancellable."""
    loop = asyncio.get_running_loop()
    fd = stream.fileno()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await readable
    finally:
        loop.remove_reader(fd)
    # A terminal in canonical mode hands over one whole line per read.
    return os.read(fd, 4096).decode("utf-8", "replace")
