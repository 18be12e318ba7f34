# kiln's qemu copy of hashicorp/packer v1.6.6, hcl2template/testdata/variables/provisioner_variable_decoding.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/):
# the "null" source is a "qemu" one; the shell provisioners get the inline = [...] they need.
variables {
  max_retries = "1"
  max_retries_int = 1
}

source "qemu" "null-builder" {
  communicator = "ssh"
  ssh_username = "packer"
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
}

build {
  sources = [
    "source.qemu.null-builder",
  ]

  provisioner "shell" {
    inline      = ["true"]
    max_retries = var.max_retries_int
  }
  provisioner "shell" {
    inline      = ["true"]
    max_retries = var.max_retries
  }
}
