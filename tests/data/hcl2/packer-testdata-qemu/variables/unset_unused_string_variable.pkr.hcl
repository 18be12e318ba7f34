# kiln's qemu copy of hashicorp/packer v1.6.6, hcl2template/testdata/variables/unset_unused_string_variable.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/):
# the "null" source is a "qemu" one.

variable "foo" {
  type = string
}


build {
  sources = [
    "source.qemu.null-builder",
  ]
}

source "qemu" "null-builder" {
  communicator = "none"
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
}
