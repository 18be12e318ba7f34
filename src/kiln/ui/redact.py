"""Keep secrets (passwords, sensitive variables) out of every line kiln writes."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "<sensitive>"
# Secrets this short are only redacted as whole words: replacing every "x" inside
# "qemu-system-x86_64" would make the output unreadable and reveal the secret anyway.
SHORT = 4


class Redactor:
    """Replaces every registered secret with `<sensitive>` (longest first)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        for s in secrets:
            if s and s not in self._secrets:
                self._secrets.append(s)
        self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret not in text:
                continue
            if len(secret) >= SHORT:
                text = text.replace(secret, REDACTED)
            else:
                pattern = r"(?<![\w.-])" + re.escape(secret) + r"(?![\w-])"
                text = re.sub(pattern, REDACTED, text)
        return text
