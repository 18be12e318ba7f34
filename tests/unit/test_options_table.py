"""The option tables are well formed: what the docs, the decoder and validation rely on."""

from __future__ import annotations

import re

import pytest

from kiln.cli.docs import option_sets
from kiln.options.spec import OptionRow, option_specs

ROWS = [row for classes in option_sets().values() for cls in classes for row in option_specs(cls)]
SECTIONS = {
    "iso", "output", "disk", "machine", "display", "boot", "http", "floppy", "cd", "shutdown",
    "communicator", "ssh", "winrm", "provisioner", "shell", "file", "shell-local", "breakpoint",
    "ansible", "ansible-local", "post-processor", "manifest", "checksum", "compress", "sleep",
    "vagrant", "vagrant-cloud", "artifice",
}  # fmt: skip
SINCE = re.compile(r"^(before 1\.6|1\.6\.6|plugin v\d+\.\d+\.\d+|kiln)$")


def _id(row: OptionRow) -> str:
    return f"{row.owner.__name__}.{row.name}"


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_row_is_documented(row: OptionRow) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", row.name)
    assert row.spec.help.strip().endswith((".", ")"))
    assert row.spec.section in SECTIONS
    assert SINCE.match(row.spec.since)


@pytest.mark.parametrize("row", [r for r in ROWS if r.spec.choices], ids=_id)
def test_default_is_an_allowed_choice(row: OptionRow) -> None:
    assert row.default in (*row.spec.choices, "")


def test_builder_tables_share_no_key() -> None:
    qemu, comm = option_sets()["qemu.md"]
    names = [r.name for cls in (qemu, comm) for r in option_specs(cls)]
    aliases = [a for cls in (qemu, comm) for r in option_specs(cls) for a, _ in r.spec.aliases]
    assert len(set(names)) == len(names)
    assert not set(aliases) & set(names)


def test_secret_options() -> None:
    secret = {r.name for r in ROWS if r.spec.secret}
    # vnc_password too (issue 15 item 6); the one kiln generates is shown, see step_qemu.
    assert secret == {
        "vnc_password",
        "ssh_password",
        "ssh_bastion_password",
        "ssh_proxy_password",
        "winrm_password",
        "access_token",
    }


def test_required_options() -> None:
    assert {_id(r) for r in ROWS if r.spec.required} == {
        "QemuConfig.iso_url",
        "QemuConfig.iso_checksum",
        "CommConfig.ssh_username",
        "FileConfig.destination",
        "VagrantCloudConfig.box_tag",
        "VagrantCloudConfig.version",
        "ArtificeConfig.files",
        "AnsibleConfig.playbook_file",
    }


def test_late_options_are_rendered_at_build_time() -> None:
    assert {_id(r) for r in ROWS if r.spec.late} == {
        "QemuConfig.qemuargs",
        "QemuConfig.boot_command",
        "QemuConfig.boot_steps",
        "ShellConfig.execute_command",
        "ShellLocalConfig.execute_command",
        "AnsibleConfig.inventory_file_template",
        "ChecksumConfig.output",
        "CompressConfig.output",
        "VagrantConfig.output",
        "VagrantConfig.override",
        "VagrantCloudConfig.box_download_url",
    }


def test_deprecated_aliases() -> None:
    aliases = {alias: r.name for r in ROWS for alias, _ in r.spec.aliases}
    assert aliases == {
        "ssh_host_port_min": "host_port_min",
        "ssh_host_port_max": "host_port_max",
        "ssh_wait_timeout": "ssh_timeout",
    }


def test_unsupported_options_are_the_ssh_extras_kiln_lacks() -> None:
    assert {r.name for r in ROWS if r.spec.unsupported} == {
        "ssh_certificate_file",
        "ssh_agent_auth",
        "ssh_bastion_host",
        "ssh_bastion_port",
        "ssh_bastion_username",
        "ssh_bastion_password",
        "ssh_bastion_private_key_file",
        "ssh_bastion_certificate_file",
        "ssh_bastion_interactive",
        "ssh_bastion_agent_auth",
        "ssh_proxy_host",
        "ssh_proxy_port",
        "ssh_proxy_username",
        "ssh_proxy_password",
        "ssh_local_tunnels",
        "ssh_remote_tunnels",
    }


def test_choice_errors_keep_packers_words() -> None:
    errors = {r.name: r.spec.choice_error for r in ROWS if r.spec.choice_error}
    assert errors == {
        "format": "invalid format, only 'qcow2' or 'raw' are allowed",
        "disk_interface": "unrecognized disk interface type",
        "disk_cache": "unrecognized disk cache type",
        "disk_discard": "unrecognized disk discard type",
        "disk_detect_zeroes": "unrecognized disk detect zeroes setting",
        "accelerator": "invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', "
        "or 'none' are allowed",
        "http_network_protocol": "http_network_protocol is invalid. Must be one of: "
        "[tcp tcp4 tcp6 unix unixpacket]",
    }


def test_the_option_exercise_check_knows_every_row() -> None:
    import option_coverage

    rows = option_coverage.all_rows()
    assert len(rows) == len(set(rows))
    assert {(r.owner.__name__, r.name) for r in ROWS} == set(rows)
    from kiln.options.decode import decode_sections
    from kiln.postprocessors.config import ManifestConfig

    decode_sections({"strip_time": True}, [ManifestConfig])
    assert "ManifestConfig.strip_time" not in option_coverage.never_exercised()
