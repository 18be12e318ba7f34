"""`kiln validate` of a JSON template stays ahead of `packer validate` only if it loads no
build-time machinery and nothing of HCL2:
the event loop (asyncio pulls in ssl, socket and subprocess: ≈ 20 ms of CPU), the SSH and HTTP
client libraries, tar. Modules that both validate and build keep such imports inside the
functions a build runs. This checks the module set, not a time (bench/run measures that)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BUILD_ONLY = ("asyncio", "ssl", "asyncssh", "httpx", "tarfile", "zlib_ng", "xxhash",
              "lark", "kiln.template.hcl2.loader", "kiln.template.hcl2.evaluate")  # fmt: skip

PROBE = """
import contextlib, io, sys
from kiln.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["validate", sys.argv[1]])
print(code, *sorted(m for m in sys.argv[2:] if m in sys.modules))
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
        [sys.executable, "-c", PROBE, "t.json", *BUILD_ONLY],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=60,
    )  # fmt: skip
    assert done.stdout.split() == ["0"], done.stdout + done.stderr
