"""The id of this kiln run (Packer's PACKER_RUN_UUID): build values, manifests, scripts."""

from __future__ import annotations

import os


def _uuid4() -> str:
    """A random (version 4) UUID, as `str(uuid.uuid4())` writes it.

    Not `uuid.uuid4()`: importing `uuid` (which imports `platform`) costs `kiln validate`,
    which loads this module through the manifest post-processor, a few milliseconds.
    """
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


RUN_UUID = _uuid4()
