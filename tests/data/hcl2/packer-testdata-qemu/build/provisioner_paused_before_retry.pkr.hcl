# kiln's qemu copy of hashicorp/packer v1.6.6, hcl2template/testdata/build/provisioner_paused_before_retry.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/):
# the source is a qemu one; the shell provisioner gets the inline = [...] it needs.

// starts resources to provision them.
build {
    sources = [
        "source.qemu.ubuntu-1204"
    ]

    provisioner "shell" {
        pause_before = "10s"
        max_retries = 5
        inline = ["true"]
    }
}

source "qemu" "ubuntu-1204" {
  communicator = "ssh"
  ssh_username = "packer"
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
}
