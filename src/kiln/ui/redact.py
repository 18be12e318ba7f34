"""Keep secrets (passwords, sensitive variables) out of every line kiln writes."""

from __future__ import annotations

from collections.abc import Iterable

REDACTED = "<sensitive>"


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
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text
