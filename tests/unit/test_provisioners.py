"""Provisioners' pure logic: Packer's environment, script preparation, messages, and the
common keys (pause_before, timeout, max_retries) around a provisioner."""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiln.engine.plan import BuildPlan, StepPlan
from kiln.engine.provision import render_step_config, run_provisioner
from kiln.envname import bad_names
from kiln.provisioners.breakpoint import run_breakpoint
from kiln.provisioners.config import (
    BreakpointConfig,
    FileConfig,
    ShellConfig,
)
from kiln.provisioners.context import ProvisionContext, ProvisionerError, go_duration
from kiln.provisioners.envvars import flatten_env, packer_env
from kiln.provisioners.file import run_file, sources_of
from kiln.provisioners.retry import is_retryable, retry_until
from kiln.provisioners.shell import (
    INLINE_NAME,
    exit_status_error,
    go_int_list,
    run_shell,
    scripts_of,
    unix_line_endings,
)
from kiln.provisioners.shell_local import go_os
from kiln.provisioners.table import PROVISIONERS
from template_plans import build_of


def make_build(tmp_path: Path, *provisioners: dict[str, Any]) -> BuildPlan:
    return build_of(tmp_path, {"provisioners": list(provisioners)})


class Lines:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def said(self) -> list[str]:
        return [text for kind, text in self.lines if kind == "say"]

    def context(self, build: BuildPlan, **values: Any) -> ProvisionContext:
        return ProvisionContext(
            plan=build,
            say=lambda m: self.lines.append(("say", m)),
            message=lambda m: self.lines.append(("message", m)),
            error=lambda m: self.lines.append(("error", m)),
            comm=None,
            **values,
        )


# --- the environment ({{.Vars}}) ---------------------------------------------------------


def test_packer_env_precedence_and_http_values() -> None:
    env = packer_env(
        "b",
        "qemu",
        {"PackerHTTPAddr": "10.0.2.2:8100", "PackerHTTPIP": "10.0.2.2", "PackerHTTPPort": "8100"},
        ["A=1", "B=x=y", "PACKER_BUILD_NAME=mine", "EMPTY="],
        {"A": "from map"},
    )
    assert env == {
        "PACKER_BUILD_NAME": "mine",
        "PACKER_BUILDER_TYPE": "qemu",
        "PACKER_HTTP_ADDR": "10.0.2.2:8100",
        "PACKER_HTTP_IP": "10.0.2.2",
        "PACKER_HTTP_PORT": "8100",
        "A": "from map",
        "B": "x=y",
        "EMPTY": "",
    }


def test_packer_env_without_http() -> None:
    assert packer_env("b", "qemu", {}) == {"PACKER_BUILD_NAME": "b", "PACKER_BUILDER_TYPE": "qemu"}


def test_flatten_env_sorts_and_escapes_single_quotes() -> None:
    assert flatten_env({"B": "it's", "A": "x y"}) == "A='x y' B='it'\"'\"'s' "
    assert flatten_env({"A": "1"}, "export %s='%s'\n") == "export A='1'\n"
    assert flatten_env({"A": "1", "B": "2"}, "%s=%s;") == "A=1;B=2;"
    assert flatten_env({}) == ""


def test_flatten_env_is_one_shell_word_per_value(tmp_path: Path) -> None:
    """Whatever the value, the default format gives the shell exactly that value."""
    import subprocess

    nasty = 'it\'s "q" $HOME `id` \\ ; & | * \n new line'
    vars_ = flatten_env({"V": nasty})
    out = subprocess.run(
        ["/bin/sh", "-c", f"{vars_} /usr/bin/env"], capture_output=True, text=True, check=True
    ).stdout
    assert f"V={nasty}\n" in out


def test_flatten_env_format_with_a_missing_verb_is_go_shaped() -> None:
    assert flatten_env({"A": "1"}, "%s ") == "A %!(EXTRA string=1)"


@pytest.mark.parametrize(
    ("names", "bad"),
    [(["A", "_b", "C9"], []), (["9A", "A-B", "A B", ""], ["9A", "A-B", "A B", ""])],
)
def test_bad_names(names: list[str], bad: list[str]) -> None:
    assert bad_names(names) == bad


# --- scripts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", b""),
        (b"a", b"a\n"),
        (b"a\n", b"a\n"),
        (b"a\r\nb\r\n", b"a\nb\n"),
        (b"a\r\nb", b"a\nb\n"),
        (b"\n\n", b"\n\n"),
        (b"a\rb\n", b"a\rb\n"),
    ],
)
def test_unix_line_endings(data: bytes, expected: bytes) -> None:
    assert unix_line_endings(data) == expected


def test_scripts_of_inline_and_files(tmp_path: Path) -> None:
    build = make_build(tmp_path, {"type": "shell", "inline": ["true"]})
    ctx = Lines().context(build, cwd=tmp_path)
    inline = ShellConfig(inline=["echo a", "echo b"], inline_shebang="/bin/bash -ex")
    assert scripts_of(inline, ctx) == [(INLINE_NAME, b"#!/bin/bash -ex\necho a\necho b\n")]
    (tmp_path / "w.sh").write_bytes(b"echo 1\r\necho 2")
    assert scripts_of(ShellConfig(script="w.sh"), ctx) == [("w.sh", b"echo 1\necho 2\n")]
    binary = ShellConfig(scripts=["w.sh"], binary=True)
    assert scripts_of(binary, ctx) == [("w.sh", b"echo 1\r\necho 2")]
    with pytest.raises(ProvisionerError, match=r"Error opening shell script: gone\.sh: No such"):
        scripts_of(ShellConfig(script="gone.sh"), ctx)


def test_exit_status_message_names_the_script_and_the_allowed_codes() -> None:
    assert str(exit_status_error("setup.sh", 3, [0, 2])) == (
        "Script exited with non-zero exit status: 3. Allowed exit codes are: [0 2] "
        "(script: setup.sh)"
    )
    assert go_int_list([]) == "[]"


async def test_shell_and_file_need_a_communicator(tmp_path: Path) -> None:
    build = make_build(tmp_path, {"type": "shell", "inline": ["true"]})
    ctx = Lines().context(build)
    with pytest.raises(ProvisionerError, match="the shell provisioner needs a communicator"):
        await run_shell(ShellConfig(inline=["true"]), ctx)
    with pytest.raises(ProvisionerError, match="the file provisioner needs a communicator"):
        await run_file(FileConfig(content="x", destination="/tmp/x"), ctx)


def test_file_sources_order() -> None:
    assert sources_of(FileConfig(source="c", sources=["a", "b"], destination="/")) == [
        "a",
        "b",
        "c",
    ]


@pytest.mark.parametrize(
    ("platform", "name"),
    [
        ("linux", "linux"),
        ("darwin", "darwin"),
        ("freebsd14", "freebsd"),
        ("openbsd7", "openbsd"),
        ("sunos5", "solaris"),
        ("win32", "windows"),
        ("aix", "aix"),
    ],
)
def test_go_os(platform: str, name: str) -> None:
    assert go_os(platform) == name


def test_go_duration() -> None:
    assert [go_duration(s) for s in (0, 0.5, 10, 300, 90, 3600)] == [
        "0s",
        "500ms",
        "10s",
        "5m0s",
        "1m30s",
        "1h0m0s",
    ]


# --- rendering with build values ----------------------------------------------------------


def test_render_step_config_uses_build_values_and_keeps_late_keys(tmp_path: Path) -> None:
    build = make_build(tmp_path)
    # `{{ .ID }}` is data of the running build (the plan checks it with placeholders).
    raw = {
        "inline": ["echo {{ .ID }} {{ build `Host` }} {{ build_name }}"],
        "execute_command": "{{ .Vars }} sudo {{ .Path }}",
    }
    step = StepPlan(type="shell", where="provisioner 1", raw=raw, config=None)
    values = {"ID": "the-id", "Host": "127.0.0.1"}
    config = render_step_config(step, build.functions(values), ShellConfig, values)
    assert config.inline == ["echo the-id 127.0.0.1 qemu"]
    assert config.execute_command == "{{ .Vars }} sudo {{ .Path }}"


def test_render_step_config_reports_template_errors(tmp_path: Path) -> None:
    build = make_build(tmp_path)
    step = StepPlan(
        type="shell", where="provisioner 1", raw={"inline": ["{{ build `Nope` }}"]}, config=None
    )
    with pytest.raises(ProvisionerError, match=r"provisioner 1 \(shell\): template: inline\[0\]"):
        render_step_config(step, build.functions({"Host": "h"}), ShellConfig, {})


# --- pause_before, timeout, max_retries (Packer's wrappers) -------------------------------


@pytest.fixture
def fake_breakpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Replace the breakpoint runner; each call pops the next outcome from the list."""
    outcomes: list[str] = []

    async def fake(config: BreakpointConfig, ctx: ProvisionContext) -> None:
        ctx.say(f"running {config.note}")
        outcome = outcomes.pop(0)
        if outcome == "fail":
            raise ProvisionerError("it broke")
        if outcome == "hang":
            import asyncio

            await asyncio.Event().wait()

    monkeypatch.setitem(
        PROVISIONERS, "breakpoint", dataclasses.replace(PROVISIONERS["breakpoint"], run=fake)
    )
    yield outcomes


async def test_retries_then_succeeds(tmp_path: Path, fake_breakpoint: list[str]) -> None:
    build = make_build(tmp_path, {"type": "breakpoint", "note": "n", "max_retries": 2})
    fake_breakpoint.extend(["fail", "ok"])
    lines = Lines()
    await run_provisioner(build.provisioners[0], lines.context(build))
    assert lines.said() == [
        "running n",
        'Provisioner failed with "provisioner 1 (breakpoint): it broke", retrying with 2 '
        "trie(s) left",
        "running n",
    ]


async def test_retry_limit_reached(tmp_path: Path, fake_breakpoint: list[str]) -> None:
    build = make_build(tmp_path, {"type": "breakpoint", "max_retries": 1})
    fake_breakpoint.extend(["fail", "fail"])
    lines = Lines()
    with pytest.raises(ProvisionerError, match=r"^provisioner 1 \(breakpoint\): it broke$"):
        await run_provisioner(build.provisioners[0], lines.context(build))
    assert lines.said()[-1] == "retry limit reached."
    assert len([s for s in lines.said() if s.startswith("running")]) == 2


async def test_no_retries_fails_at_once(tmp_path: Path, fake_breakpoint: list[str]) -> None:
    build = make_build(tmp_path, {"type": "breakpoint"})
    fake_breakpoint.append("fail")
    lines = Lines()
    with pytest.raises(ProvisionerError):
        await run_provisioner(build.provisioners[0], lines.context(build))
    assert lines.said() == ["running "]


async def test_pause_before_and_timeout_apply_to_every_attempt(
    tmp_path: Path, fake_breakpoint: list[str]
) -> None:
    build = make_build(
        tmp_path,
        {"type": "breakpoint", "pause_before": "10ms", "timeout": "50ms", "max_retries": 1},
    )
    fake_breakpoint.extend(["hang", "ok"])
    lines = Lines()
    await run_provisioner(build.provisioners[0], lines.context(build))
    said = lines.said()
    assert said[:3] == [
        "Pausing 10ms before the next provisioner...",
        "Setting a 50ms timeout for the next provisioner...",
        "running ",
    ]
    assert said[3].startswith(
        'Provisioner failed with "provisioner 1 (breakpoint): the provisioner did not finish '
        "within its timeout (50ms)"
    )
    assert said[4:] == [
        "Pausing 10ms before the next provisioner...",
        "Setting a 50ms timeout for the next provisioner...",
        "running ",
    ]
    assert ("error", "Cancelling provisioner after a timeout...") in lines.lines


# --- breakpoint ----------------------------------------------------------------------------


async def test_breakpoint_disabled(tmp_path: Path) -> None:
    build = make_build(tmp_path)
    lines = Lines()
    await run_breakpoint(BreakpointConfig(disable=True, note="n"), lines.context(build))
    await run_breakpoint(BreakpointConfig(disable=True), lines.context(build))
    assert lines.said() == [
        'Breakpoint provisioner with note "n" disabled; continuing...',
        "Breakpoint provisioner disabled; continuing...",
    ]


async def test_breakpoint_without_a_terminal_is_a_clear_error(tmp_path: Path) -> None:
    build = make_build(tmp_path)
    with pytest.raises(ProvisionerError, match="standard input is not a terminal"):
        await run_breakpoint(BreakpointConfig(note="n"), Lines().context(build), io.StringIO())


async def test_breakpoint_waits_for_enter_on_a_terminal(tmp_path: Path) -> None:
    build = make_build(tmp_path)
    master, slave = os.openpty()
    lines = Lines()
    with os.fdopen(slave, "r", encoding="utf-8") as tty:
        os.write(master, b"\n")
        await run_breakpoint(BreakpointConfig(note="look"), lines.context(build), tty)
    os.close(master)
    assert lines.said() == [
        'Pausing at breakpoint provisioner with note "look".',
        "Press enter to continue.",
    ]


async def test_breakpoint_stdin_closed(tmp_path: Path) -> None:
    build = make_build(tmp_path)
    master, slave = os.openpty()
    with os.fdopen(slave, "r", encoding="utf-8") as tty:
        os.write(master, b"\x04")  # end of file on the terminal (Ctrl-D)
        with pytest.raises(ProvisionerError, match="closed before Enter"):
            await run_breakpoint(BreakpointConfig(), Lines().context(build), tty)
    os.close(master)


# --- retrying while the guest reboots ------------------------------------------------------


def test_is_retryable() -> None:
    import asyncssh

    from kiln.communicator.ssh_errors import (
        CommandDisconnected,
        SshConnectionError,
        SshTransferError,
    )

    assert is_retryable(SshConnectionError("gone"))
    assert is_retryable(CommandDisconnected("cut"))
    lost = SshTransferError("upload failed")
    lost.__cause__ = asyncssh.ConnectionLost("reset")
    assert is_retryable(lost)
    denied = SshTransferError("upload failed")
    denied.__cause__ = PermissionError("denied")
    assert not is_retryable(denied)
    assert not is_retryable(ProvisionerError("no"))


async def test_retry_until_retries_only_retryable_errors() -> None:
    from kiln.communicator.ssh_errors import SshConnectionError

    calls: list[int] = []
    notices: list[str] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise SshConnectionError("refused")
        return "done"

    assert await retry_until(10, flaky, notice=notices.append, delay=0) == "done"
    assert len(calls) == 3
    assert len(notices) == 1 and "refused" in notices[0]

    async def broken() -> str:
        raise ProvisionerError("permanent")

    with pytest.raises(ProvisionerError, match="permanent"):
        await retry_until(10, broken, notice=notices.append, delay=0)

    async def down() -> str:
        raise SshConnectionError("still down")

    with pytest.raises(SshConnectionError):
        await retry_until(0, down, notice=notices.append, delay=0)


# --- validate-time checks ------------------------------------------------------------------


def test_extra_provisioner_checks() -> None:
    from kiln.provisioners.checks import extra_provisioner_checks
    from kiln.provisioners.config import ShellLocalConfig

    assert extra_provisioner_checks(ShellConfig(inline=["x"], environment_vars=["A=1"])) == []
    assert extra_provisioner_checks(
        ShellConfig(inline=["x"], environment_vars=["A B=1", "=x"], env={"9x": "y"})
    ) == [
        "environment variable name 'A B' is invalid: use letters, digits and underscores, "
        "not starting with a digit",
        "environment variable name '9x' is invalid: use letters, digits and underscores, "
        "not starting with a digit",
    ]
    assert extra_provisioner_checks(ShellLocalConfig(inline=["x"], only_on=["linux", "plan9"])) == [
        "Invalid OS specified in only_on: 'plan9'\nSupported OS names: darwin, freebsd, linux, "
        "openbsd, solaris, windows"
    ]
    assert extra_provisioner_checks(FileConfig(content="x", destination="/tmp/")) == [
        "destination '/tmp/' is a directory: with content, give the full remote file path to write"
    ]
    assert extra_provisioner_checks(BreakpointConfig()) == []
