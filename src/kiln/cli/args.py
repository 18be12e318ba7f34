"""Packer-compatible argument parsing.

Packer uses Go's `flag` package: `-flag` and `--flag` are the same, values come as
`-flag=value` or `-flag value`, and booleans only take a value with `=`
(`-color=false`). kiln also accepts flags after the template path, which Go does not.
This module rewrites argv into argparse's conventions and builds the parsers.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from kiln.errors import KilnError

ON_ERROR_CHOICES = ("cleanup", "abort", "ask", "run-cleanup-provisioner")


class UsageError(KilnError):
    """Bad command line; printed with the verb's usage."""


@dataclass(frozen=True)
class Flag:
    name: str
    kind: str  # "bool" | "str" | "int" | "list" (repeatable)
    help: str
    choices: tuple[str, ...] = ()
    default: object = None


COMMON_VAR_FLAGS = (
    Flag("var", "list", "Set a template variable: -var 'name=value' (repeatable)."),
    Flag("var-file", "list", "JSON file of template variables (repeatable)."),
    Flag("only", "str", "Only the builds with these names (comma-separated, globs allowed)."),
    Flag("except", "str", "All builds except these (comma-separated, globs allowed)."),
)
GLOBAL_FLAGS = (
    Flag("machine-readable", "bool", "Print machine-readable output (timestamp,target,type,data)."),
    Flag("color", "bool", "Colour the output on a terminal (-color=false to turn it off).",
         default=True),
    Flag("timestamp-ui", "bool", "Prefix each output line with a timestamp."),
    Flag("debug", "bool", "Debug mode: step by step, full logs, tracebacks on errors."),
)  # fmt: skip
BUILD_FLAGS = (
    *COMMON_VAR_FLAGS,
    Flag("force", "bool", "Delete existing output directories before building."),
    Flag("on-error", "str", "What to do when a build fails: cleanup (default), abort (keep "
         "everything, stop QEMU), ask, run-cleanup-provisioner.", choices=ON_ERROR_CHOICES,
         default="cleanup"),
    Flag("parallel-builds", "int", "Run at most N builds at once (0: no limit).", default=0),
    Flag("parallel", "bool", "Deprecated: -parallel=false means -parallel-builds=1.",
         default=True),
    Flag("dry-run", "bool", "Print the qemu-img and QEMU command lines without running them."),
)  # fmt: skip
VALIDATE_FLAGS = (
    *COMMON_VAR_FLAGS,
    Flag("syntax-only", "bool", "Only check the template's syntax."),
)
VERBS = {
    "build": ("Build images from a template.", BUILD_FLAGS),
    "validate": ("Check that a template is valid.", VALIDATE_FLAGS),
    "inspect": ("Show a template's variables, builds, provisioners and post-processors.", ()),
    "version": ("Print kiln's version.", ()),
}


def _all_flags(verb_flags: Sequence[Flag]) -> dict[str, Flag]:
    return {f.name: f for f in (*GLOBAL_FLAGS, *verb_flags)}


def normalize_argv(argv: Sequence[str], flags: dict[str, Flag]) -> list[str]:
    """Rewrite Go-style flags into `--name[=value]` argparse understands."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            out.append(arg)
            out.extend(args)
            break
        if not arg.startswith("-") or arg == "-":
            out.append(arg)
            continue
        body = arg.lstrip("-")
        name, eq, value = body.partition("=")
        flag = flags.get(name)
        if flag is None:
            out.append(arg)  # argparse reports it (with a suggestion)
            continue
        if flag.kind == "bool":
            if eq:
                lowered = value.lower()
                if lowered in ("1", "t", "true"):
                    out.append(f"--{name}")
                elif lowered in ("0", "f", "false"):
                    out.append(f"--no-{name}")
                else:
                    raise UsageError(
                        f"invalid boolean value {value!r} for -{name}: use -{name}=true or "
                        f"-{name}=false"
                    )
            else:
                out.append(f"--{name}")
        else:
            out.append(f"--{name}={value}" if eq else f"--{name}")
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message}\n\n{self.format_usage().strip()}")


def make_parser(verb: str) -> argparse.ArgumentParser:
    summary, verb_flags = VERBS[verb]
    parser = _Parser(
        prog=f"kiln {verb}",
        description=summary,
        prefix_chars="-",
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flag in (*GLOBAL_FLAGS, *verb_flags):
        dest = flag.name.replace("-", "_")
        if flag.kind == "bool":
            parser.add_argument(f"--{flag.name}", dest=dest, action=argparse.BooleanOptionalAction,
                                default=bool(flag.default), help=flag.help)  # fmt: skip
        elif flag.kind == "list":
            parser.add_argument(f"--{flag.name}", dest=dest, action="append", default=[],
                                metavar="VALUE", help=flag.help)  # fmt: skip
        elif flag.kind == "int":
            parser.add_argument(f"--{flag.name}", dest=dest, type=int, default=flag.default,
                                metavar="N", help=flag.help)  # fmt: skip
        else:
            parser.add_argument(f"--{flag.name}", dest=dest, default=flag.default,
                                choices=flag.choices or None, metavar="VALUE",
                                help=flag.help)  # fmt: skip
    if verb in ("build", "validate", "inspect"):
        parser.add_argument("template", help="the template file (JSON)")
    return parser


def parse_args(verb: str, argv: Sequence[str]) -> argparse.Namespace:
    flags = _all_flags(VERBS[verb][1])
    return make_parser(verb).parse_args(normalize_argv(argv, flags))


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
