"""-on-error=ask on a terminal: retry the failed step, then abort (keep) or clean up.

The failure is made in the disk step (qemu-img rejects an option), after the output
directory exists, so the answer decides whether it stays. No VM is booted.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from build_harness import kiln_argv, kiln_env, tiny_builder, write_template

pytestmark = pytest.mark.e2e
PROMPT = "[c] Clean up and exit, [a] abort without cleanup, or [r] retry step"


def _ask_build(
    tmp_path: Path, cache: Path, tiny_iso: object, answers: list[str]
) -> tuple[int, str]:
    builder = tiny_builder(tiny_iso, qemu_img_args={"create": ["-o", "no_such_option=1"]})
    write_template(tmp_path / "t.json", [builder])
    (tmp_path / "http").mkdir()
    master, slave = os.openpty()
    proc = subprocess.Popen(
        kiln_argv("build", "-on-error=ask", "t.json"),
        cwd=tmp_path,
        env=kiln_env(tmp_path, cache),
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    os.close(slave)
    try:
        for answer in answers:
            # Each prompt waits for one line on the terminal.
            time.sleep(2.0)
            os.write(master, f"{answer}\n".encode())
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out


def test_ask_retry_then_abort_keeps_the_output(tiny_iso, kiln_session_cache: Path,
                                                tmp_path: Path) -> None:  # fmt: skip
    code, out = _ask_build(tmp_path, kiln_session_cache, tiny_iso, ["r", "a"])
    assert code == 1, out
    assert out.count(PROMPT) == 2, out  # asked, retried, failed again, asked again
    assert "no_such_option" in out
    assert (tmp_path / "out").is_dir(), "abort must leave the output directory"
    assert "Traceback" not in out


def test_ask_cleanup_removes_the_output(tiny_iso, kiln_session_cache: Path,
                                        tmp_path: Path) -> None:  # fmt: skip
    code, out = _ask_build(tmp_path, kiln_session_cache, tiny_iso, ["c"])
    assert code == 1, out
    assert out.count(PROMPT) == 1, out
    assert not (tmp_path / "out").exists()
