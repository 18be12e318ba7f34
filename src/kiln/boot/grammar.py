"""The boot-command language: a string → a list of key actions and waits.

A hand-written mirror of Packer's PEG (packer-plugin-sdk/bootcommand/boot_command.pigeon in Packer
v1.6.6):
at each position try, in order, Wait, CharToggle, Special, Literal; the first that matches
wins, and inside a rule an ordered choice commits to its first matching alternative (no
backtracking into later ones). Errors raised by the grammar's actions (an out-of-range integer,
a duration Go cannot parse) are recorded even when the enclosing rule then fails, and reported
in pigeon's format (`line:col (offset): rule Name: message`), exactly as Packer does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiln.boot.keys import KEY_NAMES, SPECIAL_KEY_ORDER, SPECIAL_KEYS, literal_keysym
from kiln.errors import KilnError
from kiln.golang.duration import DurationError, format_go_duration, parse_go_duration_ns

_SECOND_NS = 1_000_000_000
_MAX_INT64 = (1 << 63) - 1
_TIME_UNITS = ("ns", "us", "µs", "ms", "s", "m", "h")  # the grammar's µ is U+00B5 only


class BootCommandError(KilnError):
    """The boot command cannot be parsed or is invalid; `errors` holds Packer's messages."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True, slots=True)
class KeyPress:
    """Press and release a key. `label` is the character, or `<name>` for a special key."""

    keysym: int
    shift: bool
    label: str


@dataclass(frozen=True, slots=True)
class KeyDown:
    """Press and hold a key (`<leftCtrlOn>`, `<aOn>`)."""

    keysym: int
    shift: bool
    label: str


@dataclass(frozen=True, slots=True)
class KeyUp:
    """Release a held key (`<leftCtrlOff>`, `<aOff>`)."""

    keysym: int
    shift: bool
    label: str


@dataclass(frozen=True, slots=True)
class Wait:
    """Flush the keyboard, then sleep `seconds`."""

    seconds: float


BootAction = KeyPress | KeyDown | KeyUp | Wait


def _go_lower(ch: str) -> str:
    """Go's `unicode.ToLower` for one rune (simple case mapping: 'İ' → 'i', not 'i̇')."""
    if ch == "\u0130":
        return "i"
    low = ch.lower()
    return low if len(low) == 1 else ch


def _match_ci(text: str, pos: int, word: str) -> bool:
    """Pigeon's `"word"i`: each input rune, lower-cased, equals the (lower-case) word's rune."""
    if pos + len(word) > len(text):
        return False
    return all(_go_lower(text[pos + k]) == w for k, w in enumerate(word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.errors: list[str] = []

    # -- error bookkeeping (pigeon's addErrAt) --------------------------------------------

    def _position(self, index: int) -> str:
        head = self.text[: index + 1]
        line = 1 + head.count("\n")
        last_nl = head.rfind("\n")
        col = index - last_nl if last_nl >= 0 else index + 1
        offset = len(self.text[:index].encode("utf-8", "surrogatepass"))
        return f"{line}:{col} ({offset})"

    def _error(self, index: int, rule: str, message: str) -> None:
        msg = f"{self._position(index)}: rule {rule}: {message}"
        if msg not in self.errors:  # pigeon de-duplicates by message
            self.errors.append(msg)

    # -- terminal rules ------------------------------------------------------------------

    def _integer(self, pos: int) -> tuple[int | None, int] | None:
        """`Integer = '0' / NonZeroDigit Digit* {ParseInt}` → (value, end).

        The grammar's action is attached to the second alternative only, so a lone `0`
        yields no integer (value None): Packer's `<wait0>` therefore waits the default 1 s.
        """
        text = self.text
        if pos < len(text) and text[pos] == "0":
            return None, pos + 1
        if pos < len(text) and "1" <= text[pos] <= "9":
            end = pos + 1
            while end < len(text) and "0" <= text[end] <= "9":
                end += 1
            digits = text[pos:end]
            value = int(digits)
            if value > _MAX_INT64:
                self._error(
                    pos,
                    "Integer",
                    f'strconv.ParseInt: parsing "{digits}": value out of range',
                )
                value = _MAX_INT64  # what ParseInt returns alongside ErrRange
            return value, end
        return None

    def _number(self, pos: int) -> int | None:
        """`Number = '-'? Integer ('.' Digit+)?` → end index."""
        text = self.text
        p = pos + 1 if pos < len(text) and text[pos] == "-" else pos
        got = self._integer(p)
        if got is None:
            return None
        p = got[1]
        if p + 1 < len(text) and text[p] == "." and "0" <= text[p + 1] <= "9":
            p += 2
            while p < len(text) and "0" <= text[p] <= "9":
                p += 1
        return p

    def _time_unit(self, pos: int) -> int | None:
        for unit in _TIME_UNITS:
            if self.text.startswith(unit, pos):
                return pos + len(unit)
        return None

    def _duration(self, pos: int) -> tuple[int, int] | None:
        """`Duration = (Number TimeUnit)+` with its `time.ParseDuration` action."""
        p = pos
        matched = False
        while True:
            num_end = self._number(p)
            if num_end is None:
                break
            unit_end = self._time_unit(num_end)
            if unit_end is None:
                break
            p = unit_end
            matched = True
        if not matched:
            return None
        try:
            ns = parse_go_duration_ns(self.text[pos:p])
        except DurationError as err:
            self._error(pos, "Duration", str(err))
            ns = 0
        return ns, p

    # -- expression rules -------------------------------------------------------------------

    def wait(self, pos: int) -> tuple[int, int] | None:
        """`Wait = "<" "wait" (Duration / Integer)? ">"` → (nanoseconds, end)."""
        if not self.text.startswith("<wait", pos):
            return None
        p = pos + 5
        ns = _SECOND_NS
        dur = self._duration(p)
        if dur is not None:
            ns, p = dur
        else:
            got = self._integer(p)
            if got is not None:
                seconds, p = got
                if seconds is not None:
                    # time.Duration(t) * time.Second wraps around in int64, as in Go.
                    ns = ((seconds * _SECOND_NS + (1 << 63)) % (1 << 64)) - (1 << 63)
        if p < len(self.text) and self.text[p] == ">":
            return ns, p + 1
        return None

    def _on_off(self, pos: int) -> tuple[bool, int] | None:
        """`On / Off` (case-insensitive) → (is_on, end)."""
        if _match_ci(self.text, pos, "on"):
            return True, pos + 2
        if _match_ci(self.text, pos, "off"):
            return False, pos + 3
        return None

    def char_toggle(self, pos: int) -> tuple[BootAction, int] | None:
        """`CharToggle = "<" Literal (On / Off) ">"`."""
        text = self.text
        if not (text.startswith("<", pos) and pos + 1 < len(text)):
            return None
        toggle = self._on_off(pos + 2)
        if toggle is None:
            return None
        on, end = toggle
        if not text.startswith(">", end):
            return None
        ch = text[pos + 1]
        keysym, shift = literal_keysym(ch)
        action: BootAction = KeyDown(keysym, shift, ch) if on else KeyUp(keysym, shift, ch)
        return action, end + 1

    def special(self, pos: int) -> tuple[BootAction, int] | None:
        """`Special = "<" SpecialKey (On / Off)? ">"`."""
        text = self.text
        if not text.startswith("<", pos):
            return None
        name = next((k for k in SPECIAL_KEY_ORDER if _match_ci(text, pos + 1, k)), None)
        if name is None:
            return None
        end = pos + 1 + len(name)
        toggle = self._on_off(end)
        if toggle is not None:
            end = toggle[1]
        if not text.startswith(">", end):
            return None
        keysym = SPECIAL_KEYS[name]
        label = f"<{name}>"
        action: BootAction
        if toggle is None:
            action = KeyPress(keysym, False, label)
        elif toggle[0]:
            action = KeyDown(keysym, False, label)
        else:
            action = KeyUp(keysym, False, label)
        return action, end + 1

    def parse(self) -> tuple[list[BootAction], list[int]]:
        """All actions, and the nanoseconds of every wait (for validation)."""
        actions: list[BootAction] = []
        waits: list[int] = []
        pos = 0
        text = self.text
        while pos < len(text):
            got_wait = self.wait(pos)
            if got_wait is not None:
                ns, pos = got_wait
                waits.append(ns)
                actions.append(Wait(ns / _SECOND_NS))
                continue
            got = self.char_toggle(pos) or self.special(pos)
            if got is not None:
                action, pos = got
                actions.append(action)
                continue
            ch = text[pos]
            keysym, shift = literal_keysym(ch)
            actions.append(KeyPress(keysym, shift, ch))
            pos += 1
        return actions, waits


def _check(text: str) -> tuple[list[BootAction], list[str]]:
    parser = _Parser(text)
    actions, waits = parser.parse()
    if parser.errors:
        # Packer reports the parser's error list as one error, its lines joined by newlines.
        return actions, ["\n".join(parser.errors)]
    problems = [
        f"Expecting a positive wait value. Got {format_go_duration(ns)}" for ns in waits if ns <= 0
    ]
    return actions, problems


def validate_boot_command(text: str) -> list[str]:
    """Packer's Prepare-time check of a (flattened) boot command: error strings, [] if valid.

    A parse error comes back as one string (pigeon's error list, newline-joined), like
    Packer; otherwise one `Expecting a positive wait value. Got <d>` per non-positive wait.
    """
    return _check(text)[1]


def parse_boot_command(text: str) -> list[BootAction]:
    """Parse a boot command into actions; raise `BootCommandError` if it is not valid."""
    actions, problems = _check(text)
    if problems:
        raise BootCommandError(problems)
    return actions


# Other programs' names for keys the grammar spells differently.
_KEY_ALIASES = {
    "pgdown": "pageDown", "pgdn": "pageDown", "pagedn": "pageDown", "pgup": "pageUp",
    "backspace": "bs", "delete": "del", "escape": "esc", "space": "spacebar", "ins": "insert",
    "ctrl": "leftCtrl", "control": "leftCtrl", "alt": "leftAlt", "shift": "leftShift",
    "super": "leftSuper", "win": "leftSuper", "cmd": "leftCommand", "return": "return",
}  # fmt: skip
# `<word>`: what a key, a wait or a toggle looks like (template actions excluded).
_ANGLE_WORD = re.compile(r"<([^<>{}\s][^<>{}]{0,23})>")


def mistyped_keys(text: str) -> list[str]:
    """Warnings for `<word>`s that Packer would type literally but that look like a key or a
    wait (`<enterr>`, `<Wait5>`, `<wait 5>`), each with the closest key."""
    from kiln.suggest import closest  # only on validate's path, and cheap

    parser = _Parser(text)
    warnings: list[str] = []
    seen: set[str] = set()
    for match in _ANGLE_WORD.finditer(text):
        pos, word = match.start(), match.group(1)
        if parser.wait(pos) or parser.char_toggle(pos) or parser.special(pos):
            continue
        if match.group(0) in seen:
            continue
        if word.lower().replace(" ", "").startswith("wait"):
            hint = '<wait>, <wait5>, <wait10> or <wait1m30s> (lower-case "wait", no space)'
        else:
            bare = re.sub(r"(?i)(on|off)$", "", word) if len(word) > 3 else word
            folded = bare.strip().lower()
            names = {n.lower(): n for n in KEY_NAMES}
            if len(folded) < 3 and folded not in names:
                continue  # `<b >`, `<x>`: too short to be a likely key
            key = _KEY_ALIASES.get(folded) or names.get(closest(folded, names, cutoff=0.6) or "")
            if key is None:
                continue
            suffix = word[len(bare) :]
            hint = f"<{key}{suffix.capitalize() if suffix else ''}>"
        seen.add(match.group(0))
        warnings.append(
            f"boot_command: {match.group(0)} is not a special key, so it is typed as "
            f"{len(match.group(0))} characters; did you mean {hint}?"
        )
    return warnings
