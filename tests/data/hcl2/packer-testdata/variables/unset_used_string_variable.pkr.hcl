# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/unset_used_string_variable.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

variable "foo" {
  type = string
}

build {
  sources = [
    "source.null.null-builder${var.foo}",
  ]
}
