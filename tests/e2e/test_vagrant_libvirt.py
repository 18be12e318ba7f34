"""Opt-in: vagrant-libvirt boots the box kiln made (`vagrant up --provider=libvirt`, TCG)
and `vagrant ssh -c` reads what the provisioner wrote.

Not part of `./dev test`: run it with `KILN_VAGRANT_LIBVIRT=1 .venv/bin/pytest
tests/e2e/test_vagrant_libvirt.py` as root, with Debian's `vagrant`, `vagrant-libvirt` and
`libvirt-daemon-system` installed and no libvirtd running. The test starts its own
`virtlogd` and `libvirtd` inside a network namespace of its own (vagrant-libvirt's
management network, 192.168.121.0/24, and the SSH traffic to the guest stay in there),
defines the `default` storage pool in a directory of its own, and removes all of it
afterwards. The box (from the basic build, tests/e2e/conftest.py) carries the Vagrantfile
settings the busybox test guest needs, so the project's Vagrantfile only names the box.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("KILN_VAGRANT_LIBVIRT") != "1",
        reason="opt-in: set KILN_VAGRANT_LIBVIRT=1 (root, vagrant-libvirt, "
        "libvirt-daemon-system; see the module docstring)",
    ),
]

PROJECT_VAGRANTFILE = """Vagrant.configure("2") do |config|
  config.vm.box = "kiln-tiny"
  config.vm.provider :libvirt do |libvirt|
    libvirt.memory = 512
  end
end
"""


def _run(
    *argv: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path | None = None
) -> str:
    proc = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd,
        check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}"
                             f"{proc.stderr}")  # fmt: skip
    return proc.stdout


def _running(name: str) -> bool:
    for pid_dir in Path("/proc").iterdir():
        if pid_dir.name.isdigit():
            with contextlib.suppress(OSError):
                if (pid_dir / "comm").read_text().strip() == name:
                    return True
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def private_libvirtd(work: Path) -> Iterator[str]:
    """A libvirtd (and virtlogd) in a new network namespace; yields the namespace's name."""
    missing = [b for b in ("ip", "libvirtd", "virtlogd", "virsh", "vagrant") if not shutil.which(b)]
    if os.geteuid() != 0 or missing:
        pytest.skip(f"needs root and {', '.join(missing) or 'nothing else'}")
    if _running("libvirtd"):
        pytest.skip("a libvirtd is already running; this test starts its own")
    netns = f"kiln-vagrant-{os.getpid()}"
    pool_dir = Path(f"/var/lib/libvirt/images/kiln-{os.getpid()}")  # libvirt-qemu can reach it
    daemons: list[subprocess.Popen[bytes]] = []
    _run("ip", "netns", "add", netns)
    try:
        _run("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up")
        for daemon in ("virtlogd", "libvirtd"):
            log = (work / f"{daemon}.log").open("wb")
            daemons.append(subprocess.Popen(["ip", "netns", "exec", netns, daemon],
                                            stdout=log, stderr=log))  # fmt: skip
        deadline = time.monotonic() + 30
        while subprocess.run(["virsh", "-c", "qemu:///system", "version"],
                             capture_output=True, check=False).returncode != 0:  # fmt: skip
            assert time.monotonic() < deadline, (work / "libvirtd.log").read_text()
            time.sleep(0.5)
        pool_dir.mkdir(parents=True, mode=0o711)
        _run("virsh", "pool-define-as", "default", "dir", "--target", str(pool_dir))
        _run("virsh", "pool-start", "default")
        yield netns
    finally:
        with contextlib.suppress(Exception):
            for name in _run("virsh", "list", "--all", "--name").split():
                subprocess.run(["virsh", "destroy", name], capture_output=True, check=False)
                subprocess.run(["virsh", "undefine", name], capture_output=True, check=False)
            for line in _run("virsh", "vol-list", "default").splitlines()[2:]:
                if line.split():
                    subprocess.run(["virsh", "vol-delete", "--pool", "default", line.split()[0]],
                                   capture_output=True, check=False)  # fmt: skip
            subprocess.run(["virsh", "pool-destroy", "default"], capture_output=True, check=False)
            subprocess.run(["virsh", "pool-undefine", "default"], capture_output=True, check=False)
        for proc in reversed(daemons):
            _stop(proc)
        shutil.rmtree(pool_dir, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)


def test_vagrant_libvirt_boots_the_box(basic_build, tmp_path: Path) -> None:
    env = dict(os.environ, VAGRANT_HOME=str(tmp_path / "vagrant.d"),
               VAGRANT_CHECKPOINT_DISABLE="1")  # fmt: skip
    if "vagrant-libvirt" not in _run("vagrant", "plugin", "list", env=env):
        pytest.skip("the vagrant-libvirt plugin is not installed (apt-get install vagrant-libvirt)")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Vagrantfile").write_text(PROJECT_VAGRANTFILE)
    _run("vagrant", "box", "add", "--name", "kiln-tiny", str(basic_build.box), env=env)
    with private_libvirtd(tmp_path) as netns:

        def vagrant(*args: str, timeout: float = 600) -> str:
            return _run("ip", "netns", "exec", netns, "vagrant", *args, timeout=timeout,
                        env=env, cwd=project)  # fmt: skip

        up = vagrant("up", "--provider=libvirt")
        assert "Machine booted and ready!" in up
        xml = _run("virsh", "dumpxml", "proj_default")
        assert "<domain type='qemu'" in xml  # TCG: the box's libvirt.driver = "qemu"
        assert vagrant("ssh", "-c", "cat /root/inline.txt", timeout=120).strip() == (
            "inline:it's here"
        )
        vagrant("destroy", "-f", timeout=300)
