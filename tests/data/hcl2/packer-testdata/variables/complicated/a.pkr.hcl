# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/complicated/a.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).
locals {
  for_var  = "${local.name_prefix}"
  bar_var  = [
    local.for_var,
    local.foo,
    var.name_prefix,
  ]
}