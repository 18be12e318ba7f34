"""Session-wide artifacts shared by the end-to-end build tests (each build costs ~30 s)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from build_harness import (
    KilnRun,
    kiln_env,
    run_kiln,
    tiny_builder,
    write_answers,
    write_template,
)


@dataclass
class BuiltImage:
    workdir: Path
    image: Path
    run: KilnRun
    env: dict[str, str]


@pytest.fixture(scope="session")
def kiln_session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cache and port-lock directories shared by every kiln run of the session."""
    return tmp_path_factory.mktemp("kiln-cache")


@pytest.fixture(scope="session")
def basic_build(
    tiny_iso: object, kiln_session_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> BuiltImage:
    """The basic example: qcow2 on virtio, answers over HTTP, shell and file provisioners."""
    work = tmp_path_factory.mktemp("basic")
    write_answers(work / "http", marker="basic-http")
    (work / "files" / "tree" / "sub").mkdir(parents=True)
    (work / "files" / "hello.txt").write_text("hello from the host\n")
    (work / "files" / "tree" / "a.txt").write_text("A\n")
    (work / "files" / "tree" / "sub" / "b.txt").write_text("B\n")
    (work / "setup.sh").write_text('#!/bin/sh\necho "script ran as $(id -u)" > /root/script.txt\n')
    write_template(
        work / "template.json",
        [tiny_builder(tiny_iso)],
        provisioners=[
            {"type": "shell", "inline": ["echo inline:$GREETING > /root/inline.txt"],
             "environment_vars": ["GREETING=it's here"]},
            {"type": "shell", "script": "setup.sh"},
            {"type": "file", "source": "files/hello.txt", "destination": "/root/hello.txt"},
            {"type": "file", "source": "files/tree", "destination": "/root"},
        ],
    )  # fmt: skip
    env = kiln_env(work, kiln_session_cache)
    run = run_kiln(["build", "template.json"], cwd=work, env=env)
    assert run.returncode == 0, run.output
    return BuiltImage(work, work / "out" / "tiny.qcow2", run, env)
