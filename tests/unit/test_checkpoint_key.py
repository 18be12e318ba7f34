"""The checkpoint key: which inputs count, what is masked, how a miss is explained."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from kiln.builders.qemu.checkpoint_key import (
    ARGV_INPUT,
    command_line_input,
    differences,
    guest_argv,
    key_of,
    masked_functions,
    media_inputs,
    option_inputs,
    tree_inputs,
)
from kiln.builders.qemu.cmdline import RuntimeFacts, build_argv
from kiln.engine.plan import BuildPlan
from template_plans import BUILDER, plan_of


def build(tmp_path: Path, **options: Any) -> BuildPlan:
    return plan_of(tmp_path, {"builders": [{**BUILDER, **options}]}).builds[0]


def argv_input(tmp_path: Path, **options: Any) -> str:
    b = build(tmp_path, **options)
    return command_line_input(b.config, b.comm, "tcg", b.config.qemuargs)


# --- the key ---------------------------------------------------------------------------


def test_key_is_a_hash_of_every_name_and_value_in_any_order() -> None:
    a = {"memory": "512", "http_directory/ks.cfg": "sha256:aa"}
    assert key_of(a) == key_of(dict(reversed(list(a.items()))))
    assert len(key_of(a)) == 32
    assert key_of(a) != key_of({**a, "memory": "1024"})
    assert key_of(a) != key_of({**a, "http_directory/other.cfg": "sha256:aa"})
    assert key_of({"a": "b c"}) != key_of({"a b": "c"})


# --- the guest-visible command line ----------------------------------------------------


def test_host_side_switches_and_ports_are_not_part_of_the_command_line() -> None:
    argv = ["qemu-system-x86_64", "-name", "vm", "-machine", "type=pc,accel=tcg",
            "-netdev", "user,id=user.0,hostfwd=tcp::3456-:22", "-vnc", "127.0.0.1:57",
            "-m", "512M", "-qmp", "unix:/tmp/q,server=on,wait=off", "-display", "none",
            "-device", "vmgenid,guid=auto", "-chardev", "socket,id=kiln-qmp,fd=3",
            "-mon", "chardev=kiln-qmp,mode=control", "-serial", "file:/tmp/x/serial.log",
            "-no-reboot"]  # fmt: skip
    assert guest_argv(argv) == [
        "-machine", "type=pc,accel=tcg", "-netdev", "user,id=user.0,hostfwd=<host-port>",
        "-m", "512M", "-device", "vmgenid,guid=auto", "-no-reboot",
    ]  # fmt: skip


def test_command_line_ignores_host_side_options(tmp_path: Path) -> None:
    base = argv_input(tmp_path)
    assert argv_input(tmp_path, vm_name="other", output_directory="elsewhere") == base
    assert argv_input(tmp_path, vnc_port_min=5990, vnc_port_max=5999) == base
    assert argv_input(tmp_path, headless=True, disable_vnc=True) == base
    assert argv_input(tmp_path, host_port_min=4000, host_port_max=4010) == base
    assert argv_input(tmp_path, qmp_enable=True) == base


@pytest.mark.parametrize(
    "change",
    [{"memory": 1024}, {"net_device": "e1000"}, {"disk_interface": "ide"}, {"cpus": 2},
     {"machine_type": "q35"}, {"disk_cache": "none"}, {"vga": "std"},
     {"qemuargs": [["-device", "virtio-rng-pci"]]}],
)  # fmt: skip
def test_command_line_follows_what_the_guest_sees(tmp_path: Path, change: dict[str, Any]) -> None:
    assert argv_input(tmp_path, **change) != argv_input(tmp_path)


def test_checkpoint_builds_have_a_vm_generation_id_and_resumes_wait_for_the_state(
    tmp_path: Path,
) -> None:
    b = build(tmp_path)
    facts = RuntimeFacts(accelerator="tcg", disk_paths=("d",))
    plain = build_argv(b.config, b.comm, facts).argv
    assert "vmgenid,guid=auto" not in plain and "-incoming" not in plain
    saving = build_argv(b.config, b.comm, dataclasses.replace(facts, checkpoint=True)).argv
    assert saving[-2:] == ["-device", "vmgenid,guid=auto"]
    resuming = dataclasses.replace(facts, checkpoint=True, incoming=True)
    assert build_argv(b.config, b.comm, resuming).argv[-4:] == [
        "-device", "vmgenid,guid=auto", "-incoming", "defer",
    ]  # fmt: skip


# --- options and files -----------------------------------------------------------------


def test_option_inputs_name_template_keys(tmp_path: Path) -> None:
    b = build(tmp_path, memory=768, disk_additional_size=["1G"])
    inputs = option_inputs(b.config, "tcg")
    assert inputs["memory"] == "768"
    assert inputs["disk_additional_size"] == '["1G"]'
    assert inputs["accelerator"] == "tcg"
    assert inputs["disk_image"] == "false"
    assert "boot_wait" not in inputs and "vm_name" not in inputs


def test_clock_functions_are_masked() -> None:
    funcs = masked_functions({"timestamp": lambda: "1", "uuid": lambda: "u", "user": str})
    assert funcs["timestamp"]() == "<timestamp>"
    assert funcs["uuid"]() == "<uuid>"
    assert funcs["isotime"]("2006") == "<isotime>"
    assert funcs["user"] is str


def test_tree_inputs_name_every_file_by_path_and_content(tmp_path: Path) -> None:
    root = tmp_path / "http"
    (root / "sub").mkdir(parents=True)
    (root / "ks.cfg").write_text("a")
    (root / "sub" / "late.cfg").write_text("b")
    os.symlink(root, root / "sub" / "loop")  # followed once, no endless walk
    found = dict(tree_inputs("http_directory", root))
    assert set(found) == {"http_directory/ks.cfg", "http_directory/sub/late.cfg"}
    (root / "ks.cfg").write_text("changed")
    again = dict(tree_inputs("http_directory", root))
    assert again["http_directory/ks.cfg"] != found["http_directory/ks.cfg"]
    assert again["http_directory/sub/late.cfg"] == found["http_directory/sub/late.cfg"]


def test_media_inputs_hash_files_content_and_note_directories(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    found = dict(media_inputs("floppy", [("b.cfg", tmp_path / "f"), ("a.cfg", b"x"),
                                         ("dir", tmp_path / "d")]))  # fmt: skip
    assert list(found) == ["floppy/a.cfg", "floppy/b.cfg", "floppy/dir"]
    assert found["floppy/a.cfg"] == found["floppy/b.cfg"]
    assert found["floppy/dir"] == "directory"


# --- why a miss ------------------------------------------------------------------------


def test_differences_name_the_changed_inputs_in_the_new_order_then_the_removed() -> None:
    old = {"memory": "512", "http_directory/ks.cfg": "sha256:1", "http_directory/old": "sha256:2",
           "boot_command": "sha256:3", ARGV_INPUT: "sha256:a"}  # fmt: skip
    new = {"memory": "1024", "http_directory/ks.cfg": "sha256:9", "http_directory/new": "sha256:2",
           "boot_command": "sha256:4", ARGV_INPUT: "sha256:b"}  # fmt: skip
    assert differences(old, new) == [
        "memory changed (512 → 1024)",
        "http_directory/ks.cfg changed",
        "http_directory/new added",
        "boot_command changed",
        "http_directory/old removed",
    ]


def test_a_command_line_change_alone_is_named() -> None:
    old = {"memory": "512", ARGV_INPUT: "sha256:a"}
    assert differences(old, {"memory": "512", ARGV_INPUT: "sha256:b"}) == [
        "the guest-visible QEMU command line changed (a kiln or qemuargs change)"
    ]
    assert differences(old, dict(old)) == []


def test_new_and_gone_options_and_empty_values() -> None:
    assert differences({"a": "1"}, {"b": ""}) == ["b is new ()", "a is no longer set"]
    assert differences({"cpu_model": ""}, {"cpu_model": "host"}) == [
        'cpu_model changed ("" → host)'
    ]
