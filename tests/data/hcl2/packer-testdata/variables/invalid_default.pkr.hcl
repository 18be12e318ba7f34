# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/invalid_default.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).


variable "broken_type" {
    type    = list(string)
    default = true
}
