"""`make_plan`: variables, build selection, config-time rendering, late templates, grouping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_options_qemu import BASE

from kiln.engine.plan import Plan
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.template.loader import parse_template

INIT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def plan(tmp_path: Path, template: dict[str, Any], **options: Any) -> Plan:
    tpl = parse_template(json.dumps(template), tmp_path / "template.json")
    opts = PlanOptions(cwd=tmp_path, env=options.pop("env", {}), init_time=INIT, **options)
    return make_plan(tpl, opts)


def failure(tmp_path: Path, template: dict[str, Any], **options: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as failed:
        plan(tmp_path, template, **options)
    return failed.value


def named(*names: str) -> list[dict[str, Any]]:
    return [{**BASE, "name": n} for n in names]


def test_user_variables_are_rendered_into_builders(tmp_path: Path) -> None:
    p = plan(
        tmp_path,
        {
            "variables": {"mem": "2048", "name": "deb", "pw": "hunter2"},
            "sensitive-variables": ["pw"],
            "builders": [{**BASE, "memory": "{{ user `mem` }}", "vm_name": "{{user `name`}}.img",
                          "ssh_password": "{{ user `pw` }}"}],
        },
        cli_vars={"name": "ubuntu"},
    )  # fmt: skip
    (build,) = p.builds
    assert (build.config.memory, build.config.vm_name) == (2048, "ubuntu.img")
    assert p.variables == {"mem": "2048", "name": "ubuntu", "pw": "hunter2"}
    assert p.secrets == ["hunter2"]  # the sensitive variable, which is also the password


def test_passwords_are_secrets(tmp_path: Path) -> None:
    p = plan(tmp_path, {"builders": [{**BASE, "vnc_use_password": True, "vnc_password": "vncpw"}]})
    assert sorted(p.secrets) == ["secret", "vncpw"]  # a vnc_password you set is a secret...
    p = plan(tmp_path, {"builders": [{**BASE, "vnc_use_password": True}]})
    # ...the one kiln generates is shown with the VNC address, as Packer shows it: not one.
    assert p.secrets == ["secret"]
    assert p.builds[0].config.vnc_password_generated is True


def test_secrets_never_appear_in_errors(tmp_path: Path) -> None:
    failed = failure(
        tmp_path,
        {
            "variables": {"pw": "hunter2{{"},
            "sensitive-variables": ["pw"],
            "builders": [BASE],
        },
    )
    assert "hunter2" not in failed.format()
    assert "<sensitive>" in failed.format()
    # A path the user wrote that contains the password is their word, not the password...
    failed = failure(tmp_path, {"builders": [{**BASE, "ssh_password": "pw1234", "floppy_files":
                                              ["pw1234.cfg"]}]})  # fmt: skip
    assert failed.groups[0][1] == [
        "Bad Floppy disk file 'pw1234.cfg': stat pw1234.cfg: no such file or directory"
    ]
    # ...but one rendered from a sensitive variable carries it.
    failed = failure(
        tmp_path,
        {"variables": {"pw": "pw1234"}, "sensitive-variables": ["pw"],
         "builders": [{**BASE, "floppy_files": ["{{user `pw`}}.cfg"]}]},
    )  # fmt: skip
    assert failed.groups[0][1] == [
        "Bad Floppy disk file '<sensitive>.cfg': stat <sensitive>.cfg: no such file or directory"
    ]


def test_var_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "vars.json").write_text('{"mem": "4096"}')
    p = plan(
        tmp_path,
        {"variables": {"mem": "1"}, "builders": [{**BASE, "memory": "{{user `mem`}}"}]},
        var_files=[tmp_path / "vars.json"],
    )
    assert p.builds[0].config.memory == 4096


def test_build_functions_at_config_time(tmp_path: Path) -> None:
    p = plan(
        tmp_path,
        {
            "builders": [{**BASE, "name": "deb", "vm_name":
                          "{{ build_name }}-{{ build_type }}-{{ packer_version }}-{{ timestamp }}"}]
        },
    )  # fmt: skip
    assert p.builds[0].config.vm_name == "deb-qemu-1.6.6-1704164645"


def test_late_options_are_not_rendered_at_config_time(tmp_path: Path) -> None:
    p = plan(
        tmp_path,
        {"builders": [{**BASE, "boot_command": ["ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"],
                       "qemuargs": [["-name", "{{ .Name }}"]]}]},
    )  # fmt: skip
    c = p.builds[0].config
    assert c.boot_command == ["ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"]
    assert c.qemuargs == [["-name", "{{ .Name }}"]]


def test_late_templates_are_tried_at_validate_time(tmp_path: Path) -> None:
    failed = failure(
        tmp_path,
        {"builders": [{**BASE, "boot_command": ["{{ user `nope` }}"],
                       "qemuargs": [["-name", "{{ .Name | upper }}{{ env `X` }}"]]}]},
    )  # fmt: skip
    assert ("qemu", UNDEFINED_NOPE) in failed.warnings
    assert failed.groups[0][1] == [
        'template: qemuargs[0][1]:1:23: env can only be used in the "variables" section: '
        'declare a variable such as "my_var": "{{env `X`}}" there and use {{user `my_var`}} '
        "here",
    ]


def test_late_template_syntax_errors(tmp_path: Path) -> None:
    failed = failure(tmp_path, {"builders": [{**BASE, "boot_command": ["{{ .HTTPIP "]}]})
    assert failed.groups[0][1] == ["template: boot_command:1:1: unclosed action"]


def test_late_templates_with_functions_that_work(tmp_path: Path) -> None:
    p = plan(
        tmp_path,
        {
            "variables": {"ks": "ks.cfg"},
            "builders": [{**BASE, "boot_command": [
                "{{ .SSHPublicKey | urlquery }} {{ user `ks` }} {{ printf \"%d\" .HTTPPort }}"]}],
        },
    )  # fmt: skip
    assert p.builds[0].config.boot_command[0].startswith("{{ .SSHPublicKey")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{{ env `PW` }}",
         'template: ssh_password:1:4: env can only be used in the "variables" section: declare '
         'a variable such as "my_var": "{{env `PW`}}" there and use {{user `my_var`}} here'),
        ("{{ zzz_nothing }}", 'template: ssh_password:1:4: function "zzz_nothing" not defined'),
    ],
)  # fmt: skip
def test_config_time_render_errors(tmp_path: Path, value: str, message: str) -> None:
    failed = failure(tmp_path, {"builders": [{**BASE, "ssh_password": value}]})
    assert failed.groups == [('Error: Failed to prepare build: "qemu"', [message])]


UNDEFINED_NOPE = (
    'user variable "nope" is not defined (defined: none); it renders as an empty string, as '
    "in Packer: declare it in the \"variables\" section or pass -var 'nope=...'"
)


def test_an_undefined_user_variable_is_a_warning_and_renders_empty(tmp_path: Path) -> None:
    """Packer 1.6.6 renders it as "" outside "variables"; four public templates rely on it
    (issue 10 §2.5). One warning per variable, with a suggestion, and no second error."""
    p = plan(
        tmp_path,
        {
            "variables": {"ssh_password": "pw", "mem": "1024"},
            "builders": [{**BASE, "ssh_password": "{{user `ssh_pasword`}}",
                          "memory": "{{user `nope`}}", "vm_name": "x{{user `nope`}}y",
                          "boot_command": ["{{user `ssh_pasword`}}<enter>"]}],
            "provisioners": [{"type": "shell", "inline": ["echo {{user `nope`}}"]}],
        },
    )  # fmt: skip
    (build,) = p.builds
    assert (build.comm.ssh_password, build.config.memory, build.config.vm_name) == ("", 512, "xy")
    assert [w for w in p.warnings if "user variable" in w[1]] == [
        ("qemu", 'user variable "ssh_pasword" is not defined — did you mean "ssh_password"? '
                 "(defined: mem, ssh_password); it renders as an empty string, as in Packer: "
                 "declare it in the \"variables\" section or pass -var 'ssh_pasword=...'"),
        ("qemu", 'user variable "nope" is not defined (defined: mem, ssh_password); it renders '
                 "as an empty string, as in Packer: declare it in the \"variables\" section or "
                 "pass -var 'nope=...'"),
    ]  # fmt: skip


def test_nested_values_are_rendered_with_their_path(tmp_path: Path) -> None:
    failed = failure(tmp_path, {"builders": [{**BASE, "qemu_img_args": {"convert": ["{{ x }}"]}}]})
    assert failed.groups[0][1] == [
        'template: qemu_img_args.convert[0]:1:4: function "x" not defined'
    ]


def test_non_qemu_builder(tmp_path: Path) -> None:
    failed = failure(tmp_path, {"builders": [*named("a"), {"type": "virtualbox-iso", "name": "b"}]})
    assert failed.groups == [
        (
            'Error: Failed to prepare build: "b"',
            [
                "builder type 'virtualbox-iso' is not supported by kiln: kiln builds with QEMU "
                'only ("type": "qemu")\n'
                "  To build only this template's qemu builds, run kiln with -only=a"
            ],
        )
    ]


def test_non_qemu_builder_suggestion(tmp_path: Path) -> None:
    failed = failure(tmp_path, {"builders": [{**BASE, "type": "qemuu"}]})
    assert failed.groups[0][1][0].endswith('— did you mean "qemu"?')


def test_errors_are_grouped_by_build(tmp_path: Path) -> None:
    failed = failure(
        tmp_path,
        {"builders": [{**BASE, "name": "a", "memory": "x"}, {**BASE, "name": "b", "format": "x"},
                      {**BASE, "name": "c"}]},
    )  # fmt: skip
    assert [header for header, _ in failed.groups] == [
        'Error: Failed to prepare build: "a"',
        'Error: Failed to prepare build: "b"',
    ]
    assert failed.count == 2
    text = failed.format()
    assert text.startswith('Error: Failed to prepare build: "a"\n\n1 error occurred:\n\t* cannot')
    assert (
        '\n\nError: Failed to prepare build: "b"\n\n1 error occurred:\n\t* invalid format' in text
    )


def test_warnings_are_scoped_by_build(tmp_path: Path) -> None:
    p = plan(tmp_path, {"builders": named("a", "b")})
    assert ("a", p.warnings[0][1]) == p.warnings[0]
    assert {scope for scope, _ in p.warnings} == {"a", "b"}


@pytest.mark.parametrize(
    ("only", "except_", "built"),
    [
        ((), (), ["web-1", "web-2", "db"]),
        (("web-*",), (), ["web-1", "web-2"]),
        (("db", "web-2"), (), ["web-2", "db"]),
        ((), ("web-*",), ["db"]),
        (("web-*",), ("web-2",), ["web-1"]),
    ],
)
def test_only_and_except_flags(
    tmp_path: Path, only: tuple[str, ...], except_: tuple[str, ...], built: list[str]
) -> None:
    p = plan(tmp_path, {"builders": named("web-1", "web-2", "db")}, only=only, except_=except_)
    assert [b.name for b in p.builds] == built


def test_only_flag_that_matches_nothing(tmp_path: Path) -> None:
    """-only matching nothing would build nothing: an error. -except matching nothing leaves
    nothing out (READMEs pass one -except list to several templates): a warning."""
    failed = failure(tmp_path, {"builders": named("web", "db")}, only=["dbb"], except_=["x"])
    assert failed.groups[0] == (
        "",
        ['-only=dbb: no build matches it; builds in the template: web, db — did you mean "db"?'],
    )
    assert (
        "",
        "-except=x: no build matches it; builds in the template: web, db (it leaves nothing out)",
    ) in failed.warnings


def test_except_names_a_post_processor_by_its_type(tmp_path: Path) -> None:
    """Packer's template parser names an unnamed post-processor after its type, and -except
    drops it with the rest of its chain."""
    p = plan(
        tmp_path,
        {"builders": named("web"),
         "post-processors": [[{"type": "manifest"}, {"type": "checksum"}],
                             {"type": "compress", "name": "zip"}]},
        except_=["manifest"],
    )  # fmt: skip
    assert [[s.type for s in chain] for chain in p.builds[0].post_processors] == [["compress"]]
    assert not [w for _, w in p.warnings if "-except" in w]


def test_only_except_in_steps_must_name_builds(tmp_path: Path) -> None:
    failed = failure(
        tmp_path,
        {
            "builders": named("web", "db"),
            "provisioners": [{"type": "breakpoint", "only": ["wbe"]}],
            "post-processors": [{"type": "manifest", "except": ["dbs"]}],
        },
    )
    assert failed.groups[0] == (
        "",
        [
            "provisioner 1: 'only' specified builder 'wbe' not found",
            "post-processor 1: 'except' specified builder 'dbs' not found — did you mean \"db\"?",
        ],
    )


def test_required_variable_errors_stop_before_the_builds(tmp_path: Path) -> None:
    failed = failure(tmp_path, {"variables": {"pw": None}, "builders": [{**BASE, "memory": "x"}]})
    assert failed.groups == [
        ("", ["required variable not set: pw (set it with -var 'pw=…' or in a -var-file)"])
    ]


def test_min_packer_version(tmp_path: Path) -> None:
    p = plan(tmp_path, {"min_packer_version": "1.5.0", "builders": [BASE]})
    assert not [w for _, w in p.warnings if "requires Packer" in w]
    p = plan(tmp_path, {"min_packer_version": "v1.9.2", "builders": [BASE]})
    assert (
        "",
        "This template requires Packer version v1.9.2 or higher; kiln follows Packer 1.6.6 "
        "and the modern qemu plugin's options, so it continues",
    ) in p.warnings
    failed = failure(tmp_path, {"min_packer_version": "one", "builders": [BASE]})
    assert failed.groups == [("", ["min_packer_version 'one' is not a version like 1.6.0"])]


def test_build_functions_with_build_values(tmp_path: Path) -> None:
    (build,) = plan(tmp_path, {"builders": [BASE]}).builds
    funcs = build.functions({"Host": "127.0.0.1"})
    assert funcs["build"]("Host") == "127.0.0.1"
    assert funcs["build_name"]() == "qemu"


def test_force_accepts_an_existing_output_directory(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
    template = {"builders": [{**BASE, "output_directory": "out"}]}
    assert failure(tmp_path, template).count == 1
    assert plan(tmp_path, template, force=True).builds[0].config.output_directory == "out"


@pytest.mark.parametrize("version", ["1.6", "v1.6.6", "1.5.0-rc1", "1.6.6+ds2", "1"])
def test_min_packer_version_forms(tmp_path: Path, version: str) -> None:
    p = plan(tmp_path, {"min_packer_version": version, "builders": [BASE]})
    assert not [w for _, w in p.warnings if "requires Packer" in w]


@pytest.mark.parametrize("version", ["1..6", "١.٦", "1.6.x", "latest", "v"])
def test_min_packer_version_that_is_not_a_version(tmp_path: Path, version: str) -> None:
    failed = failure(tmp_path, {"min_packer_version": version, "builders": [BASE]})
    assert failed.groups == [("", [f"min_packer_version {version!r} is not a version like 1.6.0"])]


# --- build names with user variables (issue 10 §2.2) ------------------------------------

BENTO_NAMES = {
    "variables": {"template": "fedora-37-x86_64", "arch": "aarch64"},
    "builders": [
        {**BASE, "name": "{{ user `template` }}", "vm_name": "{{ build_name }}.qcow2"},
        {**BASE, "name": "fedora-37-{{user `arch`}}"},
    ],
    "provisioners": [{"type": "shell", "inline": ["true"], "only": ["{{ user `template` }}"]}],
}


def test_user_variables_in_builder_names_are_rendered(tmp_path: Path) -> None:
    """Packer's Core.Initialize renders every builder name with the user variables, so
    `-only` matches the rendered names (bento names its builds `{{ user `template` }}`)."""
    p = plan(tmp_path, BENTO_NAMES)
    assert [b.name for b in p.builds] == ["fedora-37-x86_64", "fedora-37-aarch64"]
    assert p.builds[0].config.vm_name == "fedora-37-x86_64.qcow2"
    # Provisioners' only/except and overrides name the raw builder name, as in Packer.
    assert [len(b.provisioners) for b in p.builds] == [1, 0]
    p = plan(tmp_path, BENTO_NAMES, only=["fedora-37-x86_64"])
    assert [b.name for b in p.builds] == ["fedora-37-x86_64"]
    p = plan(tmp_path, BENTO_NAMES, except_=["*-aarch64"], cli_vars={"template": "f38"})
    assert [b.name for b in p.builds] == ["f38"]


def test_only_lists_the_rendered_build_names(tmp_path: Path) -> None:
    failed = failure(tmp_path, BENTO_NAMES, only=["fedora-37-x86_46"])
    assert failed.groups[0][1] == [
        "-only=fedora-37-x86_46: no build matches it; builds in the template: fedora-37-x86_64, "
        'fedora-37-aarch64 — did you mean "fedora-37-x86_64"?'
    ]


def test_builder_names_that_fail_to_render_or_collide(tmp_path: Path) -> None:
    failed = failure(
        tmp_path,
        {"variables": {"a": "x"},
         "builders": [{**BASE, "name": "{{ env `HOME` }}"}, {**BASE, "name": "{{user `a`}}"},
                      {**BASE, "name": "x"}]},
    )  # fmt: skip
    assert failed.groups[0] == ("", [
        "Error interpolating builder '{{ env `HOME` }}': template: builders[0].name:1:4: env "
        'can only be used in the "variables" section: declare a variable such as "my_var": '
        '"{{env `HOME`}}" there and use {{user `my_var`}} here',
        "builder 3: builder with name 'x' already exists (builder 2's name '{{user `a`}}' "
        "renders to it)",
    ])  # fmt: skip


# --- a string for a list is split on commas (issue 10 §2.4) -----------------------------


def test_a_string_for_a_list_option_is_split_on_commas(tmp_path: Path) -> None:
    """Packer's config.Decode splits it (mapstructure.StringToSliceHookFunc(",")): a public
    Windows template writes "floppy_files": "a,b" and gets both files on its floppy."""
    for name in ("Autounattend.xml", "drivers.inf"):
        (tmp_path / name).write_text("x")
    p = plan(
        tmp_path,
        {
            "builders": [{**BASE, "floppy_files": "Autounattend.xml,drivers.inf",
                          "qemu_img_args": {"convert": "-o,compat=1.1"}}],
            "provisioners": [{"type": "shell", "inline": "echo one,echo two",
                              "environment_vars": "A=1,B=2", "valid_exit_codes": "0,3"}],
        },
    )  # fmt: skip
    build = p.builds[0]
    assert build.config.floppy_files == ["Autounattend.xml", "drivers.inf"]
    assert build.config.qemu_img_args.convert == ("-o", "compat=1.1")
    shell = build.provisioners[0].config
    assert (shell.inline, shell.environment_vars) == (["echo one", "echo two"], ["A=1", "B=2"])
    assert shell.valid_exit_codes == [0, 3]


def test_a_floppy_glob_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    failed = failure(
        tmp_path, {"builders": [{**BASE, "floppy_files": "drivers/*.inf,drivers/*.sys"}]}
    )
    assert failed.groups[0][1] == [
        "Bad Floppy disk file 'drivers/*.inf': the pattern matches no file",
        "Bad Floppy disk file 'drivers/*.sys': the pattern matches no file",
    ]
