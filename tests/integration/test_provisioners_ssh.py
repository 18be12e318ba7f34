# ruff: noqa: F811, RUF043  (pytest fixtures imported by name; regex messages)
"""The shell and file provisioners against a real OpenSSH server (SCP and SFTP).

Uses the sshd fixtures of test_ssh_communicator.py (a throwaway user, sshd on 127.0.0.1).
A script that kills its own SSH session stands in for a reboot: the connection drops
mid-command, exactly what `expect_disconnect` is for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from test_ssh_communicator import (  # noqa: F401 (fixtures)
    LogLines,
    Sshd,
    SshdEnv,
    remote_dir,
    settings_for,
    sshd,
    sshd_env,
)

from kiln.communicator.ssh import SshCommunicator
from kiln.communicator.ssh_errors import CommandDisconnected
from kiln.engine.plan import BuildPlan
from kiln.engine.provision import run_provisioner
from kiln.errors import KilnError
from kiln.provisioners.config import FileConfig, ShellConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError
from kiln.provisioners.file import run_file
from kiln.provisioners.shell import run_shell
from template_plans import build_of

pytestmark = pytest.mark.timeout(120)

VALUES = {
    "PackerHTTPAddr": "10.0.2.2:8123",
    "PackerHTTPIP": "10.0.2.2",
    "PackerHTTPPort": "8123",
    "ID": "the-id",
}


KILL_SESSION = "kill -9 $(cut -d' ' -f4 /proc/$PPID/stat)"


def build_plan(tmp_path: Path, provisioners: list[dict[str, Any]] | None = None) -> BuildPlan:
    return build_of(tmp_path, {"provisioners": provisioners or []})


class Seen:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.messages: list[str] = []

    def ctx(self, plan: BuildPlan, comm: SshCommunicator, cwd: Path, **kw: Any) -> ProvisionContext:
        return ProvisionContext(
            plan=plan,
            say=self.said.append,
            message=self.messages.append,
            comm=comm,
            build_values=dict(VALUES),
            cwd=cwd,
            **kw,
        )


@pytest.fixture(params=["scp", "sftp"])
async def comm(
    request: pytest.FixtureRequest,
    sshd_env: SshdEnv,
    sshd: Sshd,
) -> AsyncIterator[SshCommunicator]:
    settings = settings_for(sshd_env, sshd.port, file_transfer_method=request.param)
    async with await SshCommunicator.wait_for(settings, log=LogLines()) as communicator:
        yield communicator


async def test_shell_inline_environment_and_cleanup(
    comm: SshCommunicator,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    seen = Seen()
    config = ShellConfig(
        inline=[
            'printf "%s|%s|%s|%s\\n" "$A" "$B" "$PACKER_HTTP_ADDR" "$PACKER_BUILD_NAME"',
            'echo "path=$0"',
        ],
        environment_vars=['A=it\'s $x `y` "z"', "B=first"],
        env={"B": "map"},
        remote_folder=str(remote_dir),
        remote_file="s.sh",
    )
    await run_shell(config, seen.ctx(build_plan(tmp_path), comm, tmp_path))
    assert seen.said == ["Provisioning with shell script: <inline script>"]
    assert seen.messages == [
        'it\'s $x `y` "z"|map|10.0.2.2:8123|qemu',
        f"path={remote_dir}/s.sh",
    ]
    assert list(remote_dir.iterdir()) == []  # the script was removed


async def test_shell_script_exit_codes_and_execute_command(
    comm: SshCommunicator,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    (tmp_path / "s.sh").write_bytes(b'#!/bin/sh\r\necho "args: $*"\r\nexit 4\r\n')
    seen = Seen()
    ctx = seen.ctx(build_plan(tmp_path), comm, tmp_path)
    base = {
        "script": "s.sh",
        "remote_path": f"{remote_dir}/x.sh",
        "execute_command": "chmod +x {{.Path}}; {{.Vars}} {{.Path}} {{ .ID }} one",
    }
    await run_shell(ShellConfig(**base, valid_exit_codes=[0, 4]), ctx)
    assert seen.messages == ["args: the-id one"]
    with pytest.raises(ProvisionerError) as failed:
        await run_shell(ShellConfig(**base, skip_clean=True), ctx)
    assert str(failed.value) == (
        "Script exited with non-zero exit status: 4. Allowed exit codes are: [0] (script: s.sh)"
    )
    assert (remote_dir / "x.sh").read_bytes() == b'#!/bin/sh\necho "args: $*"\nexit 4\n'


async def test_shell_env_var_file(
    comm: SshCommunicator,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    seen = Seen()
    ctx = seen.ctx(build_plan(tmp_path), comm, tmp_path)
    config = ShellConfig(
        inline=['echo "$A/$PACKER_BUILDER_TYPE"', "ls $(dirname $0)"],
        environment_vars=["A=it's"],
        use_env_var_file=True,
        remote_folder=str(remote_dir),
    )
    await run_shell(config, ctx)
    assert seen.messages[0] == "it's/qemu"
    names = seen.messages[1:]
    assert len(names) == 2 and any(n.startswith("varfile_") for n in names)
    assert list(remote_dir.iterdir()) == []


async def test_disconnect_fails_unless_expected(
    comm: SshCommunicator,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    seen = Seen()
    ctx = seen.ctx(build_plan(tmp_path), comm, tmp_path)
    # Kill the sshd process serving this session (the parent of the login shell that
    # runs execute_command): the connection drops mid-command.
    kill = ["trap '' TERM HUP", KILL_SESSION, "sleep 5"]
    config = ShellConfig(inline=kill, remote_folder=str(remote_dir), remote_file="r.sh")
    with pytest.raises(ProvisionerError, match="Script disconnected unexpectedly"):
        await run_shell(config, ctx)
    expected = ShellConfig(
        inline=kill, remote_folder=str(remote_dir), remote_file="r.sh", expect_disconnect=True
    )
    await run_shell(expected, ctx)  # reconnects to remove the script
    assert list(remote_dir.iterdir()) == []
    via_codes = ShellConfig(
        inline=kill, remote_folder=str(remote_dir), valid_exit_codes=[0, 2300218]
    )
    await run_shell(via_codes, ctx)
    await run_shell(ShellConfig(inline=["echo back"], remote_folder=str(remote_dir)), ctx)
    assert seen.messages[-1] == "back"


async def test_start_retry_timeout_waits_for_the_server(
    sshd_env: SshdEnv,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    server = Sshd(sshd_env.config("restart")).start()
    try:
        settings = settings_for(sshd_env, server.port)
        async with await SshCommunicator.wait_for(settings, log=LogLines()) as communicator:
            server.stop()  # established sessions survive the listener: end this one too
            with pytest.raises(CommandDisconnected):
                await communicator.run("kill -9 $PPID", stdout=print, stderr=print)
            await asyncio.sleep(0.2)
            seen = Seen()
            ctx = seen.ctx(build_plan(tmp_path), communicator, tmp_path)

            async def restart() -> None:
                await asyncio.sleep(1.5)
                await asyncio.to_thread(server.start)

            task = asyncio.create_task(restart())
            await run_shell(
                ShellConfig(
                    inline=["echo up again"],
                    remote_folder=str(remote_dir),
                    start_retry_timeout=_duration(60),
                ),
                ctx,
            )
            await task
            assert seen.messages[0].startswith("The guest is not reachable (")
            assert seen.messages[-1] == "up again"
            server.stop()
            with pytest.raises(CommandDisconnected):
                await communicator.run("kill -9 $PPID", stdout=print, stderr=print)
            with pytest.raises(KilnError, match="reconnecting failed"):
                await run_shell(
                    ShellConfig(
                        inline=["true"],
                        remote_folder=str(remote_dir),
                        start_retry_timeout=_duration(1),
                    ),
                    ctx,
                )
    finally:
        server.stop()


def _duration(seconds: float) -> Any:
    from kiln.options.spec import Duration

    return Duration(seconds, f"{seconds:g}s")


async def test_a_missing_remote_folder_fails_at_once(comm: SshCommunicator, tmp_path: Path) -> None:
    ctx = Seen().ctx(build_plan(tmp_path), comm, tmp_path)
    config = ShellConfig(
        inline=["true"], remote_folder="/nonexistent/dir", start_retry_timeout=_duration(300)
    )
    with pytest.raises(Exception, match="/nonexistent/dir"):
        await asyncio.wait_for(run_shell(config, ctx), 30)


def _tree(root: Path) -> dict[str, str | None]:
    return {
        p.relative_to(root).as_posix(): (p.read_text() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


async def test_file_uploads_follow_the_trailing_slash_rule(
    comm: SshCommunicator,
    remote_dir: Path,
    tmp_path: Path,
    sshd_env: SshdEnv,
) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a").write_text("a\n")
    (tmp_path / "d" / "sub" / "b").write_text("b\n")
    (tmp_path / "one.txt").write_text("one\n")
    (tmp_path / "two.txt").write_text("two\n")
    seen = Seen()
    ctx = seen.ctx(build_plan(tmp_path), comm, tmp_path)
    r = str(remote_dir)
    await run_file(FileConfig(source="d", destination=r), ctx)
    (remote_dir / "flat").mkdir()
    sshd_env.give(remote_dir / "flat")
    await run_file(FileConfig(source="d/", destination=f"{r}/flat"), ctx)
    await run_file(FileConfig(source="one.txt", destination=f"{r}/"), ctx)
    await run_file(FileConfig(source="one.txt", destination=f"{r}/renamed"), ctx)
    await run_file(FileConfig(sources=["one.txt", "two.txt"], destination=f"{r}/flat/"), ctx)
    await run_file(FileConfig(content="made\n", destination=f"{r}/content"), ctx)
    assert _tree(remote_dir) == {
        "content": "made\n",
        "d": None,
        "d/a": "a\n",
        "d/sub": None,
        "d/sub/b": "b\n",
        "flat": None,
        "flat/a": "a\n",
        "flat/one.txt": "one\n",
        "flat/sub": None,
        "flat/sub/b": "b\n",
        "flat/two.txt": "two\n",
        "one.txt": "one\n",
        "renamed": "one\n",
    }
    assert seen.said[0] == f"Uploading d => {r}"
    assert seen.said[-1] == f"Uploading content => {r}/content"


async def test_file_downloads_follow_the_trailing_slash_rule(
    comm: SshCommunicator,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    (remote_dir / "d" / "sub").mkdir(parents=True)
    (remote_dir / "d" / "a").write_text("a\n")
    (remote_dir / "d" / "sub" / "b").write_text("b\n")
    seen = Seen()
    ctx = seen.ctx(build_plan(tmp_path), comm, tmp_path)
    r = str(remote_dir)
    await run_file(FileConfig(source=f"{r}/d", destination="got", direction="download"), ctx)
    await run_file(FileConfig(source=f"{r}/d/", destination="flat", direction="download"), ctx)
    await run_file(FileConfig(source=f"{r}/d/a", destination="files/", direction="download"), ctx)
    await run_file(
        FileConfig(source=f"{r}/d/a", destination="files/x/renamed", direction="download"), ctx
    )
    assert _tree(tmp_path / "got") == {"d": None, "d/a": "a\n", "d/sub": None, "d/sub/b": "b\n"}
    assert _tree(tmp_path / "flat") == {"a": "a\n", "sub": None, "sub/b": "b\n"}
    assert _tree(tmp_path / "files") == {"a": "a\n", "x": None, "x/renamed": "a\n"}
    assert seen.said[2] == f"Downloading {r}/d/a => files/a"


async def test_file_errors(comm: SshCommunicator, remote_dir: Path, tmp_path: Path) -> None:
    seen = Seen()
    errors: list[str] = []
    ctx = seen.ctx(build_plan(tmp_path), comm, tmp_path, error=errors.append)
    with pytest.raises(
        ProvisionerError,
        match="Bad source 'later.txt': stat later.txt: no such "
        'file or directory .it is "generated"',
    ):
        await run_file(FileConfig(source="later.txt", destination="/tmp/", generated=True), ctx)
    (tmp_path / "f").write_text("f")
    with pytest.raises(ProvisionerError, match="^Upload failed: .*/nope/f"):
        await run_file(FileConfig(source="f", destination=f"{remote_dir}/nope/f"), ctx)
    assert errors and errors[0].startswith("Upload failed: ")
    with pytest.raises(ProvisionerError, match="^Download failed: "):
        await run_file(
            FileConfig(source=f"{remote_dir}/missing", destination="x", direction="download"), ctx
        )
    with pytest.raises(ProvisionerError, match="with content, give the full remote file path"):
        await run_file(FileConfig(content="x", destination=f"{remote_dir}/"), ctx)
    (tmp_path / "adir").mkdir()
    (remote_dir / "r").write_text("r")
    with pytest.raises(ProvisionerError, match="it is a directory; end the destination"):
        await run_file(
            FileConfig(source=f"{remote_dir}/r", destination="adir", direction="download"), ctx
        )


async def test_run_provisioner_with_a_real_shell(
    comm: SshCommunicator,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    plan = build_plan(
        tmp_path,
        [
            {
                "type": "shell",
                "inline": ["exit 1"],
                "max_retries": 1,
                "remote_folder": str(remote_dir),
            }
        ],
    )
    seen = Seen()
    with pytest.raises(
        ProvisionerError,
        match=r"^provisioner 1 \(shell\): Script exited with "
        r"non-zero exit status: 1",
    ):
        await run_provisioner(plan.provisioners[0], seen.ctx(plan, comm, tmp_path))
    assert seen.said.count("Provisioning with shell script: <inline script>") == 2
    assert seen.said[-1] == "retry limit reached."
