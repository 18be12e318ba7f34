"""The communicator's option table (Packer's `communicator.Config` plus the qemu builder's
host-port keys). kiln implements the `ssh` and `none` communicators; WinRM keys are
accepted so Packer templates load, and `communicator: winrm` is a clear error."""

from __future__ import annotations

from dataclasses import dataclass

from kiln.options.spec import Duration, option

COMMUNICATORS = ("ssh", "none", "winrm", "docker", "dockerWindowsContainer")
SUPPORTED_COMMUNICATORS = ("ssh", "none")
FILE_TRANSFER_METHODS = ("scp", "sftp")
KEY_PAIR_TYPES = ("dsa", "ecdsa", "ed25519", "rsa")


def _port_alias(name: str) -> tuple[str, str]:
    new = name.replace("ssh_", "")
    return (
        name,
        f"{name} is deprecated and is being replaced by {new}. Please, update your template "
        f"to use {new}. In future versions of Packer, inclusion of {name} will error your "
        "builds.",
    )


@dataclass
class CommConfig:
    """How kiln talks to the guest once it is installed."""

    communicator: str = option(
        "ssh",
        section="communicator",
        help="`ssh` (default) or `none` (no connection: kiln waits for the guest to power "
        "itself off). WinRM is not supported by kiln.",
    )
    host_port_min: int = option(
        2222,
        section="communicator",
        aliases=(_port_alias("ssh_host_port_min"),),
        help="Lowest host port forwarded to the guest's SSH port (inclusive). The QEMU page's "
        "`ssh_host_port_min` is accepted with a deprecation warning.",
    )
    host_port_max: int = option(
        4444,
        section="communicator",
        aliases=(_port_alias("ssh_host_port_max"),),
        help="Highest host port forwarded to the guest's SSH port (inclusive). The QEMU page's "
        "`ssh_host_port_max` is accepted with a deprecation warning.",
    )
    skip_nat_mapping: bool = option(
        False,
        section="communicator",
        since="1.6.6",
        help="Do not search for a free host port: forward `ssh_port` to itself.",
    )
    pause_before_connecting: Duration = option(
        Duration(0.0, "0s"),
        section="communicator",
        since="1.6.6",
        help="Wait this long after SSH first answers before connecting for good.",
    )
    ssh_username: str = option(
        "", section="ssh", required=True, help="User to log in as (required for ssh)."
    )
    ssh_password: str = option("", section="ssh", secret=True, help="Password of that user.")
    ssh_private_key_file: str = option(
        "", section="ssh", help="Private key file for public-key login (`~` is expanded)."
    )
    ssh_certificate_file: str = option(
        "",
        section="ssh",
        since="1.6.6",
        unsupported=True,
        help="Certificate for `ssh_private_key_file` (certificate login is not implemented).",
    )
    ssh_port: int = option(22, section="ssh", help="The guest's SSH port.")
    ssh_host: str = option(
        "", section="ssh", since="1.6.6", default_doc="`127.0.0.1`", help="Host to connect to."
    )
    ssh_timeout: Duration = option(
        Duration(300.0, "5m"),
        section="ssh",
        since="1.6.6",
        aliases=(
            (
                "ssh_wait_timeout",
                "ssh_wait_timeout is deprecated and is being replaced by ssh_timeout. "
                "Please, update your template to use ssh_timeout.",
            ),
        ),
        help="How long to wait for SSH to become available. The QEMU page's `ssh_wait_timeout` "
        "is accepted with a deprecation warning (and wins, as in Packer).",
    )
    ssh_handshake_attempts: int = option(
        10,
        section="ssh",
        since="1.6.6",
        help="Authentication failures tolerated while waiting for SSH.",
    )
    ssh_keep_alive_interval: Duration = option(
        Duration(5.0, "5s"),
        section="ssh",
        since="1.6.6",
        help="Interval of SSH keep-alive messages (negative: off).",
    )
    ssh_read_write_timeout: Duration = option(
        Duration(0.0, "0s"),
        section="ssh",
        since="1.6.6",
        help="Fail a command when its connection is silent this long (0: never).",
    )
    ssh_file_transfer_method: str = option(
        "scp",
        section="ssh",
        since="1.6.6",
        choices=FILE_TRANSFER_METHODS,
        choice_message="ssh_file_transfer_method ('{value}') is invalid ({name} = {value!r}; "
        "allowed: {allowed})",
        help="How files are copied: scp or sftp.",
    )
    ssh_pty: bool = option(False, section="ssh", since="1.6.6", help="Request a PTY.")
    ssh_agent_auth: bool = option(
        False,
        section="ssh",
        since="1.6.6",
        unsupported=True,
        help="Authenticate with the local SSH agent (not implemented).",
    )
    ssh_disable_agent_forwarding: bool = option(
        False,
        section="ssh",
        since="1.6.6",
        help="Do not forward the SSH agent. kiln never forwards it, so this is always true.",
    )
    ssh_ciphers: list[str] = option(
        section="ssh",
        factory=list,
        since="1.6.6",
        inert=True,
        help="Allowed ciphers. kiln uses asyncssh's defaults.",
    )
    ssh_key_exchange_algorithms: list[str] = option(
        section="ssh",
        factory=list,
        since="1.6.6",
        inert=True,
        help="Allowed key-exchange algorithms. kiln uses asyncssh's defaults.",
    )
    ssh_clear_authorized_keys: bool = option(
        False,
        section="ssh",
        since="1.6.6",
        inert=True,
        help="Remove the temporary key from the guest's authorized_keys at the end. kiln "
        "never adds its temporary key there itself; a template that installs "
        "`{{ .SSHPublicKey }}` removes it in its own last provisioner.",
    )
    ssh_keypair_name: str = option(
        "",
        section="ssh",
        since="1.6.6",
        inert=True,
        help="A cloud provider's key pair name (undocumented in Packer; unused by qemu).",
    )
    temporary_key_pair_name: str = option(
        "",
        section="ssh",
        since="1.6.6",
        inert=True,
        help="Name of the temporary key pair (undocumented in Packer). kiln names its key "
        "`kiln_<build name>`.",
    )
    temporary_key_pair_type: str = option(
        "rsa",
        section="ssh",
        since="1.6.6",
        choices=KEY_PAIR_TYPES,
        inert=True,
        help="Type of the temporary key pair. kiln always generates an ed25519 key.",
    )
    temporary_key_pair_bits: int = option(
        0,
        section="ssh",
        since="1.6.6",
        inert=True,
        help="Size of the temporary RSA/ECDSA key. kiln's ed25519 key has a fixed size.",
    )
    ssh_bastion_host: str = option(
        "", section="ssh", since="1.6.6", unsupported=True, help="Bastion host."
    )
    ssh_bastion_port: int = option(
        22, section="ssh", since="1.6.6", unsupported=True, help="Bastion port."
    )
    ssh_bastion_username: str = option(
        "", section="ssh", since="1.6.6", unsupported=True, help="Bastion user."
    )
    ssh_bastion_password: str = option(
        "", section="ssh", since="1.6.6", secret=True, unsupported=True, help="Bastion password."
    )
    ssh_bastion_private_key_file: str = option(
        "", section="ssh", since="1.6.6", unsupported=True, help="Bastion private key file."
    )
    ssh_bastion_certificate_file: str = option(
        "", section="ssh", since="1.6.6", unsupported=True, help="Bastion user certificate."
    )
    ssh_bastion_interactive: bool = option(
        False,
        section="ssh",
        since="1.6.6",
        unsupported=True,
        help="Keyboard-interactive login to the bastion.",
    )
    ssh_bastion_agent_auth: bool = option(
        False,
        section="ssh",
        since="1.6.6",
        unsupported=True,
        help="Use the SSH agent for the bastion.",
    )
    ssh_proxy_host: str = option(
        "", section="ssh", since="1.6.6", unsupported=True, help="SOCKS5 proxy host."
    )
    ssh_proxy_port: int = option(
        1080, section="ssh", since="1.6.6", unsupported=True, help="SOCKS5 proxy port."
    )
    ssh_proxy_username: str = option(
        "", section="ssh", since="1.6.6", unsupported=True, help="Proxy user."
    )
    ssh_proxy_password: str = option(
        "", section="ssh", since="1.6.6", secret=True, unsupported=True, help="Proxy password."
    )
    ssh_local_tunnels: list[str] = option(
        section="ssh",
        factory=list,
        since="1.6.6",
        unsupported=True,
        help="Local port forwards (`port:host:port`).",
    )
    ssh_remote_tunnels: list[str] = option(
        section="ssh", factory=list, since="1.6.6", unsupported=True, help="Remote port forwards."
    )
    winrm_username: str = option(
        "", section="winrm", since="1.6.6", inert=True, help="The WinRM user."
    )
    winrm_password: str = option(
        "", section="winrm", since="1.6.6", inert=True, secret=True, help="The WinRM password."
    )
    winrm_host: str = option("", section="winrm", since="1.6.6", inert=True, help="The WinRM host.")
    winrm_port: int = option(
        5985, section="winrm", since="1.6.6", inert=True, help="The WinRM port."
    )
    winrm_timeout: Duration = option(
        Duration(1800.0, "30m"),
        section="winrm",
        since="1.6.6",
        inert=True,
        help="How long to wait for WinRM.",
    )
    winrm_use_ssl: bool = option(
        False, section="winrm", since="1.6.6", inert=True, help="WinRM over HTTPS."
    )
    winrm_insecure: bool = option(
        False, section="winrm", since="1.6.6", inert=True, help="Skip the WinRM certificate check."
    )
    winrm_use_ntlm: bool = option(
        False, section="winrm", since="1.6.6", inert=True, help="NTLM authentication for WinRM."
    )
    winrm_no_proxy: bool = option(
        False, section="winrm", since="1.6.6", inert=True, help="Bypass the proxy for WinRM."
    )
