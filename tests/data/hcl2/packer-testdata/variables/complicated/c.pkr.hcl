# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/complicated/c.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).
variable "name_prefix" {
  default = "foo"
}