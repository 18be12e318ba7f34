"""Keep secrets out of what kiln writes, without rewriting what the user wrote.

A secret (a sensitive variable, a password option) must never reach the terminal, the debug
log, `-machine-readable`, `-dry-run` or a failure report. But a secret is often a common
word (`vagrant`, `centos`, `packer`) that also appears in names, types and paths the user
wrote in the clear; replacing it wherever it occurs, as Packer's `LogSecretFilter` does,
turned `debian83-vagrant` into `debian83-<sensitive>`. So a `Redactor` knows, besides the
secrets, what the plan learned about the template's other strings:

- *clean* strings: identifiers, paths and names the user wrote outside secret fields whose
  rendering read no secret (`packer-centos-7-x86_64`, the working directory). A secret
  inside an occurrence of a longer clean string is that string, not the secret, and stays.
- *names*: build names, component types, the clean strings. In kiln's own messages a name
  that is exactly a secret (`post-processor type 'vagrant'`) stays when it stands as a
  whole token; in data (below) it does not, as there is no telling it from the secret.
- *tainted* strings: values rendered from a secret (`out-{{user `pw`}}`). Wherever one
  appears, every secret in it is redacted, whatever the exemptions above would say.

Two ways to redact, by what the text is:

- `redactor.data(text)` for secret-bearing data and text from outside kiln — an argv
  element, a rendered boot command, a line the guest or a command printed, a request path
  the HTTP server saw, a report file. Called where that text is rendered, before it is
  quoted or joined (`quote_argv` redacts each argument, then quotes).
- `redactor(text)` for kiln's own messages: the Ui and the debug log apply it to every
  line, as the last line of defence; it also keeps names standing alone.

Secrets shorter than four characters are only redacted as whole words: replacing every
"x" inside "qemu-system-x86_64" would make the output unreadable and reveal the secret.
"""

from __future__ import annotations

import bisect
import re
import shlex
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar

REDACTED = "<sensitive>"
SHORT = 4
_WORD = r"[\w-]"  # characters that continue a token
_CHUNK = 1 << 20  # characters redacted at a time in `data_stream`


class Redactor:
    """Secrets, and what is known not to be secret; see the module docstring."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self._clean: list[str] = []
        self._names: set[str] = set()
        self._tainted: list[str] = []
        self.add(*secrets)

    # --- what it knows ------------------------------------------------------------------
    @property
    def secrets(self) -> list[str]:
        return list(self._secrets)

    def add(self, *secrets: str) -> None:
        """Register secrets (empty ones are ignored). A secret of several lines is also
        registered line by line: the guest and commands print it one line at a time."""
        for s in secrets:
            for piece in (s, *(s.splitlines() if "\n" in s or "\r" in s else ())):
                if piece.strip() and piece not in self._secrets:
                    self._secrets.append(piece)
        self._secrets.sort(key=len, reverse=True)

    def add_clean(self, *texts: str) -> None:
        """Strings the user wrote outside secret fields whose rendering read no secret."""
        for t in texts:
            if t and t not in self._clean:
                self._clean.append(t)
        self._clean.sort(key=len, reverse=True)
        self.add_names(*texts)

    def add_names(self, *names: str) -> None:
        """Build names, types, ...: kept as whole tokens in kiln's own messages."""
        self._names.update(n for n in names if n)

    def add_tainted(self, *texts: str) -> None:
        """Values rendered from a secret: every secret in them is redacted, always."""
        for t in texts:
            if t and t not in self._tainted:
                self._tainted.append(t)
        self._tainted.sort(key=len, reverse=True)

    def update(self, other: Redactor) -> None:
        """Learn everything `other` knows (the plan's knowledge, into the Ui's redactor)."""
        self.add(*other._secrets)
        self.add_clean(*other._clean)
        self.add_names(*other._names)
        self.add_tainted(*other._tainted)

    # --- redacting ----------------------------------------------------------------------
    def __call__(self, text: str) -> str:
        """A message kiln wrote: secrets out, names and clean strings kept."""
        return self._apply(text, self._ranges(text, names=True))

    def data(self, text: str) -> str:
        """Secret-bearing data or text from outside: only longer clean strings are kept."""
        return self._apply(text, self._ranges(text, names=False))

    def argv(self, argv: Sequence[str]) -> str:
        """A command line for display: each argument redacted, then shell-quoted."""
        return shlex.join(self.data(str(a)) for a in argv)

    def data_stream(self, chunks: Iterable[str]) -> Iterator[str]:
        """`data` over text read in pieces (a report file), with the same result as on the
        whole text: a secret, clean or tainted string split between two pieces is seen."""
        reach = max((len(s) for s in (*self._secrets, *self._clean, *self._tainted)),
                    default=1)  # fmt: skip
        done = ""  # already written text kept as context (clean strings ending here)
        pending = ""
        for chunk in chunks:
            pending += chunk
            if len(pending) < _CHUNK + 2 * reach:
                continue
            out, done, pending = self._emit(done, pending, len(pending) - reach, reach)
            yield out
        if pending:
            yield self._emit(done, pending, len(pending), reach)[0]

    def _emit(self, done: str, pending: str, cut: int, reach: int) -> tuple[str, str, str]:
        text = done + pending
        ranges = self._ranges(text, names=False)
        cut += len(done)
        for start, end in ranges:  # never cut through a redaction
            if start < cut < end:
                cut = end
        mine = [(s - len(done), e - len(done)) for s, e in ranges if len(done) <= s < cut]
        out = self._apply(text[len(done) : cut], mine)
        return out, text[max(len(done), cut - reach) : cut], text[cut:]

    def _ranges(self, text: str, *, names: bool) -> list[tuple[int, int]]:
        """The spans of `text` to replace, sorted and disjoint."""
        present = [s for s in self._secrets if s in text]
        if not present:
            return []
        forced = _Spans(_occurrences(text, self._tainted))
        clean = _Spans(_occurrences(text, [c for c in self._clean if c not in present
                                           and any(s in c for s in present)]))  # fmt: skip
        taken = bytearray(len(text))
        chosen: list[tuple[int, int]] = []
        for secret in present:  # longest first: a longer secret wins an overlap
            for start in _finds(text, secret):
                end = start + len(secret)
                if any(taken[start:end]):
                    continue
                if not forced.cover(start, end) and self._exempt(
                    text, start, end, secret, clean, names=names
                ):
                    continue
                taken[start:end] = b"\1" * (end - start)
                chosen.append((start, end))
        return sorted(chosen)

    def _exempt(self, text: str, start: int, end: int, secret: str, clean: _Spans, *,
                names: bool) -> bool:  # fmt: skip
        whole = _whole_token(text, start, end)
        if len(secret) < SHORT and not whole:
            return True  # a short secret inside a longer word is not redacted
        if clean.cover(start, end):
            return True  # part of a longer clean string the user wrote
        return names and whole and secret in self._names

    @staticmethod
    def _apply(text: str, ranges: list[tuple[int, int]]) -> str:
        if not ranges:
            return text
        parts, last = [], 0
        for start, end in ranges:
            parts += [text[last:start], REDACTED]
            last = end
        parts.append(text[last:])
        return "".join(parts)


def _finds(text: str, needle: str) -> Iterator[int]:
    at = text.find(needle)
    while at >= 0:
        yield at
        at = text.find(needle, at + 1)


def _occurrences(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    return [(at, at + len(n)) for n in needles if n in text for at in _finds(text, n)]


class _Spans:
    """Spans of a text; answers "does one of them cover [start, end)?" in log time."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self.starts = [s for s, _ in spans]
        self.reach: list[int] = []  # the furthest end among the spans so far
        for _, e in spans:
            self.reach.append(max(e, self.reach[-1]) if self.reach else e)

    def cover(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start)
        return i > 0 and self.reach[i - 1] >= end


def _whole_token(text: str, start: int, end: int) -> bool:
    before = text[start - 1 : start]
    after = text[end : end + 1]
    return not re.fullmatch(_WORD, before or " ") and not re.fullmatch(_WORD, after or " ")


# The redactor of the running command (made with its Ui): code that renders data far from
# a Ui (kiln.proc's "command:" lines and "Executing:" log) redacts with it.
_ACTIVE: ContextVar[Redactor] = ContextVar("kiln_redactor", default=Redactor())  # noqa: B039


def activate(redactor: Redactor) -> None:
    _ACTIVE.set(redactor)


def active() -> Redactor:
    return _ACTIVE.get()


def redact_data(text: str) -> str:
    """`active().data(text)`: for a line from outside kiln, or a rendered value."""
    return _ACTIVE.get().data(text)


def quote_argv(argv: Sequence[str]) -> str:
    """A command line for display: each argument redacted, then quoted (never the reverse)."""
    return _ACTIVE.get().argv(argv)
