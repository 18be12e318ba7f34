"""The communicator's options (CommConfig) through `make_plan`."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest
from test_options_qemu import comm, errors, run, warnings

from kiln.options.spec import Duration

USERNAME_REQUIRED = (
    "An ssh_username must be specified\n"
    '  Note: some builders used to default ssh_username to "root".'
)
HOST_PORT_WARNING = (
    "{name} is deprecated and is being replaced by {new}. Please, update your template to use "
    "{new}. In future versions of Packer, inclusion of {name} will error your builds."
)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("communicator", "none", "none"),
        ("communicator", "", "ssh"),
        ("host_port_min", 3000, 3000),
        ("host_port_max", "5000", 5000),
        ("host_port_min", 0, 2222),
        ("skip_nat_mapping", True, True),
        ("pause_before_connecting", "10s", Duration(10.0, "10s")),
        ("ssh_port", 2200, 2200),
        ("ssh_port", 0, 22),
        ("ssh_host", "192.0.2.7", "192.0.2.7"),
        ("ssh_timeout", "20m", Duration(1200.0, "20m")),
        ("ssh_timeout", "0s", Duration(300.0, "5m")),
        ("ssh_handshake_attempts", 3, 3),
        ("ssh_handshake_attempts", 0, 10),
        ("ssh_keep_alive_interval", "-1s", Duration(-1.0, "-1s")),
        ("ssh_keep_alive_interval", "0s", Duration(5.0, "5s")),
        ("ssh_read_write_timeout", "2m", Duration(120.0, "2m")),
        ("ssh_file_transfer_method", "sftp", "sftp"),
        ("ssh_file_transfer_method", "", "scp"),
        ("ssh_pty", "true", True),
        ("ssh_disable_agent_forwarding", True, True),
        ("ssh_username", "debian", "debian"),
        ("ssh_password", "hunter2", "hunter2"),
    ],
)
def test_option_value_after_prepare(
    tmp_path: Path, option: str, value: object, expected: object
) -> None:
    assert getattr(comm(tmp_path, **{option: value}), option) == expected


def test_deprecated_host_ports_win_and_warn(tmp_path: Path) -> None:
    result, errs, warns = run(
        tmp_path, ssh_host_port_min=2222, ssh_host_port_max=2229, host_port_min=3000
    )
    assert errs == []
    assert result is not None
    assert (result.comm.host_port_min, result.comm.host_port_max) == (2222, 2229)
    for old in ("ssh_host_port_min", "ssh_host_port_max"):
        new = old.replace("ssh_", "")
        assert HOST_PORT_WARNING.format(name=old, new=new) in warns


def test_ssh_wait_timeout_overrides_ssh_timeout(tmp_path: Path) -> None:
    result, errs, warns = run(tmp_path, ssh_timeout="5m", ssh_wait_timeout="30s")
    assert errs == []
    assert result is not None
    assert result.comm.ssh_timeout == Duration(30.0, "30s")
    assert (
        "ssh_wait_timeout is deprecated and is being replaced by ssh_timeout. Please, update "
        "your template to use ssh_timeout."
    ) in warns


def test_skip_nat_mapping_connects_to_localhost(tmp_path: Path) -> None:
    assert comm(tmp_path, skip_nat_mapping=True).ssh_host == "127.0.0.1"
    assert comm(tmp_path, skip_nat_mapping=True, ssh_host="10.1.1.1").ssh_host == "10.1.1.1"


def test_no_username_needed_without_ssh(tmp_path: Path) -> None:
    c = comm(tmp_path, communicator="none", drop=("ssh_username",), ssh_file_transfer_method="x")
    assert c.communicator == "none"


@pytest.mark.parametrize(
    ("options", "messages"),
    [
        (
            {"communicator": "telnet"},
            ["Communicator type telnet is invalid: use 'ssh' or 'none'"],
        ),
        (
            {"communicator": "sshh"},
            ['Communicator type sshh is invalid: use \'ssh\' or \'none\' — did you mean "ssh"?'],
        ),
        (
            {"communicator": "winrm", "winrm_username": "Administrator"},
            ["communicator 'winrm' is not supported by kiln: use 'ssh' (or 'none' to let the "
             "guest power itself off)"],
        ),
        (
            {"communicator": "docker"},
            ["communicator 'docker' is not supported by kiln: use 'ssh' (or 'none' to let the "
             "guest power itself off)"],
        ),
        (
            {"host_port_min": 4000, "host_port_max": 3000},
            ["host_port_min must be less than host_port_max (got 4000 and 3000; set them equal "
             "to force one port)"],
        ),
        (
            {"ssh_host_port_min": 4000, "ssh_host_port_max": 3000},
            ["host_port_min must be less than host_port_max (got 4000 and 3000; set them equal "
             "to force one port)"],
        ),
        ({"host_port_min": -5}, ["host_port_min must be positive"]),
        (
            {"host_port_max": 70000},
            ["host_port_max must be a TCP port between 1 and 65535, got 70000"],
        ),
        (
            {"ssh_port": 70000},
            ["ssh_port must be a TCP port between 1 and 65535, got 70000"],
        ),
        (
            {"ssh_private_key_file": "/nonexistent/key"},
            ["ssh_private_key_file is invalid: stat /nonexistent/key: no such file or directory"],
        ),
        (
            {"ssh_certificate_file": "id.pub"},
            ["ssh_private_key_file must be specified if ssh_certificate_file is specified",
             "ssh_certificate_file is not supported by kiln yet: remove it"],
        ),
        (
            {"ssh_read_write_timeout": "-1s"},
            ["ssh_read_write_timeout must not be negative, got -1s: use 0 (no timeout) or a "
             "positive duration"],
        ),
        (
            {"ssh_file_transfer_method": "ftp"},
            ["ssh_file_transfer_method ('ftp') is invalid (ssh_file_transfer_method = 'ftp'; "
             'allowed: scp, sftp) — did you mean "sftp"?'],
        ),
        (
            {"temporary_key_pair_type": "dss"},
            ["temporary_key_pair_type is invalid (temporary_key_pair_type = 'dss'; allowed: "
             "dsa, ecdsa, ed25519, rsa)"],
        ),
        ({"ssh_agent_auth": True}, ["ssh_agent_auth is not supported by kiln yet: remove it"]),
    ],
)  # fmt: skip
def test_validation(tmp_path: Path, options: dict[str, object], messages: list[str]) -> None:
    assert errors(tmp_path, **options) == messages


def test_ssh_username_is_required(tmp_path: Path) -> None:
    assert errors(tmp_path, drop=("ssh_username",)) == [USERNAME_REQUIRED]


def test_host_port_checks_follow_the_ssh_checks(tmp_path: Path) -> None:
    assert errors(tmp_path, drop=("ssh_username",), host_port_min=5000) == [
        USERNAME_REQUIRED,
        "host_port_min must be less than host_port_max (got 5000 and 4444; set them equal to "
        "force one port)",
    ]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("ssh_bastion_host", "bastion.example.com"),
        ("ssh_bastion_port", 2222),
        ("ssh_bastion_username", "jump"),
        ("ssh_bastion_password", "pw"),
        ("ssh_bastion_private_key_file", "~/.ssh/id_rsa"),
        ("ssh_bastion_certificate_file", "~/.ssh/id_rsa-cert.pub"),
        ("ssh_bastion_interactive", True),
        ("ssh_bastion_agent_auth", True),
        ("ssh_proxy_host", "proxy.example.com"),
        ("ssh_proxy_port", 1081),
        ("ssh_proxy_username", "p"),
        ("ssh_proxy_password", "p"),
        ("ssh_local_tunnels", ["8080:localhost:80"]),
        ("ssh_remote_tunnels", ["8080:localhost:80"]),
    ],
)
def test_unsupported_ssh_options_are_errors_when_set(
    tmp_path: Path, option: str, value: object
) -> None:
    assert errors(tmp_path, **{option: value}) == [
        f"{option} is not supported by kiln yet: remove it"
    ]


def test_unsupported_options_at_their_default_are_accepted(tmp_path: Path) -> None:
    assert comm(tmp_path, ssh_bastion_port=22, ssh_proxy_port="1080").ssh_bastion_port == 22


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("ssh_ciphers", ["aes128-gcm@openssh.com"]),
        ("ssh_key_exchange_algorithms", ["curve25519-sha256"]),
        ("ssh_clear_authorized_keys", True),
        ("ssh_keypair_name", "my-key"),
        ("temporary_key_pair_name", "packer_tmp"),
        ("temporary_key_pair_type", "ed25519"),
        ("temporary_key_pair_bits", 2048),
        ("winrm_username", "Administrator"),
        ("winrm_password", "pw"),
        ("winrm_host", "10.0.0.1"),
        ("winrm_port", 5986),
        ("winrm_timeout", "1h"),
        ("winrm_use_ssl", True),
        ("winrm_insecure", True),
        ("winrm_use_ntlm", True),
        ("winrm_no_proxy", True),
    ],
)
def test_inert_options_warn_and_keep_their_value(
    tmp_path: Path, option: str, value: object
) -> None:
    result, errs, warns = run(tmp_path, **{option: value})
    assert errs == []
    assert result is not None
    assert getattr(result.comm, option) is not None
    assert (
        f"{option} is accepted for compatibility but has no effect in kiln "
        "(docs/options/qemu.md says why)"
    ) in warns


def test_a_real_private_key_file(tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "id_ed25519").write_bytes(key.export_private_key())
    c = comm(tmp_path, ssh_private_key_file="id_ed25519", drop=("ssh_password",))
    assert c.ssh_private_key_file == "id_ed25519"


def test_a_private_key_file_that_is_not_a_key(tmp_path: Path) -> None:
    (tmp_path / "id_rsa").write_text("not a key\n")
    assert errors(tmp_path, ssh_private_key_file="id_rsa") == [
        "ssh_private_key_file is invalid: id_rsa: Invalid private key"
    ]


def test_a_private_key_file_name_with_nul(tmp_path: Path) -> None:
    assert errors(tmp_path, ssh_private_key_file="a\0b") == [
        "ssh_private_key_file is invalid: 'a\\x00b' is not a file name"
    ]


def test_no_password_and_no_key_warns(tmp_path: Path) -> None:
    assert (
        "No ssh_password or ssh_private_key_file is set: kiln logs in with its temporary key, "
        "which works only if the guest installed {{ .SSHPublicKey }} (or accepts the user "
        "without a password)."
    ) in warnings(tmp_path, drop=("ssh_password",))
