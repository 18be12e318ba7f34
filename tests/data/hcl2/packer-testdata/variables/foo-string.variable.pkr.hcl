# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/foo-string.variable.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).
variable "foo" {
    type = string
    default = "bar"
}
