"""`kiln build` of examples/tiny/template.pkr.hcl, the HCL2 twin of the JSON example, end to
end on the test guest (the session's ISO, answers from examples/tiny/http)."""

from __future__ import annotations

from pathlib import Path

import pytest

from build_harness import image_info, kiln_env, read_guest_file, run_kiln

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def test_hcl2_example_builds_end_to_end(
    tiny_iso: object, kiln_session_cache: Path, tmp_path: Path
) -> None:
    iso_dir = tiny_iso.path.parent  # type: ignore[attr-defined]
    out = tmp_path / "out"
    env = kiln_env(tmp_path, kiln_session_cache)
    run = run_kiln(
        ["build", "-var", f"guest_dir={iso_dir}", "-var", f"output_directory={out}",
         "examples/tiny/template.pkr.hcl"],
        cwd=REPO,
        env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.output
    for line in (
        "==> qemu.tiny: Retrieving ISO",
        "==> qemu.tiny: Typing the boot command over VNC...",
        "==> qemu.tiny: Connected to SSH!",
        "==> qemu.tiny: Provisioning with shell script: <inline script>",
        "Build 'qemu.tiny' finished",
    ):
        assert line in run.output, f"missing {line!r} in:\n{run.output}"
    assert "tiny-root-pw" not in run.output, "the sensitive variable leaked into the output"
    image = out / "tiny.qcow2"
    assert image_info(image)["format"] == "qcow2"
    provisioned = read_guest_file(image, "/root/provisioned", tmp_path)
    # {{ .Vars }} in the HCL execute_command carried ${source.name} and PACKER_BUILDER_TYPE.
    assert provisioned.startswith("provisioned by qemu (tiny) on ")
    assert read_guest_file(image, "/etc/kiln-marker", tmp_path).strip() == (
        "built-from-examples/tiny"
    )
