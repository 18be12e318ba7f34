"""Every option row's default, written out by hand from Packer (builder/qemu/config.go and the SDK
configs at v1.6.6): when a row is
added or a default changes, this table must change with it."""

from __future__ import annotations

import pytest

from kiln.cli.docs import option_sets
from kiln.options.spec import Duration, QemuImgArgs, option_specs

EXPECTED: dict[str, dict[str, object]] = {
    "QemuConfig": {
        "iso_url": "",
        "iso_urls": [],
        "iso_checksum": "",
        "iso_checksum_type": "",
        "iso_checksum_url": "",
        "iso_target_path": "",
        "iso_target_extension": "iso",
        "iso_skip_cache": False,
        "output_directory": "",  # computed: output-<build name>
        "vm_name": "",  # computed: packer-<build name>
        "format": "qcow2",
        "skip_compaction": False,
        "disk_compression": False,
        "disk_size": "40960M",
        "disk_additional_size": [],
        "disk_interface": "virtio",
        "disk_cache": "writeback",
        "disk_discard": "ignore",
        "disk_detect_zeroes": "off",
        "disk_image": False,
        "use_backing_file": False,
        "skip_resize_disk": False,
        "qemu_img_args": QemuImgArgs(),
        "accelerator": "",  # auto
        "machine_type": "pc",
        "memory": 512,
        "cpus": 0,
        "sockets": 0,
        "cores": 0,
        "threads": 0,
        "cpu_model": "",
        "qemu_binary": "qemu-system-x86_64",
        "qemuargs": [],
        "net_device": "virtio-net",
        "net_bridge": "",
        "cdrom_interface": "",
        "firmware": "",
        "use_pflash": False,
        "efi_boot": False,
        "efi_firmware_code": "",
        "efi_firmware_vars": "",
        "efi_secure_boot": False,
        "efi_drop_efivars": False,
        "vtpm": False,
        "use_tpm1": False,
        "tpm_device_type": "tpm-tis",
        "run_once": False,
        "headless": False,
        "display": "",
        "use_default_display": False,
        "vga": "",
        "vnc_bind_address": "127.0.0.1",
        "vnc_port_min": 5900,
        "vnc_port_max": 6000,
        "vnc_use_password": False,
        "vnc_password": "",
        "disable_vnc": False,
        "qmp_enable": False,
        "qmp_socket_path": "",
        "boot_wait": Duration(10.0, "10s"),
        "boot_command": [],
        "boot_steps": [],
        "boot_key_interval": Duration(0.0, "0s"),
        "boot_keygroup_interval": Duration(0.0, "0s"),
        "http_directory": "",
        "http_content": {},
        "http_port_min": 8000,
        "http_port_max": 9000,
        "http_bind_address": "",  # computed: 127.0.0.1, or 0.0.0.0 with net_bridge (kiln)
        "http_interface": "",
        "http_network_protocol": "tcp",
        "floppy_files": [],
        "floppy_dirs": [],
        "floppy_content": {},
        "floppy_label": "packer",
        "cd_files": [],
        "cd_content": {},
        "cd_label": "packer",
        "shutdown_command": "",
        "shutdown_timeout": Duration(300.0, "5m"),
    },
    "CommConfig": {
        "communicator": "ssh",
        "host_port_min": 2222,
        "host_port_max": 4444,
        "skip_nat_mapping": False,
        "pause_before_connecting": Duration(0.0, "0s"),
        "ssh_username": "",
        "ssh_password": "",
        "ssh_private_key_file": "",
        "ssh_certificate_file": "",
        "ssh_port": 22,
        "ssh_host": "",
        "ssh_timeout": Duration(300.0, "5m"),
        "ssh_handshake_attempts": 10,
        "ssh_keep_alive_interval": Duration(5.0, "5s"),
        "ssh_read_write_timeout": Duration(0.0, "0s"),
        "ssh_file_transfer_method": "scp",
        "ssh_pty": False,
        "ssh_agent_auth": False,
        "ssh_disable_agent_forwarding": False,
        "ssh_ciphers": [],
        "ssh_key_exchange_algorithms": [],
        "ssh_clear_authorized_keys": False,
        "ssh_keypair_name": "",
        "temporary_key_pair_name": "",
        "temporary_key_pair_type": "rsa",
        "temporary_key_pair_bits": 0,
        "ssh_bastion_host": "",
        "ssh_bastion_port": 22,
        "ssh_bastion_username": "",
        "ssh_bastion_password": "",
        "ssh_bastion_private_key_file": "",
        "ssh_bastion_certificate_file": "",
        "ssh_bastion_interactive": False,
        "ssh_bastion_agent_auth": False,
        "ssh_proxy_host": "",
        "ssh_proxy_port": 1080,
        "ssh_proxy_username": "",
        "ssh_proxy_password": "",
        "ssh_local_tunnels": [],
        "ssh_remote_tunnels": [],
        "winrm_username": "",
        "winrm_password": "",
        "winrm_host": "",
        "winrm_port": 5985,
        "winrm_timeout": Duration(1800.0, "30m"),
        "winrm_use_ssl": False,
        "winrm_insecure": False,
        "winrm_use_ntlm": False,
        "winrm_no_proxy": False,
    },
    "CommonProvisionerConfig": {
        "pause_before": Duration(0.0, "0s"),
        "max_retries": 0,
        "timeout": Duration(0.0, "0s"),
    },
    "ShellConfig": {
        "inline": [],
        "script": "",
        "scripts": [],
        "inline_shebang": "/bin/sh -e",
        "environment_vars": [],
        "env": {},
        "execute_command": "chmod +x {{.Path}}; {{.Vars}} {{.Path}}",
        "env_var_format": "",
        "remote_folder": "/tmp",
        "remote_file": "",
        "remote_path": "",
        "skip_clean": False,
        "expect_disconnect": False,
        "start_retry_timeout": Duration(300.0, "5m"),
        "valid_exit_codes": [0],
        "binary": False,
        "use_env_var_file": False,
        "pause_after": Duration(0.0, "0s"),
    },
    "FileConfig": {
        "source": "",
        "sources": [],
        "destination": "",
        "direction": "upload",
        "content": "",
        "generated": False,
    },
    "ShellLocalConfig": {
        "inline": [],
        "command": "",
        "script": "",
        "scripts": [],
        "inline_shebang": "/bin/sh -e",
        "environment_vars": [],
        "env": {},
        "execute_command": ["/bin/sh", "-c", "{{.Vars}} {{.Script}}"],
        "env_var_format": "",
        "only_on": [],
        "use_linux_pathing": False,
        "valid_exit_codes": [0],
    },
    "BreakpointConfig": {"disable": False, "note": ""},
    "SleepConfig": {"duration": Duration(0.0, "0s")},
    # Packer 1.6.6 provisioner/ansible/provisioner.go, Config and Prepare's defaults.
    "AnsibleConfig": {
        "playbook_file": "",
        "command": "ansible-playbook",
        "extra_arguments": [],
        "ansible_env_vars": [],
        "ansible_ssh_extra_args": [],  # "-o IdentitiesOnly=yes" when empty (createCmdArgs)
        "groups": [],
        "empty_groups": [],
        "host_alias": "default",
        "user": "",  # the user running kiln (proxy) or the communicator's (direct)
        "local_port": 0,
        "ssh_host_key_file": "",
        "ssh_authorized_key_file": "",
        "sftp_command": "/usr/lib/sftp-server -e",  # adapter.go's default
        "skip_version_check": False,
        "use_sftp": False,
        "inventory_directory": "",
        "inventory_file_template": "",
        "inventory_file": "",
        "keep_inventory_file": False,
        "galaxy_file": "",
        "galaxy_command": "ansible-galaxy",
        "galaxy_force_install": False,
        "roles_path": "",
        "collections_path": "",
        "use_proxy": None,  # Trilean unset: the proxy, in 1.6.6
    },
    # Packer 1.6.6 provisioner/ansible-local/provisioner.go.
    "AnsibleLocalConfig": {
        "playbook_file": "",
        "playbook_files": [],
        "playbook_dir": "",
        "playbook_paths": [],
        "command": "ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook",
        "extra_arguments": [],
        "group_vars": "",
        "host_vars": "",
        "role_paths": [],
        "staging_directory": "",  # /tmp/packer-provisioner-ansible-local/<uuid> at run time
        "clean_staging_directory": False,
        "inventory_file": "",
        "inventory_groups": [],
        "galaxy_file": "",
        "galaxy_command": "ansible-galaxy",
    },
    "CommonPostProcessorConfig": {"keep_input_artifact": False},
    "ManifestConfig": {
        "output": "packer-manifest.json",
        "strip_path": False,
        "strip_time": False,
        "custom_data": {},
    },
    "ChecksumConfig": {
        "checksum_types": ["md5"],
        "output": "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum",
    },
    "CompressConfig": {
        "output": "packer_{{.BuildName}}_{{.BuilderType}}",
        "format": "",
        "compression_level": 6,
    },
    "VagrantConfig": {
        "compression_level": -1,  # Go's flate.DefaultCompression; an explicit 0 is kept
        "include": [],
        "output": "packer_{{ .BuildName }}_{{.Provider}}.box",
        "vagrantfile_template": "",
        "vagrantfile_template_generated": False,
        "provider_override": "",
        "override": {},
    },
    "VagrantCloudConfig": {
        "box_tag": "",
        "version": "",
        "version_description": "",
        "no_release": False,
        "access_token": "",
        "vagrant_cloud_url": "https://vagrantcloud.com/api/v1",
        "insecure_skip_tls_verify": False,
        "box_download_url": "",
        "no_direct_upload": False,
    },
    "ArtificeConfig": {"files": []},
}

CLASSES = {cls.__name__: cls for classes in option_sets().values() for cls in classes}


def test_every_option_set_is_listed() -> None:
    assert set(EXPECTED) == set(CLASSES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_table_lists_exactly_these_options(name: str) -> None:
    assert [r.name for r in option_specs(CLASSES[name])] == list(EXPECTED[name])


@pytest.mark.parametrize(
    ("set_name", "option"),
    [(s, o) for s, options in EXPECTED.items() for o in options],
)
def test_default(set_name: str, option: str) -> None:
    cls = CLASSES[set_name]
    assert getattr(cls(), option) == EXPECTED[set_name][option]
    row = next(r for r in option_specs(cls) if r.name == option)
    assert row.default == EXPECTED[set_name][option]


def test_mutable_defaults_are_not_shared() -> None:
    a, b = CLASSES["ShellConfig"](), CLASSES["ShellConfig"]()
    a.valid_exit_codes.append(5)
    assert b.valid_exit_codes == [0]
