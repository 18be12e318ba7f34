# kiln's qemu copy of hashicorp/packer v1.6.6, hcl2template/testdata/sources/inexistent.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/):
# a qemu source and a build are added, so that only the "inexistant" source block is wrong.
// a source represents a reusable setting for a system boot/start.
source "inexistant" "ubuntu-1204" {
    foo = "bar"
}

source "qemu" "ubuntu-1204" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
  communicator = "none"
}

build {
  sources = ["source.qemu.ubuntu-1204"]
}
