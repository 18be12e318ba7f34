"""Golden tests: `kiln build` of examples/tiny with -machine-readable and with -timestamp-ui,
against Packer 1.6.6's output on the same template (tests/data/packer166).

The template runs as the captures were made: from a directory holding `examples/tiny` and
`build/guest` (the session's test guest). tests/packer_streams.py normalises both streams
and allows only the kiln additions docs/compatibility.md lists.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from build_harness import kiln_argv, kiln_env
from packer_streams import CAPTURES, compare, human_lines, machine_rows

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example_dir(tiny_iso, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("packer-streams")
    shutil.copytree(REPO / "examples" / "tiny", work / "examples" / "tiny")
    (work / "build").mkdir()
    (work / "build" / "guest").symlink_to(tiny_iso.path.parent)
    return work


def build_stdout(work: Path, session_cache: Path, flag: str, out: str) -> str:
    env = kiln_env(work, session_cache)
    proc = subprocess.run(
        kiln_argv("build", flag, "-var", f"output_directory={out}", "examples/tiny/template.json"),
        cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_machine_readable_stream_is_packers(example_dir: Path, kiln_session_cache: Path) -> None:
    out = str(example_dir / "out-mr")
    text = build_stdout(example_dir, kiln_session_cache, "-machine-readable", out)
    kiln = machine_rows(text, out_dirs=[out], repo=str(example_dir))
    packer = machine_rows(
        (CAPTURES / "tiny-build-machine-readable.txt").read_text(), out_dirs=["/tmp/fh-cap/out-mr"]
    )
    assert compare(packer, kiln) == [], "\n".join(kiln)


def test_timestamp_ui_is_packers(example_dir: Path, kiln_session_cache: Path) -> None:
    out = str(example_dir / "out-ts")
    text = build_stdout(example_dir, kiln_session_cache, "-timestamp-ui", out)
    kiln = human_lines(text, out_dirs=[out], repo=str(example_dir))
    packer = human_lines(
        (CAPTURES / "tiny-build-timestamp-ui.txt").read_text(), out_dirs=["/tmp/fh-cap/out-ts"]
    )
    assert compare(packer, kiln) == [], "\n".join(kiln)
