# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/provisioner_variable_decoding.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).
variables {
  max_retries = "1"
  max_retries_int = 1
}

source "null" "null-builder" {
  communicator = "none"
}

build {
  sources = [
    "source.null.null-builder",
  ]

  provisioner "shell" {
    max_retries = var.max_retries_int
  }
  provisioner "shell" {
    max_retries = var.max_retries
  }
}