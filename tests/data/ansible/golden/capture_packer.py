#!/usr/bin/env python3
"""Record what Packer 1.6.6's ansible provisioners do, for kiln's golden tests.

    python3 tests/data/ansible/golden/capture_packer.py --guest build/guest

Builds the test guest (`guest/build.py --out DIR` first) with `packer build`, running the
provisioners of provisioners.json: `ansible` ones run fake_ansible.py, which records its
argv, environment, inventory and key file; `ansible-local` ones run `echo` in the guest,
and a shell provisioner lists what they uploaded. Writes packer-1.6.6.json (normalised:
temporary names, ports and the scratch directory are placeholders) and prints Packer's
output. Needs `packer` (1.6.6) on PATH, QEMU, and about two minutes of TCG.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from ansible_golden import PACKER_RECORD, Normalizer, materialize, records

BUILDER = {
    "type": "qemu",
    "output_directory": "out",
    "vm_name": "golden.qcow2",
    "disk_size": "256M",
    "accelerator": "tcg",
    "headless": True,
    "http_directory": "http",
    "boot_wait": "1s",
    "boot_command": ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
    "ssh_username": "root",
    "ssh_password": "golden-pw",
    "ssh_timeout": "5m",
    "shutdown_command": "poweroff",
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def ui_lines(output: str) -> list[str]:
    """Packer's UI lines without colour and the `==> qemu: ` / `    qemu: ` prefixes."""
    lines = []
    for raw in ANSI.sub("", output).splitlines():
        match = re.match(r"^(==> |    )qemu: ?(.*)$", raw)
        if match:
            lines.append(match[2])
    return lines


def provisioner_sections(lines: list[str]) -> list[list[str]]:
    """The UI lines of each provisioner, from its first line to the next one's."""
    first = ("Provisioning with Ansible...", "Provisioning with shell")
    starts = [i for i, line in enumerate(lines) if line.startswith(first)]
    ends = [*starts[1:], next(
        (i for i, line in enumerate(lines) if line.startswith("Provisioning step had errors")),
        len(lines),
    )]  # fmt: skip
    return [lines[s:e] for s, e in zip(starts, ends, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guest", type=Path, required=True, help="guest/build.py --out DIR")
    parser.add_argument("--out", type=Path, default=PACKER_RECORD)
    args = parser.parse_args()
    packer = subprocess.run(["packer", "version"], capture_output=True, text=True, check=False)
    version = packer.stdout
    if "v1.6.6" not in version:
        sys.exit(f"packer 1.6.6 is needed, found: {version.strip()}")
    scratch = Path(tempfile.mkdtemp(prefix="kiln-ansible-golden-"))
    try:
        work, tmp = scratch / "work", scratch / "tmp"
        tmp.mkdir()
        provisioners, capture = materialize(work, "/usr/bin/python3")
        (work / "http").mkdir()
        (work / "http" / "ks.cfg").write_text("rootpw=golden-pw\nhostname=golden\n")
        guest = args.guest.resolve()
        builder = {**BUILDER, "iso_url": str(guest / "tiny-installer.iso"),
                   "iso_checksum": f"file:{guest / 'SHA256SUMS'}"}  # fmt: skip
        (work / "template.json").write_text(
            json.dumps({"builders": [builder], "provisioners": provisioners}, indent=1)
        )
        env = {**os.environ, "TMPDIR": str(tmp), "CAPTURE_DIR": str(capture),
               "PACKER_LOG": "1", "PACKER_LOG_PATH": str(scratch / "packer.log")}  # fmt: skip
        baseline = {k: v for k, v in env.items() if k not in ("PACKER_LOG", "PACKER_LOG_PATH")}
        proc = subprocess.run(
            ["packer", "build", "template.json"],
            cwd=work, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        print(proc.stdout)
        output = ANSI.sub("", proc.stdout)
        ssh_port = re.search(r"Found port for communicator \(SSH, WinRM, etc\): (\d+)", output)
        http_port = re.search(r"Starting HTTP server on port (\d+)", output)
        if ssh_port is None or http_port is None:
            sys.exit("Packer's output names no SSH or HTTP port; see above")
        norm = Normalizer(cwd=work, tmp=tmp, ssh_port=ssh_port[1], http_port=http_port[1])
        sections = provisioner_sections(ui_lines(proc.stdout))
        recorded = records(capture)
        result: dict[str, object] = {
            "packer": version.strip(),
            "how": "tests/data/ansible/golden/capture_packer.py (see its docstring)",
            "provisioners": [],
        }
        for index, (pdef, section) in enumerate(zip(provisioners, sections, strict=False)):
            entry: dict[str, object] = {
                "index": index,
                "type": pdef["type"],
                "output": [norm.text(line) for line in section],
            }
            if pdef["type"] == "ansible":
                galaxy = []
                while recorded and recorded[0]["name"] == "fake-galaxy":
                    galaxy.append(norm.record(recorded.pop(0), baseline)["args"])
                run = norm.record(recorded.pop(0), baseline)
                entry.update(run, galaxy=galaxy)
            result["provisioners"].append(entry)  # type: ignore[attr-defined]
        result["exit_code"] = proc.returncode
        result["last_lines"] = [norm.text(line) for line in ui_lines(proc.stdout)[-4:]]
        errored = re.search(r"^Build 'qemu' errored[^:]*: (.*?)\n\n", output, re.M | re.S)
        result["build_error"] = norm.text(errored[1]) if errored else ""
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.out}")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
