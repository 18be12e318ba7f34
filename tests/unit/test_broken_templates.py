"""The corpus of broken templates (tests/data/broken): each is a realistic mistake in an
otherwise valid template (tests/data/valid/debian-preseed.json). `kiln validate` must fail
with exit code 1, without a traceback, and say what is wrong: every string in the file's
`"_expect"` list must appear in the output. `"_args"` holds extra command-line flags.

Relative paths in the templates resolve against tests/data/broken, the working directory
the tests (and the manual Packer comparison in docs/compatibility.md) run from.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiln.cli.main import main

DATA = Path(__file__).resolve().parents[1] / "data"
BROKEN = DATA / "broken"
VALID = DATA / "valid"
TEMPLATES = sorted(BROKEN.glob("*.json"))
KILN = Path(sys.executable).with_name("kiln")
# Variables the corpus must not pick up from the environment of the test run.
CLEAN_ENV = ("SSH_PASSWORD", "PACKER_CACHE_DIR")


def _field(text: str, key: str) -> list[str]:
    """A `"_key": [...]` list read from the raw text (the JSON itself may be broken)."""
    marker = f'"{key}"'
    at = text.find(marker)
    if at < 0:
        return []
    start = text.index("[", at)
    value, _ = json.JSONDecoder().raw_decode(text, start)
    assert isinstance(value, list)
    assert all(isinstance(v, str) for v in value)
    return value


def expectation(path: Path) -> tuple[list[str], list[str]]:
    text = path.read_text(encoding="utf-8")
    return _field(text, "_expect"), _field(text, "_args")


@pytest.fixture
def in_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN)
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)


def test_the_corpus_is_big_enough() -> None:
    assert len(TEMPLATES) >= 40


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_template_says_what_to_expect(path: Path) -> None:
    expect, _ = expectation(path)
    assert expect, f"{path.name} has no _expect list"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
@pytest.mark.usefixtures("in_broken")
def test_validate_rejects(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expect, args = expectation(path)
    code = main(["validate", *args, path.name])
    out, err = capsys.readouterr()
    output = out + err
    assert code == 1, output
    assert "Traceback" not in output
    assert "internal error" not in output
    assert "Template validated successfully" not in output
    for text in expect:
        assert text in output, f"{path.name}: {text!r} not in:\n{output}"


SUBPROCESS_SAMPLE = [
    "typo-disk-sise",
    "json-trailing-comma",
    "required-variable-unset",
    "boot-command-negative-wait",
    "only-flag-matches-nothing",
    "non-qemu-builder",
]


@pytest.mark.parametrize("name", SUBPROCESS_SAMPLE)
def test_validate_rejects_in_a_real_process(name: str) -> None:
    path = BROKEN / f"{name}.json"
    expect, args = expectation(path)
    result = subprocess.run(
        [str(KILN), "validate", *args, path.name],
        cwd=BROKEN,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
        env={k: v for k, v in __import__("os").environ.items() if k not in CLEAN_ENV},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    for text in expect:
        assert text in output


def test_the_base_of_the_corpus_is_valid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(VALID)
    assert main(["validate", "debian-preseed.json"]) == 0
    out, err = capsys.readouterr()
    assert out == "Template validated successfully.\n"
    assert err == ""


def test_the_seed_example_is_valid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(VALID)
    assert main(["validate", "seed-example.json"]) == 0
    err, _ = capsys.readouterr()  # warnings and the verdict, all on stdout
    assert err.endswith("\nTemplate validated successfully.\n")
    # The seed's deprecated spellings are accepted, each with a warning saying what to write.
    for old in ("ssh_host_port_min", "ssh_host_port_max", "ssh_wait_timeout"):
        assert f"{old} is deprecated" in err
    assert (
        "iso_checksum_type is deprecated (Packer 1.6 removed it; kiln still reads it, as the "
        'QEMU page documented it). Write "iso_checksum": '
        '"md5:0ca12fe5f28c2ceed4f4084b41ff8a0b" instead.'
    ) in err
    assert "s0m3password" not in err


def test_the_seed_example_normalises_its_deprecated_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiln.options.spec import Duration
    from kiln.plan import PlanOptions, make_plan
    from kiln.template.loader import load_template

    monkeypatch.chdir(VALID)
    plan = make_plan(load_template("seed-example.json"), PlanOptions(env={}))
    (build,) = plan.builds
    assert build.config.iso_checksum == "md5:0ca12fe5f28c2ceed4f4084b41ff8a0b"
    assert (build.comm.host_port_min, build.comm.host_port_max) == (2222, 2229)
    assert build.comm.ssh_timeout == Duration(30.0, "30s")
    assert build.config.disk_size == "5000M"
    assert (build.config.http_port_min, build.config.http_port_max) == (10082, 10089)


def test_an_undefined_user_variable_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Packer 1.6.6 validates this template: the variable renders as "" (issue 10 §2.5)."""
    monkeypatch.chdir(VALID)
    assert main(["validate", "undefined-user-variable.json"]) == 0
    out, _ = capsys.readouterr()  # Packer 1.6.6 prints validate's warnings on stdout too
    assert out.startswith('Warning: Warning when preparing build: "debian"\n')
    assert out.endswith("\nTemplate validated successfully.\n")
    assert 'user variable "ssh_pasword" is not defined — did you mean "ssh_password"?' in out
    assert out.count("is not defined") == 1
