# kiln's qemu copy of hashicorp/packer v1.6.6, hcl2template/testdata/build/provisioner_onlyexcept.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/):
# the sources are qemu ones; the provisioners get the inline/content (1 to 4, in order) they need.

// starts resources to provision them.
build {
    sources = [
        "source.qemu.ubuntu-1204",
    ]
    source "source.qemu.ubuntu-1604" {
        name = "aws-ubuntu-16.04"
    }

    provisioner "shell" {
        only = ["qemu.ubuntu-1204"]
        inline = ["echo 1"]
    }
    provisioner "file" {
        except = ["qemu.ubuntu-1204"]
        content = "2"
        destination = "/tmp/2"
    }
    provisioner "shell" {
        only = ["qemu.aws-ubuntu-16.04"]
        inline = ["echo 3"]
    }
    provisioner "file" {
        except = ["qemu.aws-ubuntu-16.04"]
        content = "4"
        destination = "/tmp/4"
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
