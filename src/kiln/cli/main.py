"""`kiln VERB [flags] TEMPLATE` — dispatch, and the one place errors become exit codes.

Exit codes: 0 success, 1 any failure (bad usage, invalid template, failed build). Packer
exits 127 for an unknown command; kiln uses 1 for every error, so scripts need one check.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from kiln import __version__
from kiln.cli.args import VERBS, HelpRequested, UsageError, parse_args, usage
from kiln.errors import KilnError
from kiln.suggest import did_you_mean
from kiln.ui.log import capture_warnings
from kiln.ui.redact import active

USAGE = """Usage: kiln [--version] [--help] <command> [<args>]

kiln builds QEMU/KVM machine images from Packer templates.

Available commands are:
    build       build image(s) from template
    checkpoints list (or prune) the install checkpoints of -checkpoint builds
    inspect     see components of a template
    validate    check that a template is valid
    version     Prints the kiln version

Flags take one or two dashes (-force, --force); run `kiln <command> -h` for a command's flags.
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    capture_warnings()  # a library's warnings go to the debug log, never to the terminal
    if not args or args[0] in ("-h", "-help", "--help", "help"):
        (sys.stdout if args else sys.stderr).write(USAGE)
        return 0 if args else 1
    if args[0] in ("-v", "-version", "--version"):
        args[0] = "version"
    verb, rest = args[0], args[1:]
    if verb not in VERBS:
        sys.stderr.write(f"kiln: unknown command {verb!r}{did_you_mean(verb, VERBS)}\n\n{USAGE}")
        return 1
    debug = any(a.lstrip("-") in ("debug", "debug=true", "debug=1") for a in rest)
    try:
        opts = parse_args(verb, rest)
        return _COMMANDS[verb](opts)
    except HelpRequested:
        sys.stdout.write(usage(verb))
        return 0
    except UsageError as err:
        sys.stderr.write(f"kiln {verb}: {err}\n\n{usage(verb)}")
        return 1
    except KilnError as err:
        sys.stderr.write(f"{active()(str(err))}\n")
        if debug:
            _print_traceback()
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("Build was cancelled.\n" if verb == "build" else "Interrupted.\n")
        return 1
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (`kiln inspect | head`): stop quietly
        return 1
    except Exception:  # a bug in kiln: say so plainly
        if debug:
            _print_traceback()
        exc = sys.exc_info()[1]
        sys.stderr.write(
            f"kiln: internal error: {type(exc).__name__}: {active()(str(exc))}\n"
            "This is a bug in kiln; run with -debug for the traceback and please report it.\n"
        )
        return 1


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


def _version(_opts: argparse.Namespace) -> int:
    sys.stdout.write(f"kiln v{__version__}\n")
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


def _build(opts: argparse.Namespace) -> int:
    from kiln.cli.build import run_build

    return run_build(opts, dict(os.environ))


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "version": _version,
    "validate": _validate,
    "inspect": _inspect,
    "build": _build,
    "checkpoints": _checkpoints,
}
