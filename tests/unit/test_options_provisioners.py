"""Provisioner options (shell, file, shell-local, breakpoint and the common keys) via
`make_plan`, with Packer's Prepare-time checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_options_qemu import BASE

from kiln.engine.plan import StepPlan
from kiln.options.spec import Duration
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.provisioners.config import BreakpointConfig, FileConfig, ShellConfig, ShellLocalConfig
from kiln.template.loader import parse_template


def plan_steps(tmp_path: Path, *provisioners: dict[str, Any]) -> list[StepPlan]:
    text = json.dumps({"builders": [BASE], "provisioners": list(provisioners)})
    plan = make_plan(parse_template(text, tmp_path / "t.json"), PlanOptions(cwd=tmp_path, env={}))
    return plan.builds[0].provisioners


def step(tmp_path: Path, **provisioner: Any) -> StepPlan:
    (only,) = plan_steps(tmp_path, provisioner)
    return only


def errors(tmp_path: Path, **provisioner: Any) -> list[str]:
    with pytest.raises(ValidationFailed) as failed:
        plan_steps(tmp_path, provisioner)
    return [e for _, group in failed.value.groups for e in group]


# --- shell -----------------------------------------------------------------------------


def test_shell_options(tmp_path: Path) -> None:
    s = step(
        tmp_path,
        type="shell",
        inline=["apt-get update", "apt-get -y upgrade"],
        inline_shebang="/bin/bash -ex",
        environment_vars=["DEBIAN_FRONTEND=noninteractive", "A=b=c"],
        env={"LANG": "C.UTF-8", "N": 1},
        execute_command="sudo -E sh -c '{{ .Vars }} {{ .Path }}'",
        env_var_format="export %s='%s'; ",
        remote_folder="/var/tmp",
        remote_file="setup.sh",
        remote_path="/var/tmp/setup.sh",
        skip_clean=True,
        expect_disconnect="true",
        start_retry_timeout="10m",
        valid_exit_codes=[0, "2300218"],
        binary=True,
        use_env_var_file=True,
        pause_after="5s",
    )
    c = s.config
    assert isinstance(c, ShellConfig)
    assert c.inline == ["apt-get update", "apt-get -y upgrade"]
    assert c.inline_shebang == "/bin/bash -ex"
    assert c.environment_vars == ["DEBIAN_FRONTEND=noninteractive", "A=b=c"]
    assert c.env == {"LANG": "C.UTF-8", "N": "1"}
    # execute_command is rendered per script, at build time: it stays raw here.
    assert c.execute_command == "sudo -E sh -c '{{ .Vars }} {{ .Path }}'"
    assert (c.env_var_format, c.remote_folder, c.remote_file, c.remote_path) == (
        "export %s='%s'; ",
        "/var/tmp",
        "setup.sh",
        "/var/tmp/setup.sh",
    )
    assert (c.skip_clean, c.expect_disconnect, c.binary, c.use_env_var_file) == (
        True,
        True,
        True,
        True,
    )
    assert c.start_retry_timeout == Duration(600.0, "10m")
    assert c.valid_exit_codes == [0, 2300218]
    assert c.pause_after == Duration(5.0, "5s")


def test_shell_script_files(tmp_path: Path) -> None:
    (tmp_path / "a.sh").write_text("")
    (tmp_path / "b.sh").write_text("")
    assert step(tmp_path, type="shell", script="a.sh").config.script == "a.sh"
    assert step(tmp_path, type="shell", scripts=["a.sh", "b.sh"]).config.scripts == [
        "a.sh",
        "b.sh",
    ]


def test_shell_renders_user_variables_and_leaves_build_values_for_later(tmp_path: Path) -> None:
    s = step(tmp_path, type="shell", inline=["echo {{ build_name }} {{ build `Host` }}"])
    assert s.config.inline == ["echo qemu <build Host>"]
    assert s.raw["inline"] == ["echo {{ build_name }} {{ build `Host` }}"]


@pytest.mark.parametrize(
    ("provisioner", "messages"),
    [
        (
            {"type": "shell"},
            ["Either a script file or inline script must be specified (set inline, script or "
             "scripts)."],
        ),
        (
            {"type": "shell", "inline": ["x"], "scripts": ["a.sh"]},
            ["Only one of inline, script, scripts or command can be specified.",
             "Bad script 'a.sh': stat a.sh: no such file or directory"],
        ),
        (
            {"type": "shell", "script": "missing.sh"},
            ["Bad script 'missing.sh': stat missing.sh: no such file or directory"],
        ),
        (
            {"type": "shell", "inline": ["x"], "environment_vars": ["FOO", "=bar"]},
            ["Environment variable not in format 'key=value': FOO",
             "Environment variable not in format 'key=value': =bar"],
        ),
        (
            {"type": "shell", "inline": ["x"], "valid_exit_codes": ["zero"]},
            ["cannot parse 'valid_exit_codes[0]' as int: strconv.ParseInt: parsing \"zero\": "
             "invalid syntax (expected a whole number such as 1024)"],
        ),
        (
            {"type": "shell", "inlin": ["x"]},
            ["unknown configuration key: '\"inlin\"' — did you mean \"inline\"?"],
        ),
    ],
)  # fmt: skip
def test_shell_errors(tmp_path: Path, provisioner: dict[str, Any], messages: list[str]) -> None:
    assert errors(tmp_path, **provisioner) == [f"provisioner 1 (shell): {m}" for m in messages]


# --- file ------------------------------------------------------------------------------


def test_file_upload(tmp_path: Path) -> None:
    (tmp_path / "motd").write_text("hi")
    c = step(tmp_path, type="file", source="motd", destination="/etc/motd").config
    assert isinstance(c, FileConfig)
    assert (c.source, c.destination, c.direction) == ("motd", "/etc/motd", "upload")


def test_file_sources_content_download_and_generated(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("")
    (tmp_path / "b").write_text("")
    assert step(tmp_path, type="file", sources=["a", "b"], destination="/tmp/").config.sources == [
        "a",
        "b",
    ]
    c = step(tmp_path, type="file", content="hello", destination="/tmp/x").config
    assert c.content == "hello"
    c = step(tmp_path, type="file", source="/etc/os-release", destination="out/",
             direction="download").config  # fmt: skip
    assert c.direction == "download"
    c = step(tmp_path, type="file", source="later.tar", destination="/tmp/", generated=True).config
    assert c.generated is True


@pytest.mark.parametrize(
    ("provisioner", "messages"),
    [
        (
            {"type": "file", "destination": "/tmp/x"},
            ["Source must be specified (set source, sources or content)."],
        ),
        (
            {"type": "file", "source": "a", "content": "x", "destination": "/tmp/x",
             "generated": True},
            ["Only one of source, sources or content can be specified."],
        ),
        (
            {"type": "file", "sources": ["a", "b"], "destination": "out/",
             "direction": "download"},
            ["A download takes one source; sources and content are for uploads."],
        ),
        (
            {"type": "file", "content": "x"},
            ["Destination must be specified."],
        ),
        (
            {"type": "file", "source": "missing.txt", "destination": "/tmp/"},
            ["Bad source 'missing.txt': stat missing.txt: no such file or directory"],
        ),
        (
            {"type": "file", "content": "x", "destination": "/tmp/x", "direction": "sideways"},
            ["direction 'sideways' is invalid: use one of upload, download"],
        ),
    ],
)  # fmt: skip
def test_file_errors(tmp_path: Path, provisioner: dict[str, Any], messages: list[str]) -> None:
    assert errors(tmp_path, **provisioner) == [f"provisioner 1 (file): {m}" for m in messages]


# --- shell-local and breakpoint --------------------------------------------------------


def test_shell_local_options(tmp_path: Path) -> None:
    c = step(
        tmp_path,
        type="shell-local",
        command="echo done",
        inline_shebang="/bin/bash",
        environment_vars=["A=1"],
        env={"B": "2"},
        execute_command=["/bin/bash", "-c", "{{ .Vars }} {{ .Script }}"],
        env_var_format="%s=%s ",
        only_on=["linux"],
        valid_exit_codes=[0, 1],
    ).config
    assert isinstance(c, ShellLocalConfig)
    assert c.command == "echo done"
    assert c.inline_shebang == "/bin/bash"
    assert (c.environment_vars, c.env) == (["A=1"], {"B": "2"})
    assert c.execute_command == ["/bin/bash", "-c", "{{ .Vars }} {{ .Script }}"]
    assert (c.env_var_format, c.only_on, c.valid_exit_codes) == ("%s=%s ", ["linux"], [0, 1])


def test_shell_local_inline_scripts(tmp_path: Path) -> None:
    (tmp_path / "s.sh").write_text("")
    assert step(tmp_path, type="shell-local", inline=["true"]).config.inline == ["true"]
    assert step(tmp_path, type="shell-local", script="s.sh").config.script == "s.sh"
    assert step(tmp_path, type="shell-local", scripts=["s.sh"]).config.scripts == ["s.sh"]


def test_shell_local_use_linux_pathing_is_accepted(tmp_path: Path) -> None:
    c = step(tmp_path, type="shell-local", inline=["true"], use_linux_pathing=True).config
    assert c.use_linux_pathing is True


def test_shell_local_errors(tmp_path: Path) -> None:
    assert errors(tmp_path, type="shell-local", command="a", inline=["b"]) == [
        "provisioner 1 (shell-local): Only one of inline, script, scripts or command can be "
        "specified."
    ]


def test_breakpoint(tmp_path: Path) -> None:
    c = step(tmp_path, type="breakpoint", note="check the disk", disable=True).config
    assert isinstance(c, BreakpointConfig)
    assert (c.note, c.disable) == ("check the disk", True)


# --- common keys, override, only/except ------------------------------------------------


def test_common_keys(tmp_path: Path) -> None:
    s = step(
        tmp_path, type="shell", inline=["x"], pause_before="10s", max_retries="3", timeout="5m"
    )
    assert (s.pause_before, s.max_retries, s.timeout) == (
        Duration(10.0, "10s"),
        3,
        Duration(300.0, "5m"),
    )
    assert "pause_before" not in s.raw


def test_common_key_errors(tmp_path: Path) -> None:
    assert errors(tmp_path, type="shell", inline=["x"], pause_before="10", max_retries="x") == [
        "provisioner 1 (shell): error decoding 'pause_before': time: missing unit in duration "
        '"10" (expected a duration such as "5s" or "1m30s")',
        "provisioner 1 (shell): cannot parse 'max_retries' as int: strconv.ParseInt: parsing "
        '"x": invalid syntax (expected a whole number such as 1024)',
    ]


def test_override_per_build(tmp_path: Path) -> None:
    s = step(
        tmp_path,
        type="shell",
        inline=["generic"],
        override={"qemu": {"inline": ["for qemu"]}, "other": {"inline": ["x"]}},
    )
    assert s.config.inline == ["for qemu"]


def test_only_and_except_select_builds(tmp_path: Path) -> None:
    a = {**BASE, "name": "a"}
    b = {**BASE, "name": "b"}
    text = json.dumps(
        {
            "builders": [a, b],
            "provisioners": [
                {"type": "breakpoint", "only": ["a"], "note": "only a"},
                {"type": "breakpoint", "except": ["a"], "note": "not a"},
            ],
        }
    )
    plan = make_plan(parse_template(text, tmp_path / "t.json"), PlanOptions(cwd=tmp_path, env={}))
    notes = {b.name: [p.config.note for p in b.provisioners] for b in plan.builds}
    assert notes == {"a": ["only a"], "b": ["not a"]}


def test_unknown_provisioner_type(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as failed:
        plan_steps(tmp_path, {"type": "shel", "inline": ["x"]})
    assert failed.value.groups[0][1] == [
        "provisioner 1: provisioner type 'shel' is not supported by kiln: use one of shell, "
        'file, shell-local, breakpoint, sleep, ansible, ansible-local — did you mean "shell"?'
    ]


def test_error_cleanup_provisioner(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "builders": [BASE],
            "error-cleanup-provisioner": {"type": "shell-local", "inline": ["echo failed"]},
        }
    )
    plan = make_plan(parse_template(text, tmp_path / "t.json"), PlanOptions(cwd=tmp_path, env={}))
    cleanup = plan.builds[0].error_cleanup
    assert cleanup is not None
    assert (cleanup.type, cleanup.where, cleanup.config.inline) == (
        "shell-local",
        "error-cleanup-provisioner",
        ["echo failed"],
    )


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("~no-such-user-here/s.sh", "stat ~no-such-user-here/s.sh: no such file or directory"),
        ("s" * 5000, f"stat {'s' * 5000}: file name too long"),
    ],
)
def test_script_names_that_cannot_exist(tmp_path: Path, script: str, reason: str) -> None:
    assert errors(tmp_path, type="shell", script=script) == [
        f"provisioner 1 (shell): Bad script '{script}': {reason}"
    ]


def test_script_name_with_nul(tmp_path: Path) -> None:
    assert errors(tmp_path, type="shell-local", script="a\0b") == [
        "provisioner 1 (shell-local): Bad script 'a\\x00b': a file name cannot contain a NUL "
        "character"
    ]


def test_checks_of_the_provisioner_modules(tmp_path: Path) -> None:
    assert errors(tmp_path, type="shell", inline=["x"], environment_vars=["1BAD=x"]) == [
        "provisioner 1 (shell): environment variable name '1BAD' is invalid: use letters, "
        "digits and underscores, not starting with a digit"
    ]
