"""The command line: Go-style flags, verbs, exit codes, usage errors, validate's output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_options_qemu import BASE

from kiln import __version__
from kiln.cli.args import (
    BUILD_FLAGS,
    GLOBAL_FLAGS,
    HelpRequested,
    UsageError,
    normalize_argv,
    parse_args,
    parse_cli_vars,
    split_list,
    usage,
)
from kiln.cli.main import USAGE, main

KILN = Path(sys.executable).with_name("kiln")
BUILD = {f.name: f for f in (*GLOBAL_FLAGS, *BUILD_FLAGS)}


def write(tmp_path: Path, template: dict[str, object]) -> Path:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    return path


@pytest.fixture
def good(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write(tmp_path, {"variables": {"mem": "512"},
                            "builders": [{**BASE, "memory": "{{ user `mem` }}"}]})  # fmt: skip


# --- argv the Go way -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-force"], ["--force"]),
        (["--force"], ["--force"]),
        (["-force=true"], ["--force"]),
        (["-force=1"], ["--force"]),
        (["-force=T"], ["--force"]),
        (["-force=false"], ["--no-force"]),
        (["-color=false"], ["--no-color"]),
        (["-var=a=b"], ["--var=a=b"]),
        (["-var", "a=b"], ["--var=a=b"]),
        (["--var", "a=b=c"], ["--var=a=b=c"]),
        (["-only", "a,b", "t.json"], ["--only=a,b", "t.json"]),
        (["t.json", "-force"], ["t.json", "--force"]),  # flags after the template
        (["-var", "-x"], ["--var=-x"]),  # Go takes the next argument as the value
        (["--", "-force"], ["--", "-force"]),
        (["-"], ["-"]),
        (["-parallel-builds=2"], ["--parallel-builds=2"]),
    ],
)
def test_normalize_argv(argv: list[str], expected: list[str]) -> None:
    assert normalize_argv(argv, BUILD) == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-forse"], 'flag provided but not defined: -forse — did you mean "force"?'),
        (["--bogus"], "flag provided but not defined: --bogus"),
        (["---force"], 'flag provided but not defined: ---force — did you mean "force"?'),
        (["-var"], "flag needs an argument: -var"),
        (
            ["-force=maybe"],
            'invalid boolean value "maybe" for -force: parse error (use -force=true or '
            "-force=false)",
        ),
    ],
)
def test_normalize_argv_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as err:
        normalize_argv(argv, BUILD)
    assert str(err.value) == message


@pytest.mark.parametrize("flag", ["-h", "-help", "--help", "--h"])
def test_help_flags(flag: str) -> None:
    with pytest.raises(HelpRequested):
        normalize_argv([flag], BUILD, "build")


def test_parse_build_args() -> None:
    opts = parse_args(
        "build",
        ["-var", "a=1", "-var=b=2", "-var-file=v.json", "-only=x,y", "-force",
         "-on-error=abort", "-parallel-builds=0x2", "-color=false", "-timestamp-ui",
         "-machine-readable", "-debug", "-dry-run", "-parallel=false", "t.json"],
    )  # fmt: skip
    assert opts.var == ["a=1", "b=2"]
    assert opts.var_file == ["v.json"]
    assert (opts.only, opts.template, opts.on_error, opts.parallel_builds) == (
        "x,y",
        "t.json",
        "abort",
        2,
    )
    assert (opts.force, opts.color, opts.timestamp_ui, opts.machine_readable) == (
        True,
        False,
        True,
        True,
    )
    assert (opts.debug, opts.dry_run, opts.parallel) == (True, True, False)


def test_build_defaults() -> None:
    opts = parse_args("build", ["t.json"])
    assert (opts.force, opts.on_error, opts.parallel_builds, opts.color, opts.parallel) == (
        False,
        "cleanup",
        0,
        True,
        True,
    )
    assert (opts.var, opts.var_file, opts.only, opts.dry_run) == ([], [], None, False)


@pytest.mark.parametrize(
    ("verb", "argv", "message"),
    [
        ("validate", [], "the template file is missing"),
        ("validate", ["a.json", "b.json"], "unexpected argument(s): b.json (one template per run)"),
        ("version", ["x"], "unexpected argument(s): x"),
        ("validate", ["-force", "t.json"], "flag provided but not defined: -force"),
        (
            "build",
            ["-on-error=nope", "t.json"],
            'invalid value "nope" for flag -on-error: use one of cleanup, abort, ask, '
            "run-cleanup-provisioner",
        ),
        (
            "build",
            ["-on-error=abortt", "t.json"],
            'invalid value "abortt" for flag -on-error: use one of cleanup, abort, ask, '
            'run-cleanup-provisioner — did you mean "abort"?',
        ),
        (
            "build",
            ["-parallel-builds=two", "t.json"],
            'invalid value "two" for flag -parallel-builds: parse error (expected a whole number)',
        ),
    ],
)
def test_parse_args_errors(verb: str, argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_args(verb, argv)
    assert str(err.value) == message


def test_split_list_and_cli_vars() -> None:
    assert split_list("a, b,,c ") == ["a", "b", "c"]
    assert split_list(None) == []
    assert parse_cli_vars(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    for bad in ("novalue", "=x"):
        with pytest.raises(UsageError) as err:
            parse_cli_vars([bad])
        assert str(err.value) == f"-var {bad!r}: expected -var 'name=value'"


def test_usage_text() -> None:
    text = usage("validate")
    assert text.startswith("Usage: kiln validate [options] TEMPLATE\n\n  Check that a template")
    assert "  -syntax-only" in text
    assert "  -var 'key=value'" in text
    assert "  -force" not in text
    assert usage("version").startswith("Usage: kiln version [options]\n")


# --- main: verbs and exit codes --------------------------------------------------------


def test_no_arguments_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 1
    assert capsys.readouterr() == (USAGE, "")  # stdout, as Packer prints it


@pytest.mark.parametrize("arg", ["-h", "-help", "--help", "help"])
def test_top_level_help(arg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([arg]) == 0
    assert capsys.readouterr().out == USAGE


@pytest.mark.parametrize("argv", [["version"], ["-v"], ["-version"], ["--version"]])
def test_version(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    assert capsys.readouterr().out == f"kiln v{__version__}\n"


def test_unknown_verb_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["valdate", "t.json"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("kiln: unknown command 'valdate' — did you mean \"validate\"?\n\n")
    assert USAGE in out
    assert err == ""


def test_verb_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "-h"]) == 0
    assert capsys.readouterr().out == usage("build")


def test_usage_error_prints_the_verbs_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-force", "t.json"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("kiln validate: flag provided but not defined: -force\n\n")
    assert out.endswith(usage("validate"))


def test_validate_ok(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(good)]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # warnings go to stdout, where Packer says them
    assert out.startswith('Warning: Warning when preparing build: "qemu"\n\nA checksum of')
    assert out.endswith("\nTemplate validated successfully.\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "-var", "mem=1024", "{t}"],
        ["validate", "-var=mem=1024", "{t}"],
        ["validate", "--var", "mem=1024", "{t}"],
        ["validate", "{t}", "-var", "mem=1024"],
        ["validate", "-color=false", "-var", "mem=1024", "{t}"],
        ["validate", "-only=qemu", "-var", "mem=1024", "{t}"],
        ["validate", "-timestamp-ui", "-var", "mem=1024", "{t}"],
    ],
)
def test_validate_flag_spellings(
    good: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([a.replace("{t}", str(good)) for a in argv]) == 0
    assert "Template validated successfully." in capsys.readouterr().out


def test_validate_with_a_var_file(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (good.parent / "vars.json").write_text('{"mem": "x"}')
    assert main(["validate", "-var-file", "vars.json", str(good)]) == 1
    assert "cannot parse 'memory' as int" in capsys.readouterr().out


def test_validate_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"builders": [{**BASE, "disk_sise": 1, "format": "vmdk"}]})
    assert main(["validate", str(path)]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert out.endswith(
        'Error: Failed to prepare build: "qemu"\n\n2 errors occurred:\n'
        '\t* unknown configuration key: \'"disk_sise"\' — did you mean "disk_size"?\n'
        "\t* invalid format, only 'qcow2' or 'raw' are allowed (format = 'vmdk'; allowed: qcow2, "
        "raw)\n"
    )


def test_validate_syntax_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"builders": [{**BASE, "format": "vmdk"}]})
    assert main(["validate", "-syntax-only", str(path)]) == 0
    assert capsys.readouterr().out == "Syntax-only check passed. Everything looks okay.\n"


def test_validate_template_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "missing.json")]) == 1
    assert capsys.readouterr().out == (
        f"Failed to parse template: open {tmp_path / 'missing.json'}: no such file or directory\n"
    )


def test_validate_warns_about_a_missing_qemu_binary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, {"builders": [{**BASE, "qemu_binary": "qemu-system-nothing"}]})
    assert main(["validate", str(path)]) == 0
    assert (
        "qemu-system-nothing was not found on PATH: `kiln build` needs it (apt-get install "
        "qemu-system-x86 qemu-utils)"
    ) in capsys.readouterr().out


def test_validate_machine_readable(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-machine-readable", str(good)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].split(",", 1)[1] == ",ui,say,Template validated successfully."


def test_validate_does_not_print_sensitive_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        {
            "variables": {"pw": "hunter2"},
            "sensitive-variables": ["pw"],
            "builders": [{**BASE, "ssh_password": "{{ user `pw` }}", "vm_name": "x-{{user `pw`}}",
                          "http_directory": "{{ user `pw` }}"}],
        },
    )  # fmt: skip
    assert main(["validate", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "hunter2" not in out + err
    assert "http_directory '<sensitive>' is not a directory" in out


def test_debug_shows_the_traceback_of_a_kiln_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "-debug", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "Failed to parse template" in err


def test_an_internal_error_is_reported_as_a_bug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiln.cli.validate

    def explode(*_args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(kiln.cli.validate, "run_validate", explode)
    assert main(["validate", "t.json"]) == 1
    assert capsys.readouterr().out == (
        "kiln: internal error: RuntimeError: boom\n"
        "This is a bug in kiln; run with -debug for the traceback and please report it.\n"
    )


# --- real processes --------------------------------------------------------------------


def run_kiln(*args: str, cwd: Path, module: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kiln", *args] if module else [str(KILN), *args]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        check=False,
    )  # fmt: skip


def test_subprocess_validate(good: Path) -> None:
    ok = run_kiln("validate", "--var", "mem=1024", good.name, "-color=false", cwd=good.parent)
    assert ok.returncode == 0
    assert ok.stdout.endswith("\nTemplate validated successfully.\n")
    bad = run_kiln("validate", "-var", "mem=lots", good.name, cwd=good.parent)
    assert bad.returncode == 1
    assert "cannot parse 'memory' as int" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr


def test_python_dash_m_kiln(tmp_path: Path) -> None:
    result = run_kiln("version", cwd=tmp_path, module=True)
    assert (result.returncode, result.stdout) == (0, f"kiln v{__version__}\n")
    result = run_kiln("bogus", cwd=tmp_path, module=True)
    assert result.returncode == 1
    assert result.stdout.startswith("kiln: unknown command 'bogus'")


def test_closed_stdout_is_quiet(good: Path) -> None:
    proc = subprocess.Popen(
        [str(KILN), "inspect", good.name], cwd=good.parent, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away, like `kiln inspect | head -0`
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) in (0, 1)
    assert "internal error" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("verb", "said"), [("validate", "Interrupted."),
                                            ("build", "Build was cancelled.")])  # fmt: skip
def test_ctrl_c(
    verb: str, said: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiln.cli.main

    def interrupted(_opts: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(kiln.cli.main._COMMANDS, verb, interrupted)
    assert main([verb, "t.json"]) == 1
    assert capsys.readouterr().out == f"{said}\n"


def test_broken_pipe_in_process(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiln.cli.main

    def reader_gone(_opts: object) -> int:
        raise BrokenPipeError

    monkeypatch.setitem(kiln.cli.main._COMMANDS, "inspect", reader_gone)
    assert main(["inspect", "t.json"]) == 1
    assert capsys.readouterr() == ("", "")


# --- Packer users' habits (issue 14) ----------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["-machine-readable", "version"], ["version", "-machine-readable"],
     ["--machine-readable", "version"]],
)  # fmt: skip
def test_version_machine_readable_prints_packers_four_lines(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    rows = [line.split(",", 1)[1] for line in capsys.readouterr().out.splitlines()]
    release = __version__.partition("-")[0]
    assert rows == [f",version,{release}", ",version-prelease,", ",version-commit,",
                    f",ui,say,kiln v{__version__}"]  # fmt: skip


def test_global_flags_before_the_verb(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-machine-readable", "-color=false", "validate", str(good)]) == 0
    rows = [line.split(",", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert rows[-1] == ",ui,say,Template validated successfully."


def test_errors_are_machine_readable_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-machine-readable", "validate", str(tmp_path / "none.json")]) == 1
    (row,) = capsys.readouterr().out.splitlines()
    assert row.split(",", 3)[1:3] == ["", "ui"]
    assert row.split(",", 3)[3].startswith("error,Failed to parse template: open ")


@pytest.mark.parametrize("verb", ["build", "validate", "inspect", "version"])
def test_help_verb(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", verb]) == 0
    assert capsys.readouterr().out == usage(verb)


@pytest.mark.parametrize(
    ("verb", "advice"),
    [
        ("fmt", "python3 -m json.tool"),
        ("console", "kiln inspect TEMPLATE"),
        ("fix", "packer fix TEMPLATE"),
    ],
)
def test_packer_verbs_kiln_lacks_say_so(
    verb: str, advice: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([verb, "t.json"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"kiln has no `{verb}`")
    assert advice in out


def test_usage_lists_the_verbs_kiln_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help"]) == 0
    assert "console, fix, fmt\n" in capsys.readouterr().out


def test_template_from_stdin(good: Path) -> None:
    result = subprocess.run(
        [str(KILN), "validate", "-"], input=good.read_text(), cwd=good.parent,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert result.stdout.endswith("Template validated successfully.\n")
    broken = subprocess.run(
        [str(KILN), "validate", "-"], input="{", capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert broken.returncode == 1
    assert "Failed to parse template" in broken.stdout


def test_the_debug_log_starts_with_version_and_template(good: Path) -> None:
    import os

    result = subprocess.run(
        [str(KILN), "validate", good.name], cwd=good.parent, capture_output=True, text=True,
        timeout=120, check=False, env={**os.environ, "PACKER_LOG": "1"},
    )  # fmt: skip
    assert result.returncode == 0
    assert f"kiln: kiln version {__version__} (Packer 1.6.6 compatible)" in result.stderr
    assert f"kiln: Template: {good.resolve()}" in result.stderr


@pytest.mark.parametrize(
    ("env", "flags", "coloured"),
    [({}, [], True), ({"NO_COLOR": "1"}, [], False), ({"PACKER_NO_COLOR": "1"}, [], False),
     ({}, ["-color=false"], False)],
)  # fmt: skip
def test_colour_follows_the_flag_and_the_environment(
    env: dict[str, str], flags: list[str], coloured: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse
    import io

    from kiln.cli.common import make_ui

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Tty())
    opts = argparse.Namespace(color="-color=false" not in flags, timestamp_ui=False,
                              machine_readable=False, debug=False)  # fmt: skip
    assert make_ui(opts, env).color is coloured


# --- library warnings ------------------------------------------------------------------

# A verb that warns as a library does on import (asyncssh's CryptographyDeprecationWarning),
# run in a fresh interpreter: pytest's own warning capture would hide the difference.
WARNING_VERB = """
import sys, warnings
import kiln.cli.main
from kiln.cli.common import make_ui

def verb(opts):
    make_ui(opts, {"PACKER_LOG": sys.argv[1]})
    warnings.warn("DSA is deprecated (a library speaking)", UserWarning, stacklevel=1)
    return 0

kiln.cli.main._COMMANDS["validate"] = verb
sys.exit(kiln.cli.main.main(sys.argv[2:]))
"""


@pytest.mark.parametrize(
    ("packer_log", "flags", "shown"),
    [("", [], False), ("1", [], True), ("", ["-debug"], True)],
)
def test_library_warnings_only_in_the_debug_log(
    packer_log: str, flags: list[str], shown: bool, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WARNING_VERB, packer_log, "validate", *flags, "t.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    if shown:
        assert "[WARNING] py.warnings: " in result.stderr
        assert "UserWarning: DSA is deprecated (a library speaking)" in result.stderr
    else:
        assert result.stderr == ""


def test_no_library_warning_in_a_real_dry_run(tmp_path: Path) -> None:
    """asyncssh warns (CryptographyDeprecationWarning) when a build imports it."""
    (tmp_path / "x.iso").write_bytes(b"")
    template = {"builders": [{**BASE, "iso_url": "x.iso", "accelerator": "tcg"}]}
    path = write(tmp_path, template)
    result = run_kiln("build", "-dry-run", path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "qemu-system-x86_64" in result.stdout
    # kiln's own warning stays (on stdout, where Packer writes it)
    assert "A checksum of 'none' was specified" in result.stdout
    for stream in (result.stdout, result.stderr):
        assert "DeprecationWarning" not in stream
        assert "site-packages" not in stream
