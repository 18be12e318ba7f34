# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/unset_unused_string_variable.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

variable "foo" {
  type = string
}


build {
  sources = [
    "source.null.null-builder",
  ]
}

source "null" "null-builder" {
  communicator = "none"
}
