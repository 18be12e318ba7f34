"""`kiln VERB [flags] TEMPLATE` — dispatch, and the one place errors become exit codes.

Exit codes: 0 success, 1 any failure (bad usage, invalid template, failed build). Packer
exits 127 for an unknown command; kiln uses 1 for every error, so scripts need one check.
Messages go to stdout, as Packer writes them (`kiln build t.json | tee log` keeps them);
with `-machine-readable` they are `ui,error` events.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence

from kiln import __version__
from kiln.cli.args import (
    GLOBAL_FLAGS,
    VERBS,
    HelpRequested,
    UsageError,
    hoist_global_flags,
    parse_args,
    usage,
)
from kiln.errors import KilnError
from kiln.suggest import did_you_mean
from kiln.ui.log import capture_warnings
from kiln.ui.output import Ui, colors_wanted
from kiln.ui.redact import active

USAGE = """Usage: kiln [--version] [--help] <command> [<args>]

kiln builds QEMU/KVM machine images from Packer templates.

Available commands are:
    build       build image(s) from template
    checkpoints list (or prune) the install checkpoints of -checkpoint builds
    hcl2_upgrade  transform a JSON template into an HCL2 one
    inspect     see components of a template
    validate    check that a template is valid
    version     Prints the kiln version

Packer commands kiln does not have (run one to see what to use instead):
    console, fix, fmt

Flags take one or two dashes (-force, --force); run `kiln help <command>` or
`kiln <command> -h` for a command's flags. -machine-readable may come before the command.
"""

# Packer 1.6.6's other verbs, and what a kiln user does instead.
NOT_IN_KILN = {
    "console": (
        "kiln has no `console` (Packer's REPL for template expressions). To see what a "
        "template holds, run `kiln inspect TEMPLATE`; to see every value a build will use, "
        "run `kiln build -dry-run TEMPLATE`."
    ),
    "fix": (
        "kiln has no `fix`. kiln reads the keys `packer fix` rewrites for the qemu builder "
        "(`iso_checksum_type` + `iso_checksum`, `iso_checksum_url`) and warns with the new "
        "form; to rewrite the file itself, use `packer fix TEMPLATE > new.json`."
    ),
    "fmt": (
        "kiln has no `fmt` (Packer's formatter of HCL2 files; kiln reads them, it does not "
        "rewrite them): use `packer fmt`. To tidy a JSON template, use "
        "`python3 -m json.tool --indent 2 TEMPLATE`."
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    # The cyclic garbage collector is off while a command runs: kiln's start-up creates
    # tens of thousands of long-lived objects (modules, classes, option tables) and the
    # collector scanned them ~25 times in one `kiln validate` (~7 ms). Reference counting
    # still frees everything else; `kiln build`, which runs long, turns it back on once its
    # modules are loaded (`_build`).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if gc_was_enabled:
            gc.enable()
        else:
            gc.disable()


def _main(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    capture_warnings()  # a library's warnings go to the debug log, never to the terminal
    args, globals_given = hoist_global_flags(args)
    machine = any(a.lstrip("-") in ("machine-readable", "machine-readable=true")
                  for a in (*args, *globals_given))  # fmt: skip
    out = _early_ui(machine, globals_given)
    if args and args[0] in ("help", "-h", "-help", "--help") and len(args) > 1:
        args = [args[1], "-h"]  # `kiln help build` is `kiln build -h`
    if not args or args[0] in ("-h", "-help", "--help", "help"):
        out.raw(USAGE.rstrip("\n"))
        return 0 if args else 1
    if args[0] in ("-v", "-version", "--version"):
        args[0] = "version"
    verb, rest = args[0], [*args[1:], *globals_given]
    if verb in NOT_IN_KILN:
        out.error(NOT_IN_KILN[verb])
        return 1
    if verb not in VERBS:
        out.error(
            f"kiln: unknown command {verb!r}{did_you_mean(verb, [*VERBS, *NOT_IN_KILN])}\n\n"
            + USAGE.rstrip("\n")
        )
        return 1
    debug = any(a.lstrip("-") in ("debug", "debug=true", "debug=1") for a in rest)
    try:
        opts = parse_args(verb, rest)
        return _COMMANDS[verb](opts)
    except HelpRequested:
        out.raw(usage(verb).rstrip("\n"))
        return 0
    except UsageError as err:
        out.error(f"kiln {verb}: {err}\n\n{usage(verb).rstrip()}")
        return 1
    except KilnError as err:
        out.error(active()(str(err)))
        if debug:
            _print_traceback()
        return 1
    except KeyboardInterrupt:
        out.error("Build was cancelled." if verb == "build" else "Interrupted.")
        return 1
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (`kiln inspect | head`): stop quietly
        return 1
    except Exception:  # a bug in kiln: say so plainly
        if debug:
            _print_traceback()
        exc = sys.exc_info()[1]
        out.error(
            f"kiln: internal error: {type(exc).__name__}: {active()(str(exc))}\n"
            "This is a bug in kiln; run with -debug for the traceback and please report it."
        )
        return 1


def _early_ui(machine: bool, flags: Sequence[str]) -> Ui:
    """The Ui for messages before (or instead of) a verb's own: usage, help, errors."""
    no_color = any(f.lstrip("-") in ("color=false", "color=0", "color=f") for f in flags)
    return Ui(color=colors_wanted(not no_color, sys.stdout, os.environ), machine_readable=machine)


def _print_traceback() -> None:
    """-debug's traceback of the error being handled, redacted like every other line."""
    import traceback

    sys.stderr.write(active()(traceback.format_exc()))


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _version(opts: argparse.Namespace) -> int:
    """Packer's four lines in machine-readable mode (version, version-prelease,
    version-commit, then the human line)."""
    ui = Ui(machine_readable=opts.machine_readable, color=False)
    release, _, pre = __version__.partition("-")
    ui.machine("", "version", release)
    ui.machine("", "version-prelease", pre)
    ui.machine("", "version-commit", "")
    ui.raw(f"kiln v{__version__}")
    return 0


def _validate(opts: argparse.Namespace) -> int:
    from kiln.cli.validate import run_validate

    return run_validate(opts, dict(os.environ))


def _inspect(opts: argparse.Namespace) -> int:
    from kiln.cli.inspect import run_inspect

    return run_inspect(opts)


def _checkpoints(opts: argparse.Namespace) -> int:
    from kiln.cli.checkpoints import run_checkpoints

    return run_checkpoints(opts, dict(os.environ))


def _hcl2_upgrade(opts: argparse.Namespace) -> int:
    from kiln.cli.hcl2_upgrade import run_hcl2_upgrade

    return run_hcl2_upgrade(opts)


def _build(opts: argparse.Namespace) -> int:
    from kiln.cli.build import run_build

    gc.enable()  # a build runs for minutes: the collector is back on (see `main`)
    return run_build(opts, dict(os.environ))


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "version": _version,
    "validate": _validate,
    "inspect": _inspect,
    "build": _build,
    "checkpoints": _checkpoints,
    "hcl2_upgrade": _hcl2_upgrade,
}

__all__ = ["GLOBAL_FLAGS", "main"]
