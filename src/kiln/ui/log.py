"""The debug log: `PACKER_LOG=1` (or `KILN_LOG=1`) to stderr, `PACKER_LOG_PATH` to a file.

Everything kiln does is logged to the `kiln` logger at DEBUG level (commands with their
argv, QEMU's stderr, HTTP requests, SSH attempts); secrets are redacted on the way out.
Python warnings (a library's `DeprecationWarning` on import, say) go to the same log and
nowhere else: they are for whoever debugs kiln, not for the person building an image.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Mapping

from kiln.ui.redact import Redactor

LOG = logging.getLogger("kiln")
# Where `logging.captureWarnings` sends warnings.
WARNINGS_LOG = logging.getLogger("py.warnings")


def capture_warnings() -> None:
    """Route every Python warning to the debug log (silent unless it is on)."""
    logging.captureWarnings(True)
    _quiet(WARNINGS_LOG)


def _quiet(logger: logging.Logger) -> None:
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(logging.NullHandler())
    logger.propagate = False  # never logging's last-resort handler on stderr


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s [%(levelname)s] %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


def _private_file_handler(path: str) -> logging.FileHandler:
    """A handler appending to `path`, a file only its owner may read (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)  # a log file from before: it will hold this run's log too
    finally:
        os.close(fd)
    return logging.FileHandler(path, encoding="utf-8")


def _truthy(value: str | None) -> bool:
    return bool(value) and value not in ("0", "false", "False")


def setup_logging(env: Mapping[str, str], redactor: Redactor, *, force_debug: bool = False) -> None:
    """Attach the debug-log handler the environment asks for (none by default)."""
    _quiet(WARNINGS_LOG)
    for old in list(LOG.handlers):
        LOG.removeHandler(old)
        old.close()
    path = env.get("KILN_LOG_PATH") or env.get("PACKER_LOG_PATH")
    wanted = force_debug or _truthy(env.get("KILN_LOG")) or _truthy(env.get("PACKER_LOG"))
    if not wanted and not path:
        LOG.setLevel(logging.WARNING)
        LOG.addHandler(logging.NullHandler())
        return
    handler: logging.Handler
    handler = _private_file_handler(path) if path else logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter(redactor))
    LOG.addHandler(handler)
    WARNINGS_LOG.addHandler(handler)
    LOG.setLevel(logging.DEBUG)
    LOG.propagate = False
