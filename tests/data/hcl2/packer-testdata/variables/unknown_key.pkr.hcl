# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/unknown_key.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

variable "broken_variable" {
    invalid = true
    default = true
}
