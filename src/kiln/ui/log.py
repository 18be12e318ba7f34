"""The debug log: `PACKER_LOG=1` (or `KILN_LOG=1`) to stderr, `PACKER_LOG_PATH` to a file.

Everything kiln does is logged to the `kiln` logger at DEBUG level (commands with their
argv, QEMU's stderr, HTTP requests, SSH attempts); secrets are redacted on the way out.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

from kiln.ui.redact import Redactor

LOG = logging.getLogger("kiln")


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s [%(levelname)s] %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


def _truthy(value: str | None) -> bool:
    return bool(value) and value not in ("0", "false", "False")


def setup_logging(env: Mapping[str, str], redactor: Redactor, *, force_debug: bool = False) -> None:
    """Attach the debug-log handler the environment asks for (none by default)."""
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
    handler = (
        logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(_RedactingFormatter(redactor))
    LOG.addHandler(handler)
    LOG.setLevel(logging.DEBUG)
    LOG.propagate = False
