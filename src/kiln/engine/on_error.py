"""`-on-error`: what a failed step leads to (the command line lists these values)."""

from __future__ import annotations

from enum import StrEnum


class OnError(StrEnum):
    """`-on-error`: what a failed step leads to."""

    CLEANUP = "cleanup"  # unwind every step (the default)
    ABORT = "abort"  # keep what was made, for inspection
    ASK = "ask"  # ask: clean up, abort or retry the step
    RUN_CLEANUP_PROVISIONER = (
        "run-cleanup-provisioner"  # run error-cleanup-provisioner, then clean up
    )
