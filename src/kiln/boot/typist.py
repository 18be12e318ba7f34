"""Type parsed boot actions on a keyboard driver with Packer's timing
(packer-plugin-sdk/bootcommand/vnc_driver.go, Packer v1.6.6).

After every key event (each down and each up) the typist sleeps the key interval; a character
that needs Shift is wrapped in Left Shift (press: Shift↓ key↓ key↑ Shift↑; `<XOn>`: Shift↓ key↓;
`<XOff>`: key↑ Shift↑, the latest SDK's order); `<waitX>` flushes the driver, then sleeps. The
coroutine is cancellable at every await; cancellation propagates unchanged.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence

from kiln.boot.drivers import KeyboardDriver
from kiln.boot.grammar import BootAction, BootCommandError, KeyDown, KeyPress, KeyUp, Wait
from kiln.boot.keys import KEYSYM_LEFT_SHIFT
from kiln.golang.duration import DurationError, format_go_duration, parse_go_duration

PACKER_KEY_ENV = "PACKER_KEY_INTERVAL"
DEFAULT_KEY_INTERVAL = 0.1  # seconds; Packer's PackerKeyDefault (100ms)


def key_interval_from(boot_key_interval: float | None, env: Mapping[str, str]) -> float:
    """The pause after each key event, in seconds.

    `boot_key_interval` if > 0, else `PACKER_KEY_INTERVAL` from `env` when it is a valid Go
    duration (an invalid one is ignored, as Packer does), else 100 ms. A negative environment
    value means no pause (Go's `time.Sleep` of a negative duration returns at once).
    """
    if boot_key_interval is not None and boot_key_interval > 0:
        return boot_key_interval
    raw = env.get(PACKER_KEY_ENV)
    if raw is not None:
        try:
            return max(0.0, parse_go_duration(raw))
        except DurationError:
            pass
    return DEFAULT_KEY_INTERVAL


async def type_actions(
    driver: KeyboardDriver,
    actions: Sequence[BootAction],
    *,
    interval: float,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Execute `actions` on `driver`; return the number of key actions typed.

    A key action is a `KeyPress`, `KeyDown` or `KeyUp` (waits are not counted).
    `on_progress(done, total)` is called after each action, counting all actions. The driver
    is flushed after the last action; it is not closed.
    """
    bad = [a.seconds for a in actions if isinstance(a, Wait) and not a.seconds > 0]
    if bad:
        raise BootCommandError(
            [
                "Expecting a positive wait value. Got "
                f"{format_go_duration(round(s * 1e9)) if math.isfinite(s) else s} "
                "(every boot_command <wait> must be > 0)"
                for s in bad
            ]
        )

    async def event(keysym: int, down: bool) -> None:
        if down:
            await driver.key_down(keysym)
        else:
            await driver.key_up(keysym)
        if interval > 0:
            await asyncio.sleep(interval)

    total = len(actions)
    keys = 0
    for done, action in enumerate(actions, start=1):
        if isinstance(action, Wait):
            await driver.flush()
            await asyncio.sleep(action.seconds)
        else:
            keys += 1
            shift = action.shift
            if isinstance(action, KeyPress | KeyDown):
                if shift:
                    await event(KEYSYM_LEFT_SHIFT, True)
                await event(action.keysym, True)
            if isinstance(action, KeyPress | KeyUp):
                await event(action.keysym, False)
                if shift:
                    await event(KEYSYM_LEFT_SHIFT, False)
        if on_progress is not None:
            on_progress(done, total)
    await driver.flush()
    return keys
