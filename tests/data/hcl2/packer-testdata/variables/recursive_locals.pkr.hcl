# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/recursive_locals.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).
locals {
  first  = local.second
  second = local.first
}