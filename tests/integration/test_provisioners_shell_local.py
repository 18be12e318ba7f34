"""The shell-local provisioner running real local processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from kiln.engine.plan import BuildPlan
from kiln.provisioners.config import ShellLocalConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError
from kiln.provisioners.shell_local import run_shell_local
from template_plans import build_of


def build_plan(tmp_path: Path) -> BuildPlan:
    return build_of(tmp_path)


class Seen:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.messages: list[str] = []

    def ctx(self, tmp_path: Path, **values: str) -> ProvisionContext:
        return ProvisionContext(
            plan=build_plan(tmp_path),
            say=self.said.append,
            message=self.messages.append,
            comm=None,
            build_values=dict(values),
            cwd=tmp_path,
        )


async def run(tmp_path: Path, **options: Any) -> Seen:
    seen = Seen()
    await run_shell_local(
        ShellLocalConfig(**options), seen.ctx(tmp_path, PackerHTTPAddr="10.0.2.2:80", Host="h")
    )
    return seen


async def test_inline_with_environment(tmp_path: Path) -> None:
    seen = await run(
        tmp_path,
        inline=['echo "$A|$B|$PACKER_BUILD_NAME|$PACKER_HTTP_ADDR"', "echo cwd=$(pwd)"],
        environment_vars=["A=it's `x` $y", "B=1"],
        env={"B": "map"},
    )
    assert seen.messages == ["it's `x` $y|map|qemu|10.0.2.2:80", f"cwd={tmp_path}"]
    assert seen.said[0].startswith("Running local shell script: ")
    temp = Path(seen.said[0].removeprefix("Running local shell script: "))
    assert not temp.exists()  # the inline script is removed


async def test_command_scripts_and_execute_command(tmp_path: Path) -> None:
    (tmp_path / "a.sh").write_text('echo "a: $0 $FOO"\n')
    (tmp_path / "b.sh").write_text('echo "b: $0"\n')
    seen = await run(
        tmp_path,
        scripts=["a.sh", "b.sh"],
        environment_vars=["FOO=bar"],
        execute_command=["/bin/sh", "-c", "{{.Vars}} /bin/sh {{.Script}}"],
    )
    assert seen.messages == [f"a: {tmp_path}/a.sh bar", f"b: {tmp_path}/b.sh"]
    assert seen.said == [
        "Running local shell script: " + str(tmp_path / n) for n in ("a.sh", "b.sh")
    ]
    seen = await run(tmp_path, command="echo one command")
    assert seen.messages == ["one command"]
    seen = await run(
        tmp_path,
        inline=["true"],
        execute_command=["/bin/echo", "{{ .Command }}", "{{ build `Host` }}"],
    )
    assert seen.messages[0].endswith(" h") and seen.messages[0].startswith("/")


async def test_exit_codes(tmp_path: Path) -> None:
    await run(tmp_path, inline=["exit 3"], valid_exit_codes=[0, 3])
    with pytest.raises(ProvisionerError) as failed:
        await run(tmp_path, inline=["echo failing", "exit 3"])
    assert str(failed.value).startswith(
        "Script exited with non-zero exit status: 3. Allowed exit codes are: [0] (script: /"
    )


async def test_missing_program_and_empty_execute_command(tmp_path: Path) -> None:
    with pytest.raises(ProvisionerError, match=r"Error executing script: .*\n\n.*nope"):
        await run(tmp_path, inline=["true"], execute_command=["/nonexistent/nope"])
    with pytest.raises(ProvisionerError, match="No ExecuteCommand provided"):
        await run(tmp_path, inline=["true"], execute_command=[])


async def test_only_on_another_os_skips(tmp_path: Path) -> None:
    seen = await run(tmp_path, inline=["touch ran"], only_on=["windows", "darwin"])
    assert seen.said == ["Skipping shell-local due to runtime OS"]
    assert not (tmp_path / "ran").exists()
    await run(tmp_path, inline=["touch ran"], only_on=["linux"])
    assert (tmp_path / "ran").exists()


async def test_the_child_gets_kilns_environment_but_not_the_packer_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILN_TEST_INHERITED", "yes")
    seen = await run(
        tmp_path,
        inline=['echo "$KILN_TEST_INHERITED"'],
        execute_command=["/bin/sh", "-c", "{{.Script}}"],
    )
    assert seen.messages == ["yes"]
    seen = await run(
        tmp_path,
        inline=['echo "[$PACKER_BUILD_NAME]"'],
        execute_command=["/bin/sh", "-c", "{{.Script}}"],
    )
    assert seen.messages == ["[" + os.environ.get("PACKER_BUILD_NAME", "") + "]"]
