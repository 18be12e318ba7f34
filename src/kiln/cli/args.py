"""Packer-compatible argument parsing.

Packer uses Go's `flag` package: `-flag` and `--flag` are the same, values come as
`-flag=value` or `-flag value`, and booleans only take a value with `=`
(`-color=false`). kiln's `-checkpoint` is a boolean that also takes `=refresh`: like a
boolean, it takes a value only with `=`. kiln also accepts flags after the template path,
which Go does not.
`normalize_argv` reads argv the Go way (with Go's messages for unknown flags and missing
values) and rewrites it into argparse's conventions; argparse then builds the namespace.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import NamedTuple

from kiln.engine.on_error import OnError
from kiln.errors import KilnError
from kiln.suggest import did_you_mean

ON_ERROR_CHOICES = tuple(OnError)
HELP_FLAGS = ("h", "help")
_TRUE = ("1", "t", "true")
_FALSE = ("0", "f", "false")


class UsageError(KilnError):
    """Bad command line; printed with the verb's usage."""


class HelpRequested(Exception):
    """`-h`/`-help`: the verb's help text is in `args[0]`."""


class Flag(NamedTuple):
    """One command-line flag. (A NamedTuple: a frozen dataclass cost each run ~1 ms to
    define.)"""

    name: str
    kind: str  # "bool" | "str" | "int" | "list" (repeatable) | "mode" (bare: "true")
    help: str
    choices: tuple[str, ...] = ()
    default: object = None
    # How the flag reads in the help text (Packer's style: `-only=foo,bar,baz`).
    shown: str = ""


COMMON_VAR_FLAGS = (
    Flag("var", "list", "Set a template variable (repeatable).", shown="-var 'key=value'"),
    Flag("var-file", "list", "JSON file of template variables (repeatable).",
         shown="-var-file=path"),
    Flag("only", "str", "Only the builds with these names (comma-separated, globs allowed).",
         shown="-only=foo,bar,baz"),
    Flag("except", "str", "All builds except these (comma-separated, globs allowed).",
         shown="-except=foo,bar,baz"),
)  # fmt: skip
GLOBAL_FLAGS = (
    Flag("machine-readable", "bool", "Print machine-readable output (timestamp,target,type,data)."),
    Flag("color", "bool", "Colour the output on a terminal (Default: color).", default=True,
         shown="-color=false"),
    Flag("timestamp-ui", "bool", "Prefix each output line with a timestamp."),
    Flag("debug", "bool", "Debug mode: step by step, full logs, tracebacks on errors."),
)  # fmt: skip
BUILD_FLAGS = (
    *COMMON_VAR_FLAGS,
    Flag("force", "bool", "Delete existing output directories before building."),
    Flag("on-error", "str", "What to do when a build fails: cleanup (default), abort (keep "
         "everything, stop QEMU), ask, run-cleanup-provisioner.", choices=ON_ERROR_CHOICES,
         default="cleanup", shown="-on-error=[cleanup|abort|ask|run-cleanup-provisioner]"),
    Flag("parallel-builds", "int", "Run at most N builds at once (0: no limit).", default=0,
         shown="-parallel-builds=N"),
    Flag("parallel", "bool", "Deprecated: -parallel=false means -parallel-builds=1.",
         default=True, shown="-parallel=false"),
    Flag("dry-run", "bool", "Print the qemu-img and QEMU command lines without running them."),
    Flag("checkpoint", "mode", "Install checkpoints: resume the machine as an install with the "
         "same inputs left it when SSH first connected, or install and save it (=refresh: "
         "install and replace it). The install is frozen then: packages it downloaded are not "
         "updated (see -checkpoint-max-age). Also KILN_CHECKPOINT=1.",
         choices=("true", "false", "refresh"), shown="-checkpoint[=refresh]"),
    Flag("checkpoint-max-age", "str", "Do not resume from a checkpoint older than this "
         "(e.g. 36h, 7d); install and replace it.", shown="-checkpoint-max-age=DURATION"),
)  # fmt: skip
CHECKPOINTS_FLAGS = (
    Flag("older-than", "str", "prune: only checkpoints older than this (e.g. 7d, 36h).",
         shown="-older-than=DURATION"),
)  # fmt: skip
VALIDATE_FLAGS = (
    *COMMON_VAR_FLAGS,
    Flag("syntax-only", "bool", "Only check the template's syntax."),
)
VERBS = {
    "build": ("Build images from a template.", BUILD_FLAGS),
    "validate": ("Check that a template is valid.", VALIDATE_FLAGS),
    "inspect": (
        "Show a template's variables, builds, provisioners and post-processors.",
        COMMON_VAR_FLAGS[:2],  # -var, -var-file: Packer's FlagSetVars (HCL2 values)
    ),
    "checkpoints": (
        "List install checkpoints; `prune` deletes them (all, or -older-than).",
        CHECKPOINTS_FLAGS,
    ),
    "version": ("Print kiln's version.", ()),
    "hcl2_upgrade": (
        "Write TEMPLATE.pkr.hcl, the HCL2 twin of a JSON template.",
        (
            Flag(
                "output-file",
                "str",
                "Where to write it (default: TEMPLATE.pkr.hcl).",
                shown="-output-file=PATH",
            ),
        ),
    ),
}
TAKES_TEMPLATE = ("build", "validate", "inspect", "hcl2_upgrade")
CHECKPOINT_ACTIONS = ("list", "prune")


def _all_flags(verb_flags: Sequence[Flag]) -> dict[str, Flag]:
    return {f.name: f for f in (*GLOBAL_FLAGS, *verb_flags)}


def usage(verb: str) -> str:
    """The verb's help text, laid out like Packer's."""
    summary, verb_flags = VERBS[verb]
    operand = " TEMPLATE" if verb in TAKES_TEMPLATE else ""
    if verb == "checkpoints":
        operand = " [list|prune]"
    flags = sorted((*GLOBAL_FLAGS, *verb_flags), key=lambda f: f.name)
    shown = [f.shown or (f"-{f.name}" if f.kind == "bool" else f"-{f.name}=VALUE") for f in flags]
    width = min(max(len(s) for s in shown), 22) + 2
    lines = [f"Usage: kiln {verb} [options]{operand}", "", f"  {summary}", "", "Options:", ""]
    for text, flag in zip(shown, flags, strict=True):
        lines.append(f"  {text.ljust(width)}{flag.help}" if len(text) < width
                     else f"  {text} {flag.help}")  # fmt: skip
    lines += ["", "Flags take one or two dashes (-force, --force) and may follow the template."]
    return "\n".join(lines) + "\n"


def _bool_value(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise UsageError(
        f'invalid boolean value "{value}" for -{name}: parse error (use -{name}=true or '
        f"-{name}=false)"
    )


def normalize_argv(argv: Sequence[str], flags: dict[str, Flag], verb: str = "") -> list[str]:
    """Read Go-style flags and rewrite them as `--name=value` / `--[no-]name` for argparse."""
    out: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            out.append(arg)
            out.extend(rest)
            break
        if not arg.startswith("-") or arg == "-":
            out.append(arg)
            continue
        body = arg[2:] if arg.startswith("--") else arg[1:]
        name, eq, value = body.partition("=")
        if name in HELP_FLAGS:
            raise HelpRequested(usage(verb) if verb else "")
        flag = flags.get(name)
        if flag is None or not name or name.startswith("-"):
            raise UsageError(f"flag provided but not defined: {arg}{did_you_mean(name, flags)}")
        if flag.kind == "bool":
            on = _bool_value(name, value) if eq else True
            out.append(f"--{name}" if on else f"--no-{name}")
            continue
        if flag.kind == "mode":
            mode = value.lower() if eq else "true"
            mode = "true" if mode in _TRUE else "false" if mode in _FALSE else mode
            out.append(f"--{name}={mode}")
            continue
        if not eq:
            if not rest:
                raise UsageError(f"flag needs an argument: -{name}")
            value = rest.pop(0)
        out.append(f"--{name}={value}")
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        if "required: template" in message:
            message = "the template file is missing"
        raise UsageError(message)


def make_parser(verb: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=f"kiln {verb}", add_help=False, allow_abbrev=False)
    for flag in (*GLOBAL_FLAGS, *VERBS[verb][1]):
        dest = flag.name.replace("-", "_")
        if flag.kind == "bool":
            parser.add_argument(f"--{flag.name}", dest=dest, action=argparse.BooleanOptionalAction,
                                default=bool(flag.default))  # fmt: skip
        elif flag.kind == "list":
            parser.add_argument(f"--{flag.name}", dest=dest, action="append", default=[])
        elif flag.kind == "int":
            parser.add_argument(f"--{flag.name}", dest=dest, type=_go_int(flag.name),
                                default=flag.default)  # fmt: skip
        else:
            parser.add_argument(f"--{flag.name}", dest=dest, default=flag.default)
    if verb in TAKES_TEMPLATE:
        parser.add_argument("template")
    if verb == "checkpoints":
        parser.add_argument("action", nargs="?", default="list")
    return parser


def _go_int(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            from kiln.options.weak import parse_go_int  # loads the decoder: only when needed

            return parse_go_int(text)
        except ValueError:
            raise UsageError(
                f'invalid value "{text}" for flag -{name}: parse error (expected a whole number)'
            ) from None

    return parse


def parse_args(verb: str, argv: Sequence[str]) -> argparse.Namespace:
    """Parse a verb's arguments; raises `UsageError` or `HelpRequested`."""
    flags = _all_flags(VERBS[verb][1])
    normalized = normalize_argv(argv, flags, verb)
    parser = make_parser(verb)
    opts, extra = parser.parse_known_args(normalized)
    if extra:
        hint = " (one template per run)" if verb in TAKES_TEMPLATE else ""
        raise UsageError(f"unexpected argument(s): {' '.join(extra)}{hint}")
    if verb == "checkpoints" and opts.action not in CHECKPOINT_ACTIONS:
        raise UsageError(
            f"unknown action {opts.action!r}: use list or prune"
            + did_you_mean(opts.action, CHECKPOINT_ACTIONS)
        )
    for flag in VERBS[verb][1]:
        value = getattr(opts, flag.name.replace("-", "_"))
        if flag.kind == "mode" and value is None:
            continue
        if flag.choices and value not in flag.choices:
            raise UsageError(
                f'invalid value "{value}" for flag -{flag.name}: use one of '
                + ", ".join(flag.choices)
                + did_you_mean(str(value), flag.choices)
            )
    return opts


def hoist_global_flags(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Global flags written before the verb (`kiln -machine-readable version`): the
    arguments without them, and them (to be passed after the verb)."""
    names = {f.name for f in GLOBAL_FLAGS}
    found: list[str] = []
    rest = list(argv)
    while rest and rest[0].startswith("-") and rest[0] not in ("-", "--"):
        name = rest[0].lstrip("-").partition("=")[0]
        if name not in names:
            break
        found.append(rest.pop(0))
    return rest, found


def split_list(value: str | None) -> list[str]:
    """`-only a,b` → ['a', 'b']."""
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_cli_vars(values: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UsageError(f"-var {item!r}: expected -var 'name=value'")
        out[name] = value
    return out


def parse_age(name: str, text: str) -> float:
    """A duration flag in seconds: Go's durations (`36h`, `90m`) plus whole days (`7d`)."""
    from kiln.golang.duration import DurationError, parse_go_duration

    stripped = text.strip()
    if stripped[:-1].isdigit() and stripped.endswith("d"):
        return int(stripped[:-1]) * 86400.0
    try:
        seconds = parse_go_duration(stripped)
    except DurationError as err:
        raise UsageError(
            f'invalid value "{text}" for flag -{name}: {err} (use e.g. 7d, 36h or 90m)'
        ) from None
    if seconds < 0:
        raise UsageError(f'invalid value "{text}" for flag -{name}: a duration cannot be negative')
    return seconds
