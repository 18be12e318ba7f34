"""Validation that teaches a Packer user: the fix in the message, mistakes caught early."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiln.boot.grammar import mistyped_keys
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.template.loader import parse_template

BUILDER: dict[str, Any] = {
    "type": "qemu",
    "iso_url": "http://example.com/x.iso",
    "iso_checksum": "none",
    "ssh_username": "root",
    "ssh_password": "long-enough-secret",
}


def outcome(tmp_path: Path, template: dict[str, Any]) -> tuple[str, list[str]]:
    """(every error as text or "", the warnings) of `template` read from tmp_path."""
    tpl = parse_template(json.dumps(template), tmp_path / "t.json")
    try:
        plan = make_plan(tpl, PlanOptions(cwd=tmp_path, env={}))
    except ValidationFailed as failed:
        return failed.format(), [m for _, m in failed.warnings]
    return "", [m for _, m in plan.warnings]


def test_a_required_variable_says_how_to_set_it(tmp_path: Path) -> None:
    errors, _ = outcome(tmp_path, {"variables": {"disk": None}, "builders": [BUILDER]})
    assert "required variable not set: disk (set it with -var 'disk=…' or in a -var-file)" in errors


def test_a_missing_checksum_shows_the_accepted_forms(tmp_path: Path) -> None:
    builder = {k: v for k, v in BUILDER.items() if k != "iso_checksum"}
    errors, _ = outcome(tmp_path, {"builders": [builder]})
    assert "A checksum must be specified\n" in errors
    for form in ('"sha256:<hex>"', "bare hex digest", '"file:<path or URL', '"none"'):
        assert form in errors


def test_mixed_builders_suggest_only(tmp_path: Path) -> None:
    template = {"builders": [{**BUILDER, "name": "a"}, {"type": "virtualbox-iso", "name": "vb"},
                             {**BUILDER, "name": "b"}]}  # fmt: skip
    errors, _ = outcome(tmp_path, template)
    assert "builder type 'virtualbox-iso' is not supported by kiln" in errors
    assert "run kiln with -only=a,b" in errors


def test_a_missing_local_iso_fails_at_validate(tmp_path: Path) -> None:
    errors, _ = outcome(tmp_path, {"builders": [{**BUILDER, "iso_url": "build/none.iso"}]})
    assert "iso_url: the local file 'build/none.iso' does not exist" in errors
    (tmp_path / "here.iso").write_bytes(b"iso")
    assert outcome(tmp_path, {"builders": [{**BUILDER, "iso_url": "here.iso"}]})[0] == ""
    assert outcome(tmp_path, {"builders": [{**BUILDER, "iso_url": "file://here.iso"}]})[0] == ""


@pytest.mark.parametrize("url", ["ftp://mirror.example/x.iso", "s3://bucket/x.iso"])
def test_an_unsupported_scheme_fails_at_validate(tmp_path: Path, url: str) -> None:
    errors, _ = outcome(tmp_path, {"builders": [{**BUILDER, "iso_url": url}]})
    assert "which kiln cannot fetch: use an http(s) URL, a local path or a file:// URL" in errors


def test_one_usable_iso_url_is_enough(tmp_path: Path) -> None:
    builder = {k: v for k, v in BUILDER.items() if k != "iso_url"}
    builder["iso_urls"] = ["missing.iso", "http://example.com/x.iso"]
    errors, warnings = outcome(tmp_path, {"builders": [builder]})
    assert errors == ""
    assert any("'missing.iso' does not exist" in w and "try the other URLs" in w for w in warnings)


@pytest.mark.parametrize(
    ("command", "hint"),
    [
        ("<enterr>", "did you mean <enter>?"),
        ("<ENTR>", "did you mean <enter>?"),
        ("<esc >", "did you mean <esc>?"),
        ("<ctrl>", "did you mean <leftCtrl>?"),
        ("<leftCtrlOnn>", "did you mean <leftCtrl"),
        ("<pgdown>", "did you mean <pageDown>?"),
        ("<wait 5>", "<wait5>"),
        ("<Wait5>", "<wait5>"),
    ],
)
def test_a_mistyped_key_gets_a_warning(command: str, hint: str) -> None:
    (warning,) = mistyped_keys(command)
    assert "is not a special key, so it is typed as" in warning
    assert hint in warning


@pytest.mark.parametrize(
    "command",
    ["<enter><ESC><wait5><wait1m30s><leftCtrlOn>c<leftCtrlOff><aOn><f12>",
     "echo <html> a<b >x {{ .HTTPIP }}<enter>", "<spacebar><pageUp><menu>"],
)  # fmt: skip
def test_real_keys_and_plain_text_get_no_warning(command: str) -> None:
    assert mistyped_keys(command) == []


def test_the_warning_reaches_validate(tmp_path: Path) -> None:
    _, warnings = outcome(tmp_path, {"builders": [{**BUILDER, "boot_command": ["<enterr>"]}]})
    assert any(w.startswith("boot_command: <enterr> is not a special key") for w in warnings)
