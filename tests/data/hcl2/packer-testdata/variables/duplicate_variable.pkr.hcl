# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/duplicate_variable.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

variable "boolean_value" {
    default = false
}

variable "boolean_value" {
    default = true
}
