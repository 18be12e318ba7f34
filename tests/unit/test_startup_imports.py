"""`kiln validate` stays ahead of `packer validate` only if it loads no
build-time machinery (and, for a JSON template, nothing of HCL2):
the event loop (asyncio pulls in ssl, socket and subprocess: ≈ 20 ms of CPU), the SSH and HTTP
client libraries, tar. Modules that both validate and build keep such imports inside the
functions a build runs. Nor does it load what the template does not use: the post-processors'
tables without post-processors, an HCL2 function's module (hashlib, uuid, csv, …) unless the
template calls one of its functions, fractions for integer literals.
This checks the module set, not a time (bench/run and bench/hcl2_validate.py measure that)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BUILD_ONLY = ("asyncio", "ssl", "asyncssh", "httpx", "tarfile", "zlib_ng", "xxhash",
              "lark", "kiln.template.hcl2.loader", "kiln.template.hcl2.evaluate")  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]
# Loaded only when the template uses them; examples/tiny uses none of them. (The HCL2
# loader itself uses functions.encoding's JSON encoder; its base64, csv and gzip wait.)
UNUSED = ("kiln.postprocessors.table", "kiln.postprocessors.config",
          "kiln.template.hcl2.functions.strings", "kiln.template.hcl2.functions.collections",
          "kiln.template.hcl2.functions.numeric", "base64",
          "kiln.template.hcl2.functions.crypto", "kiln.template.hcl2.functions.netfuncs",
          "kiln.template.hcl2.functions.conversion",
          "kiln.template.hcl2.functions.datetime_funcs", "kiln.template.hcl2.functions.files",
          "kiln.provisioners.context", "kiln.media.floppy", "kiln.media.cdrom",
          "uuid", "csv", "gzip", "fractions", "decimal")  # fmt: skip

PROBE = """
import contextlib, io, sys
from kiln.cli.main import main
argv = sys.argv[1:sys.argv.index("--")]
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["validate", *argv])
print(code, *sorted(m for m in sys.argv[sys.argv.index("--") + 1:] if m in sys.modules))
"""


def test_validate_loads_no_build_machinery(tmp_path: Path) -> None:
    (tmp_path / "x.iso").write_bytes(b"")
    template = {
        "builders": [{
            "type": "qemu", "iso_url": "x.iso",
            "iso_checksum": "md5:d41d8cd98f00b204e9800998ecf8427e",
            "ssh_username": "root", "ssh_password": "secret",
        }],
        "provisioners": [
            {"type": "shell", "inline": ["true"]}, {"type": "sleep", "duration": "1s"},
        ],
        "post-processors": [[
            {"type": "vagrant"},
            {"type": "vagrant-cloud", "box_tag": "a/b", "version": "1", "access_token": "t"},
        ], {"type": "checksum"}, {"type": "compress", "output": "x.tar.gz"}],
    }  # fmt: skip
    (tmp_path / "t.json").write_text(json.dumps(template))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "t.json", "--", *BUILD_ONLY],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=60,
    )  # fmt: skip
    assert done.stdout.split() == ["0"], done.stdout + done.stderr


@pytest.mark.parametrize("template", ["template.json", "template.pkr.hcl"])
def test_validating_the_example_loads_only_what_it_uses(tmp_path: Path, template: str) -> None:
    iso = tmp_path / "tiny-installer.iso"
    iso.write_bytes(b"stand-in ISO\n")
    digest = hashlib.sha256(iso.read_bytes()).hexdigest()
    (tmp_path / "SHA256SUMS").write_text(f"{digest}  tiny-installer.iso\n")
    argv = ["-var", f"guest_dir={tmp_path}", f"examples/tiny/{template}"]
    hcl2 = ("lark", "kiln.template.hcl2.loader", "kiln.template.hcl2.evaluate")
    unwanted = [m for m in (*BUILD_ONLY, *UNUSED) if template.endswith(".json") or m not in hcl2]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv, "--", *unwanted],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=60,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.stdout.split() == ["0"], done.stdout + done.stderr
