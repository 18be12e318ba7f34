"""guest/tinyguest/variants.py: which packages a variant adds, what it leaves out, and the
`/kiln/extra.tar` it writes (the build itself runs in the e2e tests' fixtures)."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "guest"))

from tinyguest.tree import Tree
from tinyguest.variants import VARIANTS, _wanted, variant_packages, write_tar


def test_the_default_guest_adds_nothing() -> None:
    assert variant_packages(None) == []


def test_the_ansible_variant() -> None:
    packages = variant_packages("ansible")
    assert {"python3.11-minimal", "python3-minimal", "ansible-core", "python3-yaml"} <= set(
        packages
    )
    assert packages[-1] == "libc-bin"  # for the C.UTF-8 locale only
    variant = VARIANTS["ansible"]
    assert _wanted("usr/lib/python3/dist-packages/ansible/cli/playbook.py", variant)
    assert not _wanted("usr/lib/python3/dist-packages/ansible_test/x.py", variant)
    assert not _wanted("usr/share/doc/ansible-core/copyright", variant)
    assert not _wanted("usr/bin/ansible-test", variant)


def test_extra_tar_is_reproducible_and_root_owned() -> None:
    tree = Tree()
    tree.dir("usr/bin")
    tree.file("usr/bin/python3.11", b"\x7fELF...", 0o755)
    tree.symlink("usr/bin/python3", "python3.11")
    tree.file("etc/python3.11/sitecustomize.py", b"# site\n")
    data = write_tar(tree, 1704067200)
    assert data == write_tar(tree, 1704067200)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert list(members) == sorted(members, key=lambda p: p.split("/"))
        assert {m.uid for m in members.values()} == {0}
        assert {m.mtime for m in members.values()} == {1704067200}
        assert members["usr/bin/python3"].issym()
        assert members["usr/bin/python3"].linkname == "python3.11"
        assert members["usr/bin/python3.11"].mode == 0o755
        extracted = tar.extractfile("etc/python3.11/sitecustomize.py")
        assert extracted is not None and extracted.read() == b"# site\n"
