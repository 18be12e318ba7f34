# kiln's qemu copy of hashicorp/packer v1.6.6, hcl2template/testdata/build/post-processor_onlyexcept.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/):
# the virtualbox-iso and amazon-ebs sources are qemu ones and amazon-import is checksum (Packer's tests use mock components).

// starts resources to provision them.
build {
    sources = [
        "source.qemu.ubuntu-1204",
    ]
    source "source.qemu.ubuntu-1604" {
        name = "aws-ubuntu-16.04"
    }

    post-processor "checksum" {
        only = ["qemu.ubuntu-1204"]
    }
    post-processor "manifest" {
        except = ["qemu.ubuntu-1204"]
    }
    post-processor "checksum" {
        only = ["qemu.aws-ubuntu-16.04"]
    }
    post-processor "manifest" {
        except = ["qemu.aws-ubuntu-16.04"]
    }
}

source "qemu" "ubuntu-1204" {
  communicator = "ssh"
  ssh_username = "packer"
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
}

source "qemu" "ubuntu-1604" {
  communicator = "ssh"
  ssh_username = "packer"
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
}
